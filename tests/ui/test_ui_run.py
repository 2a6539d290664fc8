"""Running a comparison in the real window: streaming, the notebook, stop, crashes, reruns."""

from __future__ import annotations

import os
import re
import signal

from gguf_factory import write_tiny_model
from PySide6.QtCore import Qt
from window_helpers import WAIT_MS, run_and_wait

from workbench.core.engine.backend import FINISH_CRASHED, FINISH_ERROR, FINISH_LENGTH, FINISH_STOPPED


def notebook_rows(workspace, run_id):
    return workspace.notebook.run(run_id)["responses"]


def test_two_panes_stream_and_match_the_notebook(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    names = [pane.entry.name if pane.entry else None for pane in window.area.panes]
    assert sorted(names) == ["Qwen2.5 Tiny", "SmolLM2 Tiny"]

    window.prompt_bar.prompt.setPlainText("Say hello")
    outcome = run_and_wait(qtbot, window)

    rows = notebook_rows(opened.workspace, outcome.run_id)
    assert [row["model_name"] for row in rows] == names
    for index, (pane, row) in enumerate(zip(window.area.panes, rows)):
        assert row["finish_reason"] == FINISH_LENGTH
        assert row["text"], "the tiny model always writes something"
        assert pane.answer_text == row["text"] == opened.recorder.streams.answer[index]
        assert pane.reasoning_text == row["reasoning"] == ""
        assert "reached max tokens" in pane.status_label.text()
        assert f"{row['completion_tokens']} tokens" in pane.status_label.text()
        assert f"Run #{outcome.run_id}" in pane.caption_label.text()
    assert opened.workspace.notebook.run(outcome.run_id)["prompt"] == "Say hello"
    assert window.history.run_ids == [outcome.run_id]


def test_ctrl_enter_runs_from_the_prompt_box(open_window, tiny_models, qtbot):
    window = open_window([tiny_models]).window
    window.prompt_bar.prompt.setFocus()
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS):
        qtbot.keyClick(window.prompt_bar.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.prompt_bar.prompt_text == window.workspace.notebook.recent_runs(1)[0]["prompt"]


def test_escape_stops_mid_run_and_keeps_the_text(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    # Long enough that the tiny model (over 1,000 tokens/s here) can't finish
    # while the test waits for the live figures before pressing Esc.
    window.settings_form.n_ctx.setValue(8192)
    window.settings_form.max_tokens.setValue(8000)
    stopped, live = [], []
    figures = re.compile(r"generating… · \d+ tokens · [\d.]+ tokens/s · first token [\d.]+ s")

    def stop_soon(pane: int) -> None:
        """Wait for the live figures to show (however busy the machine), read them, then press Esc."""
        if not stopped:
            stopped.append(pane)
            status = window.area.panes[0].status_label
            qtbot.waitUntil(lambda: figures.fullmatch(status.text()) is not None, timeout=WAIT_MS)
            live.append(status.text())
            qtbot.keyClick(window.prompt_bar.prompt, Qt.Key.Key_Escape)

    opened.recorder.first_text = stop_soon
    outcome = run_and_wait(qtbot, window)

    assert stopped == [0]
    assert figures.fullmatch(live[0]), live
    first, second = notebook_rows(opened.workspace, outcome.run_id)
    assert first["finish_reason"] == FINISH_STOPPED
    assert first["completion_tokens"] < 8000
    assert window.area.panes[0].answer_text == first["text"] == opened.recorder.streams.answer[0]
    assert "stopped" in window.area.panes[0].status_label.text()
    assert second["finish_reason"] == FINISH_STOPPED  # never started: the run was stopped first
    assert window.area.panes[1].error_label.isVisibleTo(window)
    assert window.commands.run.run.isEnabled() and not window.commands.run.stop.isEnabled()


def test_a_killed_model_fails_alone(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.settings_form.max_tokens.setValue(1500)
    killed = []

    def kill_at_first_text(pane: int) -> None:
        if pane == 0 and not killed:
            (model,) = opened.workspace.pool.loaded()
            os.kill(model.pid, signal.SIGKILL)
            killed.append(model.pid)

    opened.recorder.first_text = kill_at_first_text
    outcome = run_and_wait(qtbot, window)

    assert killed
    crashed, survivor = notebook_rows(opened.workspace, outcome.run_id)
    assert crashed["finish_reason"] == FINISH_CRASHED
    assert "crashed" in crashed["error"]
    first_pane, second_pane = window.area.panes
    assert first_pane.error_label.isVisibleTo(window)
    assert first_pane.error_label.text() == crashed["error"]
    assert first_pane.answer_text == crashed["text"]
    assert "crashed · about" in first_pane.status_label.text()  # the count of pieces that arrived
    assert survivor["finish_reason"] == FINISH_LENGTH
    assert second_pane.answer_text == survivor["text"] != ""
    assert not second_pane.error_label.isVisibleTo(window)

    # The app is alive: the crashed model loads again on the next run.
    window.settings_form.max_tokens.setValue(8)
    again = run_and_wait(qtbot, window)
    assert [r["finish_reason"] for r in notebook_rows(opened.workspace, again.run_id)] == [FINISH_LENGTH, FINISH_LENGTH]


def test_a_model_that_cannot_load_shows_its_error_in_its_pane(open_window, tiny_models, qtbot):
    write_tiny_model(tiny_models / "Broken.gguf", name="Broken Model", architecture="nonexistent")
    opened = open_window([tiny_models])
    window = opened.window
    broken = next(e for e in window.models.entries if e.name == "Broken Model")
    window.library_control.use_model(broken.id, 1)

    outcome = run_and_wait(qtbot, window)

    good, bad = notebook_rows(opened.workspace, outcome.run_id)
    assert bad["finish_reason"] == FINISH_ERROR and bad["model_name"] == "Broken Model"
    assert window.area.panes[1].error_label.text() == bad["error"]
    assert "could not load" in bad["error"]
    assert good["finish_reason"] == FINISH_LENGTH
    assert window.area.panes[0].answer_text == good["text"] != ""


def test_rerun_one_pane_is_its_own_run_with_the_same_seed(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    first = run_and_wait(qtbot, window)
    other_text = window.area.panes[0].answer_text

    pane = window.area.panes[1]
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as finished:
        pane.rerun_button.click()
    rerun = finished.args[0]

    assert rerun.run_id != first.run_id
    (row,) = notebook_rows(opened.workspace, rerun.run_id)
    (original,) = [r for r in notebook_rows(opened.workspace, first.run_id) if r["position"] == 1]
    assert row["seed"] == original["seed"]
    assert row["text"] == original["text"]  # temperature 0, same seed: the same answer
    assert pane.answer_text == row["text"]
    assert "this pane only" in pane.caption_label.text()
    assert window.area.panes[0].answer_text == other_text  # the other pane is untouched


def test_rerun_all_reuses_the_seed_even_with_random_seeds(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.settings_form.random_seed.setChecked(True)
    window.settings_form.temperature.setValue(1.0)
    first = run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.runFinished, timeout=WAIT_MS) as finished:
        window.commands.run.rerun.trigger()
    again = finished.args[0]
    before = notebook_rows(opened.workspace, first.run_id)
    after = notebook_rows(opened.workspace, again.run_id)
    assert [r["seed"] for r in after] == [r["seed"] for r in before]
    assert [r["text"] for r in after] == [r["text"] for r in before]
    third = run_and_wait(qtbot, window)  # a plain run draws a new seed
    assert notebook_rows(opened.workspace, third.run_id)[0]["seed"] != before[0]["seed"]


def test_parallel_schedule_runs_both(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    window.commands.run.schedule["parallel"].trigger()
    assert window.prompt_bar.schedule_key == "parallel"
    outcome = run_and_wait(qtbot, window)
    assert opened.workspace.notebook.run(outcome.run_id)["schedule"] == "parallel"
    assert all(r["finish_reason"] == FINISH_LENGTH for r in notebook_rows(opened.workspace, outcome.run_id))


def test_pane_override_settings_are_used(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    pane = window.area.panes[0]
    dialog = window.setup.edit_pane_settings(pane)
    dialog.use_shared.setChecked(False)
    dialog.form.max_tokens.setValue(5)
    dialog.form.seed.setValue(1234)
    dialog.ok_button.click()
    assert pane.override is not None and "Own settings" in pane.settings_label.text()

    outcome = run_and_wait(qtbot, window)
    own, shared = notebook_rows(opened.workspace, outcome.run_id)
    assert (own["seed"], own["sampler"]["max_tokens"]) == (1234, 5)
    assert (shared["seed"], shared["sampler"]["max_tokens"]) == (0, 24)
    assert len(own["text"]) < len(shared["text"])


def test_system_prompt_is_sent_and_saved(open_window, tiny_models, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    assert not window.prompt_bar.system_prompt.isVisibleTo(window)
    window.prompt_bar.system_toggle.click()
    window.prompt_bar.system_prompt.setPlainText("Answer in one word.")
    assert window.prompt_bar.system_prompt.isVisibleTo(window)
    assert "●" in window.prompt_bar.system_toggle.text()
    outcome = run_and_wait(qtbot, window)
    run = opened.workspace.notebook.run(outcome.run_id)
    assert run["system_prompt"] == "Answer in one word."
    assert all(r["sampler"]["system_prompt"] == "Answer in one word." for r in run["responses"])


def test_an_empty_prompt_does_not_run(open_window, tiny_models, qtbot):
    window = open_window([tiny_models]).window
    window.prompt_bar.prompt.setPlainText("   ")
    window.commands.run.run.trigger()
    assert not window.running
    assert window.statusBar().currentMessage() == "Type a question first."


def test_an_answer_the_notebook_refused_says_so_in_its_pane(open_window, tiny_models, qtbot, monkeypatch):
    """Another program holds the notebook for longer than a save waits: the text stays on
    screen, and the pane, not only the message bar, says it is not saved."""
    import sqlite3

    from workbench.core import comparison
    from workbench.core.notebook.database import Notebook

    monkeypatch.setattr(comparison, "SAVE_PATIENCE_S", 1.0)
    monkeypatch.setattr(comparison, "SAVE_RETRY_S", 0.2)
    opened = open_window([tiny_models])
    window = opened.window
    lockers: list[sqlite3.Connection] = []
    real = Notebook.finish_response

    def finish_response(self, response_id, **fields):
        if not lockers:
            lockers.append(sqlite3.connect(self.path, isolation_level=None, check_same_thread=False))
            lockers[0].execute("begin immediate")
        return real(self, response_id, **fields)

    monkeypatch.setattr(Notebook, "finish_response", finish_response)
    try:
        outcome = run_and_wait(qtbot, window)
    finally:
        for locker in lockers:
            locker.execute("rollback")
            locker.close()
    assert [r.unsaved.what for r in outcome.responses] == ["answer", "answer"]
    for pane, response in zip(window.area.panes, outcome.responses):
        assert pane.answer_text == response.answer != ""
        assert pane.error_label.isVisibleTo(window)
        assert pane.error_label.text().startswith("This answer is NOT saved in the notebook: ")
        assert "locked by another program" in pane.error_label.text()
