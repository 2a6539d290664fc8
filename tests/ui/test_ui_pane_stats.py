"""The line under an answer gives what is known of its length and speed, never a "?"."""

from __future__ import annotations

from pathlib import Path

from workbench.core.catalog import Catalog
from workbench.core.comparison import ResponseOutcome
from workbench.core.engine.backend import GenerationResult
from workbench.ui.panes.pane import ComparePane, stats_text


def test_unknown_figures_are_left_out() -> None:
    assert stats_text(None, None, None) == ""
    assert stats_text(None, 12.0, 0.25) == "12.0 tokens/s · first token 0.25 s"
    assert stats_text(1, None, None) == "1 token"
    assert stats_text(40, None, None, approximate=True) == "about 40 tokens"


def test_an_answer_stopped_before_its_first_token_says_none_came(qtbot, tiny_model: Path) -> None:
    pane = ComparePane()
    qtbot.addWidget(pane)
    entry = Catalog([], include_other_apps=False).resolve(tiny_model)
    pane.on_finished(ResponseOutcome(0, 7, entry, "", "", GenerationResult(finish_reason="stopped")))
    assert pane.status_label.text() == "stopped · 0 tokens"


def test_a_saved_answer_without_a_count_shows_no_question_mark(qtbot) -> None:
    pane = ComparePane()
    qtbot.addWidget(pane)
    saved = {"id": 7, "run_id": 3, "model_name": "Qwen", "status": "done", "text": "", "reasoning": "", "sampler": {},
             "finish_reason": "stopped", "error": None, "completion_tokens": None, "tokens_per_s": None, "ttft_s": None}
    pane.show_saved(saved, "Run #3", "CN")
    assert pane.status_label.text() == "stopped"
