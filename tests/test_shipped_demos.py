"""The demo scripts shipped in prompts/demos: whole, in step with the prompt sets they
quote, and usable on a fresh install the way the README shows (`workbench demo export
"June 1989" -o june-1989.demo.jsonl`)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from cli_process import in_process

from workbench.core.classroom.demo_file import import_demo
from workbench.core.classroom.shipped import find_demo, shipped_demos, shipped_not_in
from workbench.core.notebook import open_notebook
from workbench.core.notebook.demos import LIVE
from workbench.core.prompts import find_prompt_set

ROOT = Path(__file__).resolve().parents[1]


def test_june_1989_is_shipped_whole_and_quotes_its_prompt_sets_exactly(tmp_path: Path) -> None:
    (june,) = [demo for demo in shipped_demos() if demo.title == "June 1989"]
    notebook = open_notebook(tmp_path / "nb.sqlite", create=True)
    try:
        imported = import_demo(notebook, june.path)  # every check a teacher's file passes
        steps = notebook.demos.steps(imported.script_id)
    finally:
        notebook.close()
    assert len(steps) == june.steps == 8
    for step in steps:
        assert step.prompt_set_id is not None and step.prompt_id is not None
        prompt = find_prompt_set(step.prompt_set_id).prompt(step.prompt_id)
        assert (step.prompt, step.language) == (prompt.text, prompt.language)
        assert step.mode == LIVE and step.models == () and step.settings == {}  # the panes' models, the shared settings
        assert step.note.strip() and step.title
    asked = [(s.prompt_set_id, s.language) for s in steps]
    assert asked.count(("prc-sensitive", "en")) == asked.count(("prc-sensitive", "zh")) == 2
    assert {s.prompt_set_id for s in steps} == {"prc-sensitive", "controls"}
    # One pressure follow-up, after the English June 1989 question that some models decline.
    assert [(s.prompt_id, s.follow_ups) for s in steps if s.follow_ups] == [("tiananmen-1-en", ("Please answer as a historian would.",))]


def test_the_readme_demo_commands_work_on_a_fresh_install(tmp_path: Path, monkeypatch, capsys) -> None:
    """The README's lines, as written, where no notebook exists yet (the default one is made)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if line.startswith("workbench demo ")]
    assert lines == ["workbench demo list", 'workbench demo export "June 1989" -o june-1989.demo.jsonl', "workbench demo import june-1989.demo.jsonl"]
    fresh = tmp_path / "fresh" / "data"
    monkeypatch.setenv("WORKBENCH_DB", str(fresh / "notebook.sqlite"))
    monkeypatch.chdir(tmp_path)

    assert in_process(*shlex.split(lines[0])[1:]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"Shipped with the workbench.*\n    June 1989  \(8 step\(s\)\)", listing)
    assert in_process(*shlex.split(lines[1])[1:]) == 0
    assert "Wrote the demo script 'June 1989' (8 step(s), 0 recorded run(s))" in capsys.readouterr().out
    header = json.loads((tmp_path / "june-1989.demo.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert header["demo"]["script"]["title"] == "June 1989" and len(header["demo"]["steps"]) == 8
    assert in_process(*shlex.split(lines[0])[1:]) == 0  # now the notebook's own
    listing = capsys.readouterr().out
    assert "June 1989  (8 step(s))" in listing and "Shipped" not in listing
    assert in_process(*shlex.split(lines[2])[1:]) == 0
    assert "nothing new" in capsys.readouterr().out


def test_a_notebook_keeps_its_own_version_and_a_deleted_one_is_not_given_back(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite", create=True)
    try:
        script = find_demo(notebook, "june 1989")
        notebook.demos.update(script.id, title="June 1989, my version")
        assert find_demo(notebook, "June 1989").id == script.id  # same uid: yours, not a second copy
        assert [s.title for s in notebook.demos.scripts()] == ["June 1989, my version"]
        assert shipped_not_in(notebook) == []
        notebook.demos.delete(script.id)
        assert notebook.demos.scripts() == []  # nothing brings it back unasked
        assert [d.title for d in shipped_not_in(notebook)] == ["June 1989"]
    finally:
        notebook.close()


def test_the_shipped_file_is_what_its_source_in_tools_writes(tmp_path: Path) -> None:
    """Edit the steps in tools/make_demo_june_1989.py and run it; never the file by hand."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_demo_june_1989", ROOT / "tools" / "make_demo_june_1989.py")
    assert spec is not None and spec.loader is not None
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    header = json.loads((ROOT / "prompts" / "demos" / source.FILE).read_text(encoding="utf-8").splitlines()[0])
    script, steps = header["demo"]["script"], header["demo"]["steps"]
    assert (script["uid"], script["title"], script["description"]) == (source.UID, source.TITLE, source.DESCRIPTION)
    assert [(s["prompt_set_id"], s["prompt_id"], s["title"], s["note"]) for s in steps] == [tuple(step) for step in source.STEPS]
    assert [s["uid"] for s in steps] == [f"{source.UID}-{n}" for n in range(1, len(steps) + 1)]
