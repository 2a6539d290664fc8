"""A cancel request that can wake a thread blocked on something else.

The thread that reads a model's answer waits on the model's pipe. With a
plain `threading.Event` it would have to look at the event every few tens of
milliseconds, and each look wakes the app; on a small machine, where the
model's threads hold every core, a wake-up preempts one of them and slows
the answer. A `Cancel` instead calls back whoever is waiting, on the thread
that sets it, so the reader sleeps until a message or a Stop arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Cancel(threading.Event):
    """An event that also runs the `waking` callbacks registered when it is set."""

    def __init__(self) -> None:
        super().__init__()
        self._wakers: list[Callable[[], None]] = []
        self._wakers_lock = threading.Lock()

    def set(self) -> None:
        super().set()
        with self._wakers_lock:
            wakers = list(self._wakers)
        for wake in wakers:
            wake()

    @contextmanager
    def waking(self, wake: Callable[[], None]) -> Iterator[None]:
        """Within the block, `wake()` runs when the cancel is set (at once if it already
        is). It runs on the setting thread, so it must be quick, must not raise, and
        may run more than once."""
        with self._wakers_lock:
            self._wakers.append(wake)
        try:
            if self.is_set():
                wake()
            yield
        finally:
            with self._wakers_lock:
                self._wakers.remove(wake)
