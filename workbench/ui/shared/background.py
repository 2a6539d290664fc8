"""Long work on a thread of its own, one piece at a time: the life cycle that a
batch, a judge and a recomputation of flags share.

The work is a blocking core call that takes a `Cancel`; it reports through
signals of the subclass, queued to the GUI thread. What the three have in
common lives here, once: `running` is True from `_launch` until `finished`
reaches the GUI thread (so a slot connected to `finished` already sees it
False); `stop` sets the work's Cancel; `shutdown`, when the app closes, stops
and waits. An `EnvironmentProblem` becomes `failed` with its message for the
user; anything else is a bug, re-raised on the GUI thread. `finished` always
follows, with the work's result or None.

(`runner.py` keeps its own thread: a comparison's end must first hand over
the text still waiting for the screen.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ...core.engine.cancel import Cancel
from ...core.errors import EnvironmentProblem


class BackgroundWork(QObject):
    """Runs one piece of work at a time; subclasses add `start` and their signals."""

    failed = Signal(str)  # an EnvironmentProblem that stopped the work
    finished = Signal(object)  # the work's result, or None when it failed
    _bug = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = Cancel()
        self._active = False
        self._bug.connect(self._raise_bug)
        self.finished.connect(self._ended)  # connected first: `running` is False for every later slot

    @property
    def running(self) -> bool:
        """From `_launch` until `finished` reaches the GUI thread."""
        return self._active

    def stop(self) -> None:
        """Ask the work to stop; what it has saved stays saved."""
        self._cancel.set()

    def shutdown(self, timeout_s: float) -> bool:
        """Stop and wait for the thread (only when the app closes); False if it is still busy."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True

    def _launch(self, name: str, work: Callable[[Cancel], object]) -> None:
        """Run `work(cancel)` on a new thread called `name`."""
        if self.running:
            raise RuntimeError(f"a {name} is already running")
        self._cancel = Cancel()
        self._active = True
        self._thread = threading.Thread(target=self._run, args=(work, self._cancel), name=name, daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Cancel], object], cancel: Cancel) -> None:
        result: object = None
        try:
            result = work(cancel)
        except EnvironmentProblem as problem:
            self.failed.emit(str(problem))
        except BaseException as bug:  # noqa: BLE001 - re-raised on the GUI thread
            self._bug.emit(bug)
        finally:
            self.finished.emit(result)

    @Slot(object)
    def _ended(self, _result: object) -> None:
        self._active = False

    @Slot(object)
    def _raise_bug(self, bug: BaseException) -> None:
        raise bug
