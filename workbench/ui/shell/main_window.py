"""The main window: library, compare area, prompt, history, settings.

The window holds no logic of its own about models or runs: it asks the
workspace, always off the GUI thread (`catalog_tasks` for the model library,
`notebook_tasks` for reading runs, `runner` for comparisons), and shows what
comes back. Signals such as `catalogLoaded` and `runFinished` say when
something arrived; tests, the screenshot mode and the benchmark wait on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import ModelEntry
from ...core.catalog.overrides import override_key
from ...core.comparison import Contender, ResponseOutcome, RunOutcome
from ...core.engine.params import GenerationParams, random_seed
from ...core.errors import EnvironmentProblem
from ...core.rendering import is_safe_link
from ...core.workspace import Workspace
from ..shared import describe, fonts, theme
from ..annotate.annotating import UPGRADE_TEXT, Annotating, needs_upgrade
from .menus import Docks, build_menus
from ..panes.compare_area import CompareArea
from ..shared.actions import MAX_PANES, MIN_PANES, Actions
from ..shared.appearance import Appearance
from ..shared.context import Activity, Context, Feedback, ModelLibrary, PaneEvents
from ..classroom.demo_panel import DemoController
from ..library.empty_state import AppFinding, EmptyState, look_in_other_apps
from ..runs.history import ALL_RUNS, PAGE_SIZE, HistoryPanel
from ..library.library import LibraryPanel
from ..shared.message_bar import PROBLEM, MessageBar
from ..library.model_details import ModelDetailsDialog
from ..panes.pane import ComparePane
from ..shared.preferences import Preferences
from ..classroom.presentation import Presentation
from ..annotate.reflagging import Reflagging
from ..compare.prompt_bar import SAMPLE_PROMPT, PromptBar
from ..compare.runner import ComparisonRunner, RunRequest
from ..batches.batch_runner import BatchThread
from ..batches.judge_runner import JudgeThread
from ..batches.batch_view import BatchesWindow
from ..compare.settings_form import PaneSettingsDialog, SettingsForm
from ..runs.export_dialog import ExportDialog, import_file
from ..shared.tasks import TaskQueue

SHUTDOWN_WAIT_S = 60
BATCH_BUSY = "A batch is using the models: Run is off until it ends or you pause it (Run > Batches…)."
JUDGE_BUSY = "A model is judging answers: Run is off until it ends or you cancel it (Run > Batches…)."
CJK_NOTICE_KEY = "cjk-font"


@dataclass(frozen=True)
class LibraryScan:
    """What one catalog scan found, gathered on the worker thread."""

    entries: list[ModelEntry]
    problems: list[str]
    starter_ids: list[str]
    starter_problems: list[str]
    findings: list[AppFinding]
    searched_other_apps: bool
    opened: list[tuple[Path, ModelEntry | None]]  # files the user just opened, and their entries


def _entry_for_file(entries: list[ModelEntry], path: Path) -> ModelEntry | None:
    """The entry that lists `path` as one of its files (touches the disk: worker thread only)."""
    wanted = path.resolve()
    return next((e for e in entries if any(f.resolve() == wanted for f in e.files)), None)


@dataclass(frozen=True)
class ShownPrompt:
    """The prompt the panes show (a live or a saved run): what "rerun" asks again."""

    prompt: str
    system_prompt: str
    schedule: str


class _HeightScroller(QScrollArea):
    """A form that scrolls up and down but asks for the width it needs (its minimum is the
    form's minimum width, as it is after styling, and a few lines of height). Should the
    dock still end up narrower, it scrolls sideways rather than cut the form off."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # styling or new content changed the form's minimum: the dock asks again
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        inner = self.widget().minimumSizeHint()
        return QSize(inner.width() + self.verticalScrollBar().sizeHint().width(), min(inner.height(), 4 * self.fontMetrics().lineSpacing()))


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
        self._initial_models = list(initial_models or [])
        self.model_library = ModelLibrary(self)
        self.activity = Activity(self)
        self.pane_events = PaneEvents(self)
        self.appearance = Appearance(preferences, self)
        self._first_scan_done = False
        self.notebook_checked = False
        self._details: ModelDetailsDialog | None = None
        self._request: RunRequest | None = None
        self._shown: ShownPrompt | None = None
        self._library_problems: list[str] = []
        self.starter_ids: list[str] = []
        self.starter_problems: list[str] = []
        self.startup_problems: list[str] = []
        self.setWindowTitle("Model Values Workbench")
        self.setAcceptDrops(True)

        self.catalog_tasks = TaskQueue("catalog", self._environment_problem, self)
        self.notebook_tasks = TaskQueue("notebook", self._environment_problem, self)
        self.runner = ComparisonRunner(workspace, self)
        self.batch_runner = BatchThread(workspace, self)  # outlives the Batches window
        self.judge_runner = JudgeThread(workspace, self)  # likewise
        self._batches: BatchesWindow | None = None  # made on first use
        self.actions = Actions(self)
        self.annotating = Annotating(self)
        self.reflagging = Reflagging(self)
        self._build_widgets()
        self._build_docks()
        build_menus(self.menuBar(), self.actions, Docks(
            library=self.library_dock, history=self.history_dock, settings=self.settings_dock, sessions=self.sessions_dock,
            search=self.search_dock, demo=self.demo_dock, notes=self.notes_dock,
        ))
        self._connect()
        self.annotating.attach()
        self._restore_preferences()
        self._update_actions()

    # --- construction ---------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.messages = MessageBar()
        self.context = Context(self.workspace, self.prefs, self.notebook_tasks, self.catalog_tasks, Feedback(self.messages, self.statusBar()), self)
        self.area = CompareArea()
        self.empty_state = EmptyState()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.area)
        self.stack.addWidget(self.empty_state)
        self.prompt_bar = PromptBar(self.actions.run.run, self.actions.run.stop)
        self.presentation = Presentation(
            self.context, self, self.actions.present, self.appearance, self.activity, self.pane_events, self.area, self.annotating.strip
        )
        self.demo = DemoController(
            self.context, self.actions.demo, self.model_library, self.activity, self.pane_events, self.area, self.prompt_bar, self.presentation,
            show_run=self.show_run, run_live=self.run_asked, show_panes=self.show_panes,
        )  # fmt: skip
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
        self.history = HistoryPanel()
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
        """`scrolling`: for tall forms. Docks stacked in one area add up their minimum
        heights; a form that scrolls keeps the window small enough for a 1280x720 screen."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}-dock")  # saveState finds docks by name
        if scrolling:
            dock.setWidget(_HeightScroller(widget))
        else:
            dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        a = self.actions
        a.file.open_file.triggered.connect(self._choose_model_file)
        a.file.add_folder.triggered.connect(self._choose_model_folder)
        a.file.rescan.triggered.connect(lambda: self.rescan())
        a.file.quit.triggered.connect(self.close)
        a.file.export.triggered.connect(self.open_export)
        a.file.import_.triggered.connect(lambda: import_file(self, self.workspace.notebook, self.notebook_tasks, self.runs_added))
        a.run.run.triggered.connect(self.run_prompt)
        a.run.stop.triggered.connect(self.stop)
        a.run.rerun.triggered.connect(self.rerun_all)
        a.run.batches.triggered.connect(self.open_batches)
        for key, action in a.run.schedule.items():
            action.triggered.connect(lambda _checked=False, k=key: self.prompt_bar.set_schedule(k))
        self.prompt_bar.schedule.currentIndexChanged.connect(self._schedule_changed)
        a.panes.add_pane.triggered.connect(self._add_pane)
        a.panes.remove_pane.triggered.connect(lambda: self.area.remove_pane(self.area.panes[-1]))
        a.panes.sync_scrolling.toggled.connect(self._set_sync_scrolling)
        a.view.bigger.triggered.connect(self.appearance.bigger)
        a.view.smaller.triggered.connect(self.appearance.smaller)
        a.view.reset_size.triggered.connect(self.appearance.reset_points)
        a.view.focus_prompt.triggered.connect(lambda: self.prompt_bar.prompt.setFocus())
        for key, action in a.view.theme.items():
            action.triggered.connect(lambda _checked=False, k=key: self.appearance.set_theme(k))
        self.appearance.changed.connect(self._restyle)

        self.area.modelChosen.connect(self._pane_models_changed)
        self.area.panesChanged.connect(self.annotating.attach_panes)
        self.area.panesChanged.connect(self._panes_changed)
        self.area.rerunRequested.connect(self.rerun_pane)
        self.area.settingsRequested.connect(self.edit_pane_settings)
        self.area.linkHovered.connect(self._link_hovered)
        self.empty_state.openFileRequested.connect(self._choose_model_file)
        self.empty_state.addFolderRequested.connect(self._choose_model_folder)
        self.library.useRequested.connect(self.use_model)
        self.library.detailsRequested.connect(self.show_details)
        self.library.openFileRequested.connect(self._choose_model_file)
        self.library.addFolderRequested.connect(self._choose_model_folder)
        self.library.rescanRequested.connect(lambda: self.rescan())
        self.library.groupingChanged.connect(self._grouping_changed)
        self.history.runSelected.connect(self.show_run)
        self.history.olderRequested.connect(self._load_older_runs)
        self.settings_form.changed.connect(self._shared_settings_changed)
        self._progress.connect(self._show_progress)

        r = self.runner
        r.runCreated.connect(self._run_created)
        r.status.connect(self._pane_status)
        r.text.connect(self._pane_text)
        r.responseFinished.connect(self._response_finished)
        r.problem.connect(self._notebook_problem)
        r.failed.connect(self._run_failed)
        r.finished.connect(self._run_finished)
        self.batch_runner.started.connect(self._batch_started)
        self.batch_runner.finished.connect(lambda _result: self._update_actions())
        self.judge_runner.started.connect(self._judge_started)
        self.judge_runner.finished.connect(lambda _result: self._update_actions())

        # The classroom, and what other parts follow of it.
        self.activity.changed.connect(self._update_actions)
        for view in (self.history, self.annotating.search):
            self.presentation.blind.activeChanged.connect(view.set_models_hidden)
        self.demo.runsImported.connect(self.runs_added)
        self.demo.panelWanted.connect(lambda: (self.demo_dock.show(), self.demo_dock.raise_()))
        self.demo.notesWanted.connect(lambda: (self.notes_dock.show(), self.notes_dock.raise_()))
        self.demo_dock.visibilityChanged.connect(self.demo.update_step_keys)
        # Until the compare feature announces them itself: what the panes show, and that a run holds them.
        r.started.connect(lambda request: self.pane_events.runStarting.emit(list(request.panes), request.pane_rerun))
        r.started.connect(lambda _request: self.activity.set_comparing(True))
        r.runCreated.connect(lambda run_id, _response_ids: self.pane_events.runCreated.emit(run_id))
        r.finished.connect(lambda _outcome: self.activity.set_comparing(False))
        self.runShown.connect(self.pane_events.runShown)

    def _restore_preferences(self) -> None:
        p = self.prefs
        self.appearance.restore()
        self.resize(1440, 900)
        if p.geometry is not None:
            self.restoreGeometry(p.geometry)
        if p.window_state is not None:
            self.restoreState(p.window_state)
        else:
            self.resizeDocks([self.library_dock, self.history_dock], [380, 320], Qt.Orientation.Horizontal)
        self.prompt_bar.set_texts(self._initial_prompt or (p.prompt if p.prompt is not None else SAMPLE_PROMPT), p.system_prompt)
        self.prompt_bar.set_schedule(p.schedule)
        self._schedule_changed()
        self.settings_form.random_seed.setChecked(p.random_seed_each_run)
        self.library.set_grouping(p.library_grouping)
        self.actions.panes.sync_scrolling.setChecked(p.sync_scrolling)
        saved = p.pane_models
        if saved is not None:
            self.area.set_count(len(saved))
        for pane, own in zip(self.area.panes, p.pane_overrides):
            pane.set_override(own)
        self._shared_settings_changed()

    def _save_preferences(self) -> None:
        p = self.prefs
        p.geometry = self.saveGeometry()
        p.window_state = self.saveState()
        p.prompt = self.prompt_bar.prompt_text
        p.system_prompt = self.prompt_bar.system_prompt_text
        p.schedule = self.prompt_bar.schedule_key
        p.random_seed_each_run = self.settings_form.random_seed.isChecked()
        p.sync_scrolling = self.area.sync_scrolling
        p.library_grouping = self.library.grouping_key
        p.pane_overrides = [pane.override for pane in self.area.panes]
        if self._first_scan_done:  # before it, the panes show nothing worth keeping
            p.pane_models = [pane.entry_id for pane in self.area.panes]
        try:
            p.shared_params = self.settings_form.params()
        except ValueError:
            pass  # keep the last valid settings
        p.sync()

    # --- starting and closing ---------------------------------------------------------

    def start(self) -> None:
        """Load the library and the history in the background; the window is usable at once."""
        self.notebook_label.setText(f"Notebook: {self.workspace.db_path}")
        self._check_cjk_font()
        self._show_progress("Looking for models…")
        self.rescan(prepare_starter=True)
        self._load_history(first=True)
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
        self.runner.shutdown(SHUTDOWN_WAIT_S)
        self.batch_runner.shutdown(SHUTDOWN_WAIT_S)  # cancelled: resumable, like a pause
        self.reflagging.shutdown(SHUTDOWN_WAIT_S)  # what was recomputed so far stays
        self.judge_runner.shutdown(SHUTDOWN_WAIT_S)  # verdicts so far are kept; judging again resumes
        self.catalog_tasks.close(SHUTDOWN_WAIT_S * 1000)
        self.notebook_tasks.close(SHUTDOWN_WAIT_S * 1000)

    def _check_cjk_font(self) -> None:
        if not fonts.ensure_cjk_font() and not self.prefs.cjk_notice_shown:
            self.messages.show_notice(CJK_NOTICE_KEY, fonts.CJK_NOTICE)
            self.prefs.cjk_notice_shown = True

    # --- problems ---------------------------------------------------------------------

    def show_problem(self, key: str, text: str) -> None:
        self.messages.show_notice(key, text, PROBLEM)

    def _environment_problem(self, problem: EnvironmentProblem) -> None:
        self.show_problem(type(problem).__name__, str(problem))

    @Slot(str)
    def _notebook_problem(self, text: str) -> None:
        self.show_problem("notebook", text)

    @Slot(str)
    def _show_progress(self, text: str) -> None:
        self.statusBar().showMessage(text)


    # --- the model library ----------------------------------------------------------------

    def rescan(self, prepare_starter: bool = False, just_opened: tuple[Path, ...] = ()) -> None:
        """Scan for models in the background; files in `just_opened` go into panes afterwards."""
        ws = self.workspace
        remembered = [Path(f) for f in self.prefs.opened_files]
        progress = self._progress.emit

        def scan() -> LibraryScan:
            if prepare_starter:
                ws.prepare_starter(progress)
            catalog = ws.catalog
            listed = {extra[0] for extra in catalog.extra_files}  # (path, source[, name])
            catalog.extra_files += [(path, "file") for path in remembered if path not in listed]
            entries = catalog.scan()
            return LibraryScan(
                entries=entries,
                problems=list(catalog.problems),
                starter_ids=[e.id for e in ws.starter_entries()],
                starter_problems=list(ws.starter_problems),
                findings=look_in_other_apps(catalog, entries),
                searched_other_apps=catalog.include_other_apps,
                opened=[(path, _entry_for_file(entries, path)) for path in just_opened],
            )

        self.catalog_tasks.submit(scan, self._library_scanned, self._library_scan_failed)

    def _library_scan_failed(self, problem: EnvironmentProblem) -> None:
        """Say why; on the first scan, still leave the loading state (the user can add models
        another way); later, keep the library as it was."""
        self._environment_problem(problem)
        if not self._first_scan_done:
            self._library_scanned(LibraryScan([], [], [], [], [], False, []))

    def _library_scanned(self, scan: LibraryScan) -> None:
        self.model_library.replace(scan.entries)
        self.starter_ids, self.starter_problems = scan.starter_ids, scan.starter_problems
        self._library_problems = scan.problems + scan.starter_problems
        self._apply_entries()
        self.library.set_entries(scan.entries, self._library_problems)
        self.empty_state.set_findings(scan.findings, scan.searched_other_apps, scan.starter_problems)
        ready = [e for e in scan.entries if e.ok]
        self.stack.setCurrentWidget(self.area if ready else self.empty_state)
        self.prompt_bar.setVisible(bool(ready))
        first = not self._first_scan_done
        self._first_scan_done = True
        self._place_opened_files(scan.opened)
        if self._details is not None and self._details.entry.id in self.model_library:
            self._details.set_entry(self.model_library.get(self._details.entry.id))
        self.statusBar().showMessage(f"{len(ready)} model(s) ready, {len(scan.entries)} found.", 5000)
        self._update_actions()
        self.catalogLoaded.emit()
        if first:
            self._choose_first_models(scan, ready)

    def _apply_entries(self) -> None:
        self.area.set_entries(self.model_library.entries)

    def _choose_first_models(self, scan: LibraryScan, ready: list[ModelEntry]) -> None:
        """First launch: the starter pair; later: the models chosen last time."""
        if self._initial_models:
            self._use_initial_models()
            return
        saved = self.prefs.pane_models
        chosen = [pane.select(model) for pane, model in zip(self.area.panes, saved or [])]
        if not any(chosen):
            default = scan.starter_ids or [e.id for e in ready[:MIN_PANES]]
            self.area.set_count(len(default))
            for pane, entry_id in zip(self.area.panes, default):
                pane.select(entry_id)
        self._pane_models_changed()
        self.panesReady.emit()

    def _use_initial_models(self) -> None:
        """Models named by the caller (`workbench --model ID`), resolved like the CLI does."""
        ws = self.workspace
        ids = self._initial_models

        def chosen(entries: list[ModelEntry]) -> None:
            self.use_models(entries)
            self.panesReady.emit()

        def failed(problem: EnvironmentProblem) -> None:
            self.startup_problems.append(str(problem))
            self.show_problem("models", str(problem))
            self.panesReady.emit()

        self.catalog_tasks.submit(lambda: [ws.catalog.resolve(i) for i in ids], chosen, failed)

    def use_models(self, entries: list[ModelEntry]) -> None:
        """Put these models in the panes, one each, in order (the screenshot mode and the CLI)."""
        for entry in entries:
            if entry.id not in self.model_library:
                self.model_library.put(entry)
        self._apply_entries()
        self.area.set_count(len(entries))
        for pane, entry in zip(self.area.panes, entries):
            pane.select(entry.id)
        for pane in self.area.panes[len(entries):]:
            pane.select(None)
        self._pane_models_changed()

    def use_model(self, entry_id: str, pane_index: int = -1) -> None:
        """The library's "use in a pane": the given pane, else the first empty one, else a new one.
        Panes keep their models while a run streams."""
        if self.running:
            self.statusBar().showMessage("Wait for the run to finish (or stop it) before changing models.", 5000)
            return
        panes = self.area.panes
        if 0 <= pane_index < len(panes):
            target = panes[pane_index]
        else:
            target = next((p for p in panes if p.entry is None), None) or self.area.add_pane() or panes[-1]
        target.select(entry_id)
        self._pane_models_changed()

    def open_model_file(self, path: Path) -> None:
        """Add one GGUF file to the library (remembered across restarts) and use it in a pane."""
        path = Path(os.path.abspath(Path(path).expanduser()))
        opened = self.prefs.opened_files
        if str(path) not in opened:
            self.prefs.opened_files = opened + [str(path)]
        self.rescan(just_opened=(path,))

    def add_model_folder(self, folder: Path) -> None:
        folder = Path(folder).expanduser()
        ws = self.workspace
        self.catalog_tasks.submit(lambda: ws.add_folder(folder), lambda _: self.rescan())

    def _place_opened_files(self, opened: list[tuple[Path, ModelEntry | None]]) -> None:
        for path, entry in opened:
            if entry is None:
                self.show_problem(f"open:{path}", f"{path} was not found as a model.")
            elif not entry.ok:
                self.show_problem(f"open:{path}", f"{entry.name} can't be loaded: {entry.status}")
            else:
                self.use_model(entry.id)

    def _choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF model", str(Path.home()), "GGUF models (*.gguf);;All files (*)")
        if path:
            self.open_model_file(Path(path))

    def _choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of GGUF models", str(Path.home()))
        if folder:
            self.add_model_folder(Path(folder))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.add_dropped(Path(url.toLocalFile()))
        event.acceptProposedAction()

    def add_dropped(self, path: Path) -> None:
        """A dropped folder is added as a model folder, a dropped file is opened as a model
        (which one it is, is asked off the GUI thread)."""
        ws = self.workspace

        def sort() -> str:
            if path.is_dir():
                ws.add_folder(path)
                return "folder"
            return "file"

        self.catalog_tasks.submit(sort, lambda kind: self.rescan() if kind == "folder" else self.open_model_file(path))

    # --- model details and origin overrides -----------------------------------------------

    def show_details(self, entry_id: str) -> ModelDetailsDialog | None:
        entry = self.model_library.get(entry_id)
        if entry is None:
            return None
        if self._details is not None:
            self._details.close()
        dialog = ModelDetailsDialog(entry, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.hashRequested.connect(self._hash_entry)
        dialog.overrideRequested.connect(self._set_override)
        dialog.overrideRemovalRequested.connect(self._remove_override)
        dialog.finished.connect(lambda _result, d=dialog: self._details_closed(d))
        self._details = dialog
        dialog.show()
        return dialog

    def _details_closed(self, dialog: ModelDetailsDialog) -> None:
        if self._details is dialog:
            self._details = None

    def _hash_entry(self, entry_id: str) -> None:
        entry = self.model_library.get(entry_id)
        ws = self.workspace
        self.catalog_tasks.submit(lambda: ws.catalog.ensure_sha256(entry), self._entry_updated, self._details_problem)

    def _entry_updated(self, entry: ModelEntry) -> None:
        self.model_library.put(entry)
        self._apply_entries()
        self.library.set_entries(self.model_library.entries, self._library_problems)
        if self._details is not None and self._details.entry.id == entry.id:
            self._details.set_entry(entry)

    def _set_override(self, entry_id: str, maker: str, country: str | None) -> None:
        entry = self.model_library.get(entry_id)
        ws = self.workspace
        key = override_key(entry.sha256, entry.path)
        self.catalog_tasks.submit(lambda: ws.catalog.overrides.set(key, maker, country), lambda _: self.rescan(), self._details_problem)

    def _remove_override(self, entry_id: str) -> None:
        entry = self.model_library.get(entry_id)
        ws = self.workspace

        def remove() -> None:
            for key in {override_key(entry.sha256, entry.path), override_key(None, entry.path)}:
                ws.catalog.overrides.remove(key)

        self.catalog_tasks.submit(remove, lambda _: self.rescan(), self._details_problem)

    def _details_problem(self, problem: EnvironmentProblem) -> None:
        if self._details is not None:
            self._details.show_problem(str(problem))
        else:
            self._environment_problem(problem)

    # --- panes and settings -----------------------------------------------------------------

    def _add_pane(self) -> None:
        if self.area.add_pane() is None:
            self.statusBar().showMessage(f"At most {MAX_PANES} panes.", 4000)

    def _panes_changed(self) -> None:
        self.library.pane_count = len(self.area.panes)
        self._update_actions()

    def _pane_models_changed(self, *_: Any) -> None:
        if self._first_scan_done:
            self.prefs.pane_models = [pane.entry_id for pane in self.area.panes]
        self._update_actions()

    def _shared_settings_changed(self) -> None:
        try:
            shared = self.settings_form.params()
        except ValueError:
            return  # the form shows why; panes keep the last valid settings
        self.area.set_shared_params(shared)
        self.prefs.shared_params = shared

    def edit_pane_settings(self, pane: ComparePane) -> PaneSettingsDialog:
        dialog = PaneSettingsDialog(self.area.shared_params, pane.override, pane.entry.name if pane.entry else "this pane", self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._pane_settings_chosen(pane, dialog.override()))
        dialog.open()
        return dialog

    def _pane_settings_chosen(self, pane: ComparePane, own: GenerationParams | None) -> None:
        if pane in self.area.panes:
            pane.set_override(own)
            self.prefs.pane_overrides = [p.override for p in self.area.panes]

    def _schedule_changed(self) -> None:
        key = self.prompt_bar.schedule_key
        self.actions.run.schedule[key].setChecked(True)
        self.prefs.schedule = key

    def _set_sync_scrolling(self, on: bool) -> None:
        self.area.set_sync_scrolling(on)
        self.prefs.sync_scrolling = on

    def _grouping_changed(self, key: str) -> None:
        self.prefs.library_grouping = key

    def _link_hovered(self, url: str) -> None:
        if not url:
            self.statusBar().clearMessage()
        elif is_safe_link(url):
            self.statusBar().showMessage(f"{url} — click to open it in your browser")
        else:
            self.statusBar().showMessage("This link is not http(s); the workbench will not open it.")

    # --- appearance -------------------------------------------------------------------------

    def _restyle(self, colours: bool) -> None:
        """The type size or the scheme changed: the style sheets that spell them out follow."""
        a = self.appearance
        self.setStyleSheet(theme.widget_css(a.scheme, a.points))
        self.actions.view.theme[a.theme].setChecked(True)
        if colours:
            self.area.set_css(theme.answer_css(a.scheme))
            self.library.restyle()

    # --- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.runner.running or self._request is not None or self.activity.replaying

    def _update_actions(self) -> None:
        running = self.running
        ready = self._first_scan_done and self.notebook_checked
        has_model = any(p.entry is not None for p in self.area.panes)
        a = self.actions
        # A batch or a judge holds the models too: one batch, judge or comparison at a time.
        free = not running and not self.batch_runner.running and not self.judge_runner.running
        a.run.run.setEnabled(ready and free and has_model)
        a.run.rerun.setEnabled(ready and free and has_model)
        a.run.stop.setEnabled(running)
        a.panes.add_pane.setEnabled(self.area.can_add)
        a.panes.remove_pane.setEnabled(not running and len(self.area.panes) > MIN_PANES)
        self.history.setEnabled(not running)

    def run_prompt(self) -> None:
        """Ask every pane's model the prompt in the box, with the current settings."""
        if not self.actions.run.run.isEnabled():
            return
        prompt = self.prompt_bar.prompt_text.strip()
        if not prompt:
            self.statusBar().showMessage("Type a question first.", 5000)
            self.prompt_bar.prompt.setFocus()
            return
        if self.settings_form.random_seed.isChecked():
            self.settings_form.seed.setValue(random_seed())
        try:
            self.settings_form.params()
        except ValueError as problem:
            self.show_problem("settings", f"Check the shared settings: {problem}")
            return
        panes = [(i, p) for i, p in enumerate(self.area.panes) if p.entry is not None]
        self._start(prompt, self.prompt_bar.system_prompt_text.strip(), [(i, p.entry, p.params()) for i, p in panes])

    def run_asked(self, prompt: str, system_prompt: str, params: GenerationParams | None) -> None:
        """A prompt asked from elsewhere (a demo's live step) of the panes' models, with its own
        settings if it has them (shown in Shared settings), like Ctrl+Enter."""
        self._pane_models_changed()
        if params is not None:
            self.settings_form.set_params(params)
        self.prompt_bar.set_texts(prompt, system_prompt)
        self.run_prompt()

    def rerun_all(self) -> None:
        """The shown prompt again, each pane with the settings and seed its answer was made with."""
        if not self.actions.run.rerun.isEnabled():
            return
        if self._shown is None:
            self.run_prompt()
            return
        self.prompt_bar.set_texts(self._shown.prompt, self._shown.system_prompt)
        self.prompt_bar.set_schedule(self._shown.schedule)
        runs = [(i, p.entry, self._same_params(p)) for i, p in enumerate(self.area.panes) if p.entry is not None]
        self._start(self._shown.prompt, self._shown.system_prompt, runs)

    def rerun_pane(self, pane: ComparePane) -> None:
        """One pane again, same prompt, settings and seed; the notebook keeps it as a run of its own."""
        if self.running or pane.entry is None:
            return
        shown = self._shown or ShownPrompt(self.prompt_bar.prompt_text.strip(), self.prompt_bar.system_prompt_text.strip(), self.prompt_bar.schedule_key)
        if not shown.prompt:
            self.statusBar().showMessage("Type a question first.", 5000)
            return
        self._start(shown.prompt, shown.system_prompt, [(self.area.panes.index(pane), pane.entry, self._same_params(pane))], pane_rerun=True)

    @staticmethod
    def _same_params(pane: ComparePane) -> GenerationParams:
        return pane.shown.params if pane.shown is not None and pane.shown.params is not None else pane.params()

    def _start(self, prompt: str, system_prompt: str, runs: list[tuple[int, ModelEntry, GenerationParams]], pane_rerun: bool = False) -> None:
        if not runs:
            self.show_problem("no-model", "Choose a model in at least one pane.")
            return
        if self.batch_runner.running or self.judge_runner.running:  # every way of starting a run comes here
            self.statusBar().showMessage(BATCH_BUSY if self.batch_runner.running else JUDGE_BUSY, 8000)
            self.runFinished.emit(None)
            return
        self.messages.dismiss("no-model")
        request = RunRequest(
            prompt=prompt,
            system_prompt=system_prompt,
            schedule=self.prompt_bar.schedule_key,
            contenders=tuple(Contender(entry, params.replace(system_prompt=system_prompt)) for _, entry, params in runs),
            panes=tuple(index for index, _, _ in runs),
            pane_rerun=pane_rerun,
        )
        self._request = request
        self._shown = ShownPrompt(prompt, system_prompt, request.schedule)
        for (index, entry, params) in runs:
            self.area.panes[index].begin("Starting…", params, entry.name)
        if not pane_rerun:
            for index, pane in enumerate(self.area.panes):
                if index not in request.panes:
                    pane.clear_response("No model chosen: this pane sat out the run.")
        self.history.clear_selection()
        self.area.set_running(True)
        self.prompt_bar.run_info.setText("Running…")
        self._update_actions()
        self.runner.start(request)

    def stop(self) -> None:
        self.demo.stop_replay()
        if self.runner.running:
            self.runner.stop()
            self.statusBar().showMessage("Stopping… what the models wrote so far is kept.", 5000)

    @Slot(int, list)
    def _run_created(self, run_id: int, _response_ids: list) -> None:
        request = self._request
        if request is None:
            return
        only = " (this pane only, saved as a run of its own)" if request.pane_rerun else ""
        for index in request.panes:
            self.area.panes[index].set_run_id(run_id, f"Run #{run_id}{only}")
        self.annotating.run_started(run_id, _response_ids, request.panes)
        self.prompt_bar.run_info.setText(f"Run #{run_id} — saved to the notebook as it streams")
        self.runs_added(current=run_id)

    @Slot(int, str)
    def _pane_status(self, pane: int, status: str) -> None:
        self.area.panes[pane].on_status(status)

    @Slot(int, str, str, int)
    def _pane_text(self, pane: int, kind: str, text: str, pieces: int) -> None:
        self.area.panes[pane].on_text(kind, text, pieces)

    @Slot(int, object)
    def _response_finished(self, pane: int, outcome: ResponseOutcome) -> None:
        self.area.panes[pane].on_finished(outcome)
        self.annotating.answer_finished(self.area.panes[pane])  # saved and flagged: its suggestions show
        if outcome.entry.sha256 and outcome.entry.id in self.model_library:
            self.model_library.put(outcome.entry)  # now hashed: no need to hash again

    @Slot(str)
    def _run_failed(self, text: str) -> None:
        self.show_problem("run", text)
        if self._request is not None:
            for index in self._request.panes:
                self.area.panes[index].clear_response(f"Not run: {text}")

    @Slot(object)
    def _run_finished(self, outcome: RunOutcome | None) -> None:
        self._request = None
        self.area.set_running(False)
        self._apply_entries()
        if outcome is not None:
            self.prompt_bar.run_info.setText(f"Run #{outcome.run_id} finished and saved")
            self._load_history(current=outcome.run_id)
            self.annotating.load_run(outcome.run_id)  # now saved: it can be labelled
        self._update_actions()
        self.runFinished.emit(outcome)

    # --- batches -------------------------------------------------------------------------------

    @property
    def model_entries(self) -> list[ModelEntry]:
        """The library as last scanned (what a new batch can choose from)."""
        return self.model_library.entries

    def batch_params(self) -> GenerationParams:
        """The shared settings for a new batch, with a new seed when every run gets one.
        ValueError when the settings form holds an invalid value."""
        params = self.settings_form.params()
        return params.replace(seed=random_seed()) if self.settings_form.random_seed.isChecked() else params

    def open_batches(self) -> BatchesWindow:
        """Run > Batches…"""
        if self._batches is None:
            self._batches = BatchesWindow(self)
        self._batches.open()
        return self._batches

    @property
    def batches_window(self) -> BatchesWindow | None:
        """The Batches window, once it was opened (it is kept, hidden, after closing)."""
        return self._batches

    @property
    def shown_batch_id(self) -> int | None:
        """The batch the Batches window shows, if it is open on one."""
        batches = self._batches
        return batches.matrix.batch_id if batches is not None and batches.isVisible() else None

    def _batch_started(self) -> None:
        self.statusBar().showMessage(BATCH_BUSY, 8000)
        self._update_actions()

    def _judge_started(self) -> None:
        self.statusBar().showMessage(JUDGE_BUSY, 8000)
        self._update_actions()

    # --- history -------------------------------------------------------------------------------

    def open_export(self) -> ExportDialog:
        """File > Export…: the dialog collects and writes on the notebook queue."""
        session = self.history.session_shown
        dialog = ExportDialog(
            self.workspace.notebook,
            self.notebook_tasks,
            current_run=self.history.selected_run_id,
            selected_runs=self.history.selected_run_ids,
            session_id=session if isinstance(session, int) else None,
            parent=self,
        )
        dialog.open()
        return dialog

    def runs_added(self, current: int | None = None) -> None:
        """New runs are in the notebook: the history lists them and the sessions count them."""
        self._load_history(current=current)
        self.annotating.load_sessions()

    def _load_history(self, current: int | None = None, first: bool = False) -> None:
        """Read the newest runs (of the session the history shows). The first read opens the
        notebook, which upgrades an old one: that can take long, and says so."""
        ws = self.workspace
        if not first and self.history.session_shown != ALL_RUNS:
            self.annotating.load_history()
            return
        progress = self._progress.emit

        def read() -> list[dict[str, Any]]:
            if first and needs_upgrade(ws.db_path):
                progress(UPGRADE_TEXT)
            return ws.notebook.recent_runs(PAGE_SIZE)

        def shown(runs: list[dict[str, Any]]) -> None:
            self.history.set_runs(runs, append=False)
            if current is not None:
                self.history.mark_current(current)
            self._notebook_ready()
            self.historyLoaded.emit()

        def failed(problem: EnvironmentProblem) -> None:
            self.show_problem("notebook", str(problem))
            self._notebook_ready()
            self.historyLoaded.emit()

        self.notebook_tasks.submit(read, shown, failed)

    def _notebook_ready(self) -> None:
        self.notebook_checked = True
        self._update_actions()

    def _load_older_runs(self, before_id: int) -> None:
        if self.annotating.load_history(before_id):
            return
        ws = self.workspace
        self.notebook_tasks.submit(
            lambda: ws.notebook.recent_runs(PAGE_SIZE, before_id),
            lambda runs: self.history.set_runs(runs, append=True),
        )

    def show_run(self, run_id: int) -> None:
        """Read a saved run and show it in the panes."""
        if self.running:
            return
        ws = self.workspace
        self.notebook_tasks.submit(lambda: ws.notebook.run(run_id), self._display_run)

    def show_panes(self) -> None:
        """The panes and the prompt even when no model is on this computer: a saved run (a
        demo brought to class) is shown without its models."""
        self.stack.setCurrentWidget(self.area)
        self.prompt_bar.show()

    def _display_run(self, run: dict[str, Any] | None) -> None:
        if run is None or self.running:
            return
        responses = run["responses"]
        self.show_panes()
        self.area.set_count(len(responses))
        when = describe.local_time(run.get("created_at"))
        by_hash = self.model_library.by_sha256()
        for index, pane in enumerate(self.area.panes):
            if index >= len(responses):
                pane.clear_response(f"Run #{run['id']} had {len(responses)} model(s).")
                continue
            response = responses[index]
            entry = by_hash.get(response.get("model_sha256"))
            pane.select(entry.id if entry else None)
            maker = entry.origin.maker if entry else None
            origin = describe.recorded_origin_text(response.get("origin_country"), maker)
            pane.show_recorded_model(response.get("model_name") or "?", origin)
            pane.show_saved(response, f"Run #{run['id']} · {when}", origin)
        hidden = len(responses) - len(self.area.panes)
        self.prompt_bar.set_texts(run["prompt"], run.get("system_prompt") or "")
        self.prompt_bar.set_schedule(run.get("schedule") or self.prompt_bar.schedule_key)
        self._shown = ShownPrompt(run["prompt"], run.get("system_prompt") or "", self.prompt_bar.schedule_key)
        more = f" ({hidden} more model(s) not shown: at most {MAX_PANES} panes)" if hidden > 0 else ""
        self.prompt_bar.run_info.setText(f"Showing run #{run['id']} from {when}{more}")
        self.history.mark_current(run["id"])
        self._pane_models_changed()
        self.runShown.emit(run["id"])
