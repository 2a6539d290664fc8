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

