"""A call that must not block on a FIFO: run it in a thread and open the FIFO's other end
if it does, so a regression fails the test instead of hanging the suite."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def unblocked(call: Callable[[], T], fifo: Path, seconds: float = 10) -> T:
    """`call()`'s result (or exception), failing instead of hanging if it blocks on `fifo`."""
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(_outcome(call)), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        # Open the other end, so the blocked call returns and the thread ends.
        end = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        thread.join(seconds)
        os.close(end)
        pytest.fail(f"blocked on the FIFO {fifo} for {seconds:.0f} s")
    [(result, error)] = outcome
    if error is not None:
        raise error
    return result


def _outcome(call: Callable[[], T]) -> tuple[T | None, BaseException | None]:
    try:
        return call(), None
    except BaseException as error:  # noqa: BLE001 - handed to the test's thread
        return None, error
