"""Blind comparison keeps the models' names off the whole window, not only off the panes.

The window here has no model files, so the library (which lists the computer's
models, not who wrote which answer) is empty and every name on screen comes
from the notebook's runs: the panes, History, Search, the demo panel and the
speaker notes.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from window_helpers import WAIT_MS, make_run
from window_texts import window_texts

from workbench.core.notebook import open_notebook

# The runs' models and their origins as the window would spell them.
LEAKS = re.compile(r"SmolLM2|Qwen2\.5|China|United States|\bUS\b|\bCN\b")


def test_blind_hides_every_name_of_the_runs_models_until_it_ends(open_window, isolated_dirs, qtbot):
    path = isolated_dirs / "notebook.sqlite"
    run_id = make_run(path)
    make_run(path, prompt="Who are you?")
    notebook = open_notebook(path)
    demos = notebook.demos
    script = demos.create("Lesson", annotator="ana")
    demos.add_step_from_run(script.id, run_id, annotator="ana", note="Who said what?")
    notebook.close()
    window = open_window([]).window
    for dock in (window.history_dock, window.search_dock, window.sessions_dock, window.demo_dock, window.notes_dock):
        dock.show()
    with qtbot.waitSignal(window.demo.scriptsLoaded, timeout=WAIT_MS):
        window.demo.choose_script(script.id)
    with qtbot.waitSignal(window.demo.replayFinished, timeout=WAIT_MS):
        window.commands.demo.next.trigger()  # the step's notes name its models; its run is shown
    qtbot.waitUntil(lambda: window.area.panes[0].response_id is not None, timeout=WAIT_MS)
    search = window.annotating.search
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        search.query.setText("army")  # a hit in SmolLM2's answer
    shown = window_texts(window)
    assert "SmolLM2" in shown and "Qwen2.5" in shown  # the test sees the names where they are

    window.commands.present.blind.setChecked(True)
    blind = window_texts(window)
    assert not LEAKS.findall(blind), LEAKS.findall(blind)
    assert "models hidden (blind comparison)" in blind and "Model A" in blind

    window.presentation.blind.reveal_all()  # the panes name their models; the other views wait for blind to end
    assert "Model A: SmolLM2" in window_texts(window)
    window.commands.present.blind.setChecked(False)
    shown = window_texts(window)
    for where in (window.history, search, window.demo.panel, window.demo.notes):
        assert "SmolLM2" in window_texts(where), where
    assert "models hidden" not in shown


def test_votes_during_a_replay_go_to_the_replayed_run(open_window, isolated_dirs, qtbot, monkeypatch):
    from export_fixtures import build

    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "dee")
    notebook = build(isolated_dirs / "notebook.sqlite")
    with notebook.store.writing() as db:  # run 1 replays slowly: its first answer's first piece is 5 s in
        db.execute("update responses set timeline = '[[5000, 0, 5]]' where run_id = 1 and position = 0")
    demos = notebook.demos
    script = demos.create("Two runs", annotator="ana")
    demos.add_step_from_run(script.id, 2, annotator="ana")
    demos.add_step_from_run(script.id, 1, annotator="ana")
    notebook.close()
    opened = open_window([])
    window, demo, blind = opened.window, opened.window.demo, opened.window.presentation.blind
    window.commands.present.blind.setChecked(True)
    with qtbot.waitSignal(demo.scriptsLoaded, timeout=WAIT_MS):
        demo.choose_script(script.id)
    with qtbot.waitSignal(demo.replayFinished, timeout=WAIT_MS):
        window.commands.demo.next.trigger()
    qtbot.waitUntil(lambda: blind.bar.tally is not None and blind.bar.tally.run_id == 2, timeout=WAIT_MS)

    window.commands.demo.next.trigger()  # run 1, still replaying while the class votes
    qtbot.waitUntil(lambda: demo.replaying and blind.bar.tally is not None and blind.bar.tally.run_id == 1, timeout=WAIT_MS)
    with qtbot.waitSignal(blind.tallyShown, timeout=WAIT_MS):
        qtbot.mouseClick(blind.bar.buttons["pane:0"], Qt.MouseButton.LeftButton)
    assert demo.replaying and window.area.panes[0].answer_text == ""  # the vote came before the answer
    votes = opened.workspace.notebook.votes
    assert votes.tally(1).by_annotator["dee"] == {"pane:0": 1}
    assert "dee" not in votes.tally(2).by_annotator
    demo.stop()


def test_the_vote_offers_only_the_answers_still_on_screen(open_window, isolated_dirs, qtbot):
    """Issue 17, item 10: a run of four answers, two panes removed: no Model C or D to vote for."""
    path = isolated_dirs / "notebook.sqlite"
    notebook = open_notebook(path)
    run_id = notebook.create_run("Who are you?", language="en")
    for position, name in enumerate(("SmolLM2", "Qwen2.5", "Llama", "Mistral")):
        rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country="US", seed=1, sampler={})
        notebook.finish_response(rid, text=f"I am {name}.", finish_reason="stop")
    notebook.close()
    window = open_window([]).window
    window.commands.present.blind.setChecked(True)
    blind = window.presentation.blind
    with qtbot.waitSignal(blind.tallyShown, timeout=WAIT_MS):
        window.history.select_run(run_id)

    def shown() -> list[str]:
        return [b.text() for b in blind.bar.buttons.values() if b.isVisibleTo(window)]

    assert shown() == ["Model A · 0", "Model B · 0", "Model C · 0", "Model D · 0", "Tie · 0"]
    window.area.remove_pane(window.area.panes[1])  # Model B's pane: the others keep their letters
    assert [pane.blind_letter for pane in window.area.panes] == ["A", "C", "D"]
    assert shown() == ["Model A · 0", "Model C · 0", "Model D · 0", "Tie · 0"]
    window.area.set_count(2)
    assert shown() == ["Model A · 0", "Model C · 0", "Tie · 0"]
    assert blind.bar.choices == ["pane:0", "pane:2", "tie"] and blind.bar.choice_for_key("D") is None
    window.area.set_count(3)  # a pane added back is empty: still no Model D to vote for
    assert blind.bar.choices == ["pane:0", "pane:2", "tie"]
