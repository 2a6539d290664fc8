"""A saved answer that is not whole says so in its pane: interrupted, or still being written."""

from __future__ import annotations

import pytest

from workbench.ui.pane import ComparePane


def saved(status: str) -> dict:
    return {"id": 7, "run_id": 3, "model_name": "Qwen", "status": status, "text": "The first half of", "reasoning": "",
            "sampler": {}, "finish_reason": "stop" if status == "done" else None, "error": None,
            "completion_tokens": 4, "tokens_per_s": 10.0, "ttft_s": 0.1}


@pytest.mark.parametrize(
    "status, word, says",
    [
        ("interrupted", "interrupted", "Interrupted: the workbench stopped before this answer finished; the text so far was kept (a partial answer)."),
        ("streaming", "unfinished", "Unfinished: still being written, or its workbench stopped; the text so far is partial."),
        ("pending", "unfinished", "Unfinished: still being written, or its workbench stopped; the text so far is partial."),
    ],
)
def test_a_partial_answer_says_so(qtbot, status: str, word: str, says: str) -> None:
    pane = ComparePane()
    qtbot.addWidget(pane)
    pane.show_saved(saved(status), "Run #3", "CN")
    assert pane.error_label.text() == says and not pane.error_label.isHidden()
    assert pane.status_label.text() == word


def test_a_finished_answer_says_nothing_of_the_kind(qtbot) -> None:
    pane = ComparePane()
    qtbot.addWidget(pane)
    pane.show_saved(saved("done"), "Run #3", "CN")
    assert pane.error_label.isHidden()
    assert "unfinished" not in pane.status_label.text() and "interrupted" not in pane.status_label.text()
