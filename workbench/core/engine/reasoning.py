"""Keep a reasoning model's `<think>…</think>` apart from its answer, while streaming.

Tags can arrive split across chunks ("<thi" + "nk>"), so the splitter holds
back any tail that could still become a tag. Some templates open the think
block in the prompt itself (DeepSeek-R1, Qwen3); for them the stream starts
inside reasoning, which `starts_in_reasoning` says.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"

ANSWER = "answer"
REASONING = "reasoning"


def prompt_opens_reasoning(rendered_prompt: str) -> bool:
    """True when the chat template left a `<think>` open for the model to continue."""
    tail = rendered_prompt.rstrip()
    return tail.endswith(OPEN)


class ThinkSplitter:
    def __init__(self, starts_in_reasoning: bool = False) -> None:
        self._in_reasoning = starts_in_reasoning
        self._pending = ""
        # The answer after a think block usually starts with blank lines,
        # which may arrive in a later chunk than the closing tag.
        self._strip_answer_start = False

    def feed(self, chunk: str) -> list[tuple[str, str]]:
        """Return (kind, text) parts that are certain; hold back a possible partial tag."""
        self._pending += chunk
        parts: list[tuple[str, str]] = []
        while self._pending:
            tag = CLOSE if self._in_reasoning else OPEN
            index = self._pending.find(tag)
            if index >= 0:
                self._emit(parts, self._pending[:index])
                self._pending = self._pending[index + len(tag) :]
                self._in_reasoning = not self._in_reasoning
                self._strip_answer_start = not self._in_reasoning
                continue
            keep = _partial_tag_suffix(self._pending, tag)
            self._emit(parts, self._pending[: len(self._pending) - keep])
            self._pending = self._pending[len(self._pending) - keep :]
            break
        return parts

    def flush(self) -> list[tuple[str, str]]:
        """At the end of the stream, whatever was held back is plain text."""
        parts: list[tuple[str, str]] = []
        self._emit(parts, self._pending)
        self._pending = ""
        return parts

    def _emit(self, parts: list[tuple[str, str]], text: str) -> None:
        if not text:
            return
        kind = REASONING if self._in_reasoning else ANSWER
        if kind == ANSWER and self._strip_answer_start:
            text = text.lstrip("\n")
            if not text:
                return
            self._strip_answer_start = False
        if parts and parts[-1][0] == kind:
            parts[-1] = (kind, parts[-1][1] + text)
        else:
            parts.append((kind, text))


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


def split_complete(text: str, starts_in_reasoning: bool = False) -> tuple[str, str]:
    """(answer, reasoning) for a whole text, as the streaming splitter would give."""
    splitter = ThinkSplitter(starts_in_reasoning)
    answer: list[str] = []
    reasoning: list[str] = []
    for kind, part in splitter.feed(text) + splitter.flush():
        (reasoning if kind == REASONING else answer).append(part)
    return "".join(answer), "".join(reasoning)
