"""The bridge between a blocking `Comparison.run` and the window.

`Comparison.run` blocks until every model has answered and reports progress
from worker threads. The runner calls it on a thread of its own and turns
each report into a Qt signal; the runner lives on the GUI thread, so every
signal reaches the widgets queued, in order, on the GUI thread. Positions in
the comparison are mapped to pane indexes here, so rerunning one pane (a
comparison with one contender) streams into the right pane.

Streamed text is not one signal per token: a model process sends what it
made every 200 ms (worker.SEND_INTERVAL_S), the model's thread adds each such
batch to a `_TextBuffer` in one go and wakes the GUI thread once, and the GUI
thread takes everything waiting. On a two-core laptop the models use every
core, so each wake-up of the GUI thread is time taken from them
(docs/benchmarks.md). Hand-overs are at least `HANDOVER_GAP_MS` apart, which
only matters when several models stream at once; text that arrives later than
that after the last one, such as an answer's first piece, goes at once.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ...core.comparison import ComparisonListener, Contender, ResponseOutcome, RunOutcome
from ...core.engine.cancel import Cancel
from ...core.engine.worker import SEND_INTERVAL_S
from ...core.errors import EnvironmentProblem
from ...core.workspace import Workspace


# Half a model's send interval: were it as long, a batch arriving a few
# milliseconds early would wait for a timer, a second wake-up, and the next batch
# would fall into the same pattern (measured with both at 100 ms: 24 of 40
# batches while SmolLM2 streamed).
HANDOVER_GAP_MS = round(SEND_INTERVAL_S * 1000 / 2)


@dataclass(frozen=True)
class RunRequest:
    """What to ask, whom, and which pane shows each answer."""

    prompt: str
    system_prompt: str
    schedule: str
    contenders: tuple[Contender, ...]
    panes: tuple[int, ...]  # panes[i] shows contenders[i]
    pane_rerun: bool = False  # one pane asked again; the other panes keep what they show
    follow_up_of: int | None = None  # a run's id: `prompt` is its next turn, each model continuing its own conversation


class _TextBuffer:
    """Streamed pieces waiting for the GUI thread, joined per (pane, kind) in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[tuple[int, str], list[str]] = {}

    def add(self, pane: int, parts: list[tuple[str, str]]) -> bool:
        """True when the buffer was empty, i.e. the GUI thread has to be told."""
        with self._lock:
            was_empty = not self._parts
            for kind, text in parts:
                self._parts.setdefault((pane, kind), []).append(text)
        return was_empty

    def take(self) -> list[tuple[int, str, str, int]]:
        """(pane, kind, text, how many pieces it joins)."""
        with self._lock:
            parts, self._parts = self._parts, {}
        return [(pane, kind, "".join(texts), len(texts)) for (pane, kind), texts in parts.items()]


class PaneListener(ComparisonListener):
    """Receives `Comparison.run`'s reports on its threads and emits the runner's signals,
    position by position into the panes that show them. Public so that a test or a
    benchmark can stream text into a window as a model would, without a model."""

    def __init__(self, runner: ComparisonRunner, panes: tuple[int, ...]) -> None:
        self._runner = runner
        self._panes = panes

    def run_created(self, run_id: int, response_ids: list[int]) -> None:
        self._runner.runCreated.emit(run_id, list(response_ids))

    def turn_created(self, run_id: int, turn: int, response_ids: list[int]) -> None:
        self._runner.turnCreated.emit(run_id, turn, list(response_ids))

    def model_status(self, position: int, status: str) -> None:
        self._runner.status.emit(self._panes[position], status)

    def text(self, position: int, parts: list[tuple[str, str]]) -> None:
        if self._runner._buffer.add(self._panes[position], parts):
            self._runner._textWaiting.emit()

    def response_finished(self, outcome: ResponseOutcome) -> None:
        self._runner._responseFinished.emit(self._panes[outcome.position], outcome)

    def problem(self, problem: EnvironmentProblem) -> None:
        self._runner.problem.emit(str(problem))


