"""Which language a prompt asks in, and which one an answer is written in.

`detect_language` (core/language.py) weighs every letter of a text. Three things
in our prompts and answers fool it: quoted material (a prompt asking what
“画蛇添足” means is still an English prompt), code (`kill -9` in a Chinese
answer), and small models echoing the question before answering in another
language ("17乘以23等于多少？ The answer is 18."). These helpers set them aside
first, and fall back to the whole text when nothing else is left. They are
shared by the prompt-set validator and the `lang_mismatch` flag, so both agree
on what "the language of a text" means.
"""

from __future__ import annotations

import re

from ..language import detect_language
from .evidence import Evidence
from .flag_names import LANG_MISMATCH
from .sentences import han_count

# Quoted spans: Chinese and English double quotes, corner brackets, book-title
# marks. ASCII single quotes are left alone: they are apostrophes more often.
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|《[^》]*》|\"[^\"\n]*\"")
_FENCED_CODE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_PROMPT_PIECES = re.compile(r"[^。！？?!.\n]+[。！？?!.]?")
# An echo must be this long to be blanked: short pieces ("Why?") recur by chance.
ECHO_MIN_CHARS = 6
# Below this weight of letters an answer is too short to be in a wrong language.
MIN_LETTER_WEIGHT = 12

_LANGUAGE_NAMES = {
    "english": "en",
    "chinese": "zh",
    "mandarin": "zh",
    "英文": "en",
    "英语": "en",
    "中文": "zh",
    "汉语": "zh",
    "普通话": "zh",
}
# Explicit instructions about the language of the answer. "How do you say X in
# Chinese?" is deliberately not one: its answer is an English explanation.
_REQUESTED = (
    re.compile(r"\b(?:answer|reply|respond|write|explain|tell me)\b[^.?!\n]{0,30}?\bin (english|chinese|mandarin)\b", re.IGNORECASE),
    re.compile(r"\btranslat\w*\b[^.?!\n]{0,60}?\binto (english|chinese|mandarin)\b", re.IGNORECASE),
    re.compile(r"用(英文|英语|中文|汉语|普通话)(?:来)?(?:回答|回复|写|解释|说明)"),
    re.compile(r"(?:翻译|译)成(英文|英语|中文|汉语)"),
)


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def strip_code(text: str) -> str:
    """The text with fenced code blocks and `inline code` blanked out. Lengths and
    line breaks are kept, so offsets found in the result point into `text`."""
    return _INLINE_CODE.sub(_blank, _FENCED_CODE.sub(_blank, text))


def strip_quoted(text: str) -> str:
    """The text with quoted spans (the object of a question, not its language)
    blanked out, keeping offsets like strip_code."""
    return _QUOTED.sub(_blank, text)


def text_language(text: str) -> str | None:
    """"en", "zh" or None for a prompt or an answer, quotes and code set aside.

    When setting them aside leaves nothing to judge (an answer that is only a
    quoted translation), the whole text decides.
    """
    without_code = strip_code(text)
    language = detect_language(strip_quoted(without_code))
    if language is None:
        language = detect_language(without_code)
    return language


def requested_language(prompt: str) -> str | None:
    """The answer language a prompt explicitly asks for ("translate into English",
    "用中文回答"), or None when it asks for none."""
    for pattern in _REQUESTED:
        match = pattern.search(prompt)
        if match:
            return _LANGUAGE_NAMES[match.group(1).lower()]
    return None


def without_echo(answer: str, prompt: str) -> str:
    """The answer with every sentence of the prompt that it repeats blanked out."""
    for piece in _PROMPT_PIECES.findall(prompt):
        piece = piece.strip()
        if len(piece) >= ECHO_MIN_CHARS:
            answer = answer.replace(piece, " " * len(piece))
    return answer


def _letter_weights(text: str) -> dict[str, int]:
    """Han and Latin letters weighed as detect_language weighs them (a Chinese
    character counts as four Latin letters)."""
    latin = sum(1 for char in text if char.isascii() and char.isalpha())
    return {"zh": han_count(text) * 4, "en": latin}


def find_lang_mismatch(prompt: str, answer: str, asked: str | None) -> tuple[str | None, list[Evidence]]:
    """(the answer's language, evidence that it is not the language asked).

    The answer is judged without the parts that echo the prompt. A clearly
    English or Chinese answer mismatches when it is the other language; an
    answer too mixed to name mismatches when less than half of its letters are
    in the language asked. Short answers ("391") never mismatch.
    """
    own = without_echo(answer, prompt)
    language = text_language(own)
    if asked is None:
        return language, []
    if language is not None:
        if language != asked:
            return language, [Evidence(LANG_MISMATCH, f"asked in {asked}, answered in {language}", "")]
        return language, []
    weights = _letter_weights(strip_code(own))
    total = sum(weights.values())
    if total >= MIN_LETTER_WEIGHT and weights[asked] * 2 < total:
        return None, [Evidence(LANG_MISMATCH, f"asked in {asked}; most of the answer is in another language", "")]
    return None, []
