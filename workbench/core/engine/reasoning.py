"""Keep a reasoning model's thinking apart from its answer, while streaming.

A splitter takes the raw stream in chunks and returns (kind, text) parts,
"reasoning" or "answer". Markers can arrive split across chunks ("<thi" +
"nk>"), so a splitter holds back any tail that could still become a marker and
gives it out at `flush`. Which splitter a model needs is read from its chat
template (`formats.py`): tagged blocks (`ThinkSplitter`, here) or harmony
channels (`harmony.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

OPEN = "<think>"
CLOSE = "</think>"

ANSWER = "answer"
REASONING = "reasoning"

Parts = list[tuple[str, str]]


class Splitter(Protocol):
    def feed(self, chunk: str) -> Parts:
        """The parts that are certain so far; a possible partial marker is held back."""

    def flush(self) -> Parts:
        """At the end of the stream: whatever was held back."""


class PartList:
    """Parts being gathered: neighbours of one kind joined, and the blank lines that
    open an answer after reasoning dropped (they may arrive in a later chunk than
    the marker that ended the reasoning)."""

    def __init__(self) -> None:
        self.parts: Parts = []
        self.strip_answer_start = False

    def add(self, kind: str, text: str) -> None:
        if not text:
            return
        if kind == ANSWER and self.strip_answer_start:
            text = text.lstrip("\n")
            if not text:
                return
            self.strip_answer_start = False
        if self.parts and self.parts[-1][0] == kind:
            self.parts[-1] = (kind, self.parts[-1][1] + text)
        else:
            self.parts.append((kind, text))

    def take(self) -> Parts:
        parts, self.parts = self.parts, []
        return parts


class ThinkSplitter:
    """Reasoning between an open and a close tag (`<think>…</think>` by default);
    `starts_in_reasoning` when the prompt already opened the block. A model whose prompt
    opened it may open it again first thing (R1's empty `<think>\n\n</think>` before a
    canned answer): that repeated tag is dropped, so the empty block is empty reasoning."""

    def __init__(self, starts_in_reasoning: bool = False, tags: tuple[str, str] = (OPEN, CLOSE)) -> None:
        self._open, self._close = tags
        self._in_reasoning = starts_in_reasoning
        self._may_reopen = starts_in_reasoning
        self._pending = ""
        self._out = PartList()

    def feed(self, chunk: str) -> Parts:
        self._pending += chunk
        if self._may_reopen:
            text = self._pending.lstrip()
            if self._open.startswith(text):
                return []  # only blanks, or the start of the open tag, so far
            self._may_reopen = False
            if text.startswith(self._open):
                self._pending = text[len(self._open) :]
        while self._pending:
            tag = self._close if self._in_reasoning else self._open
            index = self._pending.find(tag)
            if index >= 0:
                self._emit(self._pending[:index])
                self._pending = self._pending[index + len(tag) :]
                self._in_reasoning = not self._in_reasoning
                self._out.strip_answer_start = not self._in_reasoning
                continue
            keep = partial_marker_suffix(self._pending, (tag,))
            self._emit(self._pending[: len(self._pending) - keep])
            self._pending = self._pending[len(self._pending) - keep :]
            break
        return self._out.take()

    def flush(self) -> Parts:
        self._emit(self._pending)
        self._pending = ""
        return self._out.take()

    def _emit(self, text: str) -> None:
        self._out.add(REASONING if self._in_reasoning else ANSWER, text)


def partial_marker_suffix(text: str, markers: Iterable[str]) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of one of `markers`."""
    longest = 0
    for marker in markers:
        for length in range(min(len(marker) - 1, len(text)), longest, -1):
            if marker.startswith(text[-length:]):
                longest = length
                break
    return longest


def split_all(splitter: Splitter, chunks: Iterable[str]) -> tuple[str, str]:
    """(answer, reasoning) once every chunk went through `splitter`."""
    answer: list[str] = []
    reasoning: list[str] = []
    parts = [part for chunk in chunks for part in splitter.feed(chunk)] + splitter.flush()
    for kind, text in parts:
        (reasoning if kind == REASONING else answer).append(text)
    return "".join(answer), "".join(reasoning)


def split_complete(text: str, starts_in_reasoning: bool = False) -> tuple[str, str]:
    """(answer, reasoning) for a whole `<think>` text, as the streaming splitter would give."""
    return split_all(ThinkSplitter(starts_in_reasoning), [text])