class ComparisonRunner(QObject):
    """Runs one comparison at a time. `stop()` asks every model to stop; partial text is kept."""

    started = Signal(object)  # RunRequest
    runCreated = Signal(int, list)  # run id, response ids
    turnCreated = Signal(int, int, list)  # a follow-up: run id, its turn, response ids
    status = Signal(int, str)  # pane, "loading…"
    text = Signal(int, str, str, int)  # pane, "answer" | "reasoning", text, the streamed pieces it joins
    responseFinished = Signal(int, object)  # pane, ResponseOutcome
    problem = Signal(str)  # an EnvironmentProblem while streaming (the run goes on)
    failed = Signal(str)  # an EnvironmentProblem that stopped the run before it began
    finished = Signal(object)  # RunOutcome, or None when the run failed
    _bug = Signal(object)
    _textWaiting = Signal()
    _responseFinished = Signal(int, object)
    _finished = Signal(object)

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._thread: threading.Thread | None = None
        self._cancel = Cancel()
        self._buffer = _TextBuffer()
        self._delivered_at = 0.0  # perf_counter() of the last hand-over
        self._handover_timer = QTimer(self)
        self._handover_timer.setSingleShot(True)
        self._handover_timer.timeout.connect(self._deliver_text)
        self._bug.connect(self._raise_bug)
        self._textWaiting.connect(self._text_waiting)
        # Text still waiting is delivered before the answer (or the run) is declared finished.
        self._responseFinished.connect(self._response_finished)
        self._finished.connect(self._run_finished)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def text_held(self) -> bool:
        """Streamed text waits for the hand-over gap: it came close behind the last hand-over."""
        return self._handover_timer.isActive()

    def start(self, request: RunRequest) -> None:
        if self.running:
            raise RuntimeError("a comparison is already running")
        self._cancel = Cancel()
        self._thread = threading.Thread(target=self._run, args=(request, self._cancel), name="comparison", daemon=True)
        self.started.emit(request)
        self._thread.start()

    def stop(self) -> None:
        self._cancel.set()

    def shutdown(self, timeout_s: float) -> bool:
        """Stop and wait for the thread (only when the window closes); False if it is still busy."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running

    def _run(self, request: RunRequest, cancel: Cancel) -> None:
        outcome: RunOutcome | None = None
        listener = PaneListener(self, request.panes)
        comparison = self._workspace.comparison
        try:
            if request.follow_up_of is None:
                outcome = comparison.run(
                    request.prompt,
                    list(request.contenders),
                    system_prompt=request.system_prompt,
                    schedule=request.schedule,
                    listener=listener,
                    cancel=cancel,
                )
            else:
                outcome = comparison.follow_up(
                    request.follow_up_of, request.prompt, list(request.contenders), schedule=request.schedule, listener=listener, cancel=cancel
                )
        except EnvironmentProblem as problem:
            self.failed.emit(str(problem))
        except ValueError as refused:
            if request.follow_up_of is None:
                self._bug.emit(refused)
            else:  # a follow-up whose models are not the run's (the core checks them)
                self.failed.emit(str(refused))
        except BaseException as bug:  # noqa: BLE001 - re-raised on the GUI thread
            self._bug.emit(bug)
        finally:
            self._finished.emit(outcome)

    @Slot()
    def _text_waiting(self) -> None:
        if self._handover_timer.isActive():
            return
        wait_ms = HANDOVER_GAP_MS - (time.perf_counter() - self._delivered_at) * 1000
        if wait_ms <= 0:
            self._deliver_text()
        else:
            self._handover_timer.start(math.ceil(wait_ms))

    @Slot()
    def _deliver_text(self) -> None:
        self._handover_timer.stop()
        self._delivered_at = time.perf_counter()
        for pane, kind, text, pieces in self._buffer.take():
            self.text.emit(pane, kind, text, pieces)

    @Slot(int, object)
    def _response_finished(self, pane: int, outcome: ResponseOutcome) -> None:
        self._deliver_text()
        self.responseFinished.emit(pane, outcome)

    @Slot(object)
    def _run_finished(self, outcome: RunOutcome | None) -> None:
        self._deliver_text()
        self.finished.emit(outcome)

    @Slot(object)
    def _raise_bug(self, bug: BaseException) -> None:
        raise bug
