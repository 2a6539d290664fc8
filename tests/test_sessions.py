"""Sessions group runs: create, rename, archive, move runs, browse a session's runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.notebook import open_notebook
from workbench.core.notebook.sessions import UNSORTED


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = open_notebook(tmp_path / "nb.sqlite")
    for i in range(1, 8):
        run_id = notebook.create_run(f"prompt {i}")
        notebook.add_response(run_id, 0, model_name="Qwen", model_sha256=None, origin_country="CN", seed=1, sampler={})
        notebook.add_response(run_id, 1, model_name="SmolLM2", model_sha256=None, origin_country="US", seed=1, sampler={})
    yield notebook
    notebook.close()


def _counts(notebook, **kwargs) -> dict[str, int]:
    return {s.name: s.run_count for s in notebook.sessions.all(**kwargs)}


def test_runs_in_no_session_are_unsorted_and_move_between_sessions(notebook) -> None:
    study = notebook.sessions.create("Refusal study", annotator="ana")
    klass = notebook.sessions.create("Class of 2026", annotator="ana")
    assert _counts(notebook) == {UNSORTED: 7, "Class of 2026": 0, "Refusal study": 0}
    assert notebook.sessions.move_runs([1, 2, 3], study.id, annotator="ana") == 3
    assert notebook.sessions.move_runs([3, 4], klass.id, annotator="bo") == 2  # 3 leaves the study: one session at most
    assert notebook.sessions.move_runs([4], klass.id, annotator="bo") == 0
    assert _counts(notebook) == {UNSORTED: 3, "Class of 2026": 2, "Refusal study": 2}
    assert (notebook.sessions.session_of(3), notebook.sessions.session_of(7)) == (klass.id, None)
    assert notebook.sessions.move_runs([1, 5], None, annotator="ana") == 1
    assert _counts(notebook) == {UNSORTED: 4, "Class of 2026": 2, "Refusal study": 1}
    row = notebook.store.db.execute("select annotator, created_at, updated_at from session_runs where run_id = 3").fetchone()
    assert row[0] == "bo" and row[2] >= row[1]


def test_a_session_is_renamed_and_archived_without_losing_its_runs(notebook) -> None:
    study = notebook.sessions.create("Study", annotator="ana")
    notebook.sessions.move_runs([6, 7], study.id, annotator="ana")
    renamed = notebook.sessions.rename(study.id, "  Study   A ")
    assert (renamed.name, renamed.uid, renamed.annotator) == ("Study A", study.uid, "ana")
    archived = notebook.sessions.set_archived(study.id, True)
    assert archived.archived and archived.archived_at
    assert "Study A" not in _counts(notebook)
    assert _counts(notebook, include_archived=True)["Study A"] == 2
    assert notebook.sessions.set_archived(study.id, False).archived is False


def test_session_names_are_unique_and_unsorted_is_reserved(notebook) -> None:
    notebook.sessions.create("Study", annotator="ana")
    other = notebook.sessions.create("Other", annotator="ana")
    with pytest.raises(ValueError, match="already a session"):
        notebook.sessions.create("study", annotator="ana")
    with pytest.raises(ValueError, match="already a session"):
        notebook.sessions.rename(other.id, "STUDY")
    with pytest.raises(ValueError, match="runs in no session"):
        notebook.sessions.create("unsorted", annotator="ana")
    with pytest.raises(ValueError, match="needs a name"):
        notebook.sessions.create("  ", annotator="ana")


def test_unknown_sessions_and_runs_are_lookup_errors(notebook) -> None:
    with pytest.raises(LookupError, match="no session 42"):
        notebook.sessions.move_runs([1], 42, annotator="ana")
    study = notebook.sessions.create("Study", annotator="ana")
    with pytest.raises(LookupError, match="no run 99"):
        notebook.sessions.move_runs([1, 99], study.id, annotator="ana")
    assert notebook.sessions.session_of(1) is None  # nothing moved
    with pytest.raises(LookupError, match="no session named 'nope'"):
        notebook.sessions.find("nope")


def test_the_command_line_finds_a_session_by_name_id_or_unsorted(notebook) -> None:
    study = notebook.sessions.create("Refusal study", annotator="ana")
    assert notebook.sessions.find("refusal STUDY").id == study.id
    assert notebook.sessions.find(str(study.id)).id == study.id
    assert notebook.sessions.find("Unsorted").id is None


def test_a_sessions_runs_page_newest_first_like_the_history(notebook) -> None:
    study = notebook.sessions.create("Study", annotator="ana")
    notebook.sessions.move_runs([1, 3, 5, 6], study.id, annotator="ana")
    first = notebook.sessions.runs(study.id, limit=3)
    assert [r["id"] for r in first] == [6, 5, 3]
    assert first[0]["models"] == "Qwen · SmolLM2" and first[0]["session_id"] == study.id
    assert set(first[0]) >= set(notebook.recent_runs(1)[0])  # the same shape as the history's rows
    assert [r["id"] for r in notebook.sessions.runs(study.id, limit=3, before_id=3)] == [1]
    assert [r["id"] for r in notebook.sessions.runs(None)] == [7, 4, 2]
    assert [r["id"] for r in notebook.sessions.runs(None, before_id=4)] == [2]
