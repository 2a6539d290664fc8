"""Which two answers to compare: any two of the runs on screen and selected in History.

Two models of one run (the shown run), or one model in two runs (two runs
selected in History): the first choice starts on the focused pane's answer, the
second on the same model in another run when there is one, else on the next pane.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from ...core.side_by_side import SavedAnswer
from ..shared.text_label import text_label


def default_pair(answers: list[SavedAnswer], first: int | None = None) -> tuple[int, int]:
    """Indexes of the answers first offered: the answer with id `first` (else the first one),
    and the same model in another run if there is one, else the next answer."""
    left = next((i for i, answer in enumerate(answers) if answer.response_id == first), 0)
    model = answers[left].model_sha256 or answers[left].model_name
    for index, answer in enumerate(answers):
        if answer.run_id != answers[left].run_id and (answer.model_sha256 or answer.model_name) == model:
            return left, index
    return left, (left + 1) % len(answers)


class AnswerPicker(QDialog):
    """Two lists of the same answers; accepted with `chosen` the pair to compare."""

    def __init__(self, answers: list[SavedAnswer], parent: QWidget | None = None, *, first: int | None = None) -> None:
        """`first`: the id of the answer to offer first (the focused pane's)."""
        super().__init__(parent)
        self.setWindowTitle("Differences between two answers")
        self.answers = answers
        self.left, self.right = QComboBox(), QComboBox()
        for combo in (self.left, self.right):
            for answer in answers:
                combo.addItem(answer.title)  # addItem shows text as text
        left, right = default_pair(answers, first)
        self.left.setCurrentIndex(left)
        self.right.setCurrentIndex(right)
        form = QFormLayout()
        form.addRow("Compare", self.left)
        form.addRow("with", self.right)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Show differences")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.setMinimumWidth(520)  # room for "model · run N, pane N" in each list
        layout = QVBoxLayout(self)
        layout.addWidget(text_label("The answers of the run shown and of the runs selected in History."))
        layout.addLayout(form)
        layout.addWidget(buttons)

    @property
    def chosen(self) -> tuple[SavedAnswer, SavedAnswer]:
        return self.answers[self.left.currentIndex()], self.answers[self.right.currentIndex()]
