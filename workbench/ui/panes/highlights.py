"""Where a highlight is on screen, and where a selection is in the stored text.

A highlight is stored as code point offsets into the answer's stored text
(Markdown source). The answer view shows that text rendered: `**` and `#`
are gone, list bullets are drawn, so screen positions are not offsets. Both
directions therefore go through the quoted words themselves:

- selection -> stored: `offsets.locate_quote` finds the selected words in the
  stored text, nearest the selection's proportional position;
- stored -> screen: `find_rendered` finds the span's visible characters in
  the document's plain text, allowing markup and whitespace between them
  (a quote that spans a bold word or a line break), nearest the span's
  proportional position. The result is in UTF-16 units, as Qt counts.

The reasoning view is plain text, so there offsets convert directly
(`offsets.to_utf16` / `from_utf16`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from ...core.notebook.offsets import MARKUP, locate_quote, to_utf16

PARAGRAPH = "\u2029"  # what QTextCursor.selectedText() puts between paragraphs
SPAN_ID_PROPERTY = QTextFormat.Property.UserProperty.value + 1


def selection_to_stored(stored: str, selected: str, screen_start: int, screen_length: int) -> tuple[int, int] | None:
    """The (start, end) code points in `stored` of text selected on a rendered view."""
    selected = selected.replace(PARAGRAPH, "\n").replace("\u2028", "\n")
    near = round(screen_start / max(screen_length, 1) * len(stored))
    return locate_quote(stored, selected, near)


def find_rendered(shown: str, quote: str, stored_start: int, stored_length: int) -> tuple[int, int] | None:
    """The (start, end) UTF-16 positions in the view's plain text `shown` that display `quote`."""
    # The same markup characters locate_quote skips, so the two directions agree.
    visible = [c for c in quote if re.fullmatch(MARKUP, c) is None]
    if not visible:
        return None
    pattern = MARKUP.join(re.escape(c) for c in visible)
    found = [(m.start(), m.end()) for m in re.finditer(pattern, shown)]
    if not found:
        return None
    near = round(stored_start / max(stored_length, 1) * len(shown))
    start, end = min(found, key=lambda span: abs(span[0] - near))
    return to_utf16(shown, start), to_utf16(shown, end)


@dataclass(frozen=True)
class Mark:
    """A highlight as a view draws it."""

    span_id: int
    start: int  # code points in the stored text
    end: int
    quote: str
    colour: str  # "#rrggbb" of its first label, or the default highlight colour
    intact: bool  # the stored text still reads `quote` there
    tooltip: str


def apply_marks(view: QTextEdit | QPlainTextEdit, marks: list[Mark], stored: str, *, rendered: bool) -> list[int]:
    """Draw `marks` as background colours on `view`; returns the span ids that could not be placed.

    A highlight whose text changed (`intact` false) is drawn striped in grey,
    on the quote if it can still be found, so it is visibly not trusted.
    """
    document = view.document()
    shown = document.toPlainText()
    selections, missing = [], []
    for mark in marks:
        if rendered:
            where = find_rendered(shown, mark.quote, mark.start, len(stored))
        elif mark.intact:
            where = (to_utf16(stored, mark.start), to_utf16(stored, mark.end))
        else:
            found = locate_quote(stored, mark.quote, mark.start)
            where = (to_utf16(stored, found[0]), to_utf16(stored, found[1])) if found else None
        if where is None:
            missing.append(mark.span_id)
            continue
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(document)
        cursor.setPosition(where[0])
        cursor.setPosition(where[1], QTextCursor.MoveMode.KeepAnchor)
        selection.cursor = cursor
        fmt = QTextCharFormat()
        if mark.intact:
            colour = QColor(mark.colour)
            colour.setAlpha(90)
            fmt.setBackground(colour)
        else:
            fmt.setBackground(QBrush(QColor("#9e9e9e"), Qt.BrushStyle.BDiagPattern))
        fmt.setToolTip(mark.tooltip)
        fmt.setProperty(SPAN_ID_PROPERTY, mark.span_id)
        selection.format = fmt
        selections.append(selection)
    view.setExtraSelections(selections)
    return missing


def marked_texts(view: QTextEdit | QPlainTextEdit) -> list[str]:
    """The characters each drawn highlight covers, as the view shows them (tests, the span list)."""
    return [s.cursor.selectedText().replace(PARAGRAPH, "\n") for s in view.extraSelections()]


def span_at(view: QTextEdit | QPlainTextEdit, position: int) -> int | None:
    """The highlight drawn over document `position` (a right-click), if any."""
    for selection in view.extraSelections():
        if selection.cursor.selectionStart() <= position < selection.cursor.selectionEnd():
            value = selection.format.property(SPAN_ID_PROPERTY)
            return int(value) if value is not None else None
    return None
