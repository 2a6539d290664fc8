"""Every command of the window as a QAction, with its shortcut: the one place they are declared.

A teacher learns the shortcuts from the menu bar (shell/menus.py lays the
actions out in menus); buttons elsewhere reuse these actions, so a command is
enabled or not in one place only. Each feature controller is handed the group
it answers (`actions.annotate`, `actions.present`, ...) and connects to it; no
feature makes an action of its own. Every action is added to the window, so
its shortcut works even while presentation mode hides the menu bar.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QWidget

from ...core.comparison import PARALLEL, SEQUENTIAL
from ...core.notebook import DIVERGENCE
from . import theme

MIN_PANES, MAX_PANES = 2, 6  # the compare area's limits; the reveal and vote keys go up to MAX_PANES
NUMBER_KEYS = "1234567890"  # toggle the first ten labels, in order
DIVERGENCE_KEYS = {name: f"Alt+{i}" for i, name in enumerate(DIVERGENCE, start=1)}
VOTE_KEYS = "ABCDEF"[:MAX_PANES] + "T"  # after V: a model's letter, or T for a tie
SCHEDULE_CHOICES = (
    (SEQUENTIAL, "One after another", "Each model in turn, with all cores: fastest per model on small machines."),
    (PARALLEL, "All at once", "Every model at the same time, sharing the cores."),
)
# The keys of the commands that belong to one widget rather than the window, declared here so
# that every shortcut is in one place: save a dialog's form; remove the highlight chosen in
# an answer's list of highlights.
DIALOG_SAVE_KEYS = "Ctrl+Return"
REMOVE_HIGHLIGHT_KEYS = QKeySequence.StandardKey.Delete
INSTANT_SPEED = 0.0
Key = TypeVar("Key", bound=Hashable)  # what a choice's actions are found by
# Demo > replay speed: (speed, menu text); INSTANT_SPEED shows recorded runs at once.
REPLAY_SPEEDS = ((1.0, "Replay at the recorded speed"), (2.0, "Replay twice as fast"), (INSTANT_SPEED, "Show recorded runs at once"))


class _Maker:
    """Makes the window's actions, each added to the window."""

    def __init__(self, window: QWidget) -> None:
        self.window = window

    def __call__(self, text: str, *shortcuts: str | QKeySequence.StandardKey, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self.window)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        self.window.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def choice(self, choices: Sequence[tuple[Key, str]]) -> dict[Key, QAction]:
        """Checkable actions of which one is checked at a time, by key."""
        group = QActionGroup(self.window)
        made: dict[Key, QAction] = {}
        for key, text in choices:
            made[key] = self(text, checkable=True)
            group.addAction(made[key])
        return made


class FileActions:
    def __init__(self, a: _Maker) -> None:
        self.open_file = a("Open GGUF file…", "Ctrl+O", tip="Add one model file to the library")
        self.add_folder = a("Add model folder…", "Ctrl+Shift+O", tip="Add a folder; its GGUF files are found at every start")
        self.rescan = a("Rescan models", "F5", tip="Look for new or changed model files")
        self.get_models = a("Get models…", tip="Download US and Chinese chat models in comparable pairs, or any GGUF from Hugging Face, checked against the hub's SHA-256")
        self.endpoints = a("Endpoints…", tip="Servers that speak the OpenAI API: their models join the library as remote models")
        self.export = a("Export…", "Ctrl+E", tip="Write runs with their answers and annotations as HTML, Markdown, PDF, CSV or JSON Lines")
        self.import_ = a("Import…", "Ctrl+Shift+I", tip="Merge a colleague's JSON Lines export into this notebook")
        self.quit = a("Quit", "Ctrl+Q")


class RunActions:
    def __init__(self, a: _Maker) -> None:
        self.run = a("Run", "Ctrl+Return", "Ctrl+Enter", tip="Ask every pane's model the prompt (Ctrl+Enter)")
        self.follow_up = a(
            "Follow up",
            "Alt+Return",
            "Alt+Enter",
            tip="Send the text to every pane as the next turn: each model continues its own conversation (Alt+Enter)",
        )
        self.stop = a("Stop", "Esc", tip="Stop every model; what they wrote so far is kept (Esc)")
        self.rerun = a(
            "Rerun all with the same seed",
            "Ctrl+Shift+Return",
            "Ctrl+Shift+Enter",
            tip="Ask the shown prompt again, every pane with the same settings and seed",
        )
        self.batches = a("Batches…", "Ctrl+B", tip="Ask a whole prompt set of several models; see the matrix and the summary")
        self.schedule: dict[str, QAction] = a.choice([(key, label) for key, label, _tip in SCHEDULE_CHOICES])
        for key, _label, tip in SCHEDULE_CHOICES:
            self.schedule[key].setStatusTip(tip)
            self.schedule[key].setToolTip(tip)


class PaneActions:
    def __init__(self, a: _Maker) -> None:
        self.add_pane = a("Add a pane", "Ctrl+T", tip=f"Compare one more model (up to {MAX_PANES})")
        self.remove_pane = a("Remove the last pane", "Ctrl+W", tip="Keep at least 2 panes")
        self.sync_scrolling = a(
            "Scroll panes together", "Ctrl+Shift+S", tip="Scrolling one answer scrolls the others to the same place", checkable=True
        )


