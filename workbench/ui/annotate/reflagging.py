"""Annotate > Recompute flags…: the stored automatic flags of chosen runs, computed again.

Stored flags never change by themselves; this is the window's way to ask for
it (the command line's is `workbench reflag`). The dialog says which answers
and how many before anything changes, runs `core.flagging.reflag` on a
thread of its own (never the GUI thread, nor the notebook queue, which
annotations keep using meanwhile), shows its progress, can stop between
chunks of runs, and ends with what changed, counted. Human labels are never
touched. Afterwards `Reflagging.reflagged` says so: the shell has the runs
on screen read again (their panes show the new suggestions) and an open
Batches window shows its batch again.

It is handed the Context, its action and callables for what other features
show (the run in the panes, the runs selected in History, the batch in the
Batches window), never the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from ...core.engine.cancel import Cancel
from ...core.errors import EnvironmentProblem
from ...core.export.collect import Selection
from ...core.flagging import ReflagResult, count_answers, reflag
from ...core.notebook import Notebook
from ..shared.background import BackgroundWork
from ..shared.context import Context

SHOWN, SELECTED, BATCH, EVERYTHING = "shown", "selected", "batch", "all"


class ReflagThread(BackgroundWork):
    """Runs one `reflag` at a time on its own thread; reports arrive as queued signals.
    `failed`: a run that is gone, or the disk; `finished`: ReflagResult, or None after `failed`.
    `stop()` stops after the chunk of runs being flagged; what is saved stays."""

    progress = Signal(int, int)  # answers done, answers in all

    def __init__(self, notebook: Notebook, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notebook = notebook

    def start(self, selection: Selection) -> None:
        def work(cancel: Cancel) -> ReflagResult:
            try:
                return reflag(self._notebook, selection, progress=self.progress.emit, cancel=cancel)
            except LookupError as gone:  # a run deleted since it was chosen
                raise EnvironmentProblem(str(gone.args[0])) from gone

        self._launch("reflag", work)


class ReflagDialog(QDialog):
    """Which runs, how many answers (counted on the notebook queue), then progress and the result."""

    def __init__(
        self, context: Context, worker: ReflagThread, shown_run: int | None, selected_runs: list[int], batch_id: int | None = None
    ) -> None:
        super().__init__(context.parent)
        self.setWindowTitle("Recompute flags")
        self._context = context
        self._worker = worker
        self._counted: dict[str, int] = {}
        self._closed = False  # a count that arrives after closing has nowhere to go
        self.reflag_result: ReflagResult | None = None
        self.selections: dict[str, Selection] = {}
        if shown_run is not None:
            self.selections[SHOWN] = Selection(run_ids=(shown_run,))
        if selected_runs and selected_runs != [shown_run]:
            self.selections[SELECTED] = Selection(run_ids=tuple(selected_runs))
        if batch_id is not None:
            self.selections[BATCH] = Selection(batch_id=batch_id)
        self.selections[EVERYTHING] = Selection(everything=True)
        texts = {
            SHOWN: f"The run shown (#{shown_run})",
            SELECTED: f"The {len(selected_runs)} runs selected in History",
            BATCH: f"Batch {batch_id}, shown in the Batches window (its divergence scores too)",
            EVERYTHING: "Every run in the notebook",
        }
        intro = QLabel(
            "The detectors flag the chosen runs' finished answers again. Their automatic flags are replaced "
            "by the new ones (suggestions, shown dashed); labels people gave are never changed."
        )
        intro.setWordWrap(True)
        self.choices = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        for key in self.selections:
            button = QRadioButton(texts[key])
            button.setProperty("scope", key)
            self.choices.addButton(button)
            layout.addWidget(button)
        self.choices.buttons()[0].setChecked(True)
        self.choices.buttonToggled.connect(self._scope_toggled)
        self.count = QLabel()
        self.count.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.hide()
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.PlainText)
        self.outcome.hide()
        self.buttons = QDialogButtonBox()
        self.go = QPushButton("Recompute")
        self.go.setDefault(True)
        self.go.setEnabled(False)
        self.buttons.addButton(self.go, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.go.clicked.connect(self.start)
        self.close_button.clicked.connect(self._close_or_stop)
        for widget in (self.count, self.bar, self.outcome, self.buttons):
            layout.addWidget(widget)
        self._worker.progress.connect(self._progress)
        self._worker.finished.connect(self._finished)
        self._worker.failed.connect(self._failed)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)
        self._count()

    def _scope_toggled(self, _button: object, on: bool) -> None:
        if on:  # the newly checked one: count its answers
            self._count()

    @property
    def scope(self) -> str:
        checked = self.choices.checkedButton()
        assert checked is not None, "one scope is always checked"
        return str(checked.property("scope"))

    def _count(self) -> None:
        scope, selection, notebook = self.scope, self.selections[self.scope], self._context.workspace.notebook
        self.go.setEnabled(False)
        self.count.setText("Counting the answers…")

        def counted(n: int) -> None:
            if self._closed:
                return
            self._counted[scope] = n
            if self._worker.running and self.reflag_result is None and not self.bar.isVisible():
                self.count.setText("Flags are being recomputed already (another Recompute flags…); wait for it to end.")
            elif scope == self.scope and not self._worker.running:
                self.count.setText(
                    f"{n} answer{'s' if n != 1 else ''} will be flagged again (answers stopped by you or that failed have no flags)."
                    if n else "These runs have no finished answers to flag."
                )
                self.go.setEnabled(n > 0)

        def failed(problem: EnvironmentProblem) -> None:
            if not self._closed:
                self.count.setText(str(problem))

        self._context.notebook_tasks.submit(lambda: count_answers(notebook, selection), counted, failed)

    def start(self) -> None:
        if self._worker.running or not self._counted.get(self.scope):
            return
        self.go.setEnabled(False)
        for button in self.choices.buttons():
            button.setEnabled(False)
        self.close_button.setText("Stop")
        self.bar.setRange(0, self._counted[self.scope])
        self.bar.setValue(0)
        self.bar.show()
        self.count.setText(f"Recomputing the flags of {self._counted[self.scope]} answers…")
        self._worker.start(self.selections[self.scope])

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    @Slot(object)
    def _finished(self, result: ReflagResult | None) -> None:
        if result is None:
            return  # `failed` said why
        self.reflag_result = result
        self.bar.setValue(result.answers)
        self.count.setText("Done." if result.complete else "Not all answers were flagged again.")
        self._show_outcome(result.summary())

    @Slot(str)
    def _failed(self, text: str) -> None:
        self._show_outcome(text)

    def _show_outcome(self, text: str) -> None:
        self.outcome.setText(text)
        self.outcome.show()
        self.close_button.setText("Close")
        self.close_button.setEnabled(True)

    def _close_or_stop(self) -> None:
        if self._worker.running:
            self._worker.stop()
            self.close_button.setEnabled(False)
            self.count.setText("Stopping after the runs being flagged…")
        else:
            self.reject()

    def done(self, code: int) -> None:  # noqa: D401 - Qt's name
        if not self._closed:
            self._closed = True
            for signal, slot in ((self._worker.progress, self._progress), (self._worker.finished, self._finished), (self._worker.failed, self._failed)):
                signal.disconnect(slot)
        super().done(code)


class Reflagging(QObject):
    """The window's Recompute flags… command: its action, its thread, and what follows."""

    reflagged = Signal(object)  # ReflagResult: stored flags changed; views showing them read again

    def __init__(
        self,
        context: Context,
        action: QAction,
        *,
        shown_run: Callable[[], int | None],
        selected_runs: Callable[[], list[int]],
        shown_batch: Callable[[], int | None],
        parent: QObject | None = None,
    ) -> None:
        """`shown_run`: the run in the panes; `selected_runs`: the runs selected in History;
        `shown_batch`: the batch an open Batches window shows (the dialog offers each)."""
        super().__init__(parent)
        self._context = context
        self._shown_run, self._selected_runs, self._shown_batch = shown_run, selected_runs, shown_batch
        self.worker = ReflagThread(context.workspace.notebook, self)
        action.triggered.connect(self.open)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(lambda text: context.feedback.problem("reflag", text))
        self.dialog: ReflagDialog | None = None

    def open(self) -> ReflagDialog:
        dialog = ReflagDialog(self._context, self.worker, self._shown_run(), self._selected_runs(), self._shown_batch())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _finished(self, result: ReflagResult | None) -> None:
        if result is None:
            return
        self._context.feedback.status(result.summary(), 10000)
        self.reflagged.emit(result)

    def shutdown(self, timeout_s: float) -> bool:
        return self.worker.shutdown(timeout_s)
