"""Labels that always show their text as text, word-wrapped unless asked otherwise.

A QLabel guesses from its text whether it is rich text, so a model's name or a
note containing "<b>" would be drawn as markup. Every label that shows
something the app did not write itself is made here, in plain text format.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def text_label(text: str = "", *, role: str | None = None, name: str | None = None, wrap: bool = True) -> QLabel:
    """`role` is a style property of the theme ("muted", "heading"); `name` its object name."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if role is not None:
        label.setProperty(role, True)
    if name is not None:
        label.setObjectName(name)
    return label
