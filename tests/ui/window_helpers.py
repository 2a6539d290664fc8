"""Helpers for the window tests: waiting for runs, recording what streamed, and runs written by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Slot

from workbench.core.comparison import RunOutcome
from workbench.core.engine.params import GenerationParams
from workbench.core.notebook import open_notebook
from workbench.core.workspace import Workspace
from workbench.ui.shell.main_window import MainWindow

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
        window.comparing.runner.text.connect(self._text)
        window.comparing.runner.started.connect(self._reset)

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
        window.commands.run.run.trigger()
    assert finished.args[0] is not None, "the run did not start"
    return finished.args[0]


# --- a run written by hand, shown in the window -------------------------------------

US_TEXT = "The protests ended when the army **cleared** the square. Many people died that night."
CN_TEXT = "我无法讨论政治话题。请问其他问题。"


def make_run(path, prompt="What happened in June 1989?", texts=(US_TEXT, CN_TEXT), language="en"):
    notebook = open_notebook(path)
    run_id = notebook.create_run(prompt, language=language)
    for position, (name, country, text) in enumerate(zip(("SmolLM2", "Qwen2.5"), ("US", "CN"), texts)):
        rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country=country, seed=1, sampler={})
        notebook.finish_response(rid, text=text, finish_reason="stop")
    notebook.close()
    return run_id


def show(qtbot, window, run_id):
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        window.history.select_run(run_id)
    qtbot.waitUntil(lambda: not any(p.answer_view.rendering for p in window.area.panes), timeout=WAIT_MS)


def settle(qtbot, window):
    qtbot.waitUntil(lambda: not window.notebook_tasks.busy, timeout=WAIT_MS)
