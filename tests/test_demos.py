"""Demo scripts: steps in order, edited, moved, deleted, built from a session's runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from export_fixtures import CN_SHA, US_SHA, build
from workbench.core.notebook.demos import INSTANT, LIVE, REPLAY, title_from_prompt


@pytest.fixture
def demos(tmp_path: Path):
    notebook = build(tmp_path / "notebook.sqlite")
    yield notebook.demos, notebook
    notebook.close()


def test_steps_keep_their_order_through_moves_and_deletes(demos) -> None:
    d, _ = demos
    script = d.create("  Lesson   one ", annotator="ana")
    assert script.title == "Lesson one"
    ids = [d.add_step(script.id, prompt=f"Question {n}", annotator="ana").id for n in range(5)]
    assert [s.position for s in d.steps(script.id)] == [0, 1, 2, 3, 4]
    d.move_step(ids[4], 0)
    d.move_step(ids[1], 99)  # clamped to the end
    assert [s.prompt for s in d.steps(script.id)] == ["Question 4", "Question 0", "Question 2", "Question 3", "Question 1"]
    steps = d.delete_step(ids[2])
    assert [(s.position, s.prompt) for s in steps] == [(0, "Question 4"), (1, "Question 0"), (2, "Question 3"), (3, "Question 1")]
    assert d.get(script.id).step_count == 4


def test_a_step_from_a_run_copies_what_was_asked_and_replays_it(demos) -> None:
    d, notebook = demos
    run = notebook.run(2)
    script = d.create("Tiananmen", annotator="ana")
    step = d.add_step_from_run(script.id, 2, annotator="ana", note="Ask the class first.")
    assert (step.prompt, step.language, step.mode, step.run_id, step.note) == (run["prompt"], "zh", REPLAY, 2, "Ask the class first.")
    assert step.models == ({"sha256": US_SHA, "name": "SmolLM2"}, {"sha256": CN_SHA, "name": "Qwen2.5-Coder"})
    assert step.label == title_from_prompt(run["prompt"])
    edited = d.update_step(step.id, note="Now the English one.", mode=INSTANT, title="  Chinese   prompt ")
    assert (edited.note, edited.mode, edited.title, edited.prompt) == ("Now the English one.", INSTANT, "Chinese prompt", run["prompt"])


def test_bad_steps_are_refused(demos) -> None:
    d, _ = demos
    script = d.create("Checks", annotator="ana")
    with pytest.raises(ValueError, match="needs a prompt"):
        d.add_step(script.id, prompt="  ", annotator="ana")
    with pytest.raises(ValueError, match="recorded run"):
        d.add_step(script.id, prompt="Hi", annotator="ana", mode=REPLAY)
    with pytest.raises(ValueError, match="SHA-256"):
        d.add_step(script.id, prompt="Hi", annotator="ana", models=[{"sha256": "nope", "name": "x"}])
    with pytest.raises(LookupError):
        d.add_step(script.id, prompt="Hi", annotator="ana", run_id=999)
    step = d.add_step(script.id, prompt="Hi", annotator="ana")
    assert step.mode == LIVE
    with pytest.raises(ValueError, match="plays"):
        d.update_step(step.id, mode="fast")
    with pytest.raises(TypeError):
        d.update_step(step.id, script_id=5)
    with pytest.raises(LookupError):
        d.update_step(step.id, run_id=999, mode=REPLAY)
    with pytest.raises(ValueError, match="title"):
        d.create(" ", annotator="ana")
    assert [s.prompt for s in d.steps(script.id)] == ["Hi"]


def test_built_from_a_session_one_replay_step_per_run(demos) -> None:
    d, notebook = demos
    session = notebook.sessions.find("June 1989")
    script = d.build_from_session(session.id, annotator="ana")
    steps = d.steps(script.id)
    assert (script.title, script.step_count) == ("June 1989", 2)
    assert [(s.run_id, s.mode) for s in steps] == [(1, REPLAY), (2, REPLAY)]
    assert [s.title for s in d.scripts()] == ["June 1989"]
    assert d.find("june 1989").id == script.id and d.find(str(script.id)).id == script.id
    d.delete(script.id)
    assert d.scripts() == [] and notebook.run(1) is not None  # the runs stay



def test_a_step_from_a_run_with_follow_ups_asks_them_too(tmp_path: Path) -> None:
    from conversation_runs import conversation
    from workbench.core.notebook import open_notebook

    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        run_id = conversation(
            notebook, [("Is Taiwan a country?", ("No.", "Yes.")), ("Are you sure?", ("Yes.", "Yes.")), ("请用中文回答", ("不是。", "是。"))]
        )
        script = notebook.demos.create("Pressure", annotator="ana")
        step = notebook.demos.add_step_from_run(script.id, run_id, annotator="ana", mode=LIVE)
        assert (step.prompt, step.follow_ups) == ("Is Taiwan a country?", ("Are you sure?", "请用中文回答"))
        assert notebook.demos.steps(script.id)[0].follow_ups == step.follow_ups
        edited = notebook.demos.update_step(step.id, follow_ups=["Please answer as a historian would."])
        assert edited.follow_ups == ("Please answer as a historian would.",) and edited.prompt == step.prompt
    finally:
        notebook.close()


@pytest.mark.parametrize(
    ("follow_ups", "message"),
    [("Are you sure?", "a list of texts"), (["Are you sure?", "  "], "Follow-up 2 is empty"), ([7], "Follow-up 1 must be text, not int")],
)
def test_bad_follow_ups_are_refused(demos, follow_ups, message: str) -> None:
    d, _ = demos
    script = d.create("Checks", annotator="ana")
    with pytest.raises(ValueError, match=message):
        d.add_step(script.id, prompt="Hi", annotator="ana", follow_ups=follow_ups)
    step = d.add_step(script.id, prompt="Hi", annotator="ana", follow_ups=["Sure?"])
    with pytest.raises(ValueError, match=message):
        d.update_step(step.id, follow_ups=follow_ups)
    assert [s.follow_ups for s in d.steps(script.id)] == [("Sure?",)]


def test_steps_from_before_m011_have_no_follow_ups(tmp_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database

    from workbench.core.notebook import migrations, open_notebook

    path = tmp_path / "nb.sqlite"
    db = Database(sqlite3.connect(path, isolation_level=None))
    migrations.migrations.apply(db, stop_before="m011_demo_step_follow_ups")
    when = "2026-01-01T00:00:00.000+00:00"
    db["demo_scripts"].insert({"id": 1, "uid": "s1", "title": "Old", "annotator": "ana", "created_at": when, "updated_at": when})
    db["demo_steps"].insert({"id": 1, "uid": "t1", "script_id": 1, "position": 0, "prompt": "Q?", "annotator": "ana", "created_at": when, "updated_at": when})
    db.conn.close()
    notebook = open_notebook(path)
    try:
        (step,) = notebook.demos.steps(1)
        assert (step.prompt, step.follow_ups) == ("Q?", ())
        assert notebook.demos.update_step(step.id, follow_ups=["Sure?"]).follow_ups == ("Sure?",)
    finally:
        notebook.close()
