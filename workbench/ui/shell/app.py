"""Starting the window: the one entry point the CLI calls.

`run_window` builds the QApplication, the workspace and the window, runs the
event loop and returns the exit code. With `screenshot`, it runs offscreen
(unless a platform was chosen) with throwaway window preferences, so making
the README's picture never changes the user's layout or chosen models.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import traceback
from pathlib import Path
from types import TracebackType

import shiboken6
from PySide6.QtWidgets import QApplication

from ...core.workspace import Workspace
from .main_window import MainWindow
from ..shared.preferences import FILE_NAME, Preferences, default_settings_file
from .screenshot import ScreenshotSession

APP_NAME = "Model Values Workbench"
BUG_NOTICE_KEY = "bug"


def freeze_startup_objects() -> None:
    """Keep the cyclic garbage collector off everything that exists once the window is up.

    Qt, PySide and the libraries leave some 65,000 long-lived objects; a full
    collection walks them all and took 58 to 61 ms here, an event-loop stall
    that could land in the middle of a stream. Frozen, a full collection of
    what the session adds later takes well under a millisecond."""
    gc.collect()
    gc.freeze()


def application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0] if sys.argv else "workbench"])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("model-values-workbench")
    app.setDesktopFileName("model-values-workbench")
    return app


def _report_bugs(window: MainWindow, session: ScreenshotSession | None) -> None:
    """An exception that escapes into the event loop is a bug: print it, say so in the window,
    and keep going (a screenshot run fails instead)."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, error, tb, file=sys.stderr)
        if session is not None:
            session.fail(f"a bug in the workbench: {kind.__name__}: {error}")
            return
        window.show_problem(
            BUG_NOTICE_KEY,
            f"Something went wrong inside the workbench (a bug, not your doing): {kind.__name__}: {error}. "
            "The details were printed to the terminal; please report them.",
        )

    sys.excepthook = hook


def run_window(
    db_path: Path | None,
    extra_folders: list[Path],
    screenshot: Path | None,
    prompt: str | None,
    model_ids: list[str],
    max_tokens: int | None = None,
) -> int:
    """Open the workbench window; return the exit code.

    With `screenshot`: run `prompt` (the sample prompt by default) on `model_ids`
    (the starter pair by default), `max_tokens` long at most (default: the shared
    settings'), wait for every pane, save a PNG of the window to `screenshot`,
    and return 0; on failure print why and return 1.
    """
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = application()
    workspace = Workspace(db_path, extra_folders)
    with tempfile.TemporaryDirectory(prefix="workbench-screenshot-") as scratch:
        settings_file = Path(scratch) / FILE_NAME if screenshot is not None else default_settings_file()
        window = MainWindow(workspace, Preferences.at(settings_file), initial_prompt=prompt, initial_models=model_ids)
        session = ScreenshotSession(window, screenshot, prompt, model_ids, max_tokens=max_tokens) if screenshot is not None else None
        previous_hook = sys.excepthook
        _report_bugs(window, session)
        try:
            if session is not None:
                session.start()
            window.show()
            window.start()
            freeze_startup_objects()
            try:
                code = app.exec()
            finally:
                gc.unfreeze()
            window.close()
            if session is not None and session.exit_code is not None:
                code = session.exit_code
        finally:
            sys.excepthook = previous_hook
            shiboken6.delete(window)  # no closed window may linger, reacting to app-wide signals
            workspace.close()
    return code
