"""Making untrusted text (answers, notes, prompts, imported metadata) inert in each format.

JSON Lines keeps text exactly; the reports (Markdown, HTML, PDF) and CSV are
read by people and by programs that act on what they read, so there:
- invisible controls that reorder or hide text (bidi overrides, C0/C1
  controls, tag characters) are shown as `[U+202E]`, so a quote can't
  masquerade as another nor carry a hidden message;
- Markdown gets no live syntax from model text: no links, images, raw HTML,
  emphasis, headings or list markers (`escape_markdown`);
- a CSV cell never starts like a spreadsheet formula (`csv_cell`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Bidi embeddings, overrides, isolates and marks, zero-width joiners aside
# (they are part of ordinary emoji and Indic text), the C0 and C1 controls
# other than tab and newline, and the tag characters U+E0000-E007F: invisible,
# they can spell out a whole hidden message after any text ("ASCII
# smuggling"). Their one ordinary use, a subdivision flag (U+1F3F4, a region
# and subdivision code in tag letters and digits, CANCEL TAG: Scotland's flag
# is 🏴 + "gbsct"), is matched whole so it can be kept.
_INVISIBLE = re.compile(
    "\U0001F3F4[\U000E0030-\U000E0039\U000E0061-\U000E007A]{3,6}\U000E007F"
    "|[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\U000E0000-\U000E007F]"
)


def spell_invisible(text: str, spell: Callable[[str], str]) -> str:
    """`text` with each invisible character replaced by `spell(character)`, and
    subdivision flags kept. The CLI's JSON spells them JSON's way (`\\u202e`)."""
    return _INVISIBLE.sub(lambda m: m[0] if len(m[0]) > 1 else spell(m[0]), text)


def visible_controls(text: str) -> str:
    """`text` with line endings normalised and invisible controls written out."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return spell_invisible(text, lambda char: f"[U+{ord(char):04X}]")


# Characters that start Markdown syntax anywhere in a line. `<`, `>` and `&`
# become entities (a backslash before `<` still leaves a tag-like `<` in the
# file, which some renderers honour).
_INLINE = re.compile(r"([\\`*_\[\]!|~#])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# At the start of a line: list items ("- ", "+ ", "1. "), setext underlines ("===", "---").
_LINE_START = re.compile(r"^([ \t]*)(?:([-+=])(?=[ \t]|$|[-=])|(\d+)([.)])(?=[ \t]|$))", re.MULTILINE)
# A scheme a renderer might still make live (autolink extensions).
_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data|file)(\s*):")


def escape_markdown(text: str) -> str:
    """`text` as literal Markdown: renders as the same characters, with nothing live in it."""
    text = visible_controls(text)
    text = "".join(_ENTITIES.get(ch, ch) for ch in text)
    text = _INLINE.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)), text)
    return _SCHEME.sub(r"\1\2\\:", text)


def markdown_lines(text: str) -> str:
    """Escaped text whose line breaks survive rendering (a hard break per line, blank lines as paragraphs)."""
    lines = escape_markdown(text).split("\n")
    return "\n".join(line + "\\" if line.strip() and i + 1 < len(lines) and lines[i + 1].strip() else line for i, line in enumerate(lines))


def markdown_cell(text: str) -> str:
    """Escaped text for one table cell: on one line, with line breaks shown as ↵."""
    return escape_markdown(text).replace("\n", " ↵ ")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading quote; numbers pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
