"""How often a thread has been woken so far, from Linux's /proc: the tests that
check the app does not wake while a model streams count these."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

TASKS = Path("/proc/self/task")

needs_proc = pytest.mark.skipif(not TASKS.is_dir(), reason="counts a thread's wake-ups in /proc (Linux)")


def voluntary_switches(thread_id: int | str) -> int:
    """Times the thread (a native id) went to sleep and was woken."""
    status = (TASKS / str(thread_id) / "status").read_text()
    return int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])


def settled_switches(thread_id: int | str, quiet_s: float = 0.1, timeout_s: float = 30.0) -> int:
    """The thread's count once it is asleep and its count has not moved for `quiet_s`: it
    has gone back to waiting, however long that took on a busy machine. Counting from
    there, a thread that waits as it should is woken by nothing."""
    deadline = time.monotonic() + timeout_s
    count = voluntary_switches(thread_id)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = voluntary_switches(thread_id)
        if now == count and _state(thread_id) == "S":
            return count
        count = now
    raise AssertionError(f"thread {thread_id} was still waking up after {timeout_s} s")


def _state(thread_id: int | str) -> str:
    """R running, S sleeping (waiting for something), … (proc(5))."""
    status = (TASKS / str(thread_id) / "status").read_text()
    return status.split("\nState:")[1].split()[0]


def pooled_thread_switches() -> dict[str, int]:
    """The same for each of Qt's pooled helper threads, by native id. By thread, not
    summed: an idle pooled thread left by an earlier test expires after 30 s, and its
    count leaving a sum looks like a change."""
    found = {}
    for task in TASKS.iterdir():
        try:
            if "pooled" in (task / "comm").read_text():
                found[task.name] = voluntary_switches(task.name)
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended while it was read
    return found
