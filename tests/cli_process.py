"""`workbench` as the tests run it: in a process of its own, as a user or a script
does, or in this process (`in_process`) when only the exit status and output matter.

One place for the command and its environment: this checkout's code, no starter
models unless asked, and no display, so a CLI command can never reach for Qt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workbench.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
WORKBENCH = [sys.executable, "-m", "workbench"]


def env(starter: bool = False, **extra: str) -> dict[str, str]:
    """The environment of a `workbench` process; `extra` variables set on top."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    if not starter:
        environment["WORKBENCH_NO_STARTER"] = "1"
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        environment.pop(var, None)
    environment.update(extra)
    return environment


def workbench(*args: str, starter: bool = False, env_extra: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `workbench *args` to the end; its exit status and text output."""
    return subprocess.run([*WORKBENCH, *args], capture_output=True, text=True, env=env(starter, **(env_extra or {})), timeout=timeout)


def start(*args: str, **extra: str) -> subprocess.Popen:
    """`workbench *args` started in a session of its own (so a test can kill it and any
    model process it started), its output piped as text."""
    return subprocess.Popen(
        [*WORKBENCH, *args], env=env(**extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def in_process(*argv: str) -> int:
    """`workbench *argv` in this process: its exit status; the output goes to capsys."""
    return main(list(argv))


def one_line_refusal(done: subprocess.CompletedProcess, status: int = 1) -> str:
    """The one stderr line of a command that failed with `status` and printed nothing else."""
    assert done.returncode == status, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == ""
    return lines[0]
