"""The template switches travel with every export, where the other settings are, and
an export says when a switch had no effect on the model that answered."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pdf_text import pdf_text
from workbench.core.engine.params import GenerationParams
from workbench.core.export import Selection, collect, render, write
from workbench.core.notebook import open_notebook


@pytest.fixture
def notebook(tmp_path: Path):
    """One run: Qwen3 with thinking off (its template took it), Llama-3.1 with thinking off
    and effort high (its template took neither), and an answer saved before the switches."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    run_id = notebook.create_run("Is 221 prime?", language="en", settings={})
    asked = GenerationParams(thinking="off", reasoning_effort="high", seed=7).to_dict()
    for position, (name, sampler) in enumerate((
        ("Qwen3", asked | {"no_effect": ["reasoning_effort"]}),
        ("Llama-3.1", asked | {"no_effect": ["thinking", "reasoning_effort"]}),
        ("Older", {"temperature": 0.0}),
    )):  # fmt: skip
        rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country=None, seed=7, sampler=sampler)
        notebook.finish_response(rid, text="No: 13 × 17.", finish_reason="stop")
    yield notebook
    notebook.close()


QWEN3 = "thinking off, reasoning_effort high (no effect)"
LLAMA = "thinking off (no effect), reasoning_effort high (no effect)"


def test_the_reports_settings_lines_name_the_switches(notebook) -> None:
    data = collect(notebook, Selection(everything=True))
    for report in (render(data, "md").replace("\\_", "_"), render(data, "html")):  # Markdown escapes "_"
        assert QWEN3 in report and LLAMA in report
        assert report.count("thinking") == 2  # the older answer's settings say nothing of switches


def test_the_pdf_too(notebook, tmp_path: Path, qapp) -> None:
    write(collect(notebook, Selection(everything=True)), "pdf", tmp_path / "r.pdf")
    # Lines wrap without a space between them, and Qt writes "ff" as its ligature.
    text = "".join("".join(pdf_text((tmp_path / "r.pdf").read_bytes())).replace("\ufb00", "ff").split())
    assert "".join(QWEN3.split()) in text and "".join(LLAMA.split()) in text


def test_csv_has_a_column_for_each_switch(notebook) -> None:
    rows = list(csv.DictReader(render(collect(notebook, Selection(everything=True)), "csv").lstrip("\ufeff").splitlines()))
    assert [(r["model"], r["thinking"], r["reasoning_effort"]) for r in rows] == [
        ("Qwen3", "off", "high (no effect)"),
        ("Llama-3.1", "off (no effect)", "high (no effect)"),
        ("Older", "default", "default"),
    ]


def test_json_lines_keeps_them_in_the_sampler(notebook) -> None:
    records = [json.loads(line) for line in render(collect(notebook, Selection(everything=True)), "jsonl").splitlines()]
    samplers = [r["sampler"] for r in records if r.get("type") == "response"]
    assert samplers[0]["thinking"] == "off" and samplers[0]["reasoning_effort"] == "high" and samplers[0]["no_effect"] == ["reasoning_effort"]
