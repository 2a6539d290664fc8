"""How the app looks: its type size and its colour scheme, one state for every window.

A teacher makes everything readable from the back of the room (View > Larger
text) and picks a theme; presentation mode borrows both for a while (large
type, high contrast) without making them the user's choice. This holder
applies a change to the application (its font and palette) and announces it
with `changed`; the shell restyles what has style sheets of its own (the
window's, the answers'), so no feature needs the window to change its looks.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QToolTip

from .application import the_application

from . import fonts, theme
from .preferences import Preferences

THEMES = {key for key, _label in theme.CHOICES}


class Appearance(QObject):
    """The type size and the scheme in use. `changed(colours)`: `colours` is False when only
    the type size changed (answers keep their style sheet: no need to draw them again)."""

    changed = Signal(bool)

    def __init__(self, prefs: Preferences, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._prefs = prefs
        self._points = fonts.READABLE_POINTS
        self._default_points = fonts.READABLE_POINTS
        self._scheme = theme.LIGHT
        self._borrowed = False  # a scheme in use that is not the user's theme (presenting)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)

    def restore(self) -> None:
        """The user's type size and theme, as saved (the default size follows the desktop's)."""
        self._default_points = fonts.default_points(QApplication.font())
        self.set_points(self._prefs.font_size or self._default_points)
        self.set_theme(self._prefs.theme)

    @property
    def points(self) -> float:
        return self._points

    @property
    def scheme(self) -> str:
        """LIGHT, DARK or CONTRAST: what the app is coloured with now."""
        return self._scheme

    @property
    def theme(self) -> str:
        """The user's theme choice (SYSTEM, LIGHT or DARK), whatever is borrowed meanwhile."""
        return self._prefs.theme if self._prefs.theme in THEMES else theme.SYSTEM

    def set_points(self, points: float, remember: bool = True) -> None:
        """Type size for the whole app (every window and the tooltips); presentation mode's
        sizes are not `remember`ed as the user's choice."""
        self._points = fonts.clamp_points(points)
        font = fonts.with_points(QApplication.font(), self._points)
        QApplication.setFont(font)
        QToolTip.setFont(font)
        if remember:
            self._prefs.font_size = self._points
        self.changed.emit(False)

    def bigger(self) -> None:
        self.set_points(self._points + fonts.STEP_POINTS)

    def smaller(self) -> None:
        self.set_points(self._points - fonts.STEP_POINTS)

    def reset_points(self) -> None:
        self.set_points(self._default_points)

    def set_theme(self, choice: str) -> None:
        """The user's theme (remembered); it ends a borrowed scheme."""
        self._prefs.theme = choice if choice in THEMES else theme.SYSTEM
        self._borrowed = False
        self._use(theme.effective(self._prefs.theme))

    def borrow_scheme(self, scheme: str) -> None:
        """Colour the app with `scheme` without making it the user's theme (presentation's high
        contrast) until `set_theme` puts one back; meanwhile the system's scheme is not followed."""
        self._borrowed = True
        self._use(scheme)

    def _use(self, scheme: str) -> None:
        self._scheme = theme.apply(the_application(), scheme)
        self.changed.emit(True)

    def _system_scheme_changed(self) -> None:
        if self._prefs.theme == theme.SYSTEM and not self._borrowed:
            self.set_theme(theme.SYSTEM)
