"""What the window's features share, handed to each feature instead of the window.

napari hands `QtDims` the `Dims` model, never the viewer; here each feature
controller is given a `Context` (the services every feature uses) and the
state holders and widgets it works on, never the main window. The shell
(shell/main_window.py) builds them once and wires the features together.

Each piece of shared state has one owner that writes it, and a Qt signal
that tells the others it changed:

- `ModelLibrary`: the models as last scanned (written by the shell's library
  scan and by a hashed entry coming back);
- `Activity`: what holds the models and the panes now (a comparison, a
  replay, a batch, a judge) and whether the window is ready to run;
- `PaneEvents`: what the panes show now: a live run starting, its run id, a
  saved run shown, a recorded run replaying (emitted by whoever put it there);
- `NotebookEvents`: what changed in the notebook (core/notebook/changes.py),
  delivered on the GUI thread, so views refresh from what was written
  rather than from whoever wrote it (Anki's operation_did_execute).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QStatusBar, QWidget

from ...core.annotator_name import AnnotatorNameProblem, current_annotator
from ...core.catalog import ModelEntry
from ...core.errors import EnvironmentProblem
from ...core.notebook import Notebook, NotebookChange
from ...core.workspace import Workspace
from .message_bar import INFO, PROBLEM, MessageBar
from .preferences import Preferences
from .tasks import TaskQueue


class Feedback:
    """How a feature tells the user something: a notice in the message bar (stays until
    dealt with: a modal box would stop a live demo) or a line in the status bar (passing
    news). The environment's problems get their type as the notice's key, so a repeat
    replaces rather than piles up."""

    def __init__(self, messages: MessageBar, status_bar: QStatusBar) -> None:
        self._messages = messages
        self._status_bar = status_bar

    def problem(self, key: str, text: str) -> None:
        self._messages.show_notice(key, text, PROBLEM)

    def notice(self, key: str, text: str) -> None:
        self._messages.show_notice(key, text, INFO)

    def dismiss(self, key: str) -> None:
        self._messages.dismiss(key)

    def status(self, text: str, msecs: int = 5000) -> None:
        self._status_bar.showMessage(text, msecs)

    def clear_status(self) -> None:
        self._status_bar.clearMessage()

    def add_permanent(self, widget: QWidget) -> None:
        """A widget that stays at the status bar's right end (who annotates), past the passing news."""
        self._status_bar.addPermanentWidget(widget)

    def environment_problem(self, problem: EnvironmentProblem) -> None:
        self.problem(type(problem).__name__, str(problem))


