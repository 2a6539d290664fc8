"""Row ids as people type them: the one bound on an id, and reading one from text.

SQLite's INTEGER is 64-bit signed; a larger id can't name a row (and makes
the sqlite3 module raise OverflowError), and no row has an id below 1.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def typed_id(text: str) -> int | None:
    """The id `text` names, or None when it names none: only ASCII digits count
    (str.isdigit also accepts "²" and other scripts' digits, which int() refuses
    or reads as another number), and only values from 1 to MAX_ID."""
    text = text.strip()
    if not (text.isascii() and text.isdecimal()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
