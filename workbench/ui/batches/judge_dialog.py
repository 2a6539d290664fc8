"""Batches window > Judge with a model…: pick the judge, watch it label, cancel.

The dialog only picks and shows progress; the Batches window starts the
main window's `JudgeThread` and hands its reports here. It stays open (and
leaves the Batches window usable) while the judge works, so the matrix can
be watched filling in with the judge's verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import ModelEntry
from ...core.judge import Judged, JudgeResult, judge_annotator
from ...core.notebook.batches import Batch
from ..shared import describe
from ..shared.text_label import text_label

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
EXPLANATION_WIDTH = 540
EXPLANATION = (
    "The model reads each answer with SpeechMap's rubric and says whether it complies (stored as Answered), "
    "evades (Evasive) or refuses (Hard refusal), with a one-line reason as its note, as an annotator of its own: "
    "judge:<model>. The matrix shows its verdicts as outlined chips; the Summary compares them with people's "
    "labels and the automatic flags. Answers it already judged are skipped. Small models judge poorly (the "
    "starter models hardly better than chance): see docs/judge.md."
)


def judge_choices(entries: Iterable[ModelEntry]) -> list[ModelEntry]:
    """The models that can judge: remote ones first (an endpoint serves models no laptop
    holds), then the largest file first (a bigger model judges better)."""
    usable = [e for e in entries if e.status == "ok"]
    return sorted(usable, key=lambda e: (not e.remote, -(e.metadata.file_size if e.metadata and e.metadata.file_size else 0), e.name.lower()))


def _size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} KB"


class JudgeDialog(QDialog):
    """Not modal: the Batches window stays usable while the judge works."""

    judgeRequested = Signal(object, bool)  # ModelEntry, redo
    cancelRequested = Signal()

    def __init__(self, batch: Batch, entries: list[ModelEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.batch = batch
        self.setWindowTitle(f"Judge batch #{batch.id} with a model")
        self.running = False
        self.judge_result: JudgeResult | None = None

        self.model = QComboBox()
        for entry in judge_choices(entries):
            size = entry.metadata.file_size if entry.metadata and entry.metadata.file_size else None
            self.model.addItem(describe.badged_name(entry) + (f" ({_size(size)})" if size else ""), entry)
            self.model.setItemData(self.model.count() - 1, describe.tooltip(str(entry.path)), Qt.ItemDataRole.ToolTipRole)
        self.model.currentIndexChanged.connect(self._update)
        self.redo = QCheckBox("Judge again the answers this model already judged")
        self.redo.setToolTip("Its earlier verdicts and notes on them are replaced")
        self.annotator = text_label(role="muted")
        form = QFormLayout()
        form.addRow("Judge", self.model)
        form.addRow("", self.annotator)
        form.addRow("", self.redo)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.status = text_label(role="muted")
        self.judge_button = QPushButton("Judge")
        self.judge_button.setDefault(True)
        self.judge_button.clicked.connect(self._judge)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now; what was judged is kept, and judging again goes on from there")
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QDialogButtonBox()
        for button, role in ((self.judge_button, QDialogButtonBox.ButtonRole.AcceptRole), (self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole), (self.close_button, QDialogButtonBox.ButtonRole.RejectRole)):
            buttons.addButton(button, role)

        explanation = text_label(EXPLANATION)
        # A wrapped label's own size hint ignores its wrapping: give it the height the width needs.
        explanation.setMinimumWidth(EXPLANATION_WIDTH)
        explanation.setMinimumHeight(explanation.heightForWidth(EXPLANATION_WIDTH) + explanation.fontMetrics().lineSpacing())
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        if not self.model.count():
            self.status.setText("No model that can be loaded is in the library: add a folder of GGUF files first.")
        self._update()

    def chosen(self) -> ModelEntry | None:
        return cast("ModelEntry | None", self.model.currentData())  # each item's data is its entry

    def _update(self, *_: object) -> None:
        entry = self.chosen()
        self.annotator.setText(f"Its verdicts are stored as the annotator {judge_annotator(entry.name)}." if entry else "")
        self.model.setEnabled(not self.running)
        self.redo.setEnabled(not self.running)
        self.judge_button.setEnabled(not self.running and entry is not None)
        self.cancel_button.setEnabled(self.running)
        self.close_button.setEnabled(not self.running)

    def _judge(self) -> None:
        entry = self.chosen()
        if entry is not None and not self.running:
            self.judgeRequested.emit(entry, self.redo.isChecked())

    def _cancel(self) -> None:
        if self.running:
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling… the answer being judged will be judged next time.")
            self.cancelRequested.emit()

    def refused(self, text: str) -> None:
        """The window could not start the judge (a batch or comparison holds the models)."""
        self.status.setText(text)

    # --- reports from the judge thread (connected by the Batches window) --------------------

    def judging(self) -> None:
        self.running = True
        self.judge_result = None
        self.progress.setRange(0, 0)  # busy until the count is known
        self.progress.setFormat("Reading the answers…")
        self.status.setText("")
        self._update()

    def started_counts(self, result: JudgeResult) -> None:
        self.progress.setRange(0, max(1, result.to_judge))
        self.progress.setValue(0)
        self.progress.setFormat(f"0 of {result.to_judge} answers")
        skipped = f"; {result.skipped} already judged by it, skipped" if result.skipped else ""
        no_answer = f"; {result.no_answer} with no answer to judge" if result.no_answer else ""
        self.status.setText(f"{result.to_judge} of {result.total} answers to judge{skipped}{no_answer}.")

    def loading(self) -> None:
        self.progress.setFormat(self.progress.format() + " — loading the judge…")

    def answer_judged(self, judged: Judged, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total} answers")
        if judged.verdict is None:
            what = f"failed: {judged.error}"
        elif judged.verdict.parsed:
            what = judged.verdict.compliance or ""
        else:
            what = "unparseable reply"
        self.status.setText(f"{judged.target.model_name}, run {judged.target.run_id}: {what} ({judged.seconds:.1f} s)")

    def judging_ended(self, result: JudgeResult | None, failure: str = "") -> None:
        self.running = False
        self.judge_result = result
        if result is None:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("")
            self.status.setText(failure or "The judge could not run.")
        else:
            counts = ", ".join(f"{name.lower()} {count}" for name, count in result.verdicts.items())
            head = "Cancelled" if result.cancelled else "Done"
            extra = "".join(
                part
                for part in (
                    f", unparseable {result.unparseable}" if result.unparseable else "",
                    f", failed {result.failed}" if result.failed else "",
                    f"; {result.truncated} shortened to fit its context" if result.truncated else "",
                    f"; {result.seconds_per_answer:.1f} s an answer" if result.seconds_per_answer is not None else "",
                )
            )
            self.status.setText(f"{head}: {result.judged} judged ({counts}{extra}); {result.skipped} already judged.")
            if not result.cancelled:
                self.progress.setRange(0, 1)
                self.progress.setValue(1)
                self.progress.setFormat(f"{result.judged} of {result.to_judge} answers")
        self._update()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Closing while judging cancels (nothing judged is lost)."""
        if self.running:
            self._cancel()
        super().closeEvent(event)
