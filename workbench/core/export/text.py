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
from typing import Any

from ..invisible import visible_controls

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
