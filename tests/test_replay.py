"""Replay schedules: a recorded answer comes back piece by piece, at the recorded times."""

from __future__ import annotations

from workbench.core.classroom.replay import ANSWER, REASONING, Chunk, duration_ms, instant, response_schedule, schedule


def test_the_timeline_cuts_the_saved_texts_back_into_their_pieces() -> None:
    timeline = [[120, 1, 5], [180, 1, 6], [400, 0, 3], [400, 0, 4], [950, 0, 5]]
    chunks = schedule("答案是：yes!", "think more.", timeline)
    assert chunks == [
        Chunk(120, REASONING, "think"), Chunk(180, REASONING, " more."),
        Chunk(400, ANSWER, "答案是"), Chunk(400, ANSWER, "：yes"), Chunk(950, ANSWER, "!"),
    ]  # fmt: skip
    assert duration_ms(chunks) == 950
    assert "".join(c.text for c in chunks if c.kind == ANSWER) == "答案是：yes!"


def test_a_recorded_timeline_replays_within_five_percent_over_the_whole_answer() -> None:
    # As the recorder writes it: 200 pieces, about 40 ms apart, after a 300 ms first token.
    pieces = [f"w{n} " for n in range(200)]
    timeline = [[300 + 40 * n + n % 7, 0, len(p)] for n, p in enumerate(pieces)]
    chunks = schedule("".join(pieces), "", timeline)
    assert [c.text for c in chunks] == pieces
    assert abs(duration_ms(chunks) - timeline[-1][0]) <= 0.05 * timeline[-1][0]
    assert [c.at_ms for c in chunks] == [t[0] for t in timeline]


def test_an_untrusted_timeline_never_loses_text_or_runs_backwards() -> None:
    timeline = [[50, 0, 2], "junk", [30, 0, 2], [60, 7, 3], [70, 0, -1], [True, 0, 1], [80, 0, 1000]]
    chunks = schedule("abcdefgh", "why", timeline)
    assert [c.at_ms for c in chunks] == sorted(c.at_ms for c in chunks)
    assert "".join(c.text for c in chunks if c.kind == ANSWER) == "abcdefgh"
    assert "".join(c.text for c in chunks if c.kind == REASONING) == "why"  # not in the timeline: at the end
    assert schedule("text", "", None) == [Chunk(0, ANSWER, "text")]


def test_instant_mode_shows_everything_at_once() -> None:
    response = {"text": "Answer", "reasoning": "Because", "timeline": [[10, 1, 7], [900, 0, 6]]}
    assert response_schedule(response, at_recorded_speed=False) == instant("Answer", "Because") == [
        Chunk(0, REASONING, "Because"), Chunk(0, ANSWER, "Answer")
    ]
    assert duration_ms(response_schedule(response, at_recorded_speed=True)) == 900


def test_a_conversation_replays_turn_by_turn_each_with_its_own_timeline() -> None:
    from workbench.core.classroom.replay import run_replay

    first = [{"text": "No.", "reasoning": "", "timeline": [[100, 0, 3]]}, {"text": "Yes.", "reasoning": "", "timeline": [[300, 0, 4]]}]
    second = [{"text": "Sure.", "reasoning": "", "timeline": [[50, 0, 5]]}, {"text": "是的。", "reasoning": "", "timeline": [[70, 0, 3]]}]
    run = {
        "prompt": "Q?",
        "responses": first,
        "turns": [{"turn": 0, "prompt": "Q?", "responses": first}, {"turn": 1, "prompt": "Are you sure?", "responses": second}],
    }
    turns = run_replay(run, at_recorded_speed=True)
    assert [(t.turn, t.prompt) for t in turns] == [(0, "Q?"), (1, "Are you sure?")]
    assert turns[1].tracks == {0: [Chunk(50, ANSWER, "Sure.")], 1: [Chunk(70, ANSWER, "是的。")]}
    assert turns[0].tracks[1] == [Chunk(300, ANSWER, "Yes.")]
    # A run read without turns (an older caller) is its one question.
    (only,) = run_replay({"prompt": "Q?", "responses": first}, at_recorded_speed=False)
    assert (only.turn, only.prompt, only.tracks[0]) == (0, "Q?", [Chunk(0, ANSWER, "No.")])
