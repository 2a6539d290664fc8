"""What ran each answer (engine/offload.py's RAN_ON) travels with every export, beside its
timing, which it explains; answers saved before it was recorded say nothing of it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from workbench.core.engine.offload import RAN_ON, offload_info, ran_on
from workbench.core.engine.params import GenerationParams
from workbench.core.export import Selection, collect, import_jsonl, render
from workbench.core.notebook import open_notebook


@pytest.fixture
def notebook(tmp_path: Path):
    """One run: an answer a CUDA build gave with 10 of 29 layers on the GPU, one the CPU
    gave (its GPU layers at 0), and one saved before answers recorded what ran them."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    run_id = notebook.create_run("Is 221 prime?", language="en", settings={})
    for position, (name, sampler) in enumerate((
        ("Qwen3", GenerationParams(gpu_layers=10).to_dict() | {RAN_ON: ran_on(offload_info(10, ["CUDA"], 29))}),
        ("Llama", GenerationParams(gpu_layers=0).to_dict() | {RAN_ON: ran_on(offload_info(0, ["CUDA"], 33))}),
        ("Older", {"temperature": 0.0}),
    )):  # fmt: skip
        rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country=None, seed=7, sampler=sampler)
        notebook.finish_response(rid, text="No: 13 × 17.", finish_reason="stop", tokens_per_s=20.0)
    yield notebook
    notebook.close()


def test_the_reports_say_what_ran_each_answer_and_a_gpu_layers_setting(notebook) -> None:
    data = collect(notebook, Selection(everything=True))
    for report in (render(data, "md").replace("\\_", "_"), render(data, "html")):  # Markdown escapes "_"
        assert "on CUDA (10 of 29 layers), 20.0 tokens/s" in report and "on CPU, 20.0 tokens/s" in report
        assert report.count("20.0 tokens/s") == 3 and report.count("on C") == 2  # the older answer: its speed alone
        assert "gpu_layers 10" in report and "gpu_layers 0" in report  # "all", the default, goes unsaid


def test_csv_adds_a_last_column_and_json_lines_keeps_the_record(notebook, tmp_path: Path) -> None:
    data = collect(notebook, Selection(everything=True))
    rows = list(csv.DictReader(render(data, "csv").lstrip("\ufeff").splitlines()))
    assert list(rows[0])[-1] == "ran_on"
    assert [(r["model"], r["ran_on"]) for r in rows] == [("Qwen3", "CUDA (10 of 29 layers)"), ("Llama", "CPU"), ("Older", "")]
    exported = render(data, "jsonl")
    samplers = [json.loads(line)["sampler"] for line in exported.splitlines() if json.loads(line).get("type") == "response"]
    assert samplers[0][RAN_ON] == {"backend": "CUDA", "gpu_layers_offloaded": 10, "layers": 29, "flash_attn": True} and RAN_ON not in samplers[2]
    (tmp_path / "export.jsonl").write_text(exported, encoding="utf-8")
    other = open_notebook(tmp_path / "other.sqlite")
    try:
        import_jsonl(other, tmp_path / "export.jsonl")
        assert [r["sampler"].get(RAN_ON) for r in other.run(1)["responses"]] == [s.get(RAN_ON) for s in samplers]
    finally:
        other.close()
