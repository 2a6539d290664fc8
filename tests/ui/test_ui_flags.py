"""Flags in the window: suggested chips after every answer, accepted or dismissed in a click,
hidden where they would tell a blind room who answered, searchable, and recomputed on demand."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMenu
from window_helpers import WAIT_MS, make_run, run_and_wait, settle, show

from workbench.core.notebook import open_notebook
from workbench.core.notebook.flags import StoredFlag

REFUSAL = "我无法讨论政治话题。请问其他问题。"
EVIDENCE = {"flag": "hard_refusal", "rule": "refusal phrase", "text": "我无法讨论政治话题", "start": 0, "end": 9}


def flag_run(path, *, with_flags: bool = True) -> int:
    """A saved run whose second answer (a refusal) carries automatic flags with their basis."""
    run_id = make_run(path)
    if with_flags:
        notebook = open_notebook(path)
        notebook.flags.record(run_id, 2, [
            StoredFlag("hard_refusal", "workbench-flags/2", [EVIDENCE], "rules+classifier", 0.97),
            StoredFlag("thought_suppressed", "workbench-flags/2", [{"flag": "thought_suppressed", "rule": "empty reasoning", "text": "", "start": None, "end": None}], "rules", None),
            StoredFlag("lang_mismatch", "workbench-flags/2", [], "rules", None),
        ])  # fmt: skip
        notebook.close()
    return run_id


def test_every_live_answer_shows_its_flags_as_suggestions(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.prompt_bar.prompt.setPlainText("What happened in June 1989?")
    shown = []
    window.annotating.annotationsShown.connect(shown.append)
    outcome = run_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: all(p.annotations is not None for p in window.area.panes), timeout=WAIT_MS)
    settle(qtbot, window)
    # Read once as each answer finished (its suggestions show before the others are done), once at the end.
    assert shown.count(outcome.run_id) >= 3
    for pane, response in zip(window.area.panes, outcome.responses):
        assert response.flags is not None
        stored = [f.name for f in opened.workspace.notebook.annotations.for_run(outcome.run_id).responses[pane.response_id].flags]
        assert stored == list(response.flags.flags) and stored, "the tiny models write something, which gets a flag"
        assert list(pane.annotation_bar.suggestion_buttons) == stored
        for button in pane.annotation_bar.suggestion_buttons.values():
            assert button.text().startswith("suggested: ")
            assert "not by a person" in button.toolTip()


def test_a_suggestion_is_accepted_in_one_click_or_dismissed(open_window, isolated_dirs, qtbot, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "ana")
    run_id = flag_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    pane = window.area.panes[1]
    bar = pane.annotation_bar
    refusal = bar.suggestion_buttons["hard_refusal"]
    assert refusal.text() == "suggested: Hard refusal · 0.97"
    assert "rules and classifier, confidence 0.97" in refusal.toolTip() and "我无法讨论政治话题" in refusal.toolTip()
    assert bar.suggestion_buttons["lang_mismatch"].text() == "suggested: Language mismatch"  # no label of that name
    assert bar.checked_labels == set()  # a suggestion is not a label

    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        qtbot.mouseClick(refusal, Qt.MouseButton.LeftButton)
    labels = opened.workspace.notebook.annotations.for_run(run_id).responses[pane.response_id].labels
    assert [(label.label, label.annotator) for label in labels] == [("hard_refusal", "ana")]
    assert bar.checked_labels == {"hard_refusal"} and bar.suggestion_buttons["hard_refusal"].text().endswith("✓")
    assert "hard_refusal" not in bar.suggestions

    # The evidence words are one menu entry away, and select the words in the answer.
    finds = [a for a in bar.suggestion_buttons["hard_refusal"].menu().actions() if a.text().startswith("Find")]
    assert [a.text() for a in finds] == ["Find “我无法讨论政治话题” in the answer"]
    finds[0].trigger()
    assert pane.answer_view.textCursor().selectedText() == "我无法讨论政治话题"

    # ✕ hides a suggestion on this answer; the stored flag stays.
    dismiss = bar.suggestion_buttons["lang_mismatch"].parentWidget().findChildren(type(refusal))[-1]
    assert dismiss.text() == "✕"
    qtbot.mouseClick(dismiss, Qt.MouseButton.LeftButton)
    assert "lang_mismatch" not in bar.suggestion_buttons
    assert any(f.name == "lang_mismatch" for f in opened.workspace.notebook.annotations.for_run(run_id).responses[pane.response_id].flags)
    window.annotating.reload_shown()  # read again (an edit elsewhere): still dismissed
    settle(qtbot, window)
    assert "lang_mismatch" not in bar.suggestion_buttons and "hard_refusal" in bar.suggestion_buttons


def test_a_blind_pane_keeps_flags_that_would_name_the_kind_of_model(open_window, isolated_dirs, qtbot):
    run_id = flag_run(isolated_dirs / "notebook.sqlite")
    window = open_window([]).window
    show(qtbot, window, run_id)
    pane = window.area.panes[1]
    assert "thought_suppressed" in pane.annotation_bar.suggestion_buttons
    pane.set_blind("B")
    assert set(pane.annotation_bar.suggestion_buttons) == {"hard_refusal", "lang_mismatch"}
    assert "Qwen" not in " ".join(b.toolTip() + b.text() for b in pane.annotation_bar.suggestion_buttons.values())
    pane.reveal()
    assert "thought_suppressed" in pane.annotation_bar.suggestion_buttons


def test_search_filters_by_flag(open_window, isolated_dirs, qtbot):
    run_id = flag_run(isolated_dirs / "notebook.sqlite")
    window = open_window([]).window
    panel = window.annotating.search
    panel.query.setText("1989")
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.search_now()
    everything = [(h.run_id, h.response_id) for h in panel.hits]
    panel.flag.setCurrentIndex(panel.flag.findData("hard_refusal"))
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.search_now()
    assert everything == [(run_id, None)] and [(h.run_id, h.response_id) for h in panel.hits] == [(run_id, None)]
    panel.query.setText("政治")
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.search_now()
    assert [(h.response_id, h.flags) for h in panel.hits] == [(2, ("hard_refusal", "thought_suppressed", "lang_mismatch"))]
    panel.flag.setCurrentIndex(panel.flag.findData("evasive"))
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.search_now()
    assert panel.hits == []
    # While blind, a flag that tells the kind of model is neither shown on hits nor offered as a filter.
    suppressed = panel.flag.findData("thought_suppressed")
    panel.flag.setCurrentIndex(suppressed)
    panel.set_models_hidden(True)
    assert panel.flag.currentIndex() == 0 and not panel.flag.model().item(suppressed).isEnabled()
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.search_now()
    assert "thought" not in panel.results.itemWidget(panel.results.item(0)).text() and "hard_refusal" in panel.results.itemWidget(panel.results.item(0)).text()
    panel.set_models_hidden(False)
    assert panel.flag.model().item(suppressed).isEnabled()


def test_recompute_flags_says_how_many_then_what_changed(open_window, isolated_dirs, qtbot):
    run_id = flag_run(isolated_dirs / "notebook.sqlite", with_flags=False)  # answers saved before flags existed
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    assert all(not p.annotation_bar.suggestion_buttons for p in window.area.panes)
    assert window.commands.annotate.reflag in next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Annotate").actions()
    window.commands.annotate.reflag.trigger()
    dialog = window.reflagging.dialog
    qtbot.waitUntil(lambda: dialog.go.isEnabled(), timeout=WAIT_MS)
    assert dialog.count.text().startswith("2 answers will be flagged again")
    assert [b.text() for b in dialog.choices.buttons()] == [f"The run shown (#{run_id})", "Every run in the notebook"]
    # The panes redraw when the notebook announces the new flags, which may come before the
    # recompute reports its end: wait for both.
    with qtbot.waitSignals([window.reflagging.worker.finished, window.annotating.annotationsShown], timeout=WAIT_MS):
        qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    assert dialog.reflag_result is not None and dialog.reflag_result.complete
    assert dialog.outcome.text().startswith("Recomputed the flags of 2 of 2 answer(s): 2 changed, ")
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Close).text() == "Close"
    settle(qtbot, window)
    stored = opened.workspace.notebook.annotations.for_run(run_id).responses
    for pane in window.area.panes:
        assert list(pane.annotation_bar.suggestion_buttons) == [f.name for f in stored[pane.response_id].flags]
        assert pane.annotation_bar.suggestion_buttons
    dialog.close()


def test_stop_ends_a_recompute_between_runs_and_says_what_was_done(open_window, isolated_dirs, qtbot, monkeypatch):
    from workbench.core import flagging
    from workbench.ui.annotate import reflagging

    monkeypatch.setattr(flagging, "RUNS_PER_CHUNK", 1)
    for _ in range(3):
        flag_run(isolated_dirs / "notebook.sqlite", with_flags=False)
    real = reflagging.reflag

    def slowly(notebook, selection, *, progress, cancel):
        def step(done, total):
            progress(done, total)
            cancel.wait(WAIT_MS / 1000)  # each chunk waits until Stop: the test decides when it ends
        return real(notebook, selection, progress=step, cancel=cancel)

    monkeypatch.setattr(reflagging, "reflag", slowly)
    window = open_window([]).window
    window.commands.annotate.reflag.trigger()
    dialog = window.reflagging.dialog
    qtbot.waitUntil(lambda: dialog.go.isEnabled(), timeout=WAIT_MS)
    assert [b.text() for b in dialog.choices.buttons()] == ["Every run in the notebook"]
    dialog.go.click()
    qtbot.waitUntil(lambda: dialog.bar.value() == 2, timeout=WAIT_MS)  # the first run's two answers
    assert dialog.close_button.text() == "Stop"
    with qtbot.waitSignal(window.reflagging.worker.finished, timeout=WAIT_MS):
        dialog.close_button.click()
    assert dialog.reflag_result.cancelled and dialog.reflag_result.answers == 2
    assert "2 of 6 answer(s)" in dialog.outcome.text() and "Stopped before the end" in dialog.outcome.text()
    assert dialog.close_button.text() == "Close" and dialog.close_button.isEnabled()
    dialog.close_button.click()
    assert not dialog.isVisible()


def test_recompute_flags_of_the_batch_shown_scores_its_items_again(open_window, tmp_path, qtbot, monkeypatch):
    from batch_notebooks import notebook_with_batch

    from workbench.core.analysis import analyse_response

    notebook, batch, _ids = notebook_with_batch(tmp_path / "hand")  # flags written by hand, no divergence scores
    notebook.close()
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "hand" / "nb.sqlite"))
    opened = open_window([])
    window = opened.window
    batches = window.open_batches()
    qtbot.waitUntil(lambda: batches.matrix.data_ is not None, timeout=WAIT_MS)
    window.commands.annotate.reflag.trigger()
    dialog = window.reflagging.dialog
    batch_choice = next(b for b in dialog.choices.buttons() if b.text().startswith(f"Batch {batch.id}, shown in the Batches window"))
    batch_choice.setChecked(True)
    qtbot.waitUntil(lambda: dialog.go.isEnabled() and dialog.count.text().startswith("7 answers"), timeout=WAIT_MS)  # not the failed one
    with qtbot.waitSignal(window.reflagging.worker.finished, timeout=WAIT_MS):
        dialog.go.click()
    assert dialog.reflag_result.complete and dialog.reflag_result.divergences == 4
    settle(qtbot, window)
    items = {item.prompt_id: item for item in opened.workspace.notebook.batches.items(batch.id)}
    expected = {p: set(analyse_response(i.prompt, "text", prompt_lang=i.language).flags) for p, i in items.items()}
    rows = opened.workspace.notebook.batches.responses(batch.id)
    assert all(set(r["flags"]) == expected[r["prompt_id"]] for r in rows if r["finish_reason"] == "stop")
    scored = {item.prompt_id: item.divergence is not None for item in opened.workspace.notebook.batches.items(batch.id)}
    assert scored == {"q1-en": True, "q1-zh": True, "q2-en": True, "q2-zh": False}  # q2-zh: one answer failed, one is no pair
    by_id = {i.id: p for p, i in items.items()}
    qtbot.waitUntil(
        lambda: all(set(c.flags) == expected[by_id[item_id]] for (item_id, _pos), c in batches.matrix.data_.cells.items() if c.status == "stop"),
        timeout=WAIT_MS,
    )
    dialog.close()
