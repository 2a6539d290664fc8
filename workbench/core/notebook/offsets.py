"""Character offsets for highlights, and the conversions a Qt view needs.

A highlight's `start` and `end` are Python `str` indices into the stored
text (`responses.text` or `responses.reasoning`): Unicode code points,
half-open, so `text[start:end] == quote`. Code points are what SQLite's
`substr()` and `length()` count too, so the stored numbers mean the same
thing to any other tool.

Qt counts positions in UTF-16 code units, which differ as soon as the text
holds a character outside the Basic Multilingual Plane (an emoji, a rare
CJK Extension B character): those are one code point but two UTF-16 units.
Convert at the boundary with `from_utf16` / `to_utf16`.

A view that shows rendered Markdown has positions that are not offsets into
the stored text at all (the `**` of bold text is gone): `locate_quote` finds
the selected words in the stored text instead.
"""

from __future__ import annotations

import re

# Characters Markdown rendering removes or changes, which may sit between the
# visible characters of a selection.
MARKUP = r"[\s*_`~#>|\[\]()\\-]*"


def to_utf16(text: str, index: int) -> int:
    """The UTF-16 position (Qt's) of code point `index` in `text`."""
    return index + sum(1 for char in text[:index] if ord(char) > 0xFFFF)


def from_utf16(text: str, position: int) -> int:
    """The code point index of UTF-16 `position` in `text` (a position inside a
    surrogate pair rounds down to the character's start)."""
    units = 0
    for index, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > position:
            return index
        units += width
    return len(text)


def locate_quote(text: str, quote: str, near: int | None = None) -> tuple[int, int] | None:
    """Where `quote` (text as a view showed it) is in the stored `text`, as (start, end).

    Exact occurrences first; failing that, one that allows Markdown markup and
    whitespace between the quote's characters (a selection across **bold**).
    With several occurrences, the one starting nearest `near` (e.g. the
    selection's rough position) wins. None when the quote is not there.
    """
    quote = quote.strip()
    if not quote:
        return None
    found = [(m.start(), m.start() + len(quote)) for m in re.finditer(re.escape(quote), text)]
    if not found:
        visible = [c for c in quote if not c.isspace()]
        pattern = MARKUP.join(re.escape(c) for c in visible)
        found = [(m.start(), m.end()) for m in re.finditer(pattern, text)]
    if not found:
        return None
    return min(found, key=lambda span: abs(span[0] - near)) if near is not None else found[0]