class ViewActions:
    def __init__(self, a: _Maker) -> None:
        self.bigger = a("Larger text", "Ctrl+=", "Ctrl++", tip="For projectors: everything gets bigger")
        self.smaller = a("Smaller text", "Ctrl+-")
        self.reset_size = a("Default text size", "Ctrl+0")
        self.focus_prompt = a("Go to the prompt", "Ctrl+L")
        self.theme: dict[str, QAction] = a.choice(theme.CHOICES)


class AnnotateActions:
    def __init__(self, a: _Maker) -> None:
        self.undo = a("Undo", "Ctrl+Z")
        self.redo = a("Redo", "Ctrl+Shift+Z", "Ctrl+Y")
        self.annotator = a("Your annotator name…", tip="The name your labels, highlights and notes are credited to (workbench annotate uses it too)")
        self.label_keys = [a(f"Toggle label {key}", key) for key in NUMBER_KEYS]
        self.accept_flags = a("Accept suggestions", "A", tip="Turn the focused pane's machine suggestions into your labels")
        self.highlight = a("Highlight selection…", "H", "Ctrl+H", tip="Mark the selected passage and attach labels and a note")
        self.pane_note = a("Note on this answer", "N")
        self.rate = {name: a(f"Divergence: {name}", DIVERGENCE_KEYS[name]) for name in DIVERGENCE}
        self.summary = a("How they differ…", "Ctrl+D", tip="Type a one-line summary of the difference")
        self.run_note = a("Note on the run", "Ctrl+Shift+N")
        self.next_pane = a("Next pane", "F6", tip="Move the focus to the next pane (what the number keys label)")
        self.previous_pane = a("Previous pane", "Shift+F6")
        self.next_run = a("Next run", "Alt+Down", tip="Show the next (older) run in the history")
        self.previous_run = a("Previous run", "Alt+Up")
        self.labels = a("Labels…", tip="The label legend, and your own labels")
        self.find = a("Search the notebook", "Ctrl+F")
        self.reflag = a("Recompute flags…", tip="Flag answers already in the notebook again with the current detectors (labels stay)")


class SideBySideActions:
    """Two answers, or one question's two languages, side by side (ui/side_by_side)."""

    def __init__(self, a: _Maker) -> None:
        self.difference = a(
            "Differences between two answers…", "Ctrl+Shift+D",
            tip="Two answers side by side, paragraphs aligned, removed words struck through and added ones underlined",
        )
        self.languages = a(
            "English and Chinese side by side…", "Ctrl+Shift+L",
            tip="The run and its run in the other language: a row per language, a column per model",
        )


class PresentActions:
    """The classroom's commands: what a teacher uses while presenting."""

    def __init__(self, a: _Maker) -> None:
        self.present = a("Present", "F11", tip="Full screen, large type, high contrast: for a projector (F11 or Esc leaves)", checkable=True)
        self.leave = a("Leave presentation", "Esc")
        self.blind = a("Blind comparison", "Ctrl+Shift+B", tip="Show the answers as Model A, B, … until revealed", checkable=True)
        self.reveal_all = a("Reveal all models", "R")
        self.reveal_pane = [a(f"Reveal pane {i}", f"Shift+{i}") for i in range(1, MAX_PANES + 1)]
        self.add_vote = {k: a(f"Vote for {'a tie' if k == 'T' else 'Model ' + k}", f"V, {k}") for k in VOTE_KEYS}
        self.remove_vote = {k: a(f"Take back a vote for {'a tie' if k == 'T' else 'Model ' + k}", f"V, Shift+{k}") for k in VOTE_KEYS}
        self.show_labels = a("Show labels and flags", "L", tip="Labels, suggestions and highlights on the answers, or the bare answers", checkable=True)
        self.show_labels.setChecked(True)


class DemoActions:
    def __init__(self, a: _Maker) -> None:
        self.new = a("New demo script…", tip="A list of prompts and recorded runs to step through in class")
        self.next = a("Next demo step", "PgDown", tip="Play the next step of the demo script (Page Down; a clicker's forward button)")
        self.previous = a("Previous demo step", "PgUp", tip="Play the previous step again (Page Up)")
        self.speed: dict[float, QAction] = a.choice(REPLAY_SPEEDS)
        self.export = a("Export demo…", tip="Save the demo script with the runs it replays in one file, for another computer")
        self.import_ = a("Import demo…", tip="Add a demo file's script and recorded runs to this notebook")


class Actions:
    """All of the window's actions, by the feature that answers them."""

    def __init__(self, window: QWidget) -> None:
        a = _Maker(window)
        self.file = FileActions(a)
        self.run = RunActions(a)
        self.panes = PaneActions(a)
        self.view = ViewActions(a)
        self.annotate = AnnotateActions(a)
        self.side_by_side = SideBySideActions(a)
        self.present = PresentActions(a)
        self.demo = DemoActions(a)
