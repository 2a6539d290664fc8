"""Two answers side by side: paragraphs aligned, then the words added and removed.

What a teacher asks of two answers to one question (two models, or one model in
two runs) is where they part. difflib does the work, in two passes, as its own
`Differ` does for lines and characters: paragraphs are matched first, changed
paragraphs are paired with their most similar counterpart, and each pair is
compared word by word. Chinese has no spaces between words, so Chinese (and any
CJK script) is compared character by character; whitespace never counts as a
change (a word keeps the spaces after it, and is compared without them).

Qt-free: the window's difference view, `workbench diff` and its --json all read
the same `AnswerDiff`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

# Opcode tags, difflib's own.
EQUAL, DELETE, INSERT, REPLACE = "equal", "delete", "insert", "replace"
# How a piece of one side is shown.
SAME, REMOVED, ADDED = "same", "removed", "added"

# CJK scripts, each character a token: radicals, CJK punctuation, kana, bopomofo, Han,
# compatibility ideographs and forms, full-width forms, the supplementary Han planes.
_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f"
# A token: one CJK character, a run of other word characters, or one other sign; with the
# whitespace after it. Every character of a stripped paragraph is in exactly one token.
_TOKEN = re.compile(rf"(?:[{_CJK}]|(?:(?![{_CJK}])\w)+|[^\w\s])\s*")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# Two changed paragraphs are shown as one changed pair only when at least this much of
# them matches (difflib's ratio); below it, they are paired in order.
PAIR_CUTOFF = 0.5


@dataclass(frozen=True)
class Op:
    """One step from the left paragraph to the right one: `tag` is difflib's
    (equal, delete, insert, replace); `left` and `right` the text it covers on each side."""

    tag: str
    left: str
    right: str


@dataclass(frozen=True)
class Piece:
    """A stretch of one side's text and how it is marked (SAME, REMOVED or ADDED)."""

    text: str
    mark: str

    @property
    def body(self) -> str:
        """The text without the spaces after it: what a changed piece's mark covers (a
        struck-through or underlined space reads as part of the change)."""
        return self.text.rstrip()

    @property
    def trailing(self) -> str:
        return self.text[len(self.body) :]


@dataclass(frozen=True)
class Row:
    """One aligned pair of paragraphs; a side without a paragraph here has no text in any op."""

    ops: tuple[Op, ...]

    @property
    def left(self) -> tuple[Piece, ...]:
        return tuple(Piece(op.left, SAME if op.tag == EQUAL else REMOVED) for op in self.ops if op.left)

    @property
    def right(self) -> tuple[Piece, ...]:
        return tuple(Piece(op.right, SAME if op.tag == EQUAL else ADDED) for op in self.ops if op.right)

    @property
    def inline(self) -> tuple[Piece, ...]:
        """Both sides in one line of reading, as git's --word-diff shows them: what stayed,
        and where they part, the left's words (REMOVED) then the right's (ADDED)."""
        pieces: list[Piece] = []
        for op in self.ops:
            if op.tag == EQUAL:
                pieces.append(Piece(op.left, SAME))
            else:
                pieces += [Piece(op.left, REMOVED)] if op.left else []
                pieces += [Piece(op.right, ADDED)] if op.right else []
        return tuple(pieces)

    @property
    def kind(self) -> str:
        """EQUAL (the same paragraph), DELETE (only the left has it), INSERT (only the right), or REPLACE."""
        tags = {op.tag for op in self.ops}
        if tags == {EQUAL}:
            return EQUAL
        if not self.right:
            return DELETE
        if not self.left:
            return INSERT
        return REPLACE


@dataclass(frozen=True)
class AnswerDiff:
    """The rows in reading order, and how many words (Chinese: characters) each side lost or gained."""

    rows: tuple[Row, ...]
    removed: int
    added: int
    same: int

    @property
    def identical(self) -> bool:
        return self.removed == 0 and self.added == 0

    @property
    def summary(self) -> str:
        """One line of counts, as the window and the terminal say it."""
        if self.identical:
            return "The two answers have the same words."
        words = "word" if self.removed == 1 else "words"
        return f"{self.removed} {words} removed, {self.added} added, {self.same} the same (Chinese counted by character)."

    def to_json(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "added": self.added,
            "same": self.same,
            "rows": [
                {
                    "left": "".join(p.text for p in row.left) if row.left else None,
                    "right": "".join(p.text for p in row.right) if row.right else None,
                    "ops": [[op.tag, op.left, op.right] for op in row.ops],
                }
                for row in self.rows
            ],
        }


def paragraphs(text: str) -> list[str]:
    """`text`'s paragraphs (split at blank lines), each stripped; no empty ones."""
    return [p for p in (part.strip() for part in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n"))) if p]


def tokens(paragraph: str) -> list[str]:
    """Words (and each CJK character, and each sign) with the whitespace that follows them."""
    return _TOKEN.findall(paragraph)


class _Paragraph:
    """A paragraph's tokens, and the keys difflib compares: the tokens without their spaces."""

    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self.keys = [token.rstrip() for token in self.tokens]


def diff_answers(left: str, right: str) -> AnswerDiff:
    """How `right` differs from `left`: aligned paragraphs, each pair compared word by word."""
    a = [_Paragraph(p) for p in paragraphs(left)]
    b = [_Paragraph(p) for p in paragraphs(right)]
    matcher = SequenceMatcher(None, [" ".join(p.keys) for p in a], [" ".join(p.keys) for p in b], autojunk=False)
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == EQUAL:
            rows += [Row((Op(EQUAL, "".join(p.tokens), "".join(q.tokens)),)) for p, q in zip(a[i1:i2], b[j1:j2])]
        else:
            rows += _align(a[i1:i2], b[j1:j2])
    removed = added = same = 0
    for row in rows:
        for op in row.ops:
            left_count, right_count = len(tokens(op.left)), len(tokens(op.right))
            if op.tag == EQUAL:
                same += left_count
            else:
                removed += left_count
                added += right_count
    return AnswerDiff(tuple(rows), removed, added, same)


def _align(a: list[_Paragraph], b: list[_Paragraph]) -> list[Row]:
    """Rows for paragraphs that differ: as difflib's Differ pairs changed lines, the most
    similar pair (if similar enough) is shown side by side and what comes before and after
    it is aligned the same way; paragraphs with no similar partner are paired in order, and
    those left over stand alone."""
    if not a or not b:
        return [_one_sided(p, left=True) for p in a] + [_one_sided(q, left=False) for q in b]
    best, where = PAIR_CUTOFF, None
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            matcher = SequenceMatcher(None, p.keys, q.keys, autojunk=False)
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best and matcher.ratio() > best:
                best, where = matcher.ratio(), (i, j)
    if where is None:
        paired = min(len(a), len(b))
        return [_pair(p, q) for p, q in zip(a, b)] + _align(a[paired:], b[paired:])
    i, j = where
    return _align(a[:i], b[:j]) + [_pair(a[i], b[j])] + _align(a[i + 1 :], b[j + 1 :])


def _one_sided(paragraph: _Paragraph, *, left: bool) -> Row:
    text = "".join(paragraph.tokens)
    return Row((Op(DELETE, text, ""),) if left else (Op(INSERT, "", text),))


def _pair(p: _Paragraph, q: _Paragraph) -> Row:
    matcher = SequenceMatcher(None, p.keys, q.keys, autojunk=False)
    return Row(tuple(Op(tag, "".join(p.tokens[i1:i2]), "".join(q.tokens[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes()))
