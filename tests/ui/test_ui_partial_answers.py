"""A saved answer that is not whole says so: in its pane, the history and the search list."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from workbench.core.notebook import open_notebook
from workbench.ui.runs.history import run_label
from workbench.ui.panes.pane import ComparePane
from workbench.ui.annotate.search_panel import SearchPanel


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


def test_the_history_and_the_search_list_say_which_answers_are_partial(qtbot, tmp_path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        run_id = notebook.create_run("Talk about 1989")
        for position in range(2):
            rid = notebook.add_response(run_id, position, model_name=f"M{position}", model_sha256=None, origin_country=None, seed=1, sampler={})
            notebook.save_partials([(rid, "Talk talk", "", "[]")])
        notebook.finish_response(1, text="Talk talk, all of it")
        notebook.store.db.execute("update responses set writer_pid = null where id = 2")  # its writer was killed
    finally:
        notebook.close()
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        (run,) = notebook.recent_runs()
        (in_session,) = notebook.sessions.runs(None)
        hits = notebook.search("talk")
    finally:
        notebook.close()
    assert run_label(run).endswith(" · 1 interrupted") and run_label(in_session).endswith(" · 1 interrupted")

    panel = SearchPanel()
    qtbot.addWidget(panel)
    panel.show_hits(panel.serial, hits)
    heads = [label.text() for label in panel.findChildren(QLabel) if "Run #" in label.text()]
    assert sum("interrupted (partial answer)" in head for head in heads) == 1


def test_reasoning_that_never_ended_says_so_and_stays_one_click_away(qtbot) -> None:
    """A model cut off by its token limit inside `<think>` (or before harmony's final
    channel) has no answer: the pane says why instead of showing a blank answer."""
    pane = ComparePane()
    qtbot.addWidget(pane)
    pane.show_saved({**saved("done"), "text": "", "reasoning": "Let me weigh both sides. First", "finish_reason": "length"}, "Run #3", "CN")
    assert "reasoning never ended (it ran out of tokens while reasoning)" in pane.error_label.text()
    assert not pane.error_label.isHidden()
    assert not pane.reasoning_toggle.isHidden() and pane.reasoning_view.text == "Let me weigh both sides. First"