class ModelLibrary(QObject):
    """The models as last scanned, by id: what panes, batches and demos choose from."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: dict[str, ModelEntry] = {}

    def replace(self, entries: Iterable[ModelEntry]) -> None:
        self._entries = {e.id: e for e in entries}
        self.changed.emit()

    def put(self, entry: ModelEntry) -> None:
        """One entry learned more (its hash) or was named by the caller."""
        self._entries[entry.id] = entry
        self.changed.emit()

    def get(self, entry_id: str) -> ModelEntry | None:
        return self._entries.get(entry_id)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    @property
    def entries(self) -> list[ModelEntry]:
        return list(self._entries.values())

    def by_sha256(self) -> dict[str, ModelEntry]:
        """The hashed entries by hash: how a saved answer finds its model on this computer."""
        return {e.sha256: e for e in self._entries.values() if e.sha256}


class Activity(QObject):
    """What is using the models and the panes now. One comparison, replay, batch or judge
    at a time: each sets its flag, and every control that depends on it listens to
    `changed` (the Run action, the history, the presentation's key line)."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._flags = {"comparing": False, "replaying": False, "batch": False, "judging": False, "library": False, "notebook": False}

    def _set(self, name: str, on: bool) -> None:
        if self._flags[name] != on:
            self._flags[name] = on
            self.changed.emit()

    def set_comparing(self, on: bool) -> None:
        self._set("comparing", on)

    def set_replaying(self, on: bool) -> None:
        self._set("replaying", on)

    def set_batch(self, on: bool) -> None:
        self._set("batch", on)

    def set_judging(self, on: bool) -> None:
        self._set("judging", on)

    def library_scanned(self) -> None:
        self._set("library", True)

    def notebook_checked(self) -> None:
        self._set("notebook", True)

    @property
    def comparing(self) -> bool:
        return self._flags["comparing"]

    @property
    def replaying(self) -> bool:
        return self._flags["replaying"]

    @property
    def batch(self) -> bool:
        return self._flags["batch"]

    @property
    def judging(self) -> bool:
        return self._flags["judging"]

    @property
    def panes_busy(self) -> bool:
        """A run streams into the panes or a recorded one replays there."""
        return self.comparing or self.replaying

    @property
    def models_free(self) -> bool:
        """Nothing else holds the models: a new comparison may start."""
        return not (self.panes_busy or self.batch or self.judging)

    @property
    def library_ready(self) -> bool:
        """The first library scan is done: the panes' models are worth remembering from now on."""
        return self._flags["library"]

    @property
    def ready(self) -> bool:
        """The first library scan is done and the notebook was opened (or could not be)."""
        return self._flags["library"] and self._flags["notebook"]


class PaneEvents(QObject):
    """What the panes show now. Features that decorate the panes (annotations, blind
    letters, the replay banner) follow these instead of asking whoever filled them."""

    runStarting = Signal(list, bool)  # a live comparison begins: the panes it fills, and whether it is one pane's rerun
    runCreated = Signal(int)  # the live run is in the notebook under this id
    runFinished = Signal(object)  # RunOutcome, or None if the run could not start
    runShown = Signal(int)  # a saved run is now in the panes
    turnStarting = Signal(list)  # a follow-up begins: the panes it fills (each continues the run they show)
    turnShown = Signal(int, int)  # run id, turn: the panes now show their answers to this turn of the run
    answerSaved = Signal(object)  # ComparePane: its live answer is saved and flagged
    panesWanted = Signal()  # a saved run is about to show: the panes come forward even without models
    replayStarted = Signal(int)  # a recorded run replays in the panes


class NotebookEvents(QObject):
    """The notebook's change announcements, delivered on the GUI thread.

    The store announces each committed transaction on the thread that wrote it
    (the notebook queue, a batch, a judge, the recorder while a run streams);
    this re-emits it as `changed` from the GUI thread's event loop, so a view's
    slot may touch its widgets. Views decide from the change's tables and run
    ids whether what they show is concerned; none is told by whoever wrote.

    Each view says which tables it shows (`watch`): a change to none of them
    (a streamed answer's text, saved every second) never wakes the GUI thread,
    and changes that arrive before the GUI thread took the last one are merged
    into it, so a burst of commits costs one wake-up, as streamed text does."""

    changed = Signal(object)  # NotebookChange
    _arrived = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = None
        self._watched: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._pending: NotebookChange | None = None

    def watch(self, tables: Iterable[str]) -> None:
        """Deliver changes to these tables too (a view says so when it is built, before or after `listen`)."""
        self._watched = self._watched | frozenset(tables)

    def listen(self, notebook: Notebook) -> None:
        """Follow `notebook` (from the thread that opened it: subscribing opens nothing)."""
        self.stop()
        self._unsubscribe = notebook.subscribe(self._announced)

    @property
    def listening(self) -> bool:
        return self._unsubscribe is not None

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _announced(self, change: NotebookChange) -> None:
        """On the writing thread: keep what a view shows, and wake the GUI thread once."""
        if not change.touches(self._watched):
            return
        with self._lock:
            first = self._pending is None
            self._pending = change if self._pending is None else self._pending | change
        if first:
            self._arrived.emit()

    @Slot()
    def _deliver(self) -> None:
        with self._lock:
            change, self._pending = self._pending, None
        if change is not None:
            self.changed.emit(change)


@dataclass(frozen=True)
class Context:
    """The services every feature uses. `parent`: the window, only as the parent of dialogs
    (so they centre on it and close with it), never to reach its parts."""

    workspace: Workspace
    prefs: Preferences
    notebook_tasks: TaskQueue
    catalog_tasks: TaskQueue
    feedback: Feedback
    parent: QWidget

    @property
    def annotator(self) -> str:
        """Who this window's annotations are credited to, as the CLI decides it
        (core/annotator_name.py); an unusable WORKBENCH_ANNOTATOR is passed over here,
        and Annotate > Your annotator name… says why."""
        saved = self.workspace.settings.annotator
        try:
            return current_annotator(saved)
        except AnnotatorNameProblem:
            return current_annotator(saved, use_env=False)
