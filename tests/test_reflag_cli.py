"""`workbench reflag`: recompute stored flags on demand, say what changed, exit 0 only when all were saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.analysis import analyse_response
from workbench.core.notebook import open_notebook
from workbench.core.notebook.flags import StoredFlag

REFUSAL = "抱歉，我无法回答这个问题。"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Two runs flagged by an old detector version, one never flagged, and a label."""
    path = tmp_path / "nb.sqlite"
    notebook = open_notebook(path)
    for prompt, texts in (("六四事件是什么？", [REFUSAL, "1989年6月，军队清场，许多人死亡。"]), ("Hi", ["Hello! How can I help?"])):
        run_id = notebook.create_run(prompt)
        for position, text in enumerate(texts):
            rid = notebook.add_response(run_id, position, model_name=f"M{position}", model_sha256=None, origin_country=None, seed=1, sampler={})
            notebook.finish_response(rid, text=text, finish_reason="stop")
    notebook.flags.record(1, 1, [StoredFlag("answered", "workbench-flags/1", [])])
    notebook.flags.record(1, 2, [StoredFlag("answered", "workbench-flags/1", [])])
    notebook.annotations.add_label(1, "hard_refusal", annotator="ana")
    notebook.close()
    return path


def flags(db: Path) -> dict[int, set[str]]:
    notebook = open_notebook(db)
    try:
        found: dict[int, set[str]] = {}
        for rid, name in notebook.store.db.execute("select response_id, name from flags"):
            found.setdefault(rid, set()).add(name)
        return found
    finally:
        notebook.close()


def test_reflag_a_run_says_what_changed_and_touches_nothing_else(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["reflag", "--run", "1", "--json", "--db", str(db)]) == 0
    result = json.loads(capsys.readouterr().out)
    expected = {1: set(analyse_response("六四事件是什么？", REFUSAL).flags), 2: set(analyse_response("六四事件是什么？", "1989年6月，军队清场，许多人死亡。").flags)}
    assert flags(db) == expected  # run 2 was not asked for: still without flags
    assert result["total"] == result["answers"] == 2 and result["failed"] == 0
    assert result["added"] == sum(len(names - {"answered"}) for names in expected.values())
    assert result["removed"] == sum("answered" not in names for names in expected.values())
    notebook = open_notebook(db)
    assert [(label.label, label.annotator) for label in notebook.annotations.for_run(1).responses[1].labels] == [("hard_refusal", "ana")]
    notebook.close()


def test_reflag_all_prints_one_line_of_counts(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["reflag", "--all", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Recomputed the flags of 3 of 3 answer(s): ") and out.count("\n") == 1
    assert set(flags(db)) == {1, 2, 3}


@pytest.mark.parametrize("argv, status, message", [
    (["reflag", "--run", "9"], 1, "workbench reflag: There is no run 9"),
    (["reflag", "--batch", "1"], 1, "workbench reflag: There is no batch 1"),
])
def test_what_is_not_there_is_one_line_and_status_one(db: Path, capsys: pytest.CaptureFixture, argv: list[str], status: int, message: str) -> None:
    assert main([*argv, "--db", str(db)]) == status
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_a_selection_is_required_and_only_one(db: Path) -> None:
    for argv in (["reflag"], ["reflag", "--all", "--run", "1"]):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--db", str(db)])
        assert exit_.value.code == 2
