"""`workbench` as the hostile suite runs it: a separate process, as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict[str, str]:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_NO_STARTER="1", WORKBENCH_ANNOTATOR="killer")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        environment.pop(var, None)
    return environment


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *args], env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


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
    return subprocess.run([sys.executable, "-m", "workbench", *args], env=env(), capture_output=True, text=True, timeout=timeout)
