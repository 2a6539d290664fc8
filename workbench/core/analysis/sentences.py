"""Sentences and the opening of an answer, in English and Chinese.

Refusals live in the opening of an answer ("I'm sorry, but I can't…"); a
"can't" deep inside a helpful answer is usually part of the help ("you can't
kill a process you don't own"). Evasion is judged sentence by sentence. Both
need the same cheap notion of a sentence, with offsets for the evidence.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])\s*|\n+")
_CHINESE_CLAUSE = re.compile(r"(?<=[，：、])")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")

# How much of an answer counts as its opening, and how short an answer must be
# to count as all opening. A Chinese character carries about a word.
OPENING_SENTENCES = 2
OPENING_CHARS = 300
SHORT_ANSWER_CHARS = 300
SHORT_ANSWER_CHARS_ZH = 150


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank sentence, in order."""
    spans = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if text[start : boundary.start()].strip():
            spans.append((start, boundary.start()))
        start = boundary.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Sentences, with Chinese sentences further cut at their commas: a Chinese
    sentence often strings an answer and a stock phrase together with "，"."""
    spans = []
    for start, end in sentence_spans(text):
        cut = start
        for boundary in _CHINESE_CLAUSE.finditer(text, start, end):
            spans.append((cut, boundary.start()))
            cut = boundary.start()
        spans.append((cut, end))
    return spans


def opening_end(text: str) -> int:
    """Where the opening of an answer ends: all of a short answer, else its
    first two sentences (at most 300 characters)."""
    limit = SHORT_ANSWER_CHARS_ZH if is_mostly_han(text) else SHORT_ANSWER_CHARS
    if len(text) <= limit:
        return len(text)
    spans = sentence_spans(text)[:OPENING_SENTENCES]
    end = spans[-1][1] if spans else len(text)
    return min(end, OPENING_CHARS)


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def is_mostly_han(text: str) -> bool:
    han = han_count(text)
    letters = len(_ASCII_LETTER.findall(text))
    return han * 4 >= letters and han > 0

