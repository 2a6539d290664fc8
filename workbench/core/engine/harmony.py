"""Split OpenAI's harmony format (gpt-oss) into reasoning and answer, while streaming.

A harmony reply is a series of messages, each a header then a body:

    <|channel|>analysis<|message|>…<|end|><|start|>assistant<|channel|>final<|message|>…<|return|>

The `final` channel is the answer; `analysis` (the chain of thought) and
`commentary` (preambles, tool calls) are reasoning. A channel this code does not
know is kept as reasoning too, under its name, so nothing is lost and the final
answer is still found after it. The stop token `<|return|>` usually ends the
stream before it is written.

Some runtimes drop the markers and leave `analysisI think…assistantfinalThe
answer…`. That form is only recognisable because the template says the model
speaks harmony (`formats.py` chooses this splitter only then): the stream then
starts with a channel name, and `assistant` + a channel name starts each next
message.
"""

from __future__ import annotations

from .reasoning import ANSWER, REASONING, PartList, Parts, partial_marker_suffix

START = "<|start|>"
CHANNEL = "<|channel|>"
MESSAGE = "<|message|>"
END = "<|end|>"
RETURN = "<|return|>"
CALL = "<|call|>"

FINAL = "final"
ANALYSIS = "analysis"
COMMENTARY = "commentary"
CHANNELS = (ANALYSIS, COMMENTARY, FINAL)
RECIPIENT = "to="

# Markers that end a message's body; `<|start|>` and `<|channel|>` too, for a model that
# begins its next message without ending the last.
_BODY_ENDS = (END, RETURN, CALL, START, CHANNEL)
_MARKERS = (START, CHANNEL, MESSAGE, END, RETURN, CALL, "<|constrain|>")
# A header holds a role, a channel, a recipient and a content type: longer than this,
# it is text the model wrote outside any message, shown as answer.
MAX_HEADER = 200
_BARE_NEXT = tuple(f"assistant{name}" for name in CHANNELS)

_UNDECIDED, _HEADER, _BODY, _BARE, _PLAIN = range(5)


def speaks_harmony(template: str | None) -> bool:
    """A chat template that writes harmony's channel markers."""
    template = template or ""
    return CHANNEL in template and MESSAGE in template


class HarmonySplitter:
    def __init__(self) -> None:
        self._state = _UNDECIDED
        self._pending = ""
        self._kind = ANSWER
        self._said_reasoning = False  # some reasoning was given out: separate the next message's
        self._out = PartList()

    def feed(self, chunk: str) -> Parts:
        self._pending += chunk
        while self._pending and self._step():
            pass
        return self._out.take()

    def flush(self) -> Parts:
        if self._state == _UNDECIDED:
            self._out.add(ANSWER, self._pending)
        elif self._state == _HEADER:
            self._leftover_header(self._pending)
        else:
            self._out.add(self._kind, self._pending)
        self._pending = ""
        return self._out.take()

    # --- one step of the state machine: True when it may go on ----------------------

    def _step(self) -> bool:
        if self._state == _UNDECIDED:
            return self._decide()
        if self._state == _HEADER:
            return self._read_header()
        if self._state == _BODY:
            return self._read_body(_BODY_ENDS)
        if self._state == _BARE:
            return self._read_body(_BARE_NEXT)
        self._out.add(ANSWER, self._pending)
        self._pending = ""
        return False

    def _decide(self) -> bool:
        """Markers, bare channel names, or plain text (a model that skipped the format).
        A reply may also open with the rest of the `<|start|>assistant` header the prompt
        ended with: a recipient (` to=functions.x<|channel|>…`, a tool call)."""
        text = self._pending.lstrip()
        if text.startswith(("<|", RECIPIENT, *CHANNELS)):
            if text.startswith(("<|", RECIPIENT)):
                self._state = _HEADER
            else:
                name = next(n for n in CHANNELS if text.startswith(n))
                self._pending = text[len(name) :]
                self._begin(name, _BARE)
            return True
        if any(m.startswith(text) for m in ("<|", RECIPIENT, *CHANNELS)):
            return False  # too short to tell yet
        self._state = _PLAIN
        return True

    def _read_header(self) -> bool:
        index = self._pending.find(MESSAGE)
        if index >= 0:
            header, self._pending = self._pending[:index], self._pending[index + len(MESSAGE) :]
            self._begin(_channel_of(header), _BODY)
            return True
        if len(self._pending) > MAX_HEADER:
            self._leftover_header(self._pending)
            self._pending = ""
        return False

    def _read_body(self, ends: tuple[str, ...]) -> bool:
        found = [(i, end) for end in ends if (i := self._pending.find(end)) >= 0]
        if not found:
            keep = partial_marker_suffix(self._pending, ends)
            self._out.add(self._kind, self._pending[: len(self._pending) - keep])
            self._pending = self._pending[len(self._pending) - keep :]
            return False
        index, end = min(found)
        self._out.add(self._kind, self._pending[:index])
        if self._state == _BARE:
            self._pending = self._pending[index + len(end) :]
            self._begin(end[len("assistant") :], _BARE)
            return True
        # A message ended: `<|start|>` and `<|channel|>` belong to the next one's header.
        self._pending = self._pending[index + (len(end) if end in (END, RETURN, CALL) else 0) :]
        self._state = _HEADER
        return True

    def _begin(self, channel: str, state: int) -> None:
        """A message's body starts: an answer for `final`, else reasoning, marked with its
        channel when that is not `analysis`, and apart from the reasoning before it."""
        self._state = state
        self._kind = ANSWER if channel == FINAL else REASONING
        if self._kind == ANSWER:
            self._out.strip_answer_start = True
            return
        heading = "" if channel == ANALYSIS else f"[{channel or 'no channel'}]\n"
        if self._said_reasoning:
            heading = "\n\n" + heading
        self._out.add(REASONING, heading)
        self._said_reasoning = True

    def _leftover_header(self, header: str) -> None:
        """Text where a header should be: a header cut off by the end of the stream says
        nothing; anything else is words the model wrote outside a message."""
        if CHANNEL in header and len(header) <= MAX_HEADER:
            return
        role = header.lstrip().startswith(START)
        for marker in _MARKERS:
            header = header.replace(marker, "")
        if role:
            header = header.lstrip().removeprefix("assistant")
        self._out.add(ANSWER, header)


def _channel_of(header: str) -> str:
    """`<|start|>assistant<|channel|>commentary to=functions.x <|constrain|>json` -> "commentary"."""
    _, found, rest = header.rpartition(CHANNEL)
    if not found:
        return FINAL  # a message without a channel is plain speech to the user
    words = rest.split("<|")[0].split()
    return words[0] if words else ""
