"""Which process writes a response, and whether that process still lives.

Two workbenches may write one notebook at once (a `compare` in a terminal
while the window is open). An answer still `streaming` may therefore belong
to another live process, or to one that was killed; only the second may be
marked interrupted. Each response records its writer: the process id, the
process's start (so a process id reused after a reboot or by a later program
is not taken for the writer) and the host (a notebook on a shared folder may
be written from another computer, whose processes this one can't see).

The start is read from /proc on Linux (boot id and start time in clock
ticks: exact, no clock drift) and from GetProcessTimes on Windows. Where
neither is available (macOS) it is None and only the process id is checked.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Writer:
    pid: int
    started: str | None
    host: str


@lru_cache(maxsize=1)
def this_process() -> Writer:
    return Writer(os.getpid(), process_start(os.getpid()), socket.gethostname())


def is_gone(pid: int | None, started: str | None, host: str | None) -> bool:
    """True when the writer of a response certainly no longer runs: it ran on this
    host and its process is gone (or a zombie), or the id now belongs to a process
    started at another time. A response with no writer recorded (written before
    m006, or imported) has none that could finish it. Another host's writer is
    never gone: this computer can't tell."""
    if pid is None:
        return True
    if host != this_process().host:
        return False
    if not _alive(pid):
        return True
    now = process_start(pid)
    return started is not None and now is not None and now != started


def process_start(pid: int) -> str | None:
    """When process `pid` started, as an opaque string compared for equality; None
    when it does not exist or this platform can't say."""
    if sys.platform == "win32":
        return _windows_process(pid)[1]
    fields = _proc_stat(pid)
    if fields is None:
        return None
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return f"{boot}:{fields[19]}"  # field 22 of proc(5), the start time in clock ticks since boot


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after its last ")".
    return stat.rsplit(")", 1)[1].split()


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return _windows_process(pid)[0]
    if Path("/proc/self/stat").exists():
        fields = _proc_stat(pid)
        return fields is not None and fields[0] not in ("Z", "X")  # a killed process its parent has not reaped is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _windows_process(pid: int) -> tuple[bool, str | None]:
    """(running, creation time) of a process on Windows, where os.kill would end it."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    query_limited_information, still_active, access_denied = 0x1000, 259, 5
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return ctypes.get_last_error() == access_denied, None  # type: ignore[attr-defined]
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value != still_active:
            return False, None
        times = [wintypes.FILETIME() for _ in range(4)]
        if not kernel32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times)):
            return True, None
        return True, f"{times[0].dwHighDateTime}:{times[0].dwLowDateTime}"
    finally:
        kernel32.CloseHandle(handle)
