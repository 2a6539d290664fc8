"""File > Export… and File > Import…: preview off the GUI thread, inert, and the file written."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QFileDialog, QMessageBox

from export_fixtures import build
from workbench.core.notebook import open_notebook
from workbench.ui.runs.export_dialog import ExportDialog, import_file


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = build(tmp_path / "nb.sqlite")
    yield notebook
    notebook.close()


def test_preview_is_inert_and_save_writes_the_file(qtbot, tasks, notebook, tmp_path: Path, monkeypatch) -> None:
    dialog = ExportDialog(notebook, tasks, current_run=1, selected_runs=[1, 2], session_id=1)
    qtbot.addWidget(dialog)
    assert [dialog.scope.itemText(i) for i in range(dialog.scope.count())][-1] == "All runs"
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Preview"), timeout=5000)
    assert dialog.preview.currentWidget() is dialog.html_preview
    shown = dialog.html_preview.toPlainText()
    assert "<script>alert(1)</script>" in shown  # the hostile answer, as text
    assert "Summary" in shown and "rate by model" not in shown  # charts are pictures, not their text loose
    chart = dialog.html_preview.document().resource(QTextDocument.ResourceType.ImageResource, QUrl("chart:0"))
    assert isinstance(chart, QImage) and chart.width() > 1000
    dialog.format.setCurrentIndex(dialog.format.findData("md"))
    qtbot.waitUntil(lambda: dialog.preview.currentWidget() is dialog.text_preview and "## Run 1" in dialog.text_preview.toPlainText(), timeout=5000)
    dialog.scope.setCurrentIndex(dialog.scope.count() - 1)
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    target = tmp_path / "out.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.save_button.click()
    assert len(target.read_text(encoding="utf-8-sig").splitlines()) >= 7


def test_import_reports_what_it_added(qtbot, tasks, notebook, tmp_path: Path, monkeypatch) -> None:
    from workbench.core.export import Selection, collect, write

    write(collect(notebook, Selection(everything=True)), "jsonl", tmp_path / "share.jsonl")
    target = open_notebook(tmp_path / "colleague.sqlite")
    messages: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(tmp_path / "share.jsonl"), ""))
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: messages.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: messages.append("warning: " + text))
    announced = []
    target.subscribe(announced.append)  # what the window's views follow
    import_file(None, target, tasks)
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    assert "runs: 3" in messages[0]
    assert [change.operation for change in announced] == ["import"] and "runs" in announced[0].tables
    (tmp_path / "cut.jsonl").write_bytes((tmp_path / "share.jsonl").read_bytes()[:200])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(tmp_path / "cut.jsonl"), ""))
    import_file(None, target, tasks)
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=5000)
    assert messages[1].startswith("warning:") and "not imported" in messages[1]
    target.close()
