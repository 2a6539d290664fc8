"""Every command of the window as a QAction, with its shortcut, in its menu.

One place lists the shortcuts, and the menus show them: a teacher can learn
them from the menu bar. Buttons elsewhere reuse these actions, so a command
is enabled or not in one place only.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenuBar

from . import theme
from .prompt_bar import SCHEDULE_CHOICES
from .replay import SPEEDS


def _action(window: QMainWindow, text: str, *shortcuts: str | QKeySequence.StandardKey, tip: str = "", checkable: bool = False) -> QAction:
    action = QAction(text, window)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


class WindowCommands:
    def __init__(self, window: QMainWindow) -> None:
        a = _action
        # File
        self.open_file = a(window, "Open GGUF file…", "Ctrl+O", tip="Add one model file to the library")
        self.add_folder = a(window, "Add model folder…", "Ctrl+Shift+O", tip="Add a folder; its GGUF files are found at every start")
        self.rescan = a(window, "Rescan models", "F5", tip="Look for new or changed model files")
        self.export = a(window, "Export…", "Ctrl+E", tip="Write runs with their answers and annotations as HTML, Markdown, PDF, CSV or JSON Lines")
        self.import_ = a(window, "Import…", "Ctrl+Shift+I", tip="Merge a colleague's JSON Lines export into this notebook")
        self.quit = a(window, "Quit", "Ctrl+Q")
        # Run
        self.run = a(window, "Run", "Ctrl+Return", "Ctrl+Enter", tip="Ask every pane's model the prompt (Ctrl+Enter)")
        self.stop = a(window, "Stop", "Esc", tip="Stop every model; what they wrote so far is kept (Esc)")
        self.rerun = a(
            window,
            "Rerun all with the same seed",
            "Ctrl+Shift+Return",
            "Ctrl+Shift+Enter",
            tip="Ask the shown prompt again, every pane with the same settings and seed",
        )
        self.batches = a(window, "Batches…", "Ctrl+B", tip="Ask a whole prompt set of several models; see the matrix and the summary")
        self.schedule_group = QActionGroup(window)
        self.schedule: dict[str, QAction] = {}
        for key, label, tip in SCHEDULE_CHOICES:
            action = a(window, label, tip=tip, checkable=True)
            self.schedule_group.addAction(action)
            self.schedule[key] = action
        # Demo scripts (issue 7); the Demo menu is built by demo_panel.DemoController
        self.demo_new = a(window, "New demo script…", tip="A list of prompts and recorded runs to step through in class")
        self.demo_next = a(window, "Next demo step", "PgDown", tip="Play the next step of the demo script (Page Down; a clicker's forward button)")
        self.demo_previous = a(window, "Previous demo step", "PgUp", tip="Play the previous step again (Page Up)")
        self.demo_speed_group = QActionGroup(window)
        self.demo_speed: dict[float, QAction] = {}
        for speed, label in SPEEDS:
            action = a(window, label, checkable=True)
            self.demo_speed_group.addAction(action)
            self.demo_speed[speed] = action
        self.demo_export = a(window, "Export demo…", tip="Save the demo script with the runs it replays in one file, for another computer")
        self.demo_import = a(window, "Import demo…", tip="Add a demo file's script and recorded runs to this notebook")
        # Panes
        self.add_pane = a(window, "Add a pane", "Ctrl+T", tip="Compare one more model (up to 6)")
        self.remove_pane = a(window, "Remove the last pane", "Ctrl+W", tip="Keep at least 2 panes")
        self.sync_scrolling = a(
            window, "Scroll panes together", "Ctrl+Shift+S", tip="Scrolling one answer scrolls the others to the same place", checkable=True
        )
        # View
        self.bigger = a(window, "Larger text", "Ctrl+=", "Ctrl++", tip="For projectors: everything gets bigger")
        self.smaller = a(window, "Smaller text", "Ctrl+-")
        self.reset_size = a(window, "Default text size", "Ctrl+0")
        self.focus_prompt = a(window, "Go to the prompt", "Ctrl+L")
        self.theme_group = QActionGroup(window)
        self.theme: dict[str, QAction] = {}
        for key, label in theme.CHOICES:
            action = a(window, label, checkable=True)
            self.theme_group.addAction(action)
            self.theme[key] = action

    def build_menus(self, bar: QMenuBar, docks: list[tuple[QDockWidget, str]]) -> None:
        """`docks`: each dock with the shortcut that shows or hides it."""
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open_file, self.add_folder, self.rescan])
        file_menu.addSeparator()
        file_menu.addActions([self.export, self.import_])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)

        run_menu = bar.addMenu("&Run")
        run_menu.addActions([self.run, self.stop, self.rerun])
        run_menu.addSeparator()
        run_menu.addAction(self.batches)
        run_menu.addSeparator()
        schedule_menu = run_menu.addMenu("Models run")
        schedule_menu.addActions(list(self.schedule.values()))

        pane_menu = bar.addMenu("&Panes")
        pane_menu.addActions([self.add_pane, self.remove_pane])
        pane_menu.addSeparator()
        pane_menu.addAction(self.sync_scrolling)

        view_menu = bar.addMenu("&View")
        self.view_menu = view_menu  # presentation mode adds its commands here
        for dock, shortcut in docks:
            toggle = dock.toggleViewAction()
            toggle.setShortcut(QKeySequence(shortcut))
            view_menu.addAction(toggle)
        view_menu.addSeparator()
        view_menu.addActions([self.bigger, self.smaller, self.reset_size])
        theme_menu = view_menu.addMenu("Theme")
        theme_menu.addActions(list(self.theme.values()))
        view_menu.addSeparator()
        view_menu.addAction(self.focus_prompt)
