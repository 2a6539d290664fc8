"""Long commands that Ctrl+C stops cleanly.

The work runs in a thread so that Ctrl+C reaches the main thread at once and
becomes a cancel: the work winds down through its cancel event, keeping what
it finished (partial answers, finished prompts), instead of a
KeyboardInterrupt tearing through it half-way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from ..core.engine.cancel import Cancel

T = TypeVar("T")


def run_cancellable(work: Callable[[Cancel], T], on_interrupt: Callable[[], None]) -> tuple[T, bool]:
    """Run `work(cancel)` to the end; return its result and whether Ctrl+C was pressed.

    `on_interrupt` runs (on the main thread) at the first Ctrl+C, to tell the user.
    An exception from `work` is raised here.
    """
    cancel = Cancel()
    done = threading.Event()
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(work(cancel))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=target, name="cancellable-work")
    thread.start()
    interrupted = False
    # Wait on an event, not on join(): a KeyboardInterrupt inside Thread.join()
    # can leave CPython 3.11 believing the thread has ended while it still runs.
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            if not interrupted:
                interrupted = True
                cancel.set()
                on_interrupt()
    thread.join()
    if errors:
        raise errors[0]
    return results[0], interrupted
