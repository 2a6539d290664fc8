"""Screen sizes and the checks the layout tests share (test_ui_layout, test_ui_turns)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

FRAME = QSize(10, 30)  # a title bar and borders: what a screen keeps from the window's client area
LAPTOPS = ((1280, 720), (1366, 768))


def client(width: int, height: int) -> QSize:
    return QSize(width, height) - FRAME


def settle_layout(qtbot) -> None:
    for _ in range(3):
        QApplication.processEvents()
    qtbot.wait(20)


def assert_answers_dominate(window) -> None:
    """Each answer is at least twice as tall as the labels under it and a quarter of the window."""
    for pane in window.area.panes:
        answer, labels = pane.answer_view.height(), pane.annotation_box.height()
        assert answer >= window.height() // 4 and answer >= 2 * labels, (window.size(), answer, labels)
