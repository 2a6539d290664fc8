"""The main window: it builds the parts, lays out the docks, and wires the features.

The window holds no logic of its own about models or runs. It makes the shared
state (shared/context.py) and hands each feature controller the pieces it works
on, then connects what one feature reports to what another does (qutebrowser's
window wires parts; the commands live elsewhere). Signals such as
`catalogLoaded` and `runFinished` say when something arrived; tests, the
screenshot mode and the benchmark wait on them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.engine.params import GenerationParams
from ...core.errors import EnvironmentProblem
from ...core.workspace import Workspace
from ..shared import fonts, theme
from ..annotate.annotating import Annotating
from .menus import Docks, build_menus
from ..panes.compare_area import CompareArea
from ..shared.actions import MIN_PANES, Actions
from ..shared.context import Activity, Context, Feedback, ModelLibrary, NotebookEvents, PaneEvents
from ..classroom.demo_panel import DemoController
from ..library.controller import Library
from ..library.empty_state import EmptyState
from ..runs.past_runs import PastRuns
from ..library.library import LibraryPanel
from ..shared.message_bar import MessageBar
from ..shared.scroller import Scroller
from ..shared.preferences import Preferences
from ..classroom.presentation import Presentation
from ..shared.appearance import Appearance
from ..annotate.reflagging import Reflagging
from ..compare.prompt_bar import PromptBar
from ..compare.comparing import BATCH_BUSY, JUDGE_BUSY, Comparing
from ..compare.setup import ComparisonSetup
from ..batches.batch_runner import BatchThread
from ..batches.judge_runner import JudgeThread
from ..batches.batch_view import BatchesWindow
from ..compare.settings_form import SettingsForm
from ..runs.export_dialog import import_file
from ..side_by_side.controller import SideBySide
from ..shared.tasks import TaskQueue

SHUTDOWN_WAIT_S = 60
FIRST_SIZE = QSize(1440, 900)  # the window at its first start, on a screen that large
DOCK_CHARS = 30  # a dock's widest minimum, in average characters (240 px at 9 pt)
CJK_NOTICE_KEY = "cjk-font"


def _bring_forward(dock: QDockWidget) -> None:
    """Show a dock, in front of the docks tabbed with it."""
    dock.show()
    dock.raise_()


class MainWindow(QMainWindow):
    catalogLoaded = Signal()  # a scan of the model library finished (or failed, and said why)
    historyLoaded = Signal()  # the history list was read (or the notebook could not be)
    runShown = Signal(int)  # a saved run is now in the panes
    runFinished = Signal(object)  # RunOutcome, or None if the run could not start
    panesReady = Signal()  # the first models are in the panes (or could not be found)
    _progress = Signal(str)

    def __init__(
        self,
        workspace: Workspace,
        preferences: Preferences,
        *,
        initial_prompt: str | None = None,
        initial_models: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.prefs = preferences
        self._initial_prompt = initial_prompt
        self.setWindowTitle("Model Values Workbench")
        self.setAcceptDrops(True)

        self.catalog_tasks = TaskQueue("catalog", self._environment_problem, self)
        self.notebook_tasks = TaskQueue("notebook", self._environment_problem, self)
        self.models = ModelLibrary(self)
        self.activity = Activity(self)
        self.pane_events = PaneEvents(self)
        self.notebook_events = NotebookEvents(self)
        self.appearance = Appearance(preferences, self)
        self.batch_runner = BatchThread(workspace, self.activity, self)  # outlives the Batches window
        self.judge_runner = JudgeThread(workspace, self.activity, self)  # likewise
        self._batches: BatchesWindow | None = None  # made on first use
        self.commands = Actions(self)
        self.messages = MessageBar()
        self.ctx = Context(workspace, preferences, self.notebook_tasks, self.catalog_tasks, Feedback(self.messages, self.statusBar()), self)
        self.area = CompareArea()  # built before the features that are handed it
        self.past_runs = PastRuns(self.ctx, self.activity, self.pane_events, self.notebook_events, self)
        self.annotating = Annotating(
            self.ctx, self.area, self.pane_events, self.notebook_events, self.commands.annotate,
            selected_runs=self.past_runs.selected_run_ids, listed_runs=self.past_runs.listed_runs, parent=self,
        )
        self.reflagging = Reflagging(
            self.ctx, self.commands.annotate.reflag, shown_run=lambda: self.annotating.strip.run_id,
            selected_runs=self.past_runs.selected_run_ids, shown_batch=lambda: self.shown_batch_id, parent=self,
        )
        self.side_by_side = SideBySide(
            self.ctx, self.commands.side_by_side, shown_run=lambda: self.annotating.strip.run_id,
            selected_runs=self.past_runs.selected_run_ids,
            focused_answer=lambda: self.annotating.current_pane.response_id if self.annotating.current_pane else None, parent=self,
        )
        self._build_widgets()
        self._build_docks()
        self.library_control = Library(
            self.ctx, self.models, self.activity, self.commands.file, self.area, self.library, self.empty_state, list(initial_models or [])
        )
        self.setup = ComparisonSetup(
            self.ctx, self.activity, self.commands.run, self.commands.panes, self.area, self.prompt_bar, self.settings_form
        )
        self.comparing = Comparing(
            self.ctx, self.models, self.activity, self.pane_events, self.commands.run, self.area, self.prompt_bar, self.settings_form
        )
        build_menus(self.menuBar(), self.commands, Docks(
            library=self.library_dock, history=self.history_dock, settings=self.settings_dock, sessions=self.sessions_dock,
            search=self.search_dock, demo=self.demo_dock, notes=self.notes_dock,
        ))
        self._connect()
        self._restore_preferences()
        self._update_actions()

    # --- construction ---------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.empty_state = EmptyState()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.area)
        self.stack.addWidget(self.empty_state)
        self.prompt_bar = PromptBar(self.commands.run.run, self.commands.run.stop, self.commands.run.follow_up)
        self.presentation = Presentation(
            self.ctx, self, self.commands.present, self.appearance, self.activity, self.pane_events, self.area, self.annotating.strip
        )
        self.demo = DemoController(
            self.ctx, self.commands.demo, self.models, self.activity, self.pane_events, self.area, self.prompt_bar, self.presentation,
            show_run=lambda run_id: self.comparing.show_run(run_id), run_live=self.run_asked, follow_up=self.follow_up_asked, show_panes=self.show_panes,
        )
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.messages)
        layout.addWidget(self.annotating.strip)
        layout.addWidget(self.demo.banner)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.presentation.panel)
        layout.addWidget(self.prompt_bar)
        self.setCentralWidget(central)
        self.notebook_label = QLabel()
        self.notebook_label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.notebook_label)

    def _build_docks(self) -> None:
        self.library = LibraryPanel()
        self.history = self.past_runs.panel
        self.settings_form = SettingsForm(self.prefs.shared_params, offer_random_seed=True)
        self.library_dock = self._dock("Model library", "library", self.library, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.history_dock = self._dock("History", "history", self.history, Qt.DockWidgetArea.RightDockWidgetArea)
        self.settings_dock = self._dock("Shared settings", "settings", self.settings_form, Qt.DockWidgetArea.RightDockWidgetArea, scrolling=True)
        self.sessions_dock = self._dock("Sessions", "sessions", self.annotating.sessions, Qt.DockWidgetArea.RightDockWidgetArea)
        self.search_dock = self._dock("Search", "search", self.annotating.search, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.library_dock, self.search_dock)
        self.library_dock.raise_()
        self.demo_dock = self._dock("Demo scripts", "demo", self.demo.panel, Qt.DockWidgetArea.RightDockWidgetArea, scrolling=True)
        self.notes_dock = self._dock("Speaker notes", "speaker-notes", self.demo.notes, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.history_dock, self.demo_dock)
        self.tabifyDockWidget(self.settings_dock, self.notes_dock)  # settings wait while a demo plays
        self.history_dock.raise_()
        self.settings_dock.raise_()
        self.notes_dock.hide()  # shown when a demo step plays

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, *, scrolling: bool = False) -> QDockWidget:
        """Every dock asks for at most DOCK_CHARS of width, and scrolls sideways if made
        narrower: the docks on both sides and two panes then fit a 1280x720 screen.
        `scrolling`: for tall forms. Docks stacked in one area add up their minimum
        heights; a form that scrolls up and down asks for a few lines of them."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}-dock")  # saveState finds docks by name
        dock.setWidget(Scroller(widget, max_chars=DOCK_CHARS, lines=4 if scrolling else None))
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        a = self.commands
        a.file.quit.triggered.connect(self.close)
        a.file.export.triggered.connect(self.past_runs.open_export)
        a.file.import_.triggered.connect(lambda: import_file(self, self.workspace.notebook, self.notebook_tasks))
        a.run.stop.triggered.connect(self.demo.stop)  # the panes stop, whatever fills them
        a.run.batches.triggered.connect(self.open_batches)
        a.view.bigger.triggered.connect(self.appearance.bigger)
        a.view.smaller.triggered.connect(self.appearance.smaller)
        a.view.reset_size.triggered.connect(self.appearance.reset_points)
        a.view.focus_prompt.triggered.connect(lambda: self.prompt_bar.prompt.setFocus())
        for key, action in a.view.theme.items():
            action.triggered.connect(lambda _checked=False, k=key: self.appearance.set_theme(k))
        self.appearance.changed.connect(self._restyle)

        self.area.modelChosen.connect(self._update_actions)
        self.area.panesChanged.connect(self._panes_changed)
        self._panes_changed()
        self.library.groupingChanged.connect(self._grouping_changed)
        self._connect_runs_and_annotating()
        self._progress.connect(self._show_progress)

        e = self.pane_events
        e.runFinished.connect(self.runFinished)
        e.panesWanted.connect(self.show_panes)
        e.runShown.connect(self._pane_models_changed)
        e.runShown.connect(self.runShown)
        self.activity.changed.connect(self._update_actions)
        # The classroom, and what other parts follow of it.
        for view in (self.history, self.annotating.search, self.side_by_side):
            self.presentation.blind.activeChanged.connect(view.set_models_hidden)
        self.history.context_actions = [a.side_by_side.difference, a.side_by_side.languages]
        self.demo.panelWanted.connect(lambda: _bring_forward(self.demo_dock))
        self.demo.notesWanted.connect(lambda: _bring_forward(self.notes_dock))
        self.demo_dock.visibilityChanged.connect(self.demo.update_step_keys)
        lib = self.library_control
        lib.catalogLoaded.connect(self._update_actions)
        lib.catalogLoaded.connect(self.catalogLoaded)
        lib.panesReady.connect(self.panesReady)
        lib.modelsFound.connect(self._models_found)
        lib.paneModelsChanged.connect(self._pane_models_changed)
        lib.progress.connect(self._show_progress)
        self.batch_runner.started.connect(lambda: self.ctx.feedback.status(BATCH_BUSY, 8000))  # the threads set the Activity
        self.judge_runner.started.connect(lambda: self.ctx.feedback.status(JUDGE_BUSY, 8000))

    def _connect_runs_and_annotating(self) -> None:
        """The list of past runs and the annotation side ask each other through here."""
        runs, notes = self.past_runs, self.annotating
        runs.historyLoaded.connect(self.historyLoaded)
        runs.runSelected.connect(self.comparing.show_run)
        self.history.moveRequested.connect(notes.move_runs)
        notes.stepRun.connect(runs.step)
        notes.sessionChosen.connect(runs.show_session)
        notes.openRunRequested.connect(runs.open_run)
        notes.activeSessionsRead.connect(runs.set_sessions)
        self.reflagging.reflagged.connect(lambda _result: notes.forget_dismissals())

    def _restore_preferences(self) -> None:
        p = self.prefs
        self.appearance.restore()
        self.resize(FIRST_SIZE.boundedTo(self.screen().availableGeometry().size()))  # a laptop's screen is smaller
        if p.geometry is not None:
            self.restoreGeometry(p.geometry)
        if p.window_state is not None:
            self.restoreState(p.window_state)
        else:
            self.resizeDocks([self.library_dock, self.history_dock], [280, 280], Qt.Orientation.Horizontal)  # the panes get the rest
        self.library.set_grouping(p.library_grouping)
        self.setup.restore(self._initial_prompt)

    def _save_preferences(self) -> None:
        p = self.prefs
        p.geometry = self.saveGeometry()
        p.window_state = self.saveState()
        p.library_grouping = self.library.grouping_key
        self.setup.save()
        p.sync()

    # --- starting and closing ---------------------------------------------------------

    def start(self) -> None:
        """Load the library and the history in the background; the window is usable at once."""
        self.notebook_label.setText(f"Notebook: {self.workspace.db_path}")
        self._check_cjk_font()
        self._show_progress("Looking for models…")
        self.library_control.rescan(prepare_starter=True)
        self.past_runs.start()  # the first read opens the notebook (and upgrades an old one)
        ws = self.workspace
        # Then follow what changes in it; if it could not be opened, the first read said why.
        self.notebook_tasks.submit(lambda: self.notebook_events.listen(ws.notebook), None, lambda _problem: None)
        self.annotating.start()
        self.demo.start()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.annotating.flush()  # notes being typed are saved before the queues drain
        self.demo.close()
        self.presentation.leave()  # the workbench as it was is what gets saved
        self._save_preferences()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop any run and let background jobs end: the only place the GUI thread waits."""
        self.comparing.runner.shutdown(SHUTDOWN_WAIT_S)
        self.batch_runner.shutdown(SHUTDOWN_WAIT_S)  # cancelled: resumable, like a pause
        self.reflagging.shutdown(SHUTDOWN_WAIT_S)  # what was recomputed so far stays
        self.judge_runner.shutdown(SHUTDOWN_WAIT_S)  # verdicts so far are kept; judging again resumes
        self.catalog_tasks.close(SHUTDOWN_WAIT_S * 1000)
        self.notebook_tasks.close(SHUTDOWN_WAIT_S * 1000)
        self.notebook_events.stop()

    def _check_cjk_font(self) -> None:
        if not fonts.ensure_cjk_font() and not self.prefs.cjk_notice_shown:
            self.messages.show_notice(CJK_NOTICE_KEY, fonts.CJK_NOTICE)
            self.prefs.cjk_notice_shown = True

    # --- problems ---------------------------------------------------------------------

    def show_problem(self, key: str, text: str) -> None:
        self.ctx.feedback.problem(key, text)

    def _environment_problem(self, problem: EnvironmentProblem) -> None:
        self.ctx.feedback.environment_problem(problem)

    @Slot(str)
    def _show_progress(self, text: str) -> None:
        self.statusBar().showMessage(text)

    # --- dropped files ---------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.library_control.add_dropped(Path(url.toLocalFile()))
        event.acceptProposedAction()

    # --- panes and settings -----------------------------------------------------------------

    def _panes_changed(self) -> None:
        self.library.pane_count = len(self.area.panes)
        for pane in self.area.panes:  # a pane's context menu: its answer's differences from another
            pane.answer_view.context_actions = [self.commands.side_by_side.difference]
        self._update_actions()

    def _pane_models_changed(self, *_: Any) -> None:
        self.setup.remember_pane_models()
        self._update_actions()

    def _grouping_changed(self, key: str) -> None:
        self.prefs.library_grouping = key

    # --- appearance -------------------------------------------------------------------------

    def _restyle(self, colours: bool) -> None:
        """The type size or the scheme changed: the style sheets that spell them out follow."""
        a = self.appearance
        self.setStyleSheet(theme.widget_css(a.scheme, a.points))
        self.commands.view.theme[a.theme].setChecked(True)
        if colours:
            self.area.set_css(theme.answer_css(a.scheme))
            self.library.restyle()

    # --- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A run streams into the panes or a recorded one replays there."""
        return self.activity.panes_busy

    def _update_actions(self) -> None:
        running = self.running
        has_model = any(p.entry is not None for p in self.area.panes)
        a = self.commands
        # A batch or a judge holds the models too: one batch, judge or comparison at a time.
        free = self.activity.models_free and not running
        ready = self.activity.ready
        a.run.run.setEnabled(ready and free and has_model)
        a.run.rerun.setEnabled(ready and free and has_model)
        a.run.follow_up.setEnabled(ready and free and self.comparing.can_follow_up)
        a.run.stop.setEnabled(running)
        a.panes.add_pane.setEnabled(self.area.can_add)
        a.panes.remove_pane.setEnabled(not running and len(self.area.panes) > MIN_PANES)
        self.history.setEnabled(not running)

    # --- batches -------------------------------------------------------------------------------

    def open_batches(self) -> BatchesWindow:
        """Run > Batches…"""
        if self._batches is None:
            self._batches = BatchesWindow(
                self.ctx, self.models, self.activity, self.notebook_events, self.batch_runner, self.judge_runner,
                show_run=self._show_run_on_top, batch_params=self.setup.batch_params,
                chosen_models=lambda: [pane.entry.id for pane in self.area.panes if pane.entry is not None],
            )
        self._batches.open()
        return self._batches

    @property
    def batches_window(self) -> BatchesWindow | None:
        """The Batches window, once it was opened (it is kept, hidden, after closing)."""
        return self._batches

    @property
    def shown_batch_id(self) -> int | None:
        """The batch the Batches window shows, if it is open on one."""
        return self._batches.shown_batch_id if self._batches is not None else None

    def _show_run_on_top(self, run_id: int) -> None:
        """A run opened from the Batches window: shown in the panes, this window in front."""
        self.comparing.show_run(run_id)
        self.raise_()
        self.activateWindow()

    # --- what one feature asks of others ---------------------------------------------------------

    def run_asked(self, prompt: str, system_prompt: str, params: GenerationParams | None) -> None:
        """A prompt asked from elsewhere (a demo's live step) of the panes' models, with its own
        settings if it has them (shown in Shared settings), like Ctrl+Enter."""
        self._pane_models_changed()
        if params is not None:
            self.settings_form.set_params(params)
        self.prompt_bar.set_texts(prompt, system_prompt)
        self.comparing.run_prompt()

    def follow_up_asked(self, prompt: str) -> None:
        """A follow-up asked from elsewhere (a demo's live step) as the next turn of the run
        the panes show, like Alt+Enter."""
        self.prompt_bar.prompt.setPlainText(prompt)
        self.comparing.follow_up()

    def _models_found(self, any_ready: bool) -> None:
        """After a scan: the panes if a model can run, else the empty state that says how to get one."""
        self.stack.setCurrentWidget(self.area if any_ready else self.empty_state)
        self.prompt_bar.setVisible(any_ready)

    def show_panes(self) -> None:
        """The panes and the prompt even when no model is on this computer: a saved run (a
        demo brought to class) is shown without its models."""
        self.stack.setCurrentWidget(self.area)
        self.prompt_bar.show()
