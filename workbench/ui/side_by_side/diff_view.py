"""The difference view: two answers side by side, paragraphs aligned, words removed and added marked.

One table in one read-only text view: a row per aligned pair of paragraphs
(core/analysis/answer_diff.py), so both answers scroll together and a
paragraph one answer lacks leaves its cell empty. Removed words are struck
through on a red tint, added words underlined on a green one: the line is the
cue colour-blind readers and a washed-out projector still get. Model output is
untrusted, so every piece goes in through QTextCursor.insertText, never as HTML.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor, QTextLength, QTextTableFormat
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextEdit, QVBoxLayout, QWidget

from ...core.analysis.answer_diff import ADDED, REMOVED, SAME, AnswerDiff, Piece
from ...core.side_by_side import SavedAnswer
from ..shared.text_label import text_label

# Tints that read on the light and the dark scheme alike (the text keeps its colour).
REMOVED_TINT = QColor(220, 40, 40, 70)
ADDED_TINT = QColor(30, 160, 60, 70)
LEGEND = "Removed words are struck through (red); added words are underlined (green). Paragraphs are aligned side by side."


def mark_format(mark: str) -> QTextCharFormat:
    """How a piece of an answer is drawn: plain, removed or added."""
    fmt = QTextCharFormat()
    if mark == REMOVED:
        fmt.setBackground(REMOVED_TINT)
        fmt.setFontStrikeOut(True)
    elif mark == ADDED:
        fmt.setBackground(ADDED_TINT)
        fmt.setFontUnderline(True)
    return fmt


class DiffView(QDialog):
    """Shows one `AnswerDiff` of two saved answers; `show_diff` fills it again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Differences between two answers")
        self.heading = text_label(role="heading")
        self.summary = text_label()
        self.legend = text_label(LEGEND, role="muted")
        self.text = QTextEdit()
        self.text.setReadOnly(True)
        self.text.setAcceptRichText(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.heading, self.summary, self.legend):
            layout.addWidget(widget)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(1100, 640)

    def show_diff(self, left: SavedAnswer, right: SavedAnswer, diff: AnswerDiff) -> None:
        self.heading.setText(f"{left.title}  ⟷  {right.title}")
        self.summary.setText(diff.summary)
        self.text.clear()
        cursor = self.text.textCursor()
        table_format = QTextTableFormat()
        table_format.setColumnWidthConstraints([QTextLength(QTextLength.Type.PercentageLength, 50)] * 2)
        table_format.setCellPadding(6)
        table_format.setCellSpacing(0)
        table_format.setBorder(0.5)
        table_format.setHeaderRowCount(1)
        table = cursor.insertTable(len(diff.rows) + 1, 2, table_format)
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.Bold)
        for column, answer in enumerate((left, right)):
            table.cellAt(0, column).firstCursorPosition().insertText(answer.title, bold)
        for row, aligned in enumerate(diff.rows, start=1):
            for column, pieces in enumerate((aligned.left, aligned.right)):
                self._write(table.cellAt(row, column).firstCursorPosition(), pieces)
        self.text.moveCursor(QTextCursor.MoveOperation.Start)

    @staticmethod
    def _write(cursor: QTextCursor, pieces: tuple[Piece, ...]) -> None:
        plain = mark_format(SAME)
        for piece in pieces:
            cursor.insertText(piece.body, mark_format(piece.mark))
            cursor.insertText(piece.trailing, plain)  # the spaces after a change are not part of it
