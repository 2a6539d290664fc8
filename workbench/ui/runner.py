"""The bridge between a blocking `Comparison.run` and the window.

`Comparison.run` blocks until every model has answered and reports progress
from worker threads. The runner calls it on a thread of its own and turns
each report into a Qt signal; the runner lives on the GUI thread, so every
signal reaches the widgets queued, in order, on the GUI thread. Positions in
the comparison are mapped to pane indexes here, so rerunning one pane (a
comparison with one contender) streams into the right pane.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from ..core.comparison import Contender, ResponseOutcome, RunOutcome
from ..core.errors import EnvironmentProblem
from ..core.workspace import Workspace


@dataclass(frozen=True)
class RunRequest:
    """What to ask, whom, and which pane shows each answer."""

    prompt: str
    system_prompt: str
    schedule: str
    contenders: tuple[Contender, ...]
    panes: tuple[int, ...]  # panes[i] shows contenders[i]
    pane_rerun: bool = False  # one pane asked again; the other panes keep what they show


class _Listener:
    """Receives `Comparison.run`'s reports on its threads and emits the runner's signals."""

    def __init__(self, runner: "ComparisonRunner", panes: tuple[int, ...]) -> None:
        self._runner = runner
        self._panes = panes

    def run_created(self, run_id: int, response_ids: list[int]) -> None:
        self._runner.runCreated.emit(run_id, list(response_ids))

    def model_status(self, position: int, status: str) -> None:
        self._runner.status.emit(self._panes[position], status)

    def text(self, position: int, kind: str, text: str) -> None:
        self._runner.text.emit(self._panes[position], kind, text)

    def response_finished(self, outcome: ResponseOutcome) -> None:
        self._runner.responseFinished.emit(self._panes[outcome.position], outcome)

    def problem(self, problem: EnvironmentProblem) -> None:
        self._runner.problem.emit(str(problem))


class ComparisonRunner(QObject):
    """Runs one comparison at a time. `stop()` asks every model to stop; partial text is kept."""

    started = Signal(object)  # RunRequest
    runCreated = Signal(int, list)  # run id, response ids
    status = Signal(int, str)  # pane, "loading…"
    text = Signal(int, str, str)  # pane, "answer" | "reasoning", text
    responseFinished = Signal(int, object)  # pane, ResponseOutcome
    problem = Signal(str)  # an EnvironmentProblem while streaming (the run goes on)
    failed = Signal(str)  # an EnvironmentProblem that stopped the run before it began
    finished = Signal(object)  # RunOutcome, or None when the run failed
    _bug = Signal(object)

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._bug.connect(self._raise_bug)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, request: RunRequest) -> None:
        if self.running:
            raise RuntimeError("a comparison is already running")
        self._cancel = threading.Event()
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

    def _run(self, request: RunRequest, cancel: threading.Event) -> None:
        outcome: RunOutcome | None = None
        try:
            outcome = self._workspace.comparison.run(
                request.prompt,
                list(request.contenders),
                system_prompt=request.system_prompt,
                schedule=request.schedule,
                listener=_Listener(self, request.panes),
                cancel=cancel,
            )
        except EnvironmentProblem as problem:
            self.failed.emit(str(problem))
        except BaseException as bug:  # noqa: BLE001 - re-raised on the GUI thread
            self._bug.emit(bug)
        finally:
            self.finished.emit(outcome)

    @Slot(object)
    def _raise_bug(self, bug: BaseException) -> None:
        raise bug
