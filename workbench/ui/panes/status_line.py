"""A pane's status line: cheap to change while an answer streams.

The live figures under each answer change several times a second. A QLabel
asks for a new layout on every `setText`, and that request climbs through
the pane to the main window, which lays out every dock again (and, under
Qt's dock animations, makes an animation object per dock): about 3 ms on the
GUI thread each time, measured, and on a two-core laptop that time is taken
from the models. This line only repaints when its text changes, and asks for
a new layout only when the text needs a different number of lines. It fills
its own background, so its repaints stop at it: otherwise Qt paints the pane,
the compare area and the main window beneath it too.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QResizeEvent, QStaticText, QTransform
from PySide6.QtWidgets import QSizePolicy, QWidget


class StatusLine(QWidget):
    """Word-wrapped plain text, like a QLabel with `setWordWrap(True)` and plain text format."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._laid_out = QStaticText()  # laid out once per text, width or font: painting only draws it
        self._laid_out.setTextFormat(Qt.TextFormat.PlainText)
        self.setAutoFillBackground(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._fit()

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name, so the line reads like one
        if text == self._text:
            return
        self._text = text
        self._laid_out.setText(text)
        self.setAccessibleName(text)
        self._fit()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.fontMetrics().averageCharWidth() * 20, self.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, self.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawStaticText(0, 0, self._laid_out)

    def _fit(self) -> None:
        """Take the height the text needs at the current width; only a change of it re-lays out."""
        self._laid_out.setTextWidth(self.width() if self.width() > 0 else -1)  # not shown yet: one line
        self._laid_out.prepare(QTransform(), self.font())
        height = max(self.fontMetrics().height(), math.ceil(self._laid_out.size().height()) if self._text else 0)
        if self.minimumHeight() != height or self.maximumHeight() != height:
            self.setFixedHeight(height)
