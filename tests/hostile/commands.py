"""`workbench` as the hostile suite runs it: a separate process, as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def kill_after(process: subprocess.Popen, seconds: float) -> tuple[int, str, str]:
    """Kill the command's whole session `seconds` after it started (if it is still
    running); its exit status and what it printed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # a model process it left behind, if any
        except ProcessLookupError:
            pass
    out, err = process.communicate()
    return process.returncode, out, err


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], env=env(), capture_output=True, text=True, timeout=timeout)
