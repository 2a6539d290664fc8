"""A Markdown note: typed as plain text, shown rendered on request.

Notes are saved while the user types (after a short pause, `SAVE_DELAY_MS`),
so nothing is lost when the app is killed and there is no Save button to
forget; the core merges successive saves of one note into one undo step.
The preview reuses the answer view: Markdown through `core.rendering`, raw
HTML shown as text, nothing remote loaded. The box asks for two lines of height
and says what it is in its placeholder (what to write in its tooltip), with
Preview beside it rather than a title row above: above the panes and under each answer, it must leave a
laptop's screen to the answers (a longer note scrolls, or takes the room it
is given).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QStackedWidget, QToolButton, QWidget

from ..shared.fonts import follow_font
from .answer_view import AnswerView

SAVE_DELAY_MS = 600


class NoteEditor(QWidget):
    edited = Signal(str)  # the note's Markdown, after the user paused typing

    def __init__(self, title: str, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview_button = QToolButton()
        self.preview_button.setText("Preview")
        self.preview_button.setCheckable(True)
        self.preview_button.setToolTip("Show the note rendered as Markdown (raw HTML stays text; nothing is loaded)")
        self.preview_button.toggled.connect(self._show_preview)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(title)
        self.editor.setAccessibleName(title)
        self.editor.setToolTip(f"{title}: {hint}")
        self.editor.setTabChangesFocus(True)  # Tab and F6 keep moving between panes
        self.editor.textChanged.connect(self._typed)
        self.preview = AnswerView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.editor)
        self.stack.addWidget(self.preview)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.flush)
        self._saved = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.preview_button, 0, Qt.AlignmentFlag.AlignTop)
        follow_font(self, self._fit_heights)

    def _fit_heights(self) -> None:
        """At least two lines of note at the current type size."""
        least = self.editor.fontMetrics().lineSpacing() * 2 + 10
        self.editor.setMinimumHeight(least)
        self.preview.setMinimumHeight(least)

    @property
    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        """Show a note read from the notebook, unless the user is typing one (theirs wins)."""
        if self._timer.isActive():
            return
        self._saved = text.strip()
        if text != self.editor.toPlainText():
            self.editor.blockSignals(True)
            self.editor.setPlainText(text)
            self.editor.blockSignals(False)
        if self.preview_button.isChecked():
            self.preview.show_markdown(text)

    def flush(self) -> None:
        """Save now what was typed (a pause, leaving the pane, closing the window)."""
        self._timer.stop()
        text = self.editor.toPlainText().strip()
        if text != self._saved:
            self._saved = text
            self.edited.emit(text)

    def _typed(self) -> None:
        self._timer.start()

    def _show_preview(self, on: bool) -> None:
        if on:
            self.flush()
            self.preview.show_markdown(self.editor.toPlainText())
        self.stack.setCurrentIndex(1 if on else 0)
        self.preview_button.setText("Edit" if on else "Preview")
