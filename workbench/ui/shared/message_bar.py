"""Notices above the panes: problems and advice, without modal dialogs.

A modal box would stop a live demo (and a screenshot run); a notice waits,
readable, until dismissed. Each notice has a key, so the same problem
reported twice shows once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

INFO = "info"
PROBLEM = "problem"


class Notice(QFrame):
    def __init__(self, key: str, text: str, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("notice")
        self.setProperty("kind", kind)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("Dismiss")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)


class MessageBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.notices: dict[str, Notice] = {}
        self.hide()

    def show_notice(self, key: str, text: str, kind: str = INFO) -> Notice:
        notice = self.notices.get(key)
        if notice is not None:
            notice.label.setText(text)
            return notice
        notice = Notice(key, text, kind)
        notice.close_button.clicked.connect(lambda: self.dismiss(key))
        self.notices[key] = notice
        self._layout.addWidget(notice)
        self.show()
        return notice

    def dismiss(self, key: str) -> None:
        notice = self.notices.pop(key, None)
        if notice is None:
            return
        notice.hide()
        notice.deleteLater()
        self.setVisible(bool(self.notices))

    def text(self, key: str) -> str | None:
        notice = self.notices.get(key)
        return notice.label.text() if notice else None
