"""Every text a window shows, for tests that check what is on screen (blind mode hides
model names; a key never appears)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QComboBox, QDockWidget, QLabel, QLineEdit, QMainWindow, QPlainTextEdit, QTextEdit, QWidget

from workbench.ui.panes.status_line import StatusLine


def window_texts(window: QWidget) -> str:
    """Every text a window (or a part of it) shows: its title, the status bar, and for each visible
    widget its text, tooltip, and the rows (with their tooltips) of lists and trees."""
    texts = [window.windowTitle()]
    if isinstance(window, QMainWindow):
        texts.append(window.statusBar().currentMessage())
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window):
            continue
        texts.append(widget.toolTip())
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit, StatusLine)):
            texts.append(widget.text())
        elif isinstance(widget, QComboBox):
            texts.append(widget.currentText())
        elif isinstance(widget, (QPlainTextEdit, QTextEdit)):
            texts.append(widget.toPlainText())
        elif isinstance(widget, QDockWidget):
            texts.append(widget.windowTitle())
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            for row in range(model.rowCount()):
                index = model.index(row, 0)
                texts += [str(index.data(role) or "") for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)]
    return "\n".join(texts)
