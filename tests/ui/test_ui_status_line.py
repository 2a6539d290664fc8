"""The pane's status line changes several times a second while streaming, without re-laying out the window."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.ui.panes.status_line import StatusLine


class LayoutRequests(QObject):
    def __init__(self, watched: QWidget) -> None:
        super().__init__()
        self.count = 0
        watched.installEventFilter(self)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def holder(qtbot, line: QWidget, width: int = 400) -> QWidget:
    parent = QWidget()
    qtbot.addWidget(parent)
    layout = QVBoxLayout(parent)
    layout.addWidget(line)
    layout.addStretch(1)
    parent.resize(width, 200)
    parent.show()
    qtbot.waitExposed(parent)
    return parent


def live_updates(qtbot, line: QWidget) -> int:
    """Layout requests while the figures tick, after the first one (which may change the line count)."""
    line.setText("generating… · 99 tokens · 59.5 tokens/s · first token 0.21 s")
    qtbot.wait(10)
    requests = LayoutRequests(line.parentWidget())
    for count in range(20):
        line.setText(f"generating… · {100 + count} tokens · {60 + count}.5 tokens/s · first token 0.21 s")
        qtbot.wait(1)
    return requests.count


def test_live_figures_repaint_without_a_new_layout(qtbot) -> None:
    line = StatusLine()
    parent = holder(qtbot, line)
    assert live_updates(qtbot, line) == 0 and parent.isVisible()
    assert line.text().startswith("generating… · 119 tokens") and line.accessibleName() == line.text()


def test_a_label_would_have_asked_for_a_layout_every_time(qtbot) -> None:
    """What the line is for: the same updates on a word-wrapped QLabel."""
    label = QLabel()
    label.setWordWrap(True)
    parent = holder(qtbot, label)
    assert live_updates(qtbot, label) >= 10
    assert parent.isVisible()


def test_the_line_grows_and_shrinks_with_the_lines_its_text_needs(qtbot) -> None:
    line = StatusLine()
    parent = holder(qtbot, line, width=160)
    line.setText("ok")
    one = line.height()
    assert one == line.fontMetrics().height()
    line.setText("reached max tokens · 128 tokens · 61.2 tokens/s · first token 0.21 s")
    assert line.height() >= 2 * one
    parent.resize(2000, 200)
    qtbot.waitUntil(lambda: line.height() == one)
    line.setText("")
    assert line.height() == one
