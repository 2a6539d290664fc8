"""Sessions: named groups of runs (a study, a class), managed beside the history.

Lists "Unsorted" and every session with its number of runs; New, Rename and
Archive act on the notebook through `Annotating`. Choosing a session shows
its runs in the history panel; runs move into a session from the history's
context menu ("Move to session") or with "Move selected runs here".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QInputDialog, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from ...core.notebook import Session
from ..shared.flow_layout import flow_row

SESSION_ROLE = Qt.ItemDataRole.UserRole + 1


class SessionsPanel(QWidget):
    createRequested = Signal(str)
    renameRequested = Signal(int, str)
    archiveRequested = Signal(int, bool)
    sessionChosen = Signal(object)  # session id, None for Unsorted
    moveHereRequested = Signal(object)  # move the history's selected runs to this session id
    showArchivedChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sessions: list[Session] = []
        self.list = QListWidget()
        self.list.itemActivated.connect(lambda item: self.sessionChosen.emit(item.data(SESSION_ROLE)))
        self.list.itemClicked.connect(lambda item: self.sessionChosen.emit(item.data(SESSION_ROLE)))
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.new_button = QPushButton("New…")
        self.new_button.clicked.connect(self._new)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self._rename)
        self.archive_button = QPushButton("Archive")
        self.archive_button.clicked.connect(self._archive)
        self.move_button = QPushButton("Move selected runs here")
        self.move_button.setToolTip("Move the runs selected in the history into this session")
        self.move_button.clicked.connect(self._move_here)
        self.show_archived = QCheckBox("Show archived")
        self.show_archived.toggled.connect(self.showArchivedChanged)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(flow_row(self.new_button, self.rename_button, self.archive_button))  # wraps in a narrow dock
        layout.addWidget(self.move_button)
        layout.addWidget(self.show_archived)
        self._update_buttons()

    def set_sessions(self, sessions: list[Session]) -> None:
        current = self.current_session_id if self.list.currentItem() else None
        self.sessions = sessions
        self.list.blockSignals(True)
        self.list.clear()
        for session in sessions:
            archived = " (archived)" if session.archived else ""
            item = QListWidgetItem(f"{session.name}{archived} · {session.run_count} run{'s' if session.run_count != 1 else ''}")
            item.setData(SESSION_ROLE, session.id)
            self.list.addItem(item)
            if session.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._update_buttons()

    @property
    def current_session_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(SESSION_ROLE) if item else None

    def select(self, session_id: int | None) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(SESSION_ROLE) == session_id:
                self.list.setCurrentRow(row)
                self.sessionChosen.emit(session_id)
                return

    def _session(self) -> Session | None:
        return next((s for s in self.sessions if s.id == self.current_session_id), None) if self.list.currentItem() else None

    def _update_buttons(self) -> None:
        session = self._session()
        named = session is not None and session.id is not None
        self.rename_button.setEnabled(named)
        self.archive_button.setEnabled(named)
        self.archive_button.setText("Restore" if session is not None and session.archived else "Archive")
        self.move_button.setEnabled(self.list.currentItem() is not None)

    def _new(self) -> None:
        name, ok = QInputDialog.getText(self, "New session", "Name (a study, a class):")
        if ok and name.strip():
            self.createRequested.emit(name.strip())

    def _move_here(self) -> None:
        if self.list.currentItem():
            self.moveHereRequested.emit(self.current_session_id)

    def _rename(self) -> None:
        session = self._session()
        if session is None or session.id is None:
            return
        name, ok = QInputDialog.getText(self, "Rename session", "New name:", text=session.name)
        if ok and name.strip():
            self.renameRequested.emit(session.id, name.strip())

    def _archive(self) -> None:
        session = self._session()
        if session is not None and session.id is not None:
            self.archiveRequested.emit(session.id, not session.archived)
