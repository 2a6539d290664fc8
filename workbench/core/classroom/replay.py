"""Turning a recorded answer back into the stream it was, for replay in class.

The notebook keeps, per response, a timeline `[[ms, kind, chars], ...]`
(notebook/recorder.py): one entry per piece of text the model sent, in the
order it arrived, where `ms` counts from the start of generation (after the
model was loaded, so the replay does not make the class wait for a disk),
`kind` is 0 for answer and 1 for reasoning, and `chars` is that piece's
length in code points. The pieces of each kind, laid end to end, are the
saved answer and reasoning; so cutting the saved texts by the timeline's
lengths gives back every piece and when it came.

A run with follow-ups is a conversation (its `turns`): its replay is one
`TurnReplay` per turn, in order, each turn's answers with their own
timelines, so the panes show the conversation turn by turn as it happened.

A timeline comes from a file someone sent (demo_file.py), so it is treated
as untrusted: bad entries are skipped, times never run backwards, and text
the timeline does not cover (an answer saved by a version without
timelines, or a timeline cut short by a crash) arrives at the end rather
than being lost. A replay always ends showing exactly the saved text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..notebook.recorder import ANSWER, REASONING


@dataclass(frozen=True)
class Chunk:
    at_ms: int  # since generation started
    kind: int  # ANSWER or REASONING
    text: str


def schedule(answer: str, reasoning: str, timeline: Any) -> list[Chunk]:
    """The pieces of a recorded response with the time each arrived, in order."""
    texts = {ANSWER: answer or "", REASONING: reasoning or ""}
    used = {ANSWER: 0, REASONING: 0}
    chunks: list[Chunk] = []
    latest = 0
    for entry in timeline if isinstance(timeline, list) else ():
        if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(v, int) and not isinstance(v, bool) for v in entry)):
            continue
        at_ms, kind, chars = entry
        if kind not in texts or chars <= 0:
            continue
        latest = max(latest, at_ms)
        start = used[kind]
        piece = texts[kind][start : start + chars]
        if piece:
            used[kind] = start + len(piece)
            chunks.append(Chunk(latest, kind, piece))
    for kind in (REASONING, ANSWER):
        rest = texts[kind][used[kind] :]
        if rest:
            chunks.append(Chunk(latest, kind, rest))
    return chunks


def instant(answer: str, reasoning: str) -> list[Chunk]:
    """The whole response at once (the "instant" mode)."""
    return [Chunk(0, kind, text) for kind, text in ((REASONING, reasoning or ""), (ANSWER, answer or "")) if text]


def duration_ms(chunks: list[Chunk]) -> int:
    """When the last piece arrived: how long a replay at the recorded speed takes."""
    return chunks[-1].at_ms if chunks else 0


def response_schedule(response: dict[str, Any], *, at_recorded_speed: bool) -> list[Chunk]:
    """A notebook response (as `Notebook.run` returns it) as a replay schedule."""
    if not at_recorded_speed:
        return instant(response.get("text") or "", response.get("reasoning") or "")
    return schedule(response.get("text") or "", response.get("reasoning") or "", response.get("timeline"))


@dataclass(frozen=True)
class TurnReplay:
    """One turn of a recorded run: its question, its answers (in pane order) and each
    pane's schedule (by pane index)."""

    turn: int
    prompt: str
    responses: list[dict[str, Any]]
    tracks: dict[int, list[Chunk]]


def run_replay(run: dict[str, Any], *, at_recorded_speed: bool) -> list[TurnReplay]:
    """A notebook run (as `Notebook.run` returns it) as its turns' replays, in order; a run
    read without `turns` is its one question."""
    turns = run.get("turns") or [{"turn": 0, "prompt": run["prompt"], "responses": run["responses"]}]
    return [
        TurnReplay(
            turn["turn"],
            turn["prompt"],
            turn["responses"],
            {index: response_schedule(response, at_recorded_speed=at_recorded_speed) for index, response in enumerate(turn["responses"])},
        )
        for turn in turns
    ]
