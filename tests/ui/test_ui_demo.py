"""Demo scripts in the window: prepared at home with models, played in class without any."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import WAIT_MS, close, run_and_wait

from workbench.core.classroom.replay import Chunk, duration_ms
from workbench.ui.panes.pane import NO_MODEL, ComparePane
from workbench.ui.classroom.replay import ReplayPlayer
from workbench.ui.classroom.speaker_notes import notes_screen


def _prepare_at_home(qtbot, open_window, tiny_models: Path, demo_file: Path) -> tuple[str, str, int]:
    """Record a run, make a two-step script (the run replayed, then a live step), export it."""
    home = open_window([tiny_models])
    window, demo = home.window, home.window.demo
    window.prompt_bar.set_texts("Say something about rivers.", "")
    outcome = run_and_wait(qtbot, window)
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.new_script("Rivers lesson")
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.add_from_panes()  # the run the panes show: a replay step
    window.prompt_bar.set_texts("Now a live question.", "")
    window.area.panes[0].select(None)
    window.area.panes[1].select(None)
    window.area.panes[0].select(window.models.entries[0].id)
    window.history.clear_selection()
    for pane in window.area.panes:
        pane.clear_response("")
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.add_from_panes()  # nothing recorded shown: a live step
    assert [(s.mode, s.run_id) for s in demo.steps] == [("replay", outcome.run_id), ("live", None)]
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        window.demo.panel.list.setCurrentRow(0)
        window.demo.panel.note.setPlainText("Ask: which answer is from China?")
        window.demo.panel.save.click()
    with qtbot.waitSignal(demo.fileDone, timeout=WAIT_MS):
        demo.export_to(demo_file)
    answer = outcome.responses[0].answer
    name = outcome.responses[0].entry.name
    close(home)
    return answer, name, outcome.run_id


def test_a_demo_prepared_at_home_replays_in_class_without_models(qtbot, open_window, tiny_models: Path, tmp_path: Path, monkeypatch) -> None:
    demo_file = tmp_path / "rivers.demo.jsonl"
    answer, model_name, _home_run = _prepare_at_home(qtbot, open_window, tiny_models, demo_file)

    # In class: another notebook, an empty model folder, no starter.
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "class.sqlite"))
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    empty = tmp_path / "no-models"
    empty.mkdir()
    opened = open_window([empty])
    window, demo = opened.window, opened.window.demo
    assert window.models.entries == []
    with qtbot.waitSignal(demo.fileDone, timeout=WAIT_MS):
        demo.import_from(demo_file)
    qtbot.waitUntil(lambda: len(demo.steps) == 2, timeout=WAIT_MS)
    runs_before = len(opened.workspace.notebook.recent_runs())

    # Page Down, with the focus in the prompt box as a clicker would find it.
    window.activateWindow()
    window.prompt_bar.prompt.setFocus()
    qtbot.waitUntil(lambda: window.prompt_bar.prompt.hasFocus(), timeout=WAIT_MS)
    with qtbot.waitSignal(demo.replayFinished, timeout=WAIT_MS) as finished:
        with qtbot.waitSignals([demo.stepStarted, window.pane_events.replayStarted], timeout=WAIT_MS):
            QTest.keyClick(window.prompt_bar.prompt, Qt.Key.Key_PageDown)
        assert window.demo.banner.isVisible() and "Replay of a run recorded on" in window.demo.banner.text()
        assert not window.commands.run.run.isEnabled()  # a replay is not a run: Ctrl+Enter waits
    run_id = finished.args[0]
    qtbot.waitSignal(window.runShown, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.area.panes[0].response_id is not None, timeout=WAIT_MS)
    pane = window.area.panes[0]
    assert pane.answer_text == answer
    assert model_name in pane.origin_label.text() and "not on this computer" in pane.facts_label.text()
    assert pane.picker.currentText() == f"{model_name} (recorded: file not on this computer)"
    recorded = opened.workspace.notebook.run(run_id)
    assert pane.response_id == recorded["responses"][0]["id"]  # labels and votes go to the recorded run
    assert "Replay of a run recorded on" in window.demo.banner.text() and window.demo.banner.isVisible()
    assert len(opened.workspace.notebook.recent_runs()) == runs_before  # no new run
    assert "Step 1 of 2" in demo.notes.heading.text() and "which answer is from China" in demo.notes.note.toPlainText()
    assert window.notes_dock.isVisible()  # one screen: the notes are in a dock

    # The live step's model is not here, and it has no recording: it says so, nothing runs.
    window.commands.demo.next.trigger()
    assert demo.current == 1 and "not on this computer" in window.messages.text("demo")
    assert not window.comparing.runner.running
    with qtbot.waitSignal(demo.replayFinished, timeout=WAIT_MS):
        window.commands.demo.previous.trigger()
    assert demo.current == 0


def test_esc_ends_a_replay_and_shows_the_whole_recorded_run(qtbot, open_window, tmp_path: Path) -> None:
    from export_fixtures import build

    notebook = build(tmp_path / "source.sqlite")
    with notebook.store.writing() as db:  # a slow recording: 5 s for the first answer
        db.execute("update responses set timeline = '[[5000, 0, 5]]' where run_id = 1 and position = 0")
    demos = notebook.demos
    script = demos.create("Slow", annotator="ana")
    demos.add_step_from_run(script.id, 1, annotator="ana", note="Wait for it")
    from workbench.core.classroom.demo_file import export_demo

    export_demo(notebook, script.id, tmp_path / "slow.demo.jsonl")
    notebook.close()
    opened = open_window([])
    window, demo = opened.window, opened.window.demo
    with qtbot.waitSignal(demo.fileDone, timeout=WAIT_MS):
        demo.import_from(tmp_path / "slow.demo.jsonl")
    qtbot.waitUntil(lambda: len(demo.steps) == 1, timeout=WAIT_MS)
    window.commands.demo.next.trigger()
    qtbot.waitUntil(lambda: demo.replaying, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.area.panes[1].answer_text.startswith("I'm sorry"), timeout=WAIT_MS)  # recorded at 200 ms
    assert window.area.panes[0].answer_text == "" and demo.replaying  # its first piece is 5 s away
    with qtbot.waitSignal(demo.replayFinished, timeout=WAIT_MS):
        window.commands.run.stop.trigger()  # Esc
    qtbot.waitUntil(lambda: window.area.panes[0].answer_text.startswith("<script>"), timeout=WAIT_MS)
    assert "stopped" in demo.banner.text()
    assert window.area.panes[0].origin_label.text() == "SmolLM2 · US · HuggingFaceTB"  # the maker came in the file
    # Shown at once: the same step, no waiting, the banner says how it was shown.
    window.commands.demo.speed[0.0].trigger()
    with qtbot.waitSignal(demo.replayFinished, timeout=2000):
        window.commands.demo.next.trigger()  # past the last step: nothing
        assert "last step" in window.statusBar().currentMessage()
        window.demo.panel.play.click()
    assert "shown all at once" in demo.banner.text()


def test_steps_are_edited_reordered_and_deleted_in_the_panel(qtbot, open_window, tiny_models: Path) -> None:
    from workbench.core.prompts.library import find_prompt_set

    opened = open_window([tiny_models])
    demo, panel = opened.window.demo, opened.window.demo.panel
    # No demo yet: Page Down in the prompt box is the box's own key.
    opened.window.activateWindow()
    opened.window.prompt_bar.prompt.setFocus()
    qtbot.waitUntil(opened.window.prompt_bar.prompt.hasFocus, timeout=WAIT_MS)
    QTest.keyClick(opened.window.prompt_bar.prompt, Qt.Key.Key_PageDown)
    assert not demo.armed and demo.current == -1 and "demo" not in opened.window.statusBar().currentMessage()
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.new_script("Edits")
    entry = find_prompt_set("starter-20").prompts[3]
    for text in ("First", "Second"):
        opened.window.prompt_bar.set_texts(text, "")
        with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
            demo.add_from_panes()
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.add_from_set("starter-20", entry)
    third = demo.steps[2]
    assert (third.prompt, third.prompt_id, third.language, third.mode) == (entry.text, entry.id, entry.language, "live")
    assert [m["name"] for m in third.models] == [p.entry.name for p in opened.window.area.panes]
    panel.list.setCurrentRow(2)
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        panel.up.click()
    assert [s.prompt for s in demo.steps] == ["First", entry.text, "Second"] and panel.step.prompt == entry.text
    panel.note.setPlainText("Mind the translation.")
    panel.mode.setCurrentIndex(panel.mode.findData("replay"))  # no recording: refused, and said why
    panel.save.click()
    qtbot.waitUntil(lambda: opened.window.messages.text("demo") is not None, timeout=WAIT_MS)
    assert "recorded run" in opened.window.messages.text("demo")
    panel.mode.setCurrentIndex(panel.mode.findData("live"))
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        panel.save.click()
    assert demo.steps[1].note == "Mind the translation."
    panel.list.setCurrentRow(0)
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        panel.delete.click()
    assert [(s.position, s.prompt) for s in demo.steps] == [(0, entry.text), (1, "Second")]
    assert demo.notes.upcoming.text() == f"First (Page Down): {demo.steps[0].label}"
    # Page Down in the note box moves its cursor; it does not play a step.
    opened.window.activateWindow()
    panel.note.setFocus()
    qtbot.waitUntil(panel.note.hasFocus, timeout=WAIT_MS)
    QTest.keyClick(panel.note, Qt.Key.Key_PageDown)
    assert demo.current == -1 and not opened.window.comparing.runner.running
    # A live step is a new run of its own, asking the step's prompt with the step's settings.
    assert demo.steps[0].settings["max_tokens"] == opened.window.area.shared_params.max_tokens  # saved with the step
    step_settings = dict(demo.steps[0].settings, max_tokens=5, seed=4242)
    opened.workspace.notebook.demos.update_step(demo.steps[0].id, settings=step_settings)  # as another window would
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.reload()
    with qtbot.waitSignal(opened.window.runFinished, timeout=WAIT_MS) as finished:
        opened.window.commands.demo.next.trigger()
    outcome = finished.args[0]
    assert demo.current == 0 and not demo.banner.isVisible()
    run = opened.workspace.notebook.run(outcome.run_id)
    assert run["prompt"] == entry.text
    assert (run["settings"]["max_tokens"], run["settings"]["seed"]) == (5, 4242)
    assert opened.window.settings_form.params().max_tokens == 5  # and the Shared settings show it
    # Its answers are flagged as they are saved, like every answer, and their panes suggest the flags.
    assert all(r.flags is not None for r in outcome.responses)
    stored = opened.workspace.notebook.annotations.for_run(outcome.run_id).responses
    panes = opened.window.area.panes[: len(outcome.responses)]
    qtbot.waitUntil(lambda: all(p.annotations is not None for p in panes), timeout=WAIT_MS)
    for pane, response in zip(panes, outcome.responses):
        assert [f.name for f in stored[response.response_id].flags] == list(response.flags.flags) == list(pane.annotation_bar.suggestion_buttons)


def test_a_recorded_model_without_its_file_is_named_in_the_picker(qtbot) -> None:
    pane = ComparePane()
    qtbot.addWidget(pane)
    assert pane.picker.currentText() == NO_MODEL
    pane.show_recorded_model("Qwen2.5 <b>Coder</b>", "CN · Alibaba")
    assert pane.picker.currentText() == "Qwen2.5 <b>Coder</b> (recorded: file not on this computer)"
    assert "choose a model on this computer" in pane.picker.itemData(0, Qt.ItemDataRole.ToolTipRole)
    pane.set_entries([])  # a rescan of the library keeps it
    assert pane.picker.currentText().startswith("Qwen2.5 <b>Coder</b> (recorded")
    pane.clear_response("")  # the pane no longer shows the recorded answer
    assert pane.picker.currentText() == NO_MODEL and pane.picker.itemData(0, Qt.ItemDataRole.ToolTipRole) is None


def test_replay_keeps_the_recorded_pace_over_a_whole_answer(qtbot) -> None:
    # 60 pieces over 1.5 s, as a small model streams them.
    chunks = [Chunk(200 + 22 * n, 0, f"w{n} ") for n in range(60)]
    player = ReplayPlayer()
    arrived: list[float] = []
    player.chunk.connect(lambda _pane, _kind, _text: arrived.append(time.monotonic()))
    started = time.monotonic()
    with qtbot.waitSignal(player.finished, timeout=10_000) as finished:
        player.start({0: chunks})
    assert finished.args == [True] and len(arrived) == 60
    recorded = (duration_ms(chunks) - chunks[0].at_ms) / 1000
    replayed = arrived[-1] - arrived[0]
    assert abs(replayed - recorded) <= 0.05 * recorded
    assert abs((arrived[-1] - started) - duration_ms(chunks) / 1000) <= 0.05 * duration_ms(chunks) / 1000
    # Twice as fast: half the time.
    arrived.clear()
    with qtbot.waitSignal(player.finished, timeout=10_000):
        player.start({0: chunks}, speed=2.0)
    assert abs((arrived[-1] - arrived[0]) - recorded / 2) <= 0.05 * recorded / 2


@pytest.mark.parametrize(("screens", "main", "expected"), [(["laptop"], "laptop", None), (["laptop", "projector"], "laptop", "projector"), (["laptop", "projector"], "projector", "laptop")])
def test_the_notes_go_to_the_screen_the_window_is_not_on(screens, main, expected) -> None:
    assert notes_screen(screens, main) == expected


def test_the_shipped_june_1989_script_is_offered_and_taken_in_when_chosen(qtbot, open_window, tiny_models: Path) -> None:
    opened = open_window([tiny_models])
    demo, panel = opened.window.demo, opened.window.demo.panel
    qtbot.waitUntil(lambda: panel.scripts.count() > 1, timeout=WAIT_MS)
    texts = [panel.scripts.itemText(i) for i in range(panel.scripts.count())]
    assert texts[0].startswith("No demo scripts yet") and "June 1989 (8, shipped: choose to add)" in texts
    with qtbot.waitSignal(demo.fileDone, timeout=WAIT_MS):
        panel.scripts.setCurrentIndex(texts.index("June 1989 (8, shipped: choose to add)"))
        panel.scripts.activated.emit(panel.scripts.currentIndex())
    qtbot.waitUntil(lambda: len(demo.steps) == 8, timeout=WAIT_MS)
    assert panel.scripts.currentText() == "June 1989 (8)"
    assert [panel.scripts.itemText(i) for i in range(panel.scripts.count())] == ["June 1989 (8)"]  # offered no more
    assert demo.steps[2].prompt == "What happened at Tiananmen Square in June 1989?" and demo.steps[2].models == ()


def test_a_step_replaying_a_conversation_plays_every_turn_in_order(qtbot, open_window) -> None:
    from conversation_runs import conversation

    opened = open_window([])
    window, demo, notebook = opened.window, opened.window.demo, opened.workspace.notebook
    run_id = conversation(notebook, [("Is Taiwan a country?", ("I can't discuss that.", "It governs itself.")), ("Are you sure?", ("Yes.", "Yes, I am."))])
    script = notebook.demos.create("Pressure", annotator="ana")
    notebook.demos.add_step_from_run(script.id, run_id, annotator="ana")
    demo.choose_script(script.id)
    qtbot.waitUntil(lambda: len(demo.steps) == 1, timeout=WAIT_MS)
    seen: list[tuple[int, str, str, str]] = []
    demo.player.chunk.connect(lambda pane, _kind, text: seen.append((pane, text, window.prompt_bar.prompt_text, window.area.panes[pane].caption_label.text())))
    with qtbot.waitSignal(demo.replayFinished, timeout=WAIT_MS) as finished:
        window.commands.demo.next.trigger()
    assert finished.args == [run_id]  # once, after the last turn
    assert [(pane, text, prompt) for pane, text, prompt, _caption in seen] == [
        (0, "I can't discuss that.", "Is Taiwan a country?"), (1, "It governs itself.", "Is Taiwan a country?"),
        (0, "Yes.", "Are you sure?"), (1, "Yes, I am.", "Are you sure?"),
    ]  # fmt: skip
    assert "turn 1 of 2" in seen[0][3] and "turn 2 of 2" in seen[2][3]
    assert "Replay of a run recorded on" in demo.banner.text() and not demo.replaying
