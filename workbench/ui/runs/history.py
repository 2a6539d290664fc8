"""Past runs from the notebook, newest first; selecting one shows it in the panes.

The panel only displays what `PastRuns` (past_runs.py) hands it, read from
the notebook off the GUI thread, and says which run the user picked. Runs come in pages,
so a notebook with thousands of runs opens as fast as an empty one.
"""

from __future__ import annotations

from typing import Any, cast

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton, QVBoxLayout, QWidget

from ...core.notebook import Session

from ..shared import describe

PAGE_SIZE = 50
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
RUN_ROLE = Qt.ItemDataRole.UserRole + 2  # the run as read, to word the row again when blind changes
PROMPT_CHARS = 90
ALL_RUNS = "all"  # the session filter's "every run" (None is Unsorted)


def run_label(run: dict[str, Any], *, models_hidden: bool = False) -> str:
    """The prompt, then the models in pane order (unless a blind comparison hides them), when,
    how many turns when it was followed up, and whether an answer was left partial (statuses.py)."""
    prompt = " ".join((run.get("prompt") or "").split())
    if len(prompt) > PROMPT_CHARS:
        prompt = prompt[: PROMPT_CHARS - 1] + "…"
    models = describe.MODELS_HIDDEN if models_hidden else run.get("models") or "no models"
    turns = f" · {run['turns']} turns" if (run.get("turns") or 1) > 1 else ""
    partial = f" · {run['interrupted']} interrupted" if run.get("interrupted") else ""
    return f"{prompt}\n{models} · {describe.local_time(run.get('created_at'))}{turns}{partial}"


class HistoryPanel(QWidget):
    runSelected = Signal(int)
    olderRequested = Signal(int)  # the oldest run id shown: load runs before it
    sessionFilterChanged = Signal(object)  # ALL_RUNS, None (Unsorted) or a session id
    moveRequested = Signal(list, object)  # run ids, a session id or None (Unsorted)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.itemSelectionChanged.connect(self._selected)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.session_filter = QComboBox()
        self.session_filter.setToolTip("Show the runs of one session")
        self.session_filter.addItem("All runs", ALL_RUNS)
        self.session_filter.currentIndexChanged.connect(lambda _i: self.sessionFilterChanged.emit(self.session_filter.currentData()))
        self.sessions: list[Session] = []
        self.empty = QLabel("No runs yet. Every run is saved here as it happens.")
        self.empty.setWordWrap(True)
        self.empty.setProperty("muted", True)
        self.older = QPushButton("Load older runs")
        self.older.clicked.connect(self._request_older)
        self.older.hide()
        self._current: int | None = None
        self._models_hidden = False
        # Commands of other features on the selected runs, offered at the end of the context menu (set by the shell).
        self.context_actions: list[QAction] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.session_filter)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.older)

    def set_runs(self, runs: list[dict[str, Any]], *, append: bool) -> None:
        """Show a page of runs (newest first), replacing the list or adding older runs below it."""
        selected = self.selected_run_id
        self.list.blockSignals(True)
        if not append:
            self.list.clear()
        for run in runs:
            item = QListWidgetItem(run_label(run, models_hidden=self._models_hidden))
            item.setData(RUN_ID_ROLE, int(run["id"]))
            item.setData(RUN_ROLE, run)
            item.setToolTip(describe.tooltip(run.get("prompt") or ""))
            self.list.addItem(item)
        if selected is not None:
            self._select(selected)
        self.list.blockSignals(False)
        self.mark_current(self._current)
        self.older.setVisible(len(runs) >= PAGE_SIZE)
        self.empty.setVisible(self.list.count() == 0)

    def set_models_hidden(self, hidden: bool) -> None:
        """While a blind comparison is on, no row names its run's models (pane order would give
        away who is Model A)."""
        self._models_hidden = hidden
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setText(run_label(item.data(RUN_ROLE), models_hidden=hidden))

    def mark_current(self, run_id: int | None) -> None:
        """Show in bold the run the panes show. A run that just ran is marked, not selected,
        so that clicking it later (after looking at another) still shows it."""
        self._current = run_id
        for row in range(self.list.count()):
            item = self.list.item(row)
            font = QFont()
            font.setBold(item.data(RUN_ID_ROLE) == run_id)
            item.setFont(font)

    def set_sessions(self, sessions: list[Session]) -> None:
        """Offer every session as a filter and a "Move to session" target, keeping the choice."""
        self.sessions = sessions
        current = self.session_filter.currentData()
        self.session_filter.blockSignals(True)
        self.session_filter.clear()
        self.session_filter.addItem("All runs", ALL_RUNS)
        for session in sessions:
            self.session_filter.addItem(f"{session.name} ({session.run_count})", session.id)
        index = self.session_filter.findData(current)
        self.session_filter.setCurrentIndex(max(index, 0))
        self.session_filter.blockSignals(False)
        if index < 0:  # the session shown was archived: back to every run
            self.sessionFilterChanged.emit(ALL_RUNS)

    @property
    def session_shown(self) -> int | str | None:
        """ALL_RUNS, None (Unsorted) or the id of the session whose runs are listed."""
        return cast("int | str | None", self.session_filter.currentData())  # the filter's items hold nothing else

    def show_session(self, session_id: object) -> None:
        index = self.session_filter.findData(session_id)
        if index >= 0:
            self.session_filter.setCurrentIndex(index)

    @property
    def selected_run_ids(self) -> list[int]:
        return [item.data(RUN_ID_ROLE) for item in self.list.selectedItems()]

    def step(self, delta: int) -> bool:
        """Show the next (+1, older) or previous (-1, newer) run: Alt+Down / Alt+Up."""
        ids = self.run_ids
        if not ids:
            return False
        here = ids.index(self._current) if self._current in ids else -1
        target = max(0, min(len(ids) - 1, here + delta)) if here >= 0 else 0
        if target == here:
            return False
        self.list.setCurrentRow(target)
        return True

    def _context_menu(self, point: QPoint) -> None:
        run_ids = self.selected_run_ids
        if not run_ids:
            return
        menu = QMenu(self)
        move = menu.addMenu(f"Move {'run' if len(run_ids) == 1 else f'{len(run_ids)} runs'} to session")
        for session in self.sessions:

            def move_to(s: int | None = session.id) -> None:
                self.moveRequested.emit(run_ids, s)

            move.addAction(session.name, move_to)
        if self.context_actions:
            menu.addSeparator()
            menu.addActions(self.context_actions)
        menu.popup(self.list.viewport().mapToGlobal(point))

    @property
    def run_ids(self) -> list[int]:
        return [self.list.item(row).data(RUN_ID_ROLE) for row in range(self.list.count())]

    @property
    def selected_run_id(self) -> int | None:
        items = self.list.selectedItems()
        return items[0].data(RUN_ID_ROLE) if items else None

    def select_run(self, run_id: int) -> bool:
        """Select a run as if the user clicked it (the panes then show it)."""
        return self._select(run_id)

    def clear_selection(self) -> None:
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.blockSignals(False)

    def _select(self, run_id: int) -> bool:
        for row in range(self.list.count()):
            if self.list.item(row).data(RUN_ID_ROLE) == run_id:
                self.list.setCurrentRow(row)
                return True
        return False

    def _selected(self) -> None:
        run_id = self.selected_run_id
        if run_id is not None and len(self.list.selectedItems()) == 1:
            self.runSelected.emit(run_id)

    def _request_older(self) -> None:
        ids = self.run_ids
        if ids:
            self.olderRequested.emit(min(ids))
