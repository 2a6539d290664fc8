"""Demo scripts in the window: the Demo scripts dock, and playing a script step by step.

`DemoPanel` is the dock: a script picker, the steps in order, and an editor
for the chosen step (title, how it plays, prompt, speaker note). It only
shows and asks; `DemoController` does the work, always through the window's
notebook queue (core/notebook/demos.py blocks), and plays steps:

- Page Down / Page Up play the next / previous step. A live step puts its
  models in the panes (by SHA-256, else by name) and runs its prompt like
  Ctrl+Enter, so it is a new run in the notebook; then asks each of its
  follow-ups, in order, once the previous turn finished, through the window's
  own Follow up (Alt+Enter), each model continuing its own conversation.
  Stop (Esc) asks no more of them. A replay step shows its
  recorded run through `ReplayPlayer` under the replay banner (a conversation
  turn by turn, each turn's answers at their recorded pace), then shows
  the recorded run itself (the shell's `show_run`), so labels and votes
  attach to that run and no new run is made. A live step whose models are
  not on this computer replays its recording instead, and says so.
- Page Down / Page Up reach the demo wherever the focus is (a presenter's
  clicker sends them) once it is armed (`armed`); before that, and in this
  panel's prompt and note boxes, they scroll and move the cursor as usual.
- The step's speaker note follows in `SpeakerNotes` (speaker_notes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import ModelEntry
from ...core.comparison import RunOutcome
from ...core.classroom.demo_file import SUFFIX, DemoImport, export_demo, import_demo
from ...core.classroom.shipped import ShippedDemo, shipped_not_in
from ...core.notebook.demos import INSTANT, LIVE, MODES, REPLAY, DemoScript, DemoStep, Demos, title_from_prompt
from ...core.classroom.replay import TurnReplay, run_replay
from ...core.engine.params import GenerationParams
from ...core.prompts.library import available_prompt_sets, find_prompt_set
from ..panes.compare_area import CompareArea
from ..panes.saved_run import place_saved_run
from ..shared import describe
from ..shared.actions import INSTANT_SPEED, DemoActions
from ..shared.application import the_application
from ..shared.context import Activity, Context, ModelLibrary, PaneEvents
from ..shared.flow_layout import flow_row
from ..shared.text_label import text_label
from .presentation import Presentation
from .replay import ReplayBanner, ReplayPlayer
from .speaker_notes import SpeakerNotes, SpeakerNotesWindow, other_screen

MODE_LABELS = {LIVE: "Live: ask the models", REPLAY: "Replay the recorded run", INSTANT: "Show the recorded run at once"}
NOTICE = "demo"
REFUSALS = (ValueError, LookupError)  # what the notebook's demo tables raise for a change the user can fix


class PromptBox(Protocol):
    """What a demo reads from and writes to the prompt bar (the compare feature's)."""

    @property
    def run_info(self) -> QLabel: ...

    @property
    def prompt_text(self) -> str: ...

    @property
    def system_prompt_text(self) -> str: ...

    def set_texts(self, prompt: str, system_prompt: str) -> None: ...


class DemoPanel(QWidget):
    scriptChosen = Signal(object)  # script id, a shipped script's path (str), or None
    newScriptRequested = Signal()
    deleteScriptRequested = Signal()
    buildFromSessionRequested = Signal()
    addFromPanesRequested = Signal()
    addFromSetRequested = Signal()
    stepSaved = Signal(int, dict)  # step id, changed fields
    moveRequested = Signal(int, int)  # step id, new position
    deleteStepRequested = Signal(int)
    playRequested = Signal(int)  # position
    exportRequested = Signal()
    importRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: list[DemoStep] = []
        self.models_hidden = False
        self.scripts = QComboBox()
        self.scripts.setToolTip("The demo script Page Down steps through")
        self.scripts.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scripts.setMinimumContentsLength(12)  # a long title must not widen the whole window
        self.scripts.activated.connect(lambda _i: self.scriptChosen.emit(self.scripts.currentData()))
        new, build, remove = QPushButton("New…"), QPushButton("From session…"), QPushButton("Delete")
        new.setToolTip("A new, empty demo script")
        build.setToolTip("A script that replays a session's runs, one step per run")
        remove.setToolTip("Delete this script (the runs it replays stay in the notebook)")
        new.clicked.connect(self.newScriptRequested)
        build.clicked.connect(self.buildFromSessionRequested)
        remove.clicked.connect(self.deleteScriptRequested)
        self.script_buttons = (remove,)

        self.list = QListWidget()
        self.list.setObjectName("demoSteps")
        self.list.setMinimumHeight(self.list.fontMetrics().lineSpacing() * 7)  # a five-step lesson in view
        self.list.currentRowChanged.connect(self._show_step)
        self.list.itemActivated.connect(lambda item: self.playRequested.emit(self.list.row(item)))
        self.add_panes = QPushButton("Add from panes")
        self.add_panes.setToolTip("A step from what the panes show: the shown run (replayed), or the prompt and models (live)")
        self.add_panes.clicked.connect(self.addFromPanesRequested)
        self.add_set = QPushButton("Add from prompt set…")
        self.add_set.clicked.connect(self.addFromSetRequested)
        self.up, self.down, self.delete = QPushButton("▲"), QPushButton("▼"), QPushButton("Delete step")
        self.up.setToolTip("Move the step earlier")
        self.down.setToolTip("Move the step later")
        self.up.clicked.connect(lambda: self._move(-1))
        self.down.clicked.connect(lambda: self._move(+1))
        self.delete.clicked.connect(self._delete_clicked)

        self.title = QLineEdit()
        self.title.setPlaceholderText("Short title (the prompt's first line if empty)")
        self.mode = QComboBox()
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(16)
        for mode in MODES:
            self.mode.addItem(MODE_LABELS[mode], mode)
        self.recorded = text_label(role="muted")
        self.prompt = QPlainTextEdit()
        self.prompt.setTabChangesFocus(True)
        self.prompt.setMaximumHeight(90)
        self.follow_ups = QPlainTextEdit()
        self.follow_ups.setObjectName("demoFollowUps")
        self.follow_ups.setTabChangesFocus(True)
        self.follow_ups.setMaximumHeight(60)
        self.follow_ups.setPlaceholderText("Follow-ups, one per line (e.g. Are you sure?)")
        self.follow_ups.setToolTip("Asked in order after the prompt when the step plays live, each model continuing its own conversation")
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setPlaceholderText("Speaker note: what to say, what to ask the class (only you see it)")
        self.save = QPushButton("Save step")
        self.save.clicked.connect(self._save)
        self.play = QPushButton("Play step")
        self.play.setToolTip("Play this step now (Page Down plays the next one)")
        self.play.clicked.connect(self._play_clicked)
        export, import_ = QPushButton("Export…"), QPushButton("Import…")
        export.setToolTip("Save this script and the runs it replays in one file, for another computer")
        import_.setToolTip("Add a demo file's script and recorded runs to this notebook")
        export.clicked.connect(self.exportRequested)
        import_.clicked.connect(self.importRequested)
        self.export_button = export

        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Plays", self.mode)
        form.addRow("", self.recorded)
        form.addRow("Prompt", self.prompt)
        form.addRow("Then", self.follow_ups)
        form.addRow("Note", self.note)
        actions = QHBoxLayout()
        actions.addWidget(self.save)
        actions.addWidget(self.play)
        actions.addStretch(1)
        self.editor = QWidget()
        self.editor.setLayout(form)
        layout = QVBoxLayout(self)  # rows, not wide lines: the dock must fit beside the panes on 1280x720
        layout.addWidget(self.scripts)
        layout.addWidget(flow_row(new, build, remove))  # rows of buttons wrap in a narrow dock
        layout.addWidget(flow_row(export, import_))
        layout.addWidget(self.list, 1)
        layout.addWidget(flow_row(self.add_panes, self.add_set))
        layout.addWidget(flow_row(self.up, self.down, self.delete))
        layout.addWidget(self.editor)
        layout.addLayout(actions)
        self.set_scripts([], None)

    @property
    def step(self) -> DemoStep | None:
        row = self.list.currentRow()
        return self.steps[row] if 0 <= row < len(self.steps) else None

    def set_scripts(self, scripts: list[DemoScript], current: int | None, shipped: Sequence[ShippedDemo] = ()) -> None:
        """The notebook's scripts (data: the id), then the shipped ones it lacks (data: the
        file's path as text; choosing one imports it)."""
        self.scripts.clear()
        if not scripts:
            more = ", From session… or a shipped one below" if shipped else " or From session…"
            self.scripts.addItem(f"No demo scripts yet: New…{more}", None)
        for script in scripts:
            self.scripts.addItem(f"{script.title} ({script.step_count})", script.id)
        for demo in shipped:
            self.scripts.addItem(f"{demo.title} ({demo.steps}, shipped: choose to add)", str(demo.path))
        index = self.scripts.findData(current)
        self.scripts.setCurrentIndex(max(index, 0))
        has = current is not None
        for widget in (*self.script_buttons, self.add_panes, self.add_set, self.export_button):
            widget.setEnabled(has)

    def set_steps(self, steps: list[DemoStep], current: int) -> None:
        self.steps = list(steps)
        self.list.blockSignals(True)
        self.list.clear()
        for step in steps:
            recorded = f", run #{step.run_id}" if step.run_id is not None else ""
            then = f", then {len(step.follow_ups)}" if step.follow_ups else ""
            item = QListWidgetItem(f"{step.position + 1}. {step.label}  [{step.mode}{recorded}{then}]")
            item.setToolTip(describe.tooltip(step.note or step.prompt))
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.list.setCurrentRow(min(max(current, 0), len(steps) - 1) if steps else -1)
        self._show_step(self.list.currentRow())

    def select_step(self, position: int) -> None:
        self.list.setCurrentRow(position)

    def _show_step(self, row: int) -> None:
        step = self.steps[row] if 0 <= row < len(self.steps) else None
        for widget in (self.editor, self.save, self.play, self.up, self.down, self.delete):
            widget.setEnabled(step is not None)
        self.title.setText(step.title if step else "")
        self.mode.setCurrentIndex(max(self.mode.findData(step.mode if step else LIVE), 0))
        self.prompt.setPlainText(step.prompt if step else "")
        self.follow_ups.setPlainText(follow_ups_text(step.follow_ups) if step else "")
        self.note.setPlainText(step.note if step else "")
        models = ", ".join(m["name"] for m in step.models) if step else ""
        if models and self.models_hidden:
            models = describe.MODELS_HIDDEN
        if step is None:
            self.recorded.setText("")
        elif step.run_id is None:
            self.recorded.setText(f"No recorded run: plays live{' with ' + models if models else ''}.")
        else:
            self.recorded.setText(f"Recorded run #{step.run_id} ({models}).")

    def set_models_hidden(self, hidden: bool) -> None:
        """While a blind comparison is on, the step shown names no model."""
        self.models_hidden = hidden
        self._show_step(self.list.currentRow())

    def _save(self) -> None:
        step = self.step
        if step is None:
            return
        fields = {"title": self.title.text(), "mode": self.mode.currentData(), "prompt": self.prompt.toPlainText(), "note": self.note.toPlainText()}
        changed: dict[str, Any] = {name: value for name, value in fields.items() if value != getattr(step, name)}
        typed = self.follow_ups.toPlainText()
        if typed != follow_ups_text(step.follow_ups):  # as shown: a follow-up written on several lines stays whole unless edited
            changed["follow_ups"] = [line.strip() for line in typed.splitlines() if line.strip()]
        if changed:
            self.stepSaved.emit(step.id, changed)

    def _delete_clicked(self) -> None:
        if self.step is not None:
            self.deleteStepRequested.emit(self.step.id)

    def _play_clicked(self) -> None:
        if self.step is not None:
            self.playRequested.emit(self.step.position)

    def _move(self, by: int) -> None:
        step = self.step
        if step is not None and 0 <= step.position + by < len(self.steps):
            self.moveRequested.emit(step.id, step.position + by)

    def editing(self, widget: QWidget) -> bool:
        """True for this panel's prompt, follow-up and note boxes, where Page Down moves the cursor."""
        return any(widget is box or widget is box.viewport() for box in (self.prompt, self.follow_ups, self.note))


def follow_ups_text(follow_ups: Sequence[str]) -> str:
    """A step's follow-ups in the editor: one a line (one written on several lines, joined)."""
    return "\n".join(" ".join(follow_up.split()) for follow_up in follow_ups)


class DemoController(QObject):
    """Plays demo scripts in the panes of `area` and keeps the Demo scripts panel up to date.

    What belongs to other features comes from the shell: `show_run` (a saved run in the
    panes, the one way to show it), `run_live` (the step's prompt, system prompt and settings,
    or None for the shared ones, asked of the panes' models like Ctrl+Enter), `follow_up`
    (a text asked as the next turn of the run the panes show, like Alt+Enter), `show_panes`
    (the panes, even when no model is on this computer). A replay is announced on
    `pane_events` and held in `activity`."""

    scriptsLoaded = Signal()  # the panel shows the notebook's scripts (after any change too)
    stepStarted = Signal(int)  # position of the step now playing
    replayFinished = Signal(int)  # run id; the recorded run is now shown as saved
    fileDone = Signal(object)  # DemoImport, or the export's path
    panelWanted = Signal()  # the Demo scripts panel should be in view (its dock is the shell's)
    notesWanted = Signal()  # the speaker notes should be in view, in the window (one screen)

    def __init__(
        self,
        context: Context,
        actions: DemoActions,
        library: ModelLibrary,
        activity: Activity,
        pane_events: PaneEvents,
        area: CompareArea,
        prompt: PromptBox,
        presentation: Presentation,
        *,
        show_run: Callable[[int], None],
        run_live: Callable[[str, str, GenerationParams | None], None],
        follow_up: Callable[[str], None],
        show_panes: Callable[[], None],
    ) -> None:
        super().__init__(context.parent)
        self.context = context
        self.feedback = context.feedback
        self.actions = actions
        self.library = library
        self.activity = activity
        self.pane_events = pane_events
        self.area = area
        self.prompt = prompt
        self.presentation = presentation
        self.show_run = show_run
        self.run_live = run_live
        self.follow_up = follow_up
        self.show_panes = show_panes
        self.panel = DemoPanel()
        self.notes = SpeakerNotes()
        self.notes_window: SpeakerNotesWindow | None = None
        self.banner = ReplayBanner()
        self.player = ReplayPlayer(self)
        self.script_id: int | None = None
        self.steps: list[DemoStep] = []
        self.current = -1
        self.speed = 1.0
        self._replayed: tuple[int, str, bool] | None = None  # run id, recorded when, instant
        self._replay_turns: tuple[dict[str, Any], list[TurnReplay], int] = ({}, [], 0)  # the run replayed, its turns to play, how many in all
        self._headers: list[tuple[str, str]] = []  # the replayed panes' model names and origins (with maker)
        self._token = 0  # which play a read belongs to: a later Page Down wins
        self._follow_ups: list[str] = []  # the live step's follow-ups not yet asked, in order
        self._live_run: int | None = None  # the run the live step's turns go to, once it has one
        self._step_keys: dict[QAction, list[QKeySequence]] = {}  # Next/Previous step and their keys
        self._connect()

    def _connect(self) -> None:
        c, p = self.actions, self.panel
        c.new.triggered.connect(self.ask_new_script)
        c.next.triggered.connect(self.next_step)
        c.previous.triggered.connect(self.previous_step)
        c.export.triggered.connect(self.ask_export)
        c.import_.triggered.connect(self.ask_import)
        for speed, action in c.speed.items():
            action.triggered.connect(lambda _checked=False, s=speed: self.set_speed(s))
        c.speed[self.speed].setChecked(True)
        p.scriptChosen.connect(self.choose_script)
        p.newScriptRequested.connect(self.ask_new_script)
        p.deleteScriptRequested.connect(self.ask_delete_script)
        p.buildFromSessionRequested.connect(self.ask_build_from_session)
        p.addFromPanesRequested.connect(self.add_from_panes)
        p.addFromSetRequested.connect(self.ask_add_from_set)
        p.stepSaved.connect(lambda step_id, fields: self._write(lambda d: d.update_step(step_id, **fields)))
        p.moveRequested.connect(lambda step_id, position: self._write(lambda d: d.move_step(step_id, position), position))
        p.deleteStepRequested.connect(lambda step_id: self._write(lambda d: d.delete_step(step_id)))
        p.playRequested.connect(self.play)
        p.exportRequested.connect(self.ask_export)
        p.importRequested.connect(self.ask_import)
        self.player.chunk.connect(self._chunk)
        self.player.finished.connect(self._replay_ended)
        self.pane_events.runCreated.connect(lambda _run_id: self.banner.clear())  # a live run: no longer a replay
        self.pane_events.runShown.connect(self._run_shown)
        self.pane_events.runFinished.connect(self._live_turn_finished)
        for view in (self.panel, self.notes):  # the notes window on a second screen is the teacher's own
            self.presentation.blind.activeChanged.connect(view.set_models_hidden)
        self._step_keys = {action: action.shortcuts() for action in (c.next, c.previous)}
        the_application().focusChanged.connect(self.update_step_keys)
        self.update_step_keys()

    def start(self) -> None:
        self.reload()

    @property
    def replaying(self) -> bool:
        return self.player.active

    @property
    def armed(self) -> bool:
        """Whether Page Down / Page Up step the demo: once a script with steps is open in the
        Demo scripts panel, or a step has played (presentation mode hides the panel)."""
        return bool(self.steps) and (self.current >= 0 or self.panel.isVisible())  # the panel: its dock may be a hidden tab

    def update_step_keys(self, *_: object) -> None:
        """A window shortcut wins over the focused widget, so Page Down / Page Up are the
        demo's only while it is armed and the teacher is not writing a prompt or note in
        the panel; otherwise the actions lose their keys (the menu still works) and the
        keys scroll as they always did. (Not an application-wide event filter: that
        would run Python on every event the app handles, streaming included.) The shell
        calls it too when the panel's dock is shown or hidden."""
        focus = QApplication.focusWidget()
        on = self.armed and not (focus is not None and self.panel.editing(focus))
        for action, keys in self._step_keys.items():
            action.setShortcuts(keys if on else [])

    # --- the notebook -------------------------------------------------------------------

    def _demos(self) -> Demos:
        return self.context.workspace.notebook.demos

    def reload(self, select: int | None = None) -> None:
        """Read the scripts and the current script's steps; `select` a step position."""
        script_id = self.script_id

        def read() -> tuple[list[DemoScript], int | None, list[DemoStep], list[ShippedDemo]]:
            demos = self._demos()
            scripts = demos.scripts()
            chosen = script_id if any(s.id == script_id for s in scripts) else (scripts[0].id if scripts else None)
            return scripts, chosen, demos.steps(chosen) if chosen is not None else [], shipped_not_in(self.context.workspace.notebook)

        def loaded(result: tuple[list[DemoScript], int | None, list[DemoStep], list[ShippedDemo]]) -> None:
            scripts, chosen, steps, shipped = result
            self._loaded(scripts, chosen, steps, select, shipped)

        self.context.notebook_tasks.submit(read, loaded)

    def _loaded(self, scripts: list[DemoScript], script_id: int | None, steps: list[DemoStep], select: int | None, shipped: list[ShippedDemo]) -> None:
        if script_id != self.script_id:
            self.current = -1
        self.script_id, self.steps = script_id, steps
        self.current = min(self.current, len(steps) - 1)
        self.panel.set_scripts(scripts, script_id, shipped)
        self.panel.set_steps(steps, select if select is not None else max(self.current, 0))
        self._show_notes()
        self.update_step_keys()
        self.scriptsLoaded.emit()

    def _write(self, change: Callable[[Demos], Any], select: int | None = None, then: Callable[[Any], None] | None = None) -> None:
        """A change on the notebook queue; a refusal (bad value, gone) is shown, not raised."""

        def work() -> Any:
            try:
                return change(self._demos())
            except REFUSALS as problem:
                return problem  # handed back to be shown

        def done(result: Any) -> None:
            if isinstance(result, REFUSALS):
                self.feedback.problem(NOTICE, str(result))
                return
            self.feedback.dismiss(NOTICE)
            if then is not None:
                then(result)
            self.reload(select)

        self.context.notebook_tasks.submit(work, done)

    @property
    def annotator(self) -> str:
        return self.context.annotator

    # --- scripts ---------------------------------------------------------------------------

    def choose_script(self, script_id: int | str | None) -> None:
        """A script of the notebook by id; a shipped one (its file's path) is imported first."""
        if isinstance(script_id, str):
            self.import_from(Path(script_id))
            return
        self.script_id = script_id
        self.current = -1
        self.update_step_keys()
        self.reload()

    def ask_new_script(self) -> None:
        title, ok = QInputDialog.getText(self.context.parent, "New demo script", "Title of the demo:")
        if ok and title.strip():
            self.new_script(title)

    def new_script(self, title: str) -> None:
        self._write(lambda d: d.create(title, annotator=self.annotator), then=self._chosen)

    def _chosen(self, script: DemoScript) -> None:
        self.script_id, self.current = script.id, -1
        self.update_step_keys()
        self.panelWanted.emit()

    def ask_delete_script(self) -> None:
        title = self.panel.scripts.currentText()
        answer = QMessageBox.question(
            self.context.parent, "Delete demo script", f"Delete the demo script {title}? The runs it replays stay in the notebook."
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_script()

    def delete_script(self) -> None:
        if self.script_id is not None:
            script_id = self.script_id
            self.script_id = None
            self._write(lambda d: d.delete(script_id))

    def ask_build_from_session(self) -> None:
        notebook = self.context.workspace.notebook

        def chosen(sessions: list[Any]) -> None:
            named = [s for s in sessions if s.id is not None and s.run_count]
            if not named:
                self.feedback.problem(NOTICE, "No session has runs yet: put runs in a session (Annotate menu), then build a demo from it.")
                return
            names = [f"{s.name} ({s.run_count} runs)" for s in named]
            name, ok = QInputDialog.getItem(self.context.parent, "Demo from a session", "Replay the runs of:", names, 0, False)
            if ok:
                self.build_from_session(named[names.index(name)].id)

        self.context.notebook_tasks.submit(lambda: notebook.sessions.all(), chosen)

    def build_from_session(self, session_id: int) -> None:
        self._write(lambda d: d.build_from_session(session_id, annotator=self.annotator), then=self._chosen)

    # --- steps -----------------------------------------------------------------------------

    def add_from_panes(self) -> None:
        """The run the panes show (replayed), or else the prompt box and the panes' models (live)."""
        script_id = self.script_id
        if script_id is None:
            self.feedback.problem(NOTICE, "Create a demo script first (Demo > New demo script…).")
            return
        panes = self.area.panes
        run_id = next((p.shown.run_id for p in panes if p.shown is not None and p.shown.run_id is not None), None)
        if run_id is not None and not self.activity.panes_busy:
            self._write(lambda d: d.add_step_from_run(script_id, run_id, annotator=self.annotator), select=len(self.steps))
            return
        prompt, system = self.prompt.prompt_text, self.prompt.system_prompt_text
        models, settings = self._live_setup()
        self._write(
            lambda d: d.add_step(script_id, prompt=prompt, system_prompt=system, models=models, settings=settings, annotator=self.annotator),
            select=len(self.steps),
        )

    def _live_setup(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """What a live step keeps from the window: the panes' models and the shared settings,
        so that in class it asks the way it was prepared at home."""
        models = [_model(p.entry) for p in self.area.panes if p.entry is not None]
        return models, self.area.shared_params.to_dict()

    def ask_add_from_set(self) -> None:
        def chosen(sets: list[Any]) -> None:
            if not sets:
                self.feedback.problem(NOTICE, "No prompt sets were found (the prompts/ folder is missing).")
                return
            titles = [f"{s.title} ({len(s.prompts)})" for s in sets]
            title, ok = QInputDialog.getItem(self.context.parent, "Step from a prompt set", "Prompt set:", titles, 0, False)
            if not ok:
                return
            prompt_set = sets[titles.index(title)]
            entries = [f"{p.id} [{p.language}] {title_from_prompt(p.text)}" for p in prompt_set.prompts]
            entry, ok = QInputDialog.getItem(self.context.parent, "Step from a prompt set", "Prompt:", entries, 0, False)
            if ok:
                self.add_from_set(prompt_set.id, prompt_set.prompts[entries.index(entry)])

        self.context.notebook_tasks.submit(lambda: [find_prompt_set(name) for name in available_prompt_sets()], chosen)

    def add_from_set(self, set_id: str, prompt: Any) -> None:
        """A live step asking a prompt-set entry (its text and scripted follow-ups copied) of the panes' models."""
        script_id = self.script_id
        if script_id is None:
            return
        models, settings = self._live_setup()
        self._write(
            lambda d: d.add_step(
                script_id, prompt=prompt.text, language=prompt.language, prompt_set_id=set_id, prompt_id=prompt.id,
                title=f"{set_id} {prompt.id}", models=models, settings=settings, follow_ups=prompt.then, annotator=self.annotator,
            ),
            select=len(self.steps),
        )  # fmt: skip

    # --- the file ------------------------------------------------------------------------

    def ask_export(self) -> None:
        if self.script_id is None:
            self.feedback.problem(NOTICE, "Choose a demo script to export (Demo scripts panel).")
            return
        title = self.panel.scripts.currentText().rsplit(" (", 1)[0]
        start = str(Path.home() / (title.replace("/", "-") + SUFFIX))
        path, _ = QFileDialog.getSaveFileName(self.context.parent, "Export demo", start, f"Demo scripts (*{SUFFIX})")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        notebook, script_id = self.context.workspace.notebook, self.script_id
        if script_id is None:
            return

        def done(_data: Any) -> None:
            self.feedback.notice(NOTICE, f"Saved the demo with its recorded runs to {path}. Take this one file to class.")
            self.fileDone.emit(path)

        self.context.notebook_tasks.submit(lambda: export_demo(notebook, script_id, path), done)

    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.context.parent, "Import demo", str(Path.home()), f"Demo scripts (*{SUFFIX});;JSON Lines (*.jsonl)")
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> None:
        notebook = self.context.workspace.notebook

        def done(imported: DemoImport) -> None:
            self.feedback.notice(NOTICE, imported.summary())
            self.choose_script(imported.script_id)
            self.panelWanted.emit()
            self.fileDone.emit(imported)

        # A refused file is an EnvironmentProblem: the window shows it, nothing changed.
        self.context.notebook_tasks.submit(lambda: import_demo(notebook, path), done)

    # --- playing ----------------------------------------------------------------------------

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        self.actions.speed[speed].setChecked(True)

    def next_step(self) -> None:
        self.play(self.current + 1)

    def previous_step(self) -> None:
        self.play(self.current - 1)

    def play(self, position: int) -> None:
        if not self.steps:
            self.feedback.status("No demo script with steps: open Demo scripts (Demo menu) and choose or make one.", 6000)
            self.panelWanted.emit()
            return
        if not 0 <= position < len(self.steps):
            self.feedback.status("That was the last step." if position >= len(self.steps) else "This is the first step.", 4000)
            return
        if self.activity.comparing:
            self.feedback.status("The models are still answering: Esc stops them, then Page Down goes on.", 6000)
            return
        self._token += 1
        self._follow_ups, self._live_run = [], None
        if self.replaying:
            self._abandon_replay()
        self.current = position
        self.update_step_keys()
        step = self.steps[position]
        self.panel.select_step(position)
        self._show_notes(reveal=True)
        self.stepStarted.emit(position)
        mode = step.mode
        if mode != LIVE and step.run_id is None:
            self.feedback.notice(NOTICE, f"Step {position + 1}'s recorded run is no longer in the notebook; it plays live.")
            mode = LIVE
        if mode == LIVE or step.run_id is None:
            self._play_live(step)
        else:
            self._play_recorded(step.run_id, instant=mode == INSTANT or self.speed == INSTANT_SPEED)

    def _play_live(self, step: DemoStep) -> None:
        entries = self.library.entries
        chosen = [_find_entry(entries, model) for model in step.models]
        missing = [m["name"] for m, entry in zip(step.models, chosen) if entry is None]
        if missing:
            if step.run_id is not None:
                self.feedback.notice(NOTICE, f"{', '.join(missing)} is not on this computer: replaying the step's recorded run instead.")
                self._play_recorded(step.run_id, instant=self.speed == INSTANT_SPEED)
            else:
                self.feedback.problem(NOTICE, f"Step {step.position + 1} needs {', '.join(missing)}, which is not on this computer, and has no recorded run to replay.")
            return
        if chosen:
            self.area.set_count(len(chosen))
            for pane, entry in zip(self.area.panes, chosen):
                pane.select(entry.id if entry else None)
        params = None
        if step.settings:
            try:
                params = GenerationParams.from_dict(step.settings)
            except (TypeError, ValueError) as problem:
                self.feedback.notice(NOTICE, f"Step {step.position + 1}'s saved settings can't be used ({problem}); it runs with the shared settings.")
        self._follow_ups = list(step.follow_ups)
        self.run_live(step.prompt, step.system_prompt, params)
        if not self.activity.comparing:  # refused (it said why): its follow-ups have nothing to follow
            self._follow_ups = []

    def _live_turn_finished(self, outcome: RunOutcome | None) -> None:
        """A turn of the live step ended: its next follow-up, once the window has taken
        in the end of this one (the follow-up action is on again by then)."""
        if not self._follow_ups:
            return
        if outcome is None or self._live_run not in (None, outcome.run_id):  # it did not start, or another run ran
            self._follow_ups = []
            return
        self._live_run = outcome.run_id
        token = self._token
        QTimer.singleShot(0, self, lambda: self._ask_follow_up(token))

    def _ask_follow_up(self, token: int) -> None:
        if token != self._token or not self._follow_ups:
            return
        text = self._follow_ups.pop(0)
        self.follow_up(text)
        if not self.activity.comparing:  # not sent (the window said why, or a batch holds the models)
            left, self._follow_ups = len(self._follow_ups) + 1, []
            self.feedback.notice(NOTICE, f"Step {self.current + 1}: {left} follow-up(s) not asked; the conversation stops here.")

    def _play_recorded(self, run_id: int, *, instant: bool) -> None:
        notebook, token = self.context.workspace.notebook, self._token

        def read() -> tuple[dict[str, Any] | None, dict[str, str | None]]:
            run = notebook.run(run_id)
            shas = {r["model_sha256"] for r in run["responses"] if r["model_sha256"]} if run else set()
            return run, {sha: (notebook.model(sha) or {}).get("maker") for sha in shas}

        def read_done(result: tuple[dict[str, Any] | None, dict[str, str | None]]) -> None:
            if token == self._token:  # else a later Page Down has moved on
                self._start_replay(*result, instant=instant)

        self.context.notebook_tasks.submit(read, read_done)

    def _start_replay(self, run: dict[str, Any] | None, makers: dict[str, str | None], *, instant: bool) -> None:
        """`makers`: the recorded models' makers by SHA-256, as the notebook (or a demo file) knows them.
        A conversation replays turn by turn, each with its own timelines (`_replay_ended` starts the next)."""
        if run is None:
            self.feedback.problem(NOTICE, "This step's recorded run is no longer in the notebook.")
            return
        if self.activity.panes_busy:
            return
        self.show_panes()
        self._headers = place_saved_run(self.area, run, self.library.by_sha256(), makers)
        when = describe.local_time(run.get("created_at"))
        first, *later = run_replay(run, at_recorded_speed=not instant)
        self._replayed = (run["id"], when, instant)
        self._replay_turns = (run, later, 1 + len(later))
        self.banner.show_replay(run["id"], when, speed=None if instant else self.speed, playing=True)
        self.pane_events.replayStarted.emit(run["id"])
        self.activity.set_replaying(True)  # before it starts: shown at once, it also ends in start()
        self._play_turn(run, first, 1 + len(later))

    def _play_turn(self, run: dict[str, Any], turn: TurnReplay, turns: int) -> None:
        """One turn of the replayed run in the panes: each pane's answer to it, from the start."""
        assert self._replayed is not None
        run_id, when, instant = self._replayed
        which = f", turn {turn.turn + 1} of {turns}" if turns > 1 else ""
        for pane, response in zip(self.area.panes, turn.responses):
            try:
                params = GenerationParams.from_dict(response.get("sampler") or {})
            except (TypeError, ValueError):
                params = GenerationParams()
            pane.begin(f"Replay of run #{run_id}{which}, recorded {when}", params, response.get("model_name") or "?")
            if pane.blind_letter is not None:
                pane.set_blind(pane.blind_letter)  # a new answer is a new round of guessing
            pane.on_status("replaying…" if not instant else "recorded")
        self.prompt.set_texts(turn.prompt, run.get("system_prompt") or "")
        self.prompt.run_info.setText(f"Replaying run #{run_id}{which} from {when}: not a new run")
        self.player.start(turn.tracks, self.speed)

    def _chunk(self, pane: int, kind: str, text: str) -> None:
        panes = self.area.panes
        if pane < len(panes):
            panes[pane].on_text(kind, text)

    def _run_shown(self, run_id: int) -> None:
        if run_id != self.banner.run_id:
            self.banner.clear()
            return
        # The window names a saved run's models from the catalog; the demo file also
        # brought their makers, which the room should keep seeing.
        for pane, header in zip(self.area.panes, self._headers):
            pane.show_recorded_model(*header)

    def stop(self) -> None:
        """Esc: a replay ends at once, showing the whole recorded run; a live step asks
        none of its follow-ups still to come (the window stops the turn itself)."""
        self._follow_ups = []
        self.player.stop()

    def _abandon_replay(self) -> None:
        """Another step starts: this replay ends without showing its run."""
        self._replayed = None
        self.player.stop()

    def _replay_ended(self, completed: bool) -> None:
        run, later, turns = self._replay_turns
        if self._replayed is not None and completed and later:
            self._replay_turns = (run, later[1:], turns)
            self._play_turn(run, later[0], turns)  # the conversation's next turn
            return
        self._replay_turns = ({}, [], 0)
        self.activity.set_replaying(False)
        if self._replayed is None:
            return
        run_id, when, instant = self._replayed
        self._replayed = None
        self.banner.show_replay(run_id, when, speed=None if instant else self.speed, playing=False, stopped=not completed)
        self.show_run(run_id)  # the saved run itself: annotations and votes attach to it
        self.replayFinished.emit(run_id)

    # --- speaker notes ------------------------------------------------------------------------

    def _show_notes(self, reveal: bool = False) -> None:
        step = self.steps[self.current] if 0 <= self.current < len(self.steps) else None
        following = self.steps[self.current + 1] if 0 <= self.current + 1 < len(self.steps) else None
        if step is None and self.steps:
            following = self.steps[0]
        self.notes.show_step(step, len(self.steps), following)
        if self.notes_window is not None:
            self.notes_window.notes.show_step(step, len(self.steps), following)
        if not reveal:
            return
        screen = other_screen(self.context.parent)
        if screen is not None:
            if self.notes_window is None:
                self.notes_window = SpeakerNotesWindow()
                self.notes_window.notes.show_step(step, len(self.steps), following)
            if not self.notes_window.isVisible():
                self.notes_window.show_on(screen)
        elif not self.presentation.active:  # presenting on one screen, the class would read them
            self.notesWanted.emit()

    def close(self) -> None:
        self._abandon_replay()
        if self.notes_window is not None:
            self.notes_window.close()


def _model(entry: ModelEntry) -> dict[str, Any]:
    return {"sha256": entry.sha256, "name": entry.name}


def _find_entry(entries: list[ModelEntry], model: dict[str, Any]) -> ModelEntry | None:
    """The catalog entry of a step's model: the same file (SHA-256), else a model of the same name."""
    if model.get("sha256"):
        found = next((e for e in entries if e.sha256 == model["sha256"] and e.ok), None)
        if found is not None:
            return found
    return next((e for e in entries if e.name == model.get("name") and e.ok), None)
