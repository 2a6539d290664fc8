"""Invisible characters in untrusted text, written out so they can be seen.

Its own module, apart from the export formats, because the terminal needs it on
every command (`cli/terminal.py` wraps stdout and stderr with it): importing it
must cost nothing, while `core.export` brings the report writers and their
dependencies along.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
