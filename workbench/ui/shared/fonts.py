"""Type size for projectors, and whether Chinese can be drawn at all.

Without a CJK font, Qt draws Chinese as empty boxes and the comparison is
meaningless; on a fresh Linux install that is the normal case, so the window
brings its own (core/cjk_font.py) and says how to fix it only if even that
one is missing. Font size is app-wide so a teacher can
make everything readable from the back of a room with Ctrl+=.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QWidget

from ...core.cjk_font import bundled_cjk_font

MIN_POINTS = 8.0
MAX_POINTS = 36.0
STEP_POINTS = 1.0
READABLE_POINTS = 11.0  # the default floor: many desktops default to 9 pt

CJK_NOTICE = (
    "No installed font can show Chinese, so Chinese answers would appear as empty boxes. "
    "Install a CJK font and restart the workbench. Debian/Ubuntu: sudo apt install fonts-noto-cjk · "
    "Fedora: sudo dnf install google-noto-sans-cjk-fonts · Arch: sudo pacman -S noto-fonts-cjk"
)


def has_cjk_font() -> bool:
    """True when some installed family supports Simplified Chinese."""
    return bool(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def ensure_cjk_font() -> bool:
    """Register the bundled CJK font when no installed one covers Chinese; True
    when Chinese can be drawn. Needs a QGuiApplication; cheap after the first call."""
    if has_cjk_font():
        return True
    path = bundled_cjk_font()
    if path is not None:
        QFontDatabase.addApplicationFont(str(path))
    return has_cjk_font()


def default_points(system_font: QFont) -> float:
    return max(system_font.pointSizeF(), READABLE_POINTS)


def clamp_points(points: float) -> float:
    return min(MAX_POINTS, max(MIN_POINTS, points))


def with_points(font: QFont, points: float) -> QFont:
    sized = QFont(font)
    sized.setPointSizeF(clamp_points(points))
    return sized


class _FontFollower(QObject):
    def __init__(self, widget: QWidget, fit: Callable[[], None]) -> None:
        super().__init__(widget)
        self._fit = fit
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.FontChange:
            self._fit()
        return False


def follow_font(widget: QWidget, fit: Callable[[], None]) -> None:
    """Call `fit` now and whenever `widget`'s type size changes (Ctrl+=, presenting): sizes
    given in lines of text (a prompt box's height) are set again at the new size."""
    _FontFollower(widget, fit)
    fit()
