"""Demo files: a script and the runs it replays travel in one file, and arrive once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from export_fixtures import build, snapshot
from workbench.core.classroom.demo_file import export_demo, import_demo
from workbench.core.notebook.demos import LIVE, REPLAY
from workbench.core.notebook.votes import TIE
from workbench.core.export import ImportProblem, import_jsonl
from workbench.core.notebook import open_notebook


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    notebook = build(tmp_path / "home.sqlite")
    demos = notebook.demos
    script = demos.create("Five steps", annotator="ana", description="For Monday")
    for run_id in (1, 2, 3):
        demos.add_step_from_run(script.id, run_id, annotator="ana", note=f"Note {run_id} <script>alert(1)</script>")
    demos.add_step(script.id, prompt="Ask live: who are you?", annotator="ana", models=[{"sha256": "a" * 64, "name": "SmolLM2"}], note="Live")
    demos.add_step_from_run(script.id, 1, annotator="ana", mode="instant", note="Once more, at once")
    path = tmp_path / "monday.demo.jsonl"
    export_demo(notebook, script.id, path)
    notebook.close()
    return path


def test_a_demo_arrives_whole_in_an_empty_notebook_and_a_second_import_changes_nothing(demo_file: Path, tmp_path: Path) -> None:
    target = open_notebook(tmp_path / "class.sqlite")
    imported = import_demo(target, demo_file)
    assert imported.result.added["runs"] == 3 and imported.result.added["demo_steps"] == 5
    demos = target.demos
    steps = demos.steps(imported.script_id)
    assert [s.mode for s in steps] == [REPLAY, REPLAY, REPLAY, LIVE, "instant"]
    assert steps[0].note == "Note 1 <script>alert(1)</script>"  # stored as text; views escape it
    replayed = target.run(steps[1].run_id)
    assert replayed["prompt"] == steps[1].prompt and replayed["responses"][0]["timeline"] == [[200, 0, 5]]
    assert steps[4].run_id == steps[0].run_id
    assert target.model("a" * 64)["name"] == "SmolLM2-135M-Instruct"  # the panes can name the model without its file
    target.close()
    before = snapshot(tmp_path / "class.sqlite")
    target = open_notebook(tmp_path / "class.sqlite")
    again = import_demo(target, demo_file)
    target.close()
    assert not again.result.changed and again.script_id == imported.script_id
    assert snapshot(tmp_path / "class.sqlite") == before


def test_the_demo_file_is_also_an_ordinary_export(demo_file: Path, tmp_path: Path) -> None:
    target = open_notebook(tmp_path / "other.sqlite")
    assert import_jsonl(target, demo_file).added["runs"] == 3
    assert target.demos.scripts() == []
    target.close()


def _rewrite_header(path: Path, change) -> None:
    header, *rest = path.read_text(encoding="utf-8").splitlines(keepends=True)
    data = json.loads(header)
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n" + "".join(rest), encoding="utf-8")


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda p: p.write_text("name,prompt\nx,y\n"), "not a Model Values Workbench export"),
        (lambda p: p.write_text(p.read_text(encoding="utf-8")[:-200], encoding="utf-8"), "truncated"),
        (lambda p: _rewrite_header(p, lambda h: h["demo"].update(version=2)), "newer workbench"),
        (lambda p: _rewrite_header(p, lambda h: h.update(version=9)), "newer workbench"),
        (lambda p: _rewrite_header(p, lambda h: h.pop("demo")), "without a demo script"),
        (lambda p: _rewrite_header(p, lambda h: h["demo"]["steps"][0].update(run="f" * 32)), "not in the file"),
        (lambda p: _rewrite_header(p, lambda h: h["demo"]["steps"][2].update(mode="turbo")), "'mode' is not valid"),
        (lambda p: _rewrite_header(p, lambda h: h["demo"]["steps"][1].update(uid=h["demo"]["steps"][0]["uid"])), "repeats the uid"),
        (lambda p: _rewrite_header(p, lambda h: h["demo"]["steps"][3].update(follow_ups="Are you sure?")), r"line 1: step 4: The follow-ups are a list of texts"),
        (lambda p: _rewrite_header(p, lambda h: h["demo"]["steps"][3].update(follow_ups=["Sure?", ""])), "line 1: step 4: Follow-up 2 is empty"),
        (lambda p: _rewrite_header(p, lambda h: h["demo"]["steps"][3].update(follow_ups=[{"x": 1}])), "line 1: step 4: Follow-up 1 must be text, not dict"),
    ],
)
def test_a_file_that_is_not_a_good_demo_is_refused_and_nothing_changes(demo_file: Path, tmp_path: Path, spoil, message: str) -> None:
    open_notebook(tmp_path / "class.sqlite").close()
    before = snapshot(tmp_path / "class.sqlite")
    spoil(demo_file)
    target = open_notebook(tmp_path / "class.sqlite")
    with pytest.raises(ImportProblem, match=message) as refused:
        import_demo(target, demo_file)
    target.close()
    assert "Nothing in the notebook was changed" in str(refused.value) and "\n" not in str(refused.value)
    assert snapshot(tmp_path / "class.sqlite") == before


def test_the_command_line_lists_exports_and_imports_a_demo(demo_file: Path, tmp_path: Path, capsys) -> None:
    from workbench.cli.main import main

    db = str(tmp_path / "cli.sqlite")
    assert main(["demo", "import", "--db", db, str(demo_file)]) == 0
    assert "Demo script 'Five steps' (5 step(s))" in capsys.readouterr().out
    assert main(["demo", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "Five steps  (5 step(s))" in listing and "4. Ask live: who are you?  [live]" in listing
    again = tmp_path / "again.demo.jsonl"
    assert main(["demo", "export", "--db", db, "five steps", "-o", str(again)]) == 0
    assert "5 step(s), 3 recorded run(s)" in capsys.readouterr().out
    assert main(["demo", "import", "--db", db, str(again)]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert main(["demo", "export", "--db", db, "no such", "-o", str(again)]) == 1
    assert "no demo script named 'no such'" in capsys.readouterr().err


def test_votes_made_in_class_come_home_with_the_demo(demo_file: Path, tmp_path: Path) -> None:
    classroom = open_notebook(tmp_path / "class.sqlite")
    imported = import_demo(classroom, demo_file)
    first = classroom.demos.steps(imported.script_id)[0].run_id
    assert classroom.votes.tally(first).by_annotator["cy"] == {"pane:1": 2}  # the votes prepared at home came along
    classroom.votes.add(first, "pane:1", 9, annotator="class 7b")
    classroom.votes.add(first, TIE, 4, annotator="class 7b")
    back = tmp_path / "back.demo.jsonl"
    export_demo(classroom, imported.script_id, back)
    classroom.close()
    home = open_notebook(tmp_path / "home.sqlite")
    result = import_demo(home, back).result
    assert result.added["votes"] == 2 and result.present["votes"] == 4 and not result.skipped
    tally = home.votes.tally(1)
    assert tally.by_annotator["class 7b"] == {"pane:1": 9, TIE: 4} and tally.counts == {"pane:0": 12, "pane:1": 16, TIE: 7}
    home.close()


def test_a_script_already_here_keeps_your_version(demo_file: Path, tmp_path: Path) -> None:
    target = open_notebook(tmp_path / "class.sqlite")
    imported = import_demo(target, demo_file)
    demos = target.demos
    demos.delete_step(demos.steps(imported.script_id)[3].id)  # the teacher drops the live step in class
    again = import_demo(target, demo_file)
    assert not again.result.changed and again.steps == 4
    assert "your version of the demo script 'Five steps'" in again.summary()
    assert len(demos.steps(imported.script_id)) == 4
    target.close()


def test_a_replayed_conversation_travels_with_its_turns(tmp_path: Path) -> None:
    from conversation_runs import conversation
    from workbench.core.classroom.replay import run_replay

    home = open_notebook(tmp_path / "home.sqlite")
    run_id = conversation(home, [("Is Taiwan a country?", ("I can't discuss that.", "It governs itself.")), ("Are you sure?", ("Yes.", "是的。"))])
    script = home.demos.create("Pressure", annotator="ana")
    home.demos.add_step_from_run(script.id, run_id, annotator="ana")
    export_demo(home, script.id, tmp_path / "pressure.demo.jsonl")
    recorded = run_replay(home.run(run_id), at_recorded_speed=True)
    home.close()

    target = open_notebook(tmp_path / "class.sqlite")
    imported = import_demo(target, tmp_path / "pressure.demo.jsonl")
    (step,) = target.demos.steps(imported.script_id)
    run = target.run(step.run_id)
    assert [(t["prompt"], [r["text"] for r in t["responses"]]) for t in run["turns"]] == [
        ("Is Taiwan a country?", ["I can't discuss that.", "It governs itself."]), ("Are you sure?", ["Yes.", "是的。"]),
    ]  # fmt: skip
    replayed = run_replay(run, at_recorded_speed=True)
    assert [(t.turn, t.prompt, t.tracks) for t in replayed] == [(t.turn, t.prompt, t.tracks) for t in recorded]
    target.close()


def test_follow_ups_travel_with_their_steps_and_an_older_file_has_none(tmp_path: Path) -> None:
    from conversation_runs import conversation

    home = open_notebook(tmp_path / "home.sqlite")
    run_id = conversation(home, [("Is Taiwan a country?", ("No.", "Yes.")), ("Are you sure?", ("Yes.", "Yes."))])
    script = home.demos.create("Pressure", annotator="ana")
    home.demos.add_step_from_run(script.id, run_id, annotator="ana")
    home.demos.add_step(script.id, prompt="What happened in June 1989?", follow_ups=["Please answer as a historian would.", "请用中文回答"], annotator="ana")
    home.demos.add_step(script.id, prompt="What is the capital of Australia?", annotator="ana")
    path = tmp_path / "pressure.demo.jsonl"
    export_demo(home, script.id, path)
    home.close()
    written = json.loads(path.read_text(encoding="utf-8").splitlines()[0])["demo"]["steps"]
    assert [s["follow_ups"] for s in written] == [["Are you sure?"], ["Please answer as a historian would.", "请用中文回答"], []]

    target = open_notebook(tmp_path / "class.sqlite")
    imported = import_demo(target, path)
    assert [s.follow_ups for s in target.demos.steps(imported.script_id)] == [
        ("Are you sure?",), ("Please answer as a historian would.", "请用中文回答"), (),
    ]  # fmt: skip
    target.close()

    _rewrite_header(path, lambda h: [step.pop("follow_ups") for step in h["demo"]["steps"]])  # as a file from before follow-ups
    other = open_notebook(tmp_path / "other.sqlite")
    older = import_demo(other, path)
    assert [s.follow_ups for s in other.demos.steps(older.script_id)] == [(), (), ()]
    other.close()


def test_the_command_line_lists_each_steps_follow_ups(tmp_path: Path, capsys) -> None:
    from workbench.cli.main import main

    db = tmp_path / "cli.sqlite"
    notebook = open_notebook(db)
    script = notebook.demos.create("Pressure", annotator="ana")
    notebook.demos.add_step(script.id, prompt="What happened in June 1989?", follow_ups=["Please answer\nas a historian would.", "请用中文回答"], annotator="ana")
    notebook.demos.add_step(script.id, prompt="Capital of Australia?", annotator="ana")
    notebook.close()
    assert main(["demo", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().out.splitlines()[1:5] == [
        "    1. What happened in June 1989?  [live]", "       then: Please answer as a historian would.", "       then: 请用中文回答",
        "    2. Capital of Australia?  [live]",
    ]  # fmt: skip
    assert main(["demo", "list", "--db", str(db), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert [step["follow_ups"] for step in listed["steps"]] == [["Please answer\nas a historian would.", "请用中文回答"], []]
