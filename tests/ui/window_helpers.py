"""Helpers for the window tests: waiting for runs, and recording what streamed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Slot

from workbench.core.comparison import RunOutcome
from workbench.core.engine.params import GenerationParams
from workbench.core.workspace import Workspace
from workbench.ui.main_window import MainWindow

WAIT_MS = 60_000
# One thread: on a 2-core machine shared with other work, llama.cpp's
# spinning threads slow down badly when oversubscribed.
TINY_PARAMS = GenerationParams(max_tokens=24, n_threads=1, n_ctx=512)


@dataclass
class Streams:
    """Everything the runner streamed, per pane, as it arrived (to compare with the notebook)."""

    answer: dict[int, str] = field(default_factory=dict)
    reasoning: dict[int, str] = field(default_factory=dict)


class StreamRecorder(QObject):
    """Listens to the runner like the panes do; `first_text(pane)` is called at each pane's first text."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.streams = Streams()
        self.first_text: Callable[[int], None] | None = None
        window.runner.text.connect(self._text)
        window.runner.started.connect(self._reset)

    @Slot(object)
    def _reset(self, _request: object) -> None:
        self.streams = Streams()

    @Slot(int, str, str, int)
    def _text(self, pane: int, kind: str, text: str, _pieces: int) -> None:
        first = pane not in self.streams.answer and pane not in self.streams.reasoning
        target = self.streams.reasoning if kind == "reasoning" else self.streams.answer
        target[pane] = target.get(pane, "") + text
        if first and self.first_text is not None:
            self.first_text(pane)


@dataclass
class Opened:
    window: MainWindow
    workspace: Workspace
    recorder: StreamRecorder


def close(item: Opened) -> None:
    """Close like a user does (saves preferences, stops runs), then free the workspace."""
    if item.window.isVisible():
        item.window.close()
    item.workspace.close()


def run_and_wait(qtbot, window: MainWindow, timeout: int = WAIT_MS) -> RunOutcome:
    """Trigger Run (Ctrl+Enter's action) and wait for the run to end."""
    with qtbot.waitSignal(window.runFinished, timeout=timeout) as finished:
        window.commands.run.trigger()
    assert finished.args[0] is not None, "the run did not start"
    return finished.args[0]
