"""The past-runs list: the one owner of what the History dock shows.

Before, the window read the newest runs, the annotation side read a
session's runs when a session filter was on, and each called the other to
refresh. `PastRuns` alone reads pages of runs (every run, or one session's)
off the GUI thread, pages further back, keeps the run in the panes marked,
follows the session filter, and reads again when runs were added or moved.
Others only ask it (`reload`, `show_session`, `step`, `open_run`) and hear
from it (`historyLoaded`, `runSelected`); the shell connects those, so no
other feature reaches into the panel.

Its first read opens the notebook, which upgrades an old one: that can take
long, so the status bar says why the list is still empty.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from ...core.errors import EnvironmentProblem
from ...core.notebook import Session
from ...core.notebook.migrations import needs_upgrade
from ...core.comparison import RunOutcome
from ...core.notebook import NotebookChange
from ..shared.context import Activity, Context, NotebookEvents, PaneEvents
from .export_dialog import ExportDialog
from .history import ALL_RUNS, PAGE_SIZE, HistoryPanel

# What the list shows is in these: a run added (live, a batch, an import), moved to a session,
# or followed up (its number of turns).
LISTED_TABLES = frozenset({"runs", "session_runs", "turns"})
UPGRADE_TEXT = "Upgrading the notebook… (building the search index: once, it may take a while for a large notebook)"


class PastRuns(QObject):
    historyLoaded = Signal()  # the list was read (or the notebook could not be)
    runSelected = Signal(int)  # show this saved run in the panes
    _progress = Signal(str)  # from the worker thread: why the first read takes long

    def __init__(
        self, context: Context, activity: Activity, pane_events: PaneEvents, notebook_events: NotebookEvents, parent: QObject | None = None
    ) -> None:
        """`activity`: told when the notebook was checked; `pane_events`: what the panes show,
        marked in the list; `notebook_events`: runs added or moved, by anyone, are listed."""
        super().__init__(parent)
        self._context = context
        self._activity = activity
        self.panel = HistoryPanel()
        pane_events.runStarting.connect(self.panel.clear_selection)
        pane_events.runCreated.connect(self.mark_current)  # listed when the notebook announces it
        notebook_events.watch(LISTED_TABLES)
        notebook_events.changed.connect(self._notebook_changed)
        pane_events.runFinished.connect(self._run_finished)
        pane_events.runShown.connect(self.mark_current)
        self.panel.runSelected.connect(self.runSelected)
        self.panel.olderRequested.connect(lambda before_id: self._read(before_id=before_id))
        self.panel.sessionFilterChanged.connect(lambda _session: self.reload())
        self._progress.connect(lambda text: context.feedback.status(text, 0))

    # --- reading ------------------------------------------------------------------------

    def start(self) -> None:
        """The first read: it opens the notebook (an old one is upgraded first, and the status
        bar says so). Whether or not the notebook opened, the window may then run."""
        ws, progress = self._context.workspace, self._progress.emit

        def read() -> list[dict[str, Any]]:
            if needs_upgrade(ws.db_path):
                progress(UPGRADE_TEXT)
            return ws.notebook.recent_runs(PAGE_SIZE)

        def checked(runs: list[dict[str, Any]] | None) -> None:
            if runs is not None:
                self.panel.set_runs(runs, append=False)
            self._activity.notebook_checked()
            self.historyLoaded.emit()

        def failed(problem: EnvironmentProblem) -> None:
            self._context.feedback.problem("notebook", str(problem))
            checked(None)

        self._context.notebook_tasks.submit(read, checked, failed)

    def reload(self, current: int | None = None) -> None:
        """Read the newest page again, of the session chosen: runs were added or moved, or the
        filter changed. `current`: a run now in the panes, to mark."""
        self._read(current=current)

    def _read(self, *, before_id: int | None = None, current: int | None = None) -> None:
        """A page of runs older than `before_id` added below the list, or the newest page
        replacing it."""
        ws, session = self._context.workspace, self.panel.session_shown
        append = before_id is not None

        def read() -> list[dict[str, Any]]:
            if session == ALL_RUNS or isinstance(session, str):  # the only text the filter holds
                return ws.notebook.recent_runs(PAGE_SIZE, before_id)
            return ws.notebook.sessions.runs(session, PAGE_SIZE, before_id)

        def shown(runs: list[dict[str, Any]]) -> None:
            self.panel.set_runs(runs, append=append)
            if current is not None:
                self.panel.mark_current(current)
            self.historyLoaded.emit()

        def failed(problem: EnvironmentProblem) -> None:
            self._context.feedback.problem("notebook", str(problem))
            self.historyLoaded.emit()

        self._context.notebook_tasks.submit(read, shown, failed)

    def _notebook_changed(self, change: NotebookChange) -> None:
        if change.touches(LISTED_TABLES):
            self.reload()

    def _run_finished(self, outcome: RunOutcome | None) -> None:
        """A finished run's row says whether an answer was left partial: read it again."""
        if outcome is not None:
            self.reload(current=outcome.run_id)

    # --- what others ask of the list --------------------------------------------------------

    def mark_current(self, run_id: int) -> None:
        """The panes show this run now (shown, or running live)."""
        self.panel.mark_current(run_id)

    def set_sessions(self, sessions: list[Session]) -> None:
        """The sessions that may filter the list and take runs (the active ones)."""
        self.panel.set_sessions(sessions)

    def show_session(self, session_id: object) -> None:
        """List one session's runs (None: Unsorted), as if chosen in the filter."""
        self.panel.show_session(session_id)

    def step(self, delta: int) -> None:
        """Show the next (+1, older) or previous (-1, newer) run in the list."""
        self.panel.step(delta)

    def open_run(self, run_id: int) -> None:
        """Show a run: selected in the list when listed (so stepping goes on from it), else
        straight from the notebook."""
        if not self.panel.select_run(run_id):
            self.runSelected.emit(run_id)

    def selected_run_ids(self) -> list[int]:
        return self.panel.selected_run_ids

    def listed_runs(self) -> list[tuple[int, str]]:
        """The runs listed, with their rows' text on one line (what a choice of runs offers)."""
        texts = (self.panel.list.item(row).text().replace("\n", " — ") for row in range(self.panel.list.count()))
        return list(zip(self.panel.run_ids, texts))

    # --- export ------------------------------------------------------------------------------

    def open_export(self) -> ExportDialog:
        """File > Export…: offers the run selected, the runs selected and the session listed."""
        session = self.panel.session_shown
        dialog = ExportDialog(
            self._context.workspace.notebook,
            self._context.notebook_tasks,
            current_run=self.panel.selected_run_id,
            selected_runs=self.panel.selected_run_ids,
            session_id=session if isinstance(session, int) else None,
            parent=self._context.parent,
        )
        dialog.open()
        return dialog
