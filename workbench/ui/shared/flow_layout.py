"""A layout that places its widgets left to right and wraps them onto new lines, like words.

Chips whose number and length vary (a pane's suggested flags) fit a narrow
pane on a small screen without being cut ("sugg…"), and take one line when
there is room. Qt has none built in; this follows the FlowLayout of Qt's
examples.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's largest widget size: every item on one line


class FlowLayout(QLayout):
    """`shorten`: an item wider than a line is given the line's width (a button then shortens
    its text with "…") instead of making the layout that wide. Label chips are never
    shortened; a pane's machine suggestions may be, in a pane too narrow for them (six
    panes on a full-HD screen), rather than the whole bar scrolling sideways."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4, *, shorten: bool = False) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._shorten = shorten
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt's name
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt's name
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        """No: FlowBox asks for its lines' height as its minimum instead. Told of a height for
        width, a scroll area around the box's parent sized that parent by every part's
        preferred height (a list's 192 px among them) and hid the buttons below the fold."""
        return False

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt's name
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt's name
        size = QSize()
        for item in self._items:
            widget = item.widget()
            if widget is None or not widget.isHidden():
                hint = item.sizeHint()  # a chip narrower than its text would cut the text
                size = size.expandedTo(QSize(0, hint.height()) if self._shorten else hint)
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the items out in `rect` (or only measure); the height they take."""
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, line = area.x(), area.y(), 0
        for item in self._items:
            widget = item.widget()
            if widget is not None and widget.isHidden():
                continue
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, line = area.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), QSize(min(hint.width(), area.width()), hint.height())))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y() + margins.bottom()


class FlowBox(QWidget):
    """A widget holding a FlowLayout that asks for the height its lines take at its width,
    so a squeezed parent shrinks something else rather than cutting a line of chips off
    or squashing the chips below their height.

    Until a layout has given it a width, it asks for the height of one line: measured at
    a new widget's default 100 pixels, ten chips would ask for ten lines, and the window
    would grow to make room for them."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4, *, shorten: bool = False) -> None:
        super().__init__(parent)
        self.flow = FlowLayout(self, spacing, shorten=shorten)

    def _lines_height(self) -> int:
        if not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            return self.flow.heightForWidth(QWIDGETSIZE_MAX)
        return self.flow.heightForWidth(self.width())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.flow.minimumSize().width(), self._lines_height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.minimumSizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()  # a new width may take another number of lines


def empty_layout(layout: QLayout) -> None:
    """Take every item out of `layout`, deleting its widget (later, as Qt wants it done)."""
    while (item := layout.takeAt(0)) is not None:
        if (widget := item.widget()) is not None:
            widget.deleteLater()


def flow_row(*widgets: QWidget, spacing: int = 4) -> FlowBox:
    """A row of buttons that wraps onto a second line in a narrow dock rather than widen it."""
    box = FlowBox(spacing=spacing)
    for widget in widgets:
        box.flow.addWidget(widget)
    return box
