"""Light and dark themes, following the system unless the user picks one.

The window uses the Fusion style with its own two palettes, so both themes
look the same on every platform and keep readable contrast on a projector.
Answers are HTML documents; their colours for code, quotes and links come
from the active palette through `answer_css`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

SYSTEM = "system"
LIGHT = "light"
DARK = "dark"
CONTRAST = "contrast"  # presentation mode's own scheme, not a menu choice
CHOICES = ((SYSTEM, "Follow the system"), (LIGHT, "Light"), (DARK, "Dark"))

_LIGHT = {
    "window": "#f2f3f5",
    "base": "#ffffff",
    "alternate": "#eef0f3",
    "text": "#16181d",
    "muted": "#5b616e",
    "button": "#e6e8ec",
    "highlight": "#2f5fbf",
    "highlighted_text": "#ffffff",
    "link": "#0b57d0",
    "border": "#c9cdd4",
    "error_bg": "#fdecec",
    "error_text": "#8a1414",
}
_DARK = {
    "window": "#1f2125",
    "base": "#16181b",
    "alternate": "#262a30",
    "text": "#e8eaed",
    "muted": "#a3a9b4",
    "button": "#2d3137",
    "highlight": "#4f7fe0",
    "highlighted_text": "#ffffff",
    "link": "#8ab4ff",
    "border": "#41464f",
    "error_bg": "#4a1f22",
    "error_text": "#ffd7d7",
}
# For a projector in a lit room: black on white washes out least; borders and
# the highlight are strong enough to survive a dim lamp.
_CONTRAST = {
    "window": "#ffffff",
    "base": "#ffffff",
    "alternate": "#ececec",
    "text": "#000000",
    "muted": "#2b2b2b",
    "button": "#e4e4e4",
    "highlight": "#0038a8",
    "highlighted_text": "#ffffff",
    "link": "#002d8f",
    "border": "#000000",
    "error_bg": "#ffe3e3",
    "error_text": "#700000",
}


def effective(choice: str) -> str:
    """LIGHT, DARK or CONTRAST for a choice; SYSTEM asks the platform."""
    if choice in (LIGHT, DARK, CONTRAST):
        return choice
    return DARK if QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark else LIGHT


def colors(scheme: str) -> dict[str, str]:
    return dict({DARK: _DARK, CONTRAST: _CONTRAST}.get(scheme, _LIGHT))


def palette(scheme: str) -> QPalette:
    c = {name: QColor(value) for name, value in colors(scheme).items()}
    p = QPalette()
    role = QPalette.ColorRole
    for r, name in (
        (role.Window, "window"),
        (role.WindowText, "text"),
        (role.Base, "base"),
        (role.AlternateBase, "alternate"),
        (role.Text, "text"),
        (role.Button, "button"),
        (role.ButtonText, "text"),
        (role.Highlight, "highlight"),
        (role.HighlightedText, "highlighted_text"),
        (role.Link, "link"),
        (role.LinkVisited, "link"),
        (role.ToolTipBase, "base"),
        (role.ToolTipText, "text"),
        (role.PlaceholderText, "muted"),
        (role.BrightText, "error_text"),
        (role.Mid, "border"),
    ):
        p.setColor(r, c[name])
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, c["muted"])
    return p


def apply(app: QApplication, choice: str) -> str:
    """Style the whole app for `choice`; returns the scheme now in use."""
    scheme = effective(choice)
    app.setStyle("Fusion")
    app.setPalette(palette(scheme))
    return scheme


def answer_css(scheme: str) -> str:
    """Default style sheet for answer documents (Qt's rich-text subset)."""
    c = colors(scheme)
    return (
        f"a {{ color: {c['link']}; }}"
        f"pre {{ background-color: {c['alternate']}; }}"
        f"code {{ background-color: {c['alternate']}; font-family: monospace; }}"
        f"blockquote {{ color: {c['muted']}; }}"
        f"th {{ background-color: {c['alternate']}; }}"
    )


def widget_css(scheme: str, points: float) -> str:
    """Style sheet for the window: the type size, pane cards, headings, error boxes, notices.

    The type size lives here rather than only in the application font because
    widgets under a style sheet stop following later application font changes.
    """
    c = colors(scheme)
    border = 2 if scheme == CONTRAST else 1
    return (
        f"QWidget {{ font-size: {points:g}pt; }}"
        f"QLabel#emptyTitle {{ font-size: {points * 1.6:.1f}pt; font-weight: bold; }}"
        "QLabel#originLabel, QLabel[heading=\"true\"] { font-weight: bold; }"
        f"QFrame#paneCard {{ border: {border}px solid {c['border']}; border-radius: 6px; background-color: {c['window']}; }}"
        f"QLabel#blindName {{ font-size: {points * 1.4:.1f}pt; font-weight: bold; }}"
        f"QLabel#originBadge {{ background-color: {c['highlight']}; color: {c['highlighted_text']}; "
        "border-radius: 6px; padding: 2px 10px; font-weight: bold; }"
        "QPushButton#voteButton { font-weight: bold; padding: 4px 14px; }"
        f"QLabel#presentKeys {{ font-size: {points * 0.8:.1f}pt; }}"
        f"QProgressBar#voteBar {{ border: {border}px solid {c['border']}; border-radius: 4px; }}"
        f"QProgressBar#voteBar::chunk {{ background-color: {c['highlight']}; }}"
        f"QLabel#paneError {{ background-color: {c['error_bg']}; color: {c['error_text']}; "
        f"border-radius: 4px; padding: 6px; }}"
        f"QLabel#turnPrompt {{ background-color: {c['alternate']}; border-radius: 4px; padding: 4px 6px; }}"
        f"QLabel[muted=\"true\"] {{ color: {c['muted']}; }}"
        f"QFrame#notice {{ background-color: {c['alternate']}; border: 1px solid {c['border']}; border-radius: 4px; }}"
        f"QFrame#notice[kind=\"problem\"] {{ background-color: {c['error_bg']}; }}"
        f"QFrame#notice[kind=\"problem\"] QLabel {{ color: {c['error_text']}; }}"
        # Flat scroll bars without arrows. Fusion draws its arrows by smooth-scaling an image,
        # which Qt spreads over a thread pool: about 25 thread wake-ups every time an answer's
        # scroll bar repaints while it streams, each taking a core from the model (issue 3).
        f"QScrollBar:vertical {{ width: 12px; margin: 0; background: {c['alternate']}; }}"
        f"QScrollBar:horizontal {{ height: 12px; margin: 0; background: {c['alternate']}; }}"
        f"QScrollBar::handle {{ background: {c['muted']}; border-radius: 4px; margin: 2px; }}"
        f"QScrollBar::handle:hover, QScrollBar::handle:pressed {{ background: {c['highlight']}; }}"
        "QScrollBar::handle:vertical { min-height: 28px; }"
        "QScrollBar::handle:horizontal { min-width: 28px; }"
        "QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; }"
        "QScrollBar::add-page, QScrollBar::sub-page { background: none; }"
    )
