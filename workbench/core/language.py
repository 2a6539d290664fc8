"""Which language a text is in, as far as the comparison needs: English or Chinese.

Deliberately small: it decides between the two languages the prompt sets
pair, and says None rather than guess for anything else.
"""

from __future__ import annotations

import re

_HAN_RANGES = r"\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002ebef\uf900-\ufaff"
_HAN = re.compile(f"[{_HAN_RANGES}]")
_LATIN = re.compile(r"[A-Za-z]")
_HAN_OR_ASCII = re.compile(f"[{_HAN_RANGES}\\x00-\\x7f]+")


def detect_language(text: str) -> str | None:
    """"zh" when Han characters carry the text, "en" when Latin letters do, else None.

    Counted with regular expressions, not a loop over characters: every
    saved answer passes through here, and answers run to many thousands of
    characters."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    other = sum(map(str.isalpha, _HAN_OR_ASCII.sub("", text)))
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
