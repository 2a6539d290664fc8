"""Short background jobs whose results come back on the GUI thread.

The GUI thread never touches the disk, a model or a process; it hands a
function to a `TaskQueue` and gets a callback when the function returns.
Each queue runs its jobs one at a time, in order, so jobs that share state
(the workspace's catalog, say) never race. An `EnvironmentProblem` goes to
the caller's `on_problem`; any other exception is a bug and is raised again
on the GUI thread, where the app's exception hook (or pytest-qt) sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from ...core.errors import EnvironmentProblem

Done = Callable[[Any], None]
Problem = Callable[[EnvironmentProblem], None]


class _Relay(QObject):
    """Lives on the GUI thread; its signals, emitted from the worker, arrive queued."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, queue: TaskQueue, on_done: Done | None, on_problem: Problem | None) -> None:
        super().__init__(queue)
        self._queue = queue
        self._on_done = on_done
        self._on_problem = on_problem
        self.done.connect(self._deliver_result)
        self.failed.connect(self._deliver_failure)

    @Slot(object)
    def _deliver_result(self, result: Any) -> None:
        self._queue._finished(self)
        if self._on_done is not None:
            self._on_done(result)

    @Slot(object)
    def _deliver_failure(self, error: BaseException) -> None:
        self._queue._finished(self)
        handler = self._on_problem or self._queue.default_problem_handler
        if isinstance(error, EnvironmentProblem) and handler is not None:
            handler(error)
        else:
            raise error


class _Job(QRunnable):
    def __init__(self, function: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._function = function
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._function()
        except BaseException as error:  # noqa: BLE001 - handed to the GUI thread, which sorts it
            self._relay.failed.emit(error)
        else:
            self._relay.done.emit(result)


class TaskQueue(QObject):
    """One worker thread; jobs run in submission order."""

    def __init__(self, name: str, default_problem_handler: Problem | None = None, parent: QObject | None = None) -> None:
        """Without a problem handler, an EnvironmentProblem is raised on the GUI thread like a bug."""
        super().__init__(parent)
        self.setObjectName(name)
        self.default_problem_handler = default_problem_handler
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setObjectName(name)
        self._relays: set[_Relay] = set()
        self._closed = False

    def submit(self, function: Callable[[], Any], on_done: Done | None = None, on_problem: Problem | None = None) -> None:
        """Run `function` on the queue's thread. After `close`, nothing more is run: what
        the jobs work on (the notebook, the catalog) is being closed with the window."""
        if self._closed:
            return
        relay = _Relay(self, on_done, on_problem)
        self._relays.add(relay)
        self._pool.start(_Job(function, relay))

    @property
    def busy(self) -> bool:
        return bool(self._relays)

    def close(self, msecs: int) -> bool:
        """Take no more jobs, and block until the queued ones have run: only when the
        window closes. A signal still on its way (a run that just ended, say) may ask
        for a job after this; it would find the notebook closed under it."""
        self._closed = True
        return self._pool.waitForDone(msecs)

    def _finished(self, relay: _Relay) -> None:
        self._relays.discard(relay)
        relay.deleteLater()
