"""`workbench annotate` for scripts: labels and a note on an answer, exit statuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gguf_factory import write_bytes
from cli_process import in_process as workbench
from workbench.core.notebook import open_notebook
from workbench.core.settings import Settings


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "nb.sqlite"
    notebook = open_notebook(path)
    run_id = notebook.create_run("What happened in June 1989?", language="en")
    rid = notebook.add_response(run_id, 0, model_name="Qwen", model_sha256=None, origin_country="CN", seed=1, sampler={})
    notebook.finish_response(rid, text="I can't discuss that.")
    notebook.close()
    return path


def _annotations(db: Path):
    notebook = open_notebook(db)
    try:
        return notebook.annotations.for_run(1).responses[1]
    finally:
        notebook.close()


def test_annotate_adds_labels_and_a_note_by_the_named_annotator(db: Path, capsys: pytest.CaptureFixture) -> None:
    status = workbench("annotate", "--response", "1", "--label", "hard_refusal", "--label", "evasive", "--note", "Boilerplate **refusal**", "--annotator", "ana", "--db", str(db))
    assert status == 0
    assert capsys.readouterr().out == "response 1: labelled hard_refusal, evasive; note saved (annotator: ana)\n"
    saved = _annotations(db)
    assert {(label.label, label.annotator) for label in saved.labels} == {("hard_refusal", "ana"), ("evasive", "ana")}
    assert [(n.body, n.annotator) for n in saved.notes] == [("Boilerplate **refusal**", "ana")]


def test_annotating_again_is_harmless_and_the_annotator_defaults_from_the_environment(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "bo")
    assert workbench("--db", str(db), "annotate", "--response", "1", "--label", "evasive") == 0
    assert workbench("--db", str(db), "annotate", "--response", "1", "--label", "evasive", "--label", "one_sided") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "response 1: labelled one_sided; already labelled evasive (annotator: bo)"
    assert sorted(label.label for label in _annotations(db).labels) == ["evasive", "one_sided"]


def test_the_name_chosen_in_the_window_annotates_from_the_command_line_too(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_ANNOTATOR", raising=False)
    Settings.load().set_annotator("  Dana   Lee ")  # what the window's Annotate > Your annotator name… saves
    assert workbench("annotate", "--response", "1", "--label", "evasive", "--db", str(db)) == 0
    assert capsys.readouterr().out == "response 1: labelled evasive (annotator: Dana Lee)\n"
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "bo")  # the variable overrides it for a session
    assert workbench("annotate", "--response", "1", "--label", "one_sided", "--db", str(db)) == 0
    assert workbench("annotate", "--response", "1", "--label", "answered", "--annotator", "cy", "--db", str(db)) == 0  # and the flag all
    assert {(label.label, label.annotator) for label in _annotations(db).labels} == {("evasive", "Dana Lee"), ("one_sided", "bo"), ("answered", "cy")}


@pytest.mark.parametrize("argv, status, message", [
    (["--response", "1", "--label", "evasiv"], 2, "workbench annotate: No label named 'evasiv'. Labels: answered, hard_refusal,"),
    (["--response", "1", "--label", "evasive", "--annotator", " "], 2, "workbench annotate: An annotator name is needed"),
    (["--response", "7", "--label", "evasive"], 1, "workbench annotate: There is no response 7 in the notebook"),
    (["--response", "1", "--label", "evasive", "--annotator", "ana\x1b[2J"], 2, "workbench annotate: The name holds an invisible control character (U+001B)"),
    (["--response", "1", "--label", "evasive", "--annotator", "judge:me"], 2, "workbench annotate: Names starting “judge:” are kept for model judges"),
    (["--response", "1", "--label", "evasive", "--annotator", "x" * 65], 2, "workbench annotate: The name is 65 characters long: shorten it to 64"),
])
def test_bad_annotations_write_nothing_and_say_why(db: Path, capsys: pytest.CaptureFixture, argv: list[str], status: int, message: str) -> None:
    assert workbench("annotate", *argv, "--db", str(db)) == status
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert _annotations(db).labels == ()


def test_annotate_needs_a_response_and_a_label(db: Path) -> None:
    for argv in (["annotate", "--label", "evasive"], ["annotate", "--response", "1"], ["annotate", "--response", "x", "--label", "evasive"]):
        with pytest.raises(SystemExit) as exit_:
            workbench(*argv, "--db", str(db))
        assert exit_.value.code == 2


def test_a_damaged_notebook_is_an_environment_problem(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = write_bytes(tmp_path / "nb.sqlite", b"SQLite format 3\x00" + b"\xff" * 4000)
    assert workbench("annotate", "--response", "1", "--label", "evasive", "--db", str(db)) == 1
    err = capsys.readouterr().err
    assert err.startswith("workbench: The notebook") and "damaged" in err and "Traceback" not in err


def test_a_notebook_another_program_keeps_locked_is_an_environment_problem(db: Path, capsys: pytest.CaptureFixture) -> None:
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("begin immediate")  # holds the write lock past the notebook's 5 s wait
    try:
        assert workbench("annotate", "--response", "1", "--label", "evasive", "--db", str(db)) == 1
    finally:
        other.execute("rollback")
        other.close()
    assert "locked by another program" in capsys.readouterr().err
    assert _annotations(db).labels == ()
