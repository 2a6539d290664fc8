"""A scroll area that keeps a window small without cutting what it holds.

A dock or a pane part asks its parent for the room its content needs, and
QMainWindow adds those minimums up: a settings form beside a demo panel beside
the panes asked for more than a laptop's screen. Held in a `Scroller`, the
content asks for at most `max_chars` characters of width (and, when `lines`
is given, that many lines of height), measured in the type size of the moment; below that it scrolls rather than being squeezed, so no
button or chip is ever drawn cut or squashed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class Scroller(QScrollArea):
    def __init__(self, widget: QWidget, *, max_chars: int | None = None, lines: int | None = None) -> None:
        super().__init__()
        self._max_chars = max_chars
        self._lines = lines
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setWidget(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # styling or new content changed its minimum: the parent asks again
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._lines is not None and event.oldSize().width() != event.size().width():
            self.updateGeometry()  # wrapped text takes another number of lines at another width

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        content = self.widget()
        assert content is not None, "made with its content"
        inner = content.minimumSizeHint()
        width = inner.width() + self.verticalScrollBar().sizeHint().width()
        if self._max_chars is not None:
            width = min(width, self._max_chars * self.fontMetrics().averageCharWidth())
        height = inner.height()
        if self._lines is not None:
            if content.hasHeightForWidth() and self.viewport().width() > 0:
                height = max(height, content.heightForWidth(self.viewport().width()))  # wrapped text, at its width
            margins = content.contentsMargins()  # a style's padding, as around a crash notice
            height = min(height, self._lines * content.fontMetrics().lineSpacing() + margins.top() + margins.bottom())
        elif width < inner.width():
            height += self.horizontalScrollBar().sizeHint().height()  # room for the sideways bar, not the content's
        return QSize(width, height)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """With `lines`, no more height than the minimum: what is left goes to the
        parts beside it by their stretch (an answer before its labels)."""
        content = self.widget()
        assert content is not None, "made with its content"
        hint = content.sizeHint().expandedTo(self.minimumSizeHint())
        if self._lines is not None:
            hint.setHeight(self.minimumSizeHint().height())
        return hint
