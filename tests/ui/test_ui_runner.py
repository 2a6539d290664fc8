"""The runner batches streamed text for the GUI thread and never lets an answer finish before its text."""

from __future__ import annotations

import threading
import time

from workbench.core.engine.worker import SEND_INTERVAL_S
from workbench.ui.compare.runner import HANDOVER_GAP_MS, ComparisonRunner, PaneListener


class _Outcome:
    position = 0


def test_tokens_arrive_batched_in_order_and_before_the_finish(qtbot) -> None:
    runner = ComparisonRunner(workspace=None)  # type: ignore[arg-type] - no comparison is started
    events: list[tuple[str, int, str]] = []
    runner.text.connect(lambda pane, kind, text, pieces: events.append(("text", pane, text, pieces)))
    runner.responseFinished.connect(lambda pane, outcome: events.append(("finished", pane, "", 0)))
    listener = PaneListener(runner, (1,))  # position 0 shows in pane 1
    tokens = [f"t{i} " for i in range(200)]

    def model() -> None:
        for token in tokens:
            listener.text(0, [("answer", token)])
            time.sleep(0.002)  # 500 tokens/s, faster than any laptop model
        listener.response_finished(_Outcome())  # type: ignore[arg-type]

    thread = threading.Thread(target=model)
    started = time.perf_counter()
    thread.start()
    qtbot.waitUntil(lambda: bool(events) and events[-1][0] == "finished", timeout=60_000)
    elapsed_ms = (time.perf_counter() - started) * 1000
    thread.join()
    texts = [text for kind, pane, text, _ in events if kind == "text"]
    assert all(pane == 1 for _, pane, _, _ in events)
    assert "".join(texts) == "".join(tokens)  # nothing lost, nothing reordered
    assert sum(pieces for kind, _, _, pieces in events if kind == "text") == len(tokens)  # the panes' live count
    assert events[-1][0] == "finished"  # the last piece came before the finish
    # Hand-overs at least HANDOVER_GAP_MS apart, not one per token: 200 tokens in ~0.4 s
    # (longer on a busy machine, which allows as many more hand-overs as it took gaps).
    assert len(texts) <= (elapsed_ms / HANDOVER_GAP_MS + 1) * 2


def test_the_first_piece_is_delivered_at_once(qtbot) -> None:
    runner = ComparisonRunner(workspace=None)  # type: ignore[arg-type]
    arrived: list[str] = []
    runner.text.connect(lambda _pane, _kind, text, _pieces: arrived.append(text))
    qtbot.wait(HANDOVER_GAP_MS * 2)  # a quiet spell
    PaneListener(runner, (0,)).text(0, [("answer", "first")])
    qtbot.waitUntil(lambda: bool(arrived), timeout=1000)
    assert arrived == ["first"] and not runner.text_held  # handed over, not left waiting for the timer


def test_pieces_that_arrived_together_are_handed_over_together(qtbot) -> None:
    """A model process sends a batch every SEND_INTERVAL_S; each must wake the GUI thread once.
    Were the pieces added one by one, the GUI thread could take the first alone and
    the rest would wait for a timer: a second wake-up."""
    runner = ComparisonRunner(workspace=None)  # type: ignore[arg-type]
    arrived: list[tuple[str, str, int]] = []
    runner.text.connect(lambda _pane, kind, text, pieces: arrived.append((kind, text, pieces)))
    listener = PaneListener(runner, (0,))
    listener.text(0, [("reasoning", "hm"), ("answer", "Hel"), ("answer", "lo")])  # on the runner's thread: handled at once
    # All three in the one hand-over that this batch's wake-up made; none left for the timer.
    assert sorted(arrived) == [("answer", "Hello", 2), ("reasoning", "hm", 1)] and not runner.text_held


def test_a_batch_a_model_sends_after_the_gap_is_not_held(qtbot) -> None:
    """Models send every SEND_INTERVAL_S, well over the gap, so their batches go at once; only
    a batch close behind another (several models at once) waits for the gap."""
    runner = ComparisonRunner(workspace=None)  # type: ignore[arg-type]
    arrived: list[str] = []
    runner.text.connect(lambda _pane, _kind, text, _pieces: arrived.append(text))
    listener = PaneListener(runner, (0,))
    listener.text(0, [("answer", "first")])
    qtbot.wait(round(SEND_INTERVAL_S * 1000 * 0.9))  # the next batch, a little early
    listener.text(0, [("answer", "second")])
    assert arrived == ["first", "second"] and not runner.text_held
    listener.text(0, [("answer", "third")])  # right behind: waits
    assert arrived == ["first", "second"] and runner.text_held
    qtbot.waitUntil(lambda: len(arrived) == 3, timeout=1000)
