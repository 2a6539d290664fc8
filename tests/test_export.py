"""Exports opened with real readers: hostile text comes out inert, content is all there."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cli_process import workbench
from export_fixtures import CHINESE, build
from pdf_text import pdf_text
from workbench.cli.main import main
from workbench.core.export import Selection, collect, render, write
from workbench.core.analysis.agreement import cohen_kappa, label_agreement


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = build(tmp_path / "nb.sqlite")
    yield notebook
    notebook.close()


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_inert(notebook, tmp_path: Path) -> None:
    write(collect(notebook, Selection(everything=True)), "html", tmp_path / "r.html")
    parser = _Elements()
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    parser.feed(html)
    tags = parser.tags
    names = {tag for tag, _ in tags}
    # Inline <svg> charts are allowed (tests/test_export_charts.py checks they hold nothing live).
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "form", "base", "image", "foreignobject", "video", "audio"}
    for tag, attrs in tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "src" not in attrs
        href = attrs.get("href")
        assert href is None or re.match(r"https?://", href), href  # only plain http(s) links survive
    csp = [a["content"] for t, a in tags if t == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"]
    assert csp and "default-src 'none'" in csp[0] and "script-src" not in csp[0]
    text = "".join(parser.text)
    # The hostile answer is there as text: its tags, links and controls are visible, not live.
    assert "<script>alert(1)</script>" in text and "[U+202E]evil" in text
    assert "javascript:" not in html.lower().replace("javascript:alert(1))", "")  # the note's link text only, never an href
    assert CHINESE in text and "Note with <script>" in text
    assert [t for t, _ in tags].count("mark") == 2  # the two highlights
    assert "Agreement between annotators" in text and "aaaaaaaa" in text  # kappa and the models' SHA-256
    assert "/home/alice" not in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_markdown_has_nothing_live(notebook) -> None:
    text = render(collect(notebook, Selection(everything=True)), "md")
    assert "![" not in text
    assert not re.search(r"<[a-zA-Z/!?]", text)  # no raw tags at all, not even ours
    assert "javascript:" not in text.lower()
    assert "\u202e" not in text and "\x07" not in text
    assert "](" not in text.replace("\\](", "")  # no link syntax survives unescaped
    assert CHINESE in text and "| SmolLM2" in text  # short answers side by side
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # Rendered by the app's own Markdown renderer, the hostile answer is text.
    from workbench.core.rendering import markdown_to_html

    rendered = markdown_to_html(text)
    assert "<img" not in rendered and "<script" not in rendered and "&lt;script&gt;alert(1)" in rendered


def test_csv_reads_back_with_formulas_neutralised(notebook, tmp_path: Path) -> None:
    write(collect(notebook, Selection(everything=True)), "csv", tmp_path / "r.csv")
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r", value
    third = [r for r in rows if r["run_id"] == "3"]
    assert third[0]["prompt"] == "'-1+1 =SUM(A1) @me" and third[0]["text"] == "'=cmd|' /C calc'!A0" and third[1]["text"] == "'+1"
    first = rows[0]
    assert (first["model"], first["origin"], first["maker"], first["quantization"], first["language"]) == ("SmolLM2", "US", "HuggingFaceTB", "Q4_1", "en")
    assert first["labels"] == "factual_error" and first["rating"] == "ana: opposite; bo: substantive" and float(first["ttft_s"]) == 0.2
    assert rows[3]["text"] == CHINESE and rows[1]["flags"] == "hard_refusal"


def test_jsonl_header_records_and_end(notebook) -> None:
    lines = render(collect(notebook, Selection(run_ids=(2,))), "jsonl").splitlines()
    header, *records = [json.loads(line) for line in lines]
    assert (header["format"], header["version"], header["selection"]) == ("model-values-workbench", 3, {"runs": [2]})
    prov = header["provenance"]
    assert prov["annotators"] == ["ana", "bo"] and prov["llama_cpp_versions"] == ["llama-cpp-python 0.3.36"]
    assert {m["quantization"] for m in prov["models"]} == {"Q4_1", "Q4_K_M"} and prov["models"][0]["template_sha256"] == ["d" * 64]
    assert records[-1] == {"type": "end", "records": len(records) - 1}
    kinds = [r["type"] for r in records]
    assert kinds.count("run") == 1 and kinds.count("response") == 2 and "run_link" not in kinds  # its other run is not exported
    response = next(r for r in records if r["type"] == "response")
    assert response["sampler"] == {"temperature": 0.0, "top_p": 0.95} and response["seed"] == 7 and response["timeline"] == [[200, 0, 5]]
    assert all("id" not in r for r in records)  # local ids mean nothing elsewhere
    labels = {r["name"]: r for r in records if r["type"] == "label"}
    assert labels["evasive"]["definition"].startswith("Seems to respond") and labels["whataboutism"]["annotator"] == "ana"


VOTES = "Audience vote (ana, cy): A (SmolLM2) 12 · B (Qwen2.5-Coder) 7 · tie 3"


def test_votes_travel_in_every_format(notebook) -> None:
    data = collect(notebook, Selection(everything=True))
    header, *records = [json.loads(line) for line in render(data, "jsonl").splitlines()]
    votes = [r for r in records if r["type"] == "vote"]
    assert [(v["choice"], v["annotator"], v["count"]) for v in votes] == [("pane:0", "ana", 12), ("pane:1", "ana", 5), ("pane:1", "cy", 2), ("tie", "ana", 3)]
    kinds = [r["type"] for r in records]
    second_run = kinds.index("run", kinds.index("run") + 1)
    assert kinds[second_run - 4 : second_run] == ["vote"] * 4  # the last records of the first run
    assert header["provenance"]["annotators"] == ["ana", "bo", "cy"]
    assert VOTES in render(data, "html") and VOTES in render(data, "md")
    assert render(data, "md").count("Audience vote") == 1  # runs without votes say nothing
    rows = list(csv.DictReader(render(data, "csv").lstrip("\ufeff").splitlines()))
    assert [row["votes"] for row in rows] == ["12", "7", "0", "0", "0", "0"]


def test_model_names_in_the_vote_line_are_escaped(notebook) -> None:
    data = collect(notebook, Selection(run_ids=(1,)))
    data.runs[0]["responses"][0]["model_name"] = "<script>alert(1)</script>[x](javascript:alert(2))"
    html = render(data, "html")
    assert "<script>alert(1)" not in html and "Audience vote (ana, cy): A (&lt;script&gt;alert(1)&lt;/script&gt;" in html
    line = next(text_line for text_line in render(data, "md").splitlines() if "Audience vote" in text_line)
    assert "<script" not in line and "](" not in line.replace("\\](", "") and "javascript:" not in line


def test_pdf_is_paginated_and_carries_chinese(notebook, tmp_path: Path, qapp) -> None:
    write(collect(notebook, Selection(everything=True)), "pdf", tmp_path / "r.pdf")
    data = (tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2  # the 5,000-character line wraps over pages
    # QtPdf is not in PySide6-Essentials: check that a CJK font was embedded for the Chinese text.
    assert re.search(rb"/BaseFont\s*/\S*(WenQuanYi|Noto\S*CJK|SourceHan)", data)
    assert b"<script>" not in data


def test_a_pdf_from_the_command_line_needs_no_display(notebook, tmp_path: Path) -> None:
    """With DISPLAY naming no X server, Qt's X11 plugin would abort the export: the
    command line draws its PDF offscreen, display or not."""
    notebook.close()
    target = tmp_path / "r.pdf"
    done = workbench(
        "export", "--all", "--format", "pdf", "-o", str(target), "--db", str(tmp_path / "nb.sqlite"),
        env_extra={"DISPLAY": ":987"},
    )
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(b"%PDF")


def test_pdf_text_keeps_each_label_apart_from_who_gave_it(notebook, tmp_path: Path, qapp) -> None:
    # The chip and the name were two boxes with no text between: copied, "Hard refusalana".
    write(collect(notebook, Selection(run_ids=(1,))), "pdf", tmp_path / "r.pdf")
    text = "".join(pdf_text((tmp_path / "r.pdf").read_bytes())).replace("\t", " ")  # Qt maps its space glyph to a tab
    assert "Hard refusal (ana) Evasive (bo)" in text and "Factual error (ana) Factual error (bo)" in text
    html = render(collect(notebook, Selection(run_ids=(1,))), "html")
    parser = _Elements()
    parser.feed(html)
    assert "Hard refusal (ana) Evasive (bo)" in " ".join("".join(parser.text).split())
    assert "- **Labels:** Hard refusal (ana), Evasive (bo)" in render(collect(notebook, Selection(run_ids=(1,))), "md")


def test_kappa_matches_a_hand_computed_example() -> None:
    # 10 answers: both yes 4, both no 3, A yes/B no 2, A no/B yes 1.
    pairs = [(True, True)] * 4 + [(False, False)] * 3 + [(True, False)] * 2 + [(False, True)]
    # po = 0.7; pA = 0.6, pB = 0.5; pe = 0.3 + 0.2 = 0.5; kappa = 0.2 / 0.5 = 0.4
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([(True, True)] * 3) is None and cohen_kappa([]) is None
    result = label_agreement({"ana": {1: {"evasive"}, 2: {"answered"}, 3: {"evasive"}}, "bo": {1: {"evasive"}, 2: {"evasive"}}, "cy": {9: {"evasive"}}})
    by_label = {(a.label, a.annotator_a, a.annotator_b): a for a in result}
    assert set(by_label) == {("answered", "ana", "bo"), ("evasive", "ana", "bo")}  # cy shares no answer; answer 3 only ana labelled
    assert by_label[("evasive", "ana", "bo")].responses == 2 and by_label[("evasive", "ana", "bo")].observed == 0.5


def test_cli_export_scopes_and_exit_statuses(notebook, tmp_path: Path, capsys) -> None:
    db = str(notebook.path)
    assert main(["--db", db, "export", "--session", "June 1989", "--format", "csv", "-o", str(tmp_path / "s.csv")]) == 0
    assert len((tmp_path / "s.csv").read_text(encoding="utf-8-sig").splitlines()) >= 5
    assert main(["export", "--run", "1", "3", "--format", "md", "-o", str(tmp_path / "r.md"), "--db", db]) == 0
    assert "## Run 3" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert main(["export", "--run", "42", "--format", "md", "-o", str(tmp_path / "x.md"), "--db", db]) == 1
    assert "no run 42" in capsys.readouterr().err
    assert main(["export", "--batch", "1", "--format", "csv", "-o", str(tmp_path / "b.csv"), "--db", db]) == 1
    assert "batch" in capsys.readouterr().err.lower()
    assert not (tmp_path / "x.md").exists() and not (tmp_path / "b.csv").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--all", "--run", "1", "--format", "md", "-o", str(tmp_path / "y.md")])
    assert exit_.value.code == 2


def test_kappa_is_printed_without_a_negative_zero() -> None:
    from workbench.core.export.report import format_kappa

    assert [format_kappa(v) for v in (-0.001, -1e-17, 0.456, -0.5, None)] == ["0.00", "0.00", "0.46", "-0.50", "undefined"]
