"""Labels that always show their text as text, word-wrapped unless asked otherwise.

A QLabel guesses from its text whether it is rich text, so a model's name or a
note containing "<b>" would be drawn as markup. Every label that shows
something the app did not write itself is made here, in plain text format.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy

from . import describe


def text_label(text: str = "", *, role: str | None = None, name: str | None = None, wrap: bool = True) -> QLabel:
    """`role` is a style property of the theme ("muted", "heading"); `name` its object name."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if role is not None:
        label.setProperty(role, True)
    if name is not None:
        label.setObjectName(name)
    return label


class ElidedLabel(QLabel):
    """One line of plain text, shortened with "…" to the width it is given, the whole
    text in its tooltip when shortened. For facts that help but must not push the
    answers off a small screen (a model's size and quantization, the settings)."""

    def __init__(self, *, role: str | None = None, name: str | None = None) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._full = ""
        if role is not None:
            self.setProperty(role, True)
        if name is not None:
            self.setObjectName(name)

    def text(self) -> str:
        """The whole text, however little of it is shown."""
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.updateGeometry()
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        return QSize(width, self.minimumSizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        margins = self.contentsMargins()
        return QSize(self.fontMetrics().horizontalAdvance("…"), self.fontMetrics().height() + margins.top() + margins.bottom())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()
            self._fit()

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, self.contentsRect().width())
        super().setText(shown)
        self.setToolTip(describe.tooltip(self._full) if shown != self._full else "")  # a model's name, a prompt: never markup
