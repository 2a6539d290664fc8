"""Several annotators in one window: others' labels, highlights and notes show whose they
are, and your chip toggles only your own label."""

from __future__ import annotations

from pathlib import Path

from window_helpers import WAIT_MS, settle, show

from export_fixtures import build
from workbench.core.export import Selection, collect, import_jsonl, write
from workbench.core.notebook import open_notebook
from workbench.core.settings import Settings


def _import_colleagues_session(tmp_path: Path, notebook: Path) -> None:
    """ana's and bo's labels, highlights and notes (tests/export_fixtures.py), as File > Import brings them."""
    colleague = build(tmp_path / "colleague.sqlite")
    write(collect(colleague, Selection(everything=True)), "jsonl", tmp_path / "session.jsonl")
    colleague.close()
    mine = open_notebook(notebook)
    import_jsonl(mine, tmp_path / "session.jsonl")
    mine.close()


def test_an_imported_colleagues_labels_are_theirs_and_your_chip_toggles_only_yours(open_window, isolated_dirs, tmp_path, qtbot, monkeypatch):
    monkeypatch.delenv("WORKBENCH_ANNOTATOR", raising=False)
    Settings.load().set_annotator("cy")
    _import_colleagues_session(tmp_path, isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, 1)
    bar = window.area.panes[0].annotation_bar  # ana and bo both said factual_error; bo highlighted; both wrote notes
    chip = bar._chips["factual_error"]
    assert bar.checked_labels == set() and bar.labels_by_others == {"factual_error"}
    assert chip.text().endswith("Factual error · ana, bo") and not chip.isChecked()
    assert "labelled by ana, 20" in chip.toolTip() and "by bo, 20" in chip.toolTip() and "add your own label beside theirs" in chip.toolTip()
    assert bar.spans.item(0).text().endswith("· by bo")
    assert bar.others_notes.text() == "Notes by ana, bo: point here to read"
    notes = bar.others_notes.toolTip()  # each whole, as escaped plain text
    assert "ana, 20" in notes and "Note with &lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in notes and "bo, 20" in notes and "**fabricated**" in notes
    assert bar.note.editor.toPlainText() == ""  # your own note: none yet
    strip = window.annotating.strip  # ana's note on the run, and both verdicts
    assert "Note on the run by ana, 20" in strip.note.editor.toolTip() and strip.note.editor.toPlainText() == ""
    assert "ana: opposite — One refuses, one invents." in strip.summary.toolTip() and "bo: substantive" in strip.summary.toolTip()
    other = window.area.panes[1].annotation_bar  # ana: hard_refusal, bo: evasive
    assert other.labels_by_others == {"hard_refusal", "evasive"} and other._chips["evasive"].text().endswith("· bo")
    assert other.suggestions == ["hard_refusal"]  # ana's label doesn't stop you accepting the detectors' suggestion as yours

    response_id = window.area.panes[0].response_id
    chip.click()  # yours beside theirs
    settle(qtbot, window)
    qtbot.waitUntil(lambda: bar.checked_labels == {"factual_error"}, timeout=WAIT_MS)
    assert chip.text().endswith("· you +2") and bar.labels_by_others == {"factual_error"}
    labels = lambda: {(g.label, g.annotator) for g in opened.workspace.notebook.annotations.for_run(1).responses[response_id].labels}  # noqa: E731
    assert labels() == {("factual_error", "ana"), ("factual_error", "bo"), ("factual_error", "cy")}
    chip.click()  # and off again: only yours goes
    settle(qtbot, window)
    qtbot.waitUntil(lambda: bar.checked_labels == set(), timeout=WAIT_MS)
    assert labels() == {("factual_error", "ana"), ("factual_error", "bo")} and bar.labels_by_others == {"factual_error"}
