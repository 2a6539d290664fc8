"""`workbench` as the hostile suite runs it: a separate process, as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable

import cli_process

ANNOTATOR = "killer"  # who the notes written by these commands are from


def env() -> dict[str, str]:
    return cli_process.env(WORKBENCH_ANNOTATOR=ANNOTATOR)


def start(*args: str) -> subprocess.Popen:
    return cli_process.start(*args, WORKBENCH_ANNOTATOR=ANNOTATOR)


def kill_when(process: subprocess.Popen, ready: Callable[[], bool] = lambda: True, delay: float = 0.0, timeout: float = 120) -> tuple[int, str, str]:
    """Kill the command's whole session `delay` seconds after `ready()` first holds
    (if it is still running then); its exit status and what it printed. Moments are
    events the test sees, not times, so a slow machine moves them all alike."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and not ready():
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.01)
    deadline = time.monotonic() + delay
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # also a model process it left behind, if any
    except ProcessLookupError:
        pass
    out, err = process.communicate()
    return process.returncode, out, err


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return cli_process.workbench(*args, env_extra={"WORKBENCH_ANNOTATOR": ANNOTATOR}, timeout=timeout)
