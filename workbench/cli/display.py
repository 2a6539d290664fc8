"""Whether the window can open here, decided before Qt is asked.

Qt does not fail gently on Linux: when its X11 platform plugin can't load (a
system library missing, which a plain Debian or Ubuntu desktop often lacks) or
the X server named by DISPLAY can't be reached, it aborts the whole process
with SIGABRT after a message about plugins. The command line checks first, so
the user reads one line saying what to install and still gets the comparison
in the terminal, as on a machine without a display.

Qt-free on purpose: nothing here may start Qt, or the check would abort too.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

# The system libraries Qt's X11 plugin (libqxcb, libQt6XcbQpa) and its Qt
# libraries link, with the Debian/Ubuntu package of each: read from the
# plugin's ELF NEEDED entries of the PySide6 the workbench depends on (see
# also https://doc.qt.io/qt-6/linux-requirements.html). Libraries every Linux
# has (libc, libstdc++, zlib) are left out.
XCB_LIBRARIES: Mapping[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


@dataclass(frozen=True)
class Display:
    """Where the window would open, or why it can't: `problem` is None when it can."""

    problem: str | None

    @property
    def usable(self) -> bool:
        return self.problem is None


def qt_platform() -> str | None:
    """The platform plugin Qt will pick from this environment, or None without a display.

    Qt takes QT_QPA_PLATFORM when set; on a Wayland session it uses Wayland;
    otherwise X11 when DISPLAY names a server."""
    chosen = os.environ.get("QT_QPA_PLATFORM")
    if chosen:
        return chosen.split(";")[0].split(":")[0]
    if os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    if os.environ.get("DISPLAY"):
        return "xcb"
    if os.environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return None


def missing_packages(libraries: Mapping[str, str] = XCB_LIBRARIES) -> list[str]:
    """The packages of the `libraries` (soname → package) this system can't load."""
    missing = []
    for soname, package in libraries.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(package)
    return missing


def x_server_problem(name: str) -> str | None:
    """Why the X server `name` can't be reached, or None when it answers.

    Asked through libxcb, as Qt will ask it (Qt aborts when this fails)."""
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(name.encode(), None)
    try:
        failed = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)  # also frees a connection in error
    return f"the X display {name!r} (DISPLAY) does not answer" if failed else None


def find_display() -> Display:
    """Whether the window can open here; if not, one line saying why and what to do."""
    if sys.platform in ("win32", "darwin"):
        return Display(None)
    platform = qt_platform()
    if platform is None:
        return Display("No display found, so the window can't open.")
    if platform != "xcb":
        return Display(None)  # offscreen, Wayland, …: Qt's own plugins, nothing to check first
    missing = missing_packages()
    if missing:
        return Display(
            "The window can't open: it needs system libraries this machine lacks. "
            f"Install them with `sudo apt install {' '.join(missing)}`."
        )
    problem = x_server_problem(os.environ.get("DISPLAY", ""))
    if problem is not None:
        return Display(f"The window can't open: {problem}.")
    return Display(None)
