"""File > Export… and File > Import…: the export with a preview, and merging a colleague's file.

Collecting, rendering the preview and writing all run on the notebook's
TaskQueue, never on the GUI thread. The preview shows the file as it will
be, inertly: plain text for Markdown, CSV and JSON Lines; the HTML in a
browser whose document loads nothing (answer_view.InertDocument) and that
never follows a link. PDF is previewed as the markup Qt prints; its charts,
which a QTextBrowser can't draw as SVG, are drawn on the worker as images and
added to the preview's document as the same `chart:N` resources the PDF uses.
"""

from __future__ import annotations

from typing import cast
from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QMessageBox, QPlainTextEdit,
    QStackedWidget, QTextBrowser, QVBoxLayout, QWidget,
)  # fmt: skip

from ...core.errors import EnvironmentProblem
from ...core.export import ExportData, ImportResult, Selection, collect, import_jsonl, render, report, write
from ...core.export.html_report import document
from ...core.export.pdf import add_charts, chart_image
from ...core.notebook.database import Notebook
from ..panes.answer_view import InertDocument
from ..shared.tasks import TaskQueue

FORMATS = (("html", "HTML (one self-contained file)"), ("md", "Markdown"), ("pdf", "PDF"), ("csv", "CSV (one row per answer)"), ("jsonl", "JSON Lines (everything; for Import)"))
PREVIEW_RUNS = 20  # the preview shows the first runs; the file holds them all


class ExportDialog(QDialog):
    def __init__(
        self,
        notebook: Notebook,
        tasks: TaskQueue,
        *,
        current_run: int | None,
        selected_runs: list[int],
        session_id: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self._notebook, self._tasks = notebook, tasks
        self._serial = 0
        self.scope = QComboBox()
        scopes: list[tuple[str, Selection]] = []
        if current_run is not None:
            scopes.append((f"The shown run ({current_run})", Selection(run_ids=(current_run,))))
        if len(selected_runs) > 1:
            scopes.append((f"The {len(selected_runs)} selected runs", Selection(run_ids=tuple(selected_runs))))
        if session_id is not None:
            scopes.append(("The session shown in History", Selection(session_id=session_id)))
        scopes.append(("All runs", Selection(everything=True)))
        for text, selection in scopes:
            self.scope.addItem(text, selection)
        self.format = QComboBox()
        for key, text in FORMATS:
            self.format.addItem(text, key)
        self.text_preview = QPlainTextEdit(readOnly=True)
        self.text_preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.html_preview = QTextBrowser()
        self.html_preview.setDocument(InertDocument(self.html_preview))
        self.html_preview.setOpenLinks(False)
        self.html_preview.setOpenExternalLinks(False)
        self.preview = QStackedWidget()
        self.preview.addWidget(self.text_preview)
        self.preview.addWidget(self.html_preview)
        self.status = QLabel("")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        form = QFormLayout()
        form.addRow("Runs", self.scope)
        form.addRow("Format", self.format)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(900, 650)
        self.scope.currentIndexChanged.connect(self._refresh)
        self.format.currentIndexChanged.connect(self._refresh)
        self._refresh()

    def selection(self) -> Selection:
        return cast(Selection, self.scope.currentData())  # every item is added with its selection

    def fmt(self) -> str:
        return cast(str, self.format.currentData())  # every item is added with its format's name

    def _refresh(self) -> None:
        """Collect and render a preview on the notebook queue; only the newest request is shown."""
        self._serial += 1
        serial, selection, fmt = self._serial, self.selection(), self.fmt()
        notebook = self._notebook
        self.status.setText("Preparing the preview…")

        def work() -> tuple[int, str, str, list[QImage], int]:
            data = collect(notebook, selection)
            runs = len(data.runs)
            summary = report.summary(data) if fmt in ("html", "pdf") else None  # of every run, not only those previewed
            data.runs = data.runs[:PREVIEW_RUNS]
            if summary is None:
                return serial, fmt, render(data, fmt), [], runs
            return serial, "html", document(data, for_qt=True, summary=summary), [chart_image(svg) for svg in summary.charts], runs

        self._tasks.submit(work, self._show_preview, self._problem)

    def _show_preview(self, result: tuple[int, str, str, list[QImage], int]) -> None:
        serial, fmt, text, charts, runs = result
        if serial != self._serial:
            return
        if fmt == "html":
            add_charts(self.html_preview.document(), charts)
            self.html_preview.setHtml(text)
            self.preview.setCurrentWidget(self.html_preview)
        else:
            self.text_preview.setPlainText(text)
            self.preview.setCurrentWidget(self.text_preview)
        shown = f"the first {PREVIEW_RUNS} of " if runs > PREVIEW_RUNS else ""
        self.status.setText(f"Preview of {shown}{runs} run(s).")

    def _save(self) -> None:
        fmt = self.fmt()
        path, _ = QFileDialog.getSaveFileName(self, "Export", f"workbench-export.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if not path:
            return
        selection, notebook = self.selection(), self._notebook
        self.save_button.setEnabled(False)
        self.status.setText(f"Writing {path}…")

        def work() -> ExportData:
            data = collect(notebook, selection)
            write(data, fmt, Path(path))
            return data

        def done(data: ExportData) -> None:
            self.status.setText(f"Wrote {len(data.runs)} run(s), {len(data.responses())} answer(s) to {path}.")
            self.accept()

        self._tasks.submit(work, done, self._problem)

    def _problem(self, problem: EnvironmentProblem) -> None:
        self.save_button.setEnabled(True)
        self.status.setText(str(problem))


def import_file(parent: QWidget, notebook: Notebook, tasks: TaskQueue) -> None:
    """Ask for a JSON Lines export and merge it on the notebook queue; report the outcome.
    The views showing what it added follow the notebook's announcement of it."""
    path, _ = QFileDialog.getOpenFileName(parent, "Import", "", "Workbench export (*.jsonl);;All files (*)")
    if not path:
        return

    def done(result: ImportResult) -> None:
        QMessageBox.information(parent, "Import", result.summary())

    def failed(problem: EnvironmentProblem) -> None:
        QMessageBox.warning(parent, "Import", str(problem))

    tasks.submit(lambda: import_jsonl(notebook, path), done, failed)
