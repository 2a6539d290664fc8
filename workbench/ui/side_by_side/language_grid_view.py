"""One question in English and in Chinese, as a grid: a row per language, a column per model.

A teacher sees at a glance who answers in which language and who refuses: each
cell holds a model's whole answer (plain text, scrollable) under its automatic
flags (dashed chips, "suggested") and people's labels (filled chips). A model
that did not answer in one language has a cell that says so. The grid itself is
assembled in core (core/side_by_side.py); this only lays it out. Everything in
it came from models or the notebook, so all of it is shown as plain text.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...core.notebook import Label
from ...core.notebook.statuses import unfinished_note
from ...core.side_by_side import GridCell, LanguageGrid
from ..panes.annotation_bar import flag_title
from ..shared.flow_layout import FlowLayout
from ..shared.text_label import text_label

CELL_WIDTH = 300
CELL_HEIGHT = 220
FALLBACK_COLOUR = "#607d8b"


def chip(text: str, colour: str, *, suggested: bool) -> QLabel:
    """A label as a filled chip, or a flag as a dashed one (a machine's suggestion)."""
    label = text_label(text, wrap=False)
    if suggested:
        label.setStyleSheet(f"QLabel {{ border: 1px dashed {colour}; border-radius: 8px; padding: 1px 6px; }}")
    else:
        label.setStyleSheet(f"QLabel {{ background: {colour}; color: white; border-radius: 8px; padding: 1px 6px; }}")
    return label


class LanguageGridView(QDialog):
    """Shows one `LanguageGrid`; `show_grid` fills it again. `cells[(row, column)]` is the
    cell's widget (an answer's frame, or the label saying there is none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("English and Chinese side by side")
        self.heading = text_label("The same question in each language, answered by each model.", role="heading")
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.cells: dict[tuple[int, int], QWidget] = {}
        self.answers: dict[tuple[int, int], QPlainTextEdit] = {}
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.scroller, 1)
        layout.addWidget(buttons)
        self.resize(1100, 640)

    def show_grid(self, grid: LanguageGrid, labels: dict[str, Label]) -> None:
        inner = QWidget()
        layout = QGridLayout(inner)
        layout.setSpacing(8)
        self.cells, self.answers = {}, {}
        for column, model in enumerate(grid.columns):
            header = text_label(model.model_name, role="heading")
            layout.addWidget(header, 0, column + 1)
            layout.setColumnMinimumWidth(column + 1, CELL_WIDTH)
            layout.setColumnStretch(column + 1, 1)
        for row, language in enumerate(grid.rows):
            side = QWidget()
            side_layout = QVBoxLayout(side)
            side_layout.setContentsMargins(0, 0, 0, 0)
            side_layout.addWidget(text_label(f"{language.name} · run {language.run_id}", role="heading"))
            prompt = text_label(language.prompt)
            prompt.setMaximumWidth(200)
            side_layout.addWidget(prompt)
            side_layout.addStretch(1)
            layout.addWidget(side, row + 1, 0)
            layout.setRowMinimumHeight(row + 1, CELL_HEIGHT)
            for column in range(len(grid.columns)):
                cell = grid.cell(row, column)
                widget = self._answer(cell, labels, (row, column)) if cell else text_label(grid.missing_text(row, column), role="muted")
                self.cells[(row, column)] = widget
                layout.addWidget(widget, row + 1, column + 1)
        self.scroller.setWidget(inner)

    def _answer(self, cell: GridCell, labels: dict[str, Label], where: tuple[int, int]) -> QWidget:
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(4, 4, 4, 4)
        chips = FlowLayout()
        for name in cell.labels:
            label = labels.get(name)
            chips.addWidget(chip(label.title if label else name, label.colour if label else FALLBACK_COLOUR, suggested=False))
        for name in cell.flags:
            if name in cell.labels:
                continue  # a person already labelled it so: the filled chip says it
            label = labels.get(name)
            chips.addWidget(chip(f"suggested: {flag_title(name, labels)}", label.colour if label else FALLBACK_COLOUR, suggested=True))
        layout.addLayout(chips)
        note = unfinished_note(cell.answer.status)
        if note:
            layout.addWidget(text_label(note, role="muted"))
        answer = QPlainTextEdit(cell.answer.text)
        answer.setReadOnly(True)
        answer.setPlaceholderText(f"No text ({cell.answer.finish_reason or cell.answer.status}).")
        answer.setMinimumHeight(CELL_HEIGHT - 40)
        self.answers[where] = answer
        layout.addWidget(answer, 1)
        return frame
