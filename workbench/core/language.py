"""Which language a text is in, as far as the comparison needs: English or Chinese.

Deliberately small: it decides between the two languages the prompt sets
pair, and says None rather than guess for anything else.
"""

from __future__ import annotations

import unicodedata


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2EBEF
        or 0xF900 <= code <= 0xFAFF
    )


def detect_language(text: str) -> str | None:
    """"zh" when Han characters carry the text, "en" when Latin letters do, else None."""
    han = latin = other = 0
    for char in text:
        if _is_han(char):
            han += 1
        elif char.isascii() and char.isalpha():
            latin += 1
        elif char.isalpha() and unicodedata.category(char).startswith("L"):
            other += 1
    # A Chinese character carries about as much as a short English word.
    han_weight, latin_weight = han * 4, latin
    total = han_weight + latin_weight + other
    if total == 0:
        return None
    if han_weight / total >= 0.5:
        return "zh"
    if latin_weight / total >= 0.7:
        return "en"
    return None
