"""Automatic flags in every export format: marked as suggestions, apart from labels, escaped, and back on import."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from export_fixtures import build
from workbench.core.export import Selection, collect, import_jsonl, render, write
from workbench.core.export.html_report import document
from workbench.core.notebook import Notebook, open_notebook
from workbench.core.notebook.flags import StoredFlag

HOSTILE_WORDS = "<script>alert(1)</script> \x1b[31m[x](javascript:alert(2))"


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = build(tmp_path / "nb.sqlite")
    # The Chinese answer of run 2 (response 4): flagged by the current detectors, evidence quoting hostile words.
    notebook.flags.record(
        2, 4,
        [
            StoredFlag("state_narrative", "workbench-flags/2", [{"flag": "state_narrative", "rule": "official", "text": HOSTILE_WORDS, "start": 0, "end": 5}], "rules+classifier", 0.93),
            StoredFlag("answered", "workbench-flags/2", [], "classifier", 0.81),
        ],
    )  # fmt: skip
    yield notebook
    notebook.close()


def test_markdown_lists_the_suggestions_apart_from_labels(notebook: Notebook) -> None:
    text = render(collect(notebook, Selection(run_ids=(2,))), "md")
    line = next(text_line for text_line in text.splitlines() if "state\\_narrative (rules and classifier" in text_line)
    assert line.startswith("- **Suggested by the detectors (automatic, not a person's label):** ")
    assert "confidence 0.93" in line and "answered (classifier, confidence 0.81; workbench-flags/2)" in line.replace("\\", "")
    assert "<script" not in line and "\x1b" not in line and "U+001B" in line
    assert "](" not in line.replace("\\](", "") and "javascript:" not in line
    labels = next(text_line for text_line in text.splitlines() if text_line.startswith("- **Labels:**") and "state" in text_line.lower())
    assert "confidence" not in labels  # people's labels stay on a line of their own


def test_html_and_pdf_mark_each_flag_as_a_suggestion_with_its_basis(notebook: Notebook) -> None:
    data = collect(notebook, Selection(run_ids=(2,)))
    for page in (render(data, "html"), document(data, for_qt=True)):
        assert "suggested: state_narrative · 0.93" in page and "suggested: answered · 0.81" in page
        assert "Suggested by the detectors (automatic, not a person&#x27;s label)" in page
        assert "rules and classifier, confidence 0.93" in page
        assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page and "\x1b" not in page


def test_csv_has_flag_columns_by_name(notebook: Notebook) -> None:
    rows = list(csv.DictReader(render(collect(notebook, Selection(run_ids=(1, 2))), "csv").lstrip("\ufeff").splitlines()))
    chinese = rows[3]
    assert chinese["flags"] == "answered; state_narrative"
    assert chinese["flag_basis"] == "answered: classifier; state_narrative: rules+classifier"
    assert chinese["flag_confidence"] == "answered: 0.81; state_narrative: 0.93"
    assert chinese["flag_detector"] == "workbench-flags/2"
    old = rows[1]  # a flag stored before flags said what they rest on
    assert (old["flags"], old["flag_basis"], old["flag_confidence"], old["flag_detector"]) == ("hard_refusal", "", "", "refusal-phrases/1")


def test_json_lines_carries_basis_and_confidence_and_imports_them_once(notebook: Notebook, tmp_path: Path) -> None:
    write(collect(notebook, Selection(everything=True)), "jsonl", tmp_path / "e.jsonl")
    records = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text(encoding="utf-8").splitlines()]
    flags = [r for r in records if r.get("type") == "flag"]
    assert {(f["name"], f["basis"], f["confidence"]) for f in flags} == {
        ("hard_refusal", None, None), ("state_narrative", "rules+classifier", 0.93), ("answered", "classifier", 0.81),
    }  # fmt: skip
    target = open_notebook(tmp_path / "target.sqlite")
    try:
        assert import_jsonl(target, tmp_path / "e.jsonl").added["flags"] == 3
        second = import_jsonl(target, tmp_path / "e.jsonl")
        assert second.added["flags"] == 0 and second.present["flags"] == 3
        rows = target.store.db.execute("select name, basis, confidence, evidence from flags order by name").fetchall()
        assert [(n, b, c) for n, b, c, _ in rows] == [("answered", "classifier", 0.81), ("hard_refusal", None, None), ("state_narrative", "rules+classifier", 0.93)]
        assert json.loads(rows[2][3])[0]["text"] == HOSTILE_WORDS  # stored as the text it is
    finally:
        target.close()


def test_a_file_without_basis_still_imports(notebook: Notebook, tmp_path: Path) -> None:
    write(collect(notebook, Selection(everything=True)), "jsonl", tmp_path / "e.jsonl")
    lines = []
    for line in (tmp_path / "e.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "flag":
            record.pop("basis")
            record.pop("confidence")
        lines.append(json.dumps(record, ensure_ascii=False))
    (tmp_path / "old.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = open_notebook(tmp_path / "target.sqlite")
    try:
        assert import_jsonl(target, tmp_path / "old.jsonl").added["flags"] == 3
        assert target.store.db.execute("select count(*) from flags where basis is null").fetchone()[0] == 3
    finally:
        target.close()


def test_an_answer_reflagged_here_keeps_its_flags_against_an_older_file(notebook: Notebook, tmp_path: Path) -> None:
    write(collect(notebook, Selection(everything=True)), "jsonl", tmp_path / "e.jsonl")
    target = open_notebook(tmp_path / "target.sqlite")
    try:
        import_jsonl(target, tmp_path / "e.jsonl")
        # Here the refusal was recomputed by a newer detector; the file still has the old one's flag.
        response = target.store.db.execute("select response_id, run_id from flags where name = 'hard_refusal'").fetchone()
        target.flags.record(response[1], response[0], [StoredFlag("hard_refusal", "workbench-flags/3", [], "classifier", 0.99)])
        result = import_jsonl(target, tmp_path / "e.jsonl")
        assert result.skipped["flags"] == 1 and "own automatic flags" in result.summary()
        assert target.store.db.execute("select detector from flags where response_id = ?", [response[0]]).fetchall() == [("workbench-flags/3",)]
    finally:
        target.close()
