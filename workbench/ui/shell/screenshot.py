"""`workbench --screenshot PATH`: the real window, one real run, one PNG.

The README's picture is made by the app itself, so it shows what users get.
The session waits for the library, puts the models in the panes (the
starter pair unless told otherwise), sets the answers' length when told
(`--max-tokens`; else the shared settings' 512), runs the prompt, waits for every pane
to finish, lets the last render land, and saves the whole window. Failures
(no models, a model that errs, a file that can't be written, a timeout)
end with a non-zero exit code and one line on stderr saying why.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QObject, QTimer
from PySide6.QtWidgets import QApplication

from ...core.comparison import RunOutcome
from ...core.errors import EnvironmentProblem
from ...core.user_files import save
from .main_window import MainWindow
from ..compare.prompt_bar import SAMPLE_PROMPT

SETTLE_MS = 300  # after the last token: the final Markdown render, then a repaint
DEFAULT_TIMEOUT_S = 900
SIZE = (1600, 1000)


class ScreenshotSession(QObject):
    def __init__(
        self,
        window: MainWindow,
        path: Path,
        prompt: str | None,
        model_ids: list[str],
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_tokens: int | None = None,
    ) -> None:
        """`max_tokens`: the answers' length, set in the shared settings (default: theirs, 512)."""
        super().__init__(window)
        self.window = window
        self.path = Path(path)
        self.prompt = prompt or SAMPLE_PROMPT
        self.model_ids = model_ids
        self.max_tokens = max_tokens
        self.exit_code: int | None = None
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(int(timeout_s * 1000))
        self._timeout.timeout.connect(lambda: self.fail(f"timed out after {timeout_s:.0f} s waiting for the models"))

    def start(self) -> None:
        self.window.resize(*SIZE)
        self.window.panesReady.connect(self._panes_ready)
        self._timeout.start()

    def _panes_ready(self) -> None:
        self.window.panesReady.disconnect(self._panes_ready)
        if self.window.library_control.startup_problems:
            self.fail("; ".join(self.window.library_control.startup_problems))
            return
        if not self.model_ids and len(self.window.library_control.starter_ids) < 2:
            reason = "; ".join(self.window.library_control.starter_problems) or "the starter models are not installed"
            self.fail(f"the starter pair is not ready: {reason}")
            return
        self.window.prompt_bar.set_texts(self.prompt, "")
        if self.max_tokens is not None:
            self.window.settings_form.max_tokens.setValue(self.max_tokens)
        self._run_when_ready()

    def _run_when_ready(self) -> None:
        if not self.window.activity.ready:
            self.window.historyLoaded.connect(self._notebook_opened)
            return
        self.window.runFinished.connect(self._finished)
        self.window.comparing.run_prompt()
        if not self.window.running:
            self.window.runFinished.disconnect(self._finished)
            self.fail("the run did not start: " + (self._notices() or "no pane has a model that can load"))

    def _notebook_opened(self) -> None:
        self.window.historyLoaded.disconnect(self._notebook_opened)
        self._run_when_ready()

    def _finished(self, outcome: RunOutcome | None) -> None:
        self.window.runFinished.disconnect(self._finished)
        if outcome is None:
            self.fail("the run could not start: " + (self._notices() or "unknown reason"))
            return
        QTimer.singleShot(SETTLE_MS, lambda: self._capture_when_rendered(outcome))

    def _capture_when_rendered(self, outcome: RunOutcome) -> None:
        if any(pane.answer_view.rendering for pane in self.window.area.panes):
            QTimer.singleShot(SETTLE_MS, lambda: self._capture_when_rendered(outcome))
        else:
            self._capture(outcome)

    def _notices(self) -> str:
        return "; ".join(notice.label.text() for notice in self.window.messages.notices.values())

    def _capture(self, outcome: RunOutcome) -> None:
        png = QBuffer()
        png.open(QIODevice.OpenModeFlag.WriteOnly)
        if not self.window.grab().save(png, "PNG"):
            self.fail("could not encode the window as a PNG")
            return
        try:
            save(self.path, bytes(png.data().data()))
        except EnvironmentProblem as problem:
            self.fail(str(problem))
            return
        failed = [f"{r.entry.name}: {r.result.error or r.result.finish_reason}" for r in outcome.responses if not r.answered]
        if failed:
            self.fail(f"saved {self.path}, but not every model answered: " + "; ".join(failed))
            return
        self._end(0)

    def fail(self, reason: str) -> None:
        print(f"workbench --screenshot: {reason}", file=sys.stderr)
        self._end(1)

    def _end(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
            self._timeout.stop()
            QApplication.exit(code)
