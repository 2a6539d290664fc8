"""The runner batches streamed text for the GUI thread and never lets an answer finish before its text."""

from __future__ import annotations

import threading
import time

from workbench.ui.runner import EARLY_MS, FLUSH_MS, ComparisonRunner, _Listener


class _Outcome:
    position = 0


def test_tokens_arrive_batched_in_order_and_before_the_finish(qtbot) -> None:
    runner = ComparisonRunner(workspace=None)  # type: ignore[arg-type] - no comparison is started
    events: list[tuple[str, int, str]] = []
    runner.text.connect(lambda pane, kind, text, pieces: events.append(("text", pane, text, pieces)))
    runner.responseFinished.connect(lambda pane, outcome: events.append(("finished", pane, "", 0)))
    listener = _Listener(runner, (1,))  # position 0 shows in pane 1
    tokens = [f"t{i} " for i in range(200)]

    def model() -> None:
        for token in tokens:
            listener.text(0, "answer", token)
            time.sleep(0.002)  # 500 tokens/s, faster than any laptop model
        listener.response_finished(_Outcome())  # type: ignore[arg-type]

    thread = threading.Thread(target=model)
    thread.start()
    qtbot.waitUntil(lambda: bool(events) and events[-1][0] == "finished", timeout=5000)
    thread.join()
    texts = [text for kind, pane, text, _ in events if kind == "text"]
    assert all(pane == 1 for _, pane, _, _ in events)
    assert "".join(texts) == "".join(tokens)  # nothing lost, nothing reordered
    assert sum(pieces for kind, _, _, pieces in events if kind == "text") == len(tokens)  # the panes' live count
    assert events[-1][0] == "finished"  # the last piece came before the finish
    # One delivery per flush interval, not one per token: 200 tokens in ~0.4 s.
    assert len(texts) <= 0.4 * 1000 / FLUSH_MS * 2


def test_the_first_piece_is_delivered_at_once(qtbot) -> None:
    runner = ComparisonRunner(workspace=None)  # type: ignore[arg-type]
    arrived: list[str] = []
    runner.text.connect(lambda _pane, _kind, text, _pieces: arrived.append(text))
    qtbot.wait(FLUSH_MS * 2)  # a quiet spell
    _Listener(runner, (0,)).text(0, "answer", "first")
    qtbot.waitUntil(lambda: bool(arrived), timeout=1000)
    assert arrived == ["first"] and not runner._flush_timer.isActive()  # handed over, not left waiting for the timer


def test_text_arriving_just_short_of_the_interval_is_not_held_for_it(qtbot) -> None:
    """A model process sends at the same interval as the hand-over, so a message
    that is a few milliseconds early must not cost the GUI thread a second wake-up."""
    runner = ComparisonRunner(workspace=None)  # type: ignore[arg-type]
    arrived: list[str] = []
    runner.text.connect(lambda _pane, _kind, text, _pieces: arrived.append(text))
    listener = _Listener(runner, (0,))
    listener.text(0, "answer", "first")
    qtbot.waitUntil(lambda: arrived == ["first"], timeout=1000)
    qtbot.wait(FLUSH_MS - 10)  # a message a little early
    listener.text(0, "answer", "second")  # on the runner's thread, so handled before this returns
    assert arrived == ["first", "second"] and not runner._flush_timer.isActive()
    listener.text(0, "answer", "third")  # at once after a hand-over: this one waits
    qtbot.wait(EARLY_MS)
    assert arrived == ["first", "second"] and runner._flush_timer.isActive()
    qtbot.waitUntil(lambda: len(arrived) == 3, timeout=1000)
