"""m002 (annotations, sessions, search) carries notebooks of the first schema forward."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from fts_check import assert_fts_consistent

from workbench.core.errors import NotebookProblem
from workbench.core.notebook import migrations, open_notebook

FIXTURES = Path(__file__).parent / "data" / "notebooks"
M002 = "m002_annotations_sessions_search"
BUILTIN_LABELS = [
    "answered", "hard_refusal", "evasive", "state_narrative", "premise_rejected",
    "soft_omission", "factual_error", "balanced", "one_sided", "thought_suppressed",
]


def _dump(path: Path, like: dict[str, list[dict]] | None = None) -> dict[str, list[dict]]:
    """Every row of the first schema's tables; with `like`, only the columns it has
    (later steps add columns: m006 the responses' writer)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        tables = {table: [dict(row) for row in conn.execute(f"select * from {table} order by 1")] for table in ("models", "runs", "responses")}
    finally:
        conn.close()
    if like is None:
        return tables
    return {table: [{k: v for k, v in row.items() if not like[table] or k in like[table][0]} for row in rows] for table, rows in tables.items()}


def _interrupted(rows: list[dict]) -> list[dict]:
    """m006: answers left unfinished before it have no writer that could finish them."""
    return [dict(row, status="interrupted") if row["status"] in ("pending", "streaming") else row for row in rows]


def test_a_notebook_written_by_the_first_schema_is_upgraded_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    shutil.copy(FIXTURES / "m001.sqlite", path)
    before = _dump(path)
    assert sum(len(rows) for rows in before.values()) == 8  # the fixture is what we think it is

    notebook = open_notebook(path)
    try:
        # Later steps (m003…) follow m002; this test is about m002.
        assert notebook.schema[:2] == ["m001_models_runs_responses", M002] and notebook.schema == migrations.known_names()
        assert [label.name for label in notebook.labels.all()] == BUILTIN_LABELS
        # Old runs are searchable at once: the migration indexed them.
        assert [(h.run_id, h.response_id) for h in notebook.search("engage")] == [(1, 1)]
        assert {(h.run_id, h.response_id, h.field) for h in notebook.search("天安")} == {(2, None, "prompt"), (2, 3, "text"), (2, 4, "text")}
        assert notebook.run(1)["responses"][1]["text"].endswith("🙂")
        # ...and annotatable.
        notebook.annotations.add_label(1, "hard_refusal", annotator="ana")
        assert_fts_consistent(notebook.store.db.conn)
    finally:
        notebook.close()
    assert _dump(path, like=before) == dict(before, responses=_interrupted(before["responses"]))


def test_an_upgrade_built_here_keeps_every_row_and_indexes_only_finished_answers(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    db = Database(sqlite3.connect(path, isolation_level=None))
    migrations.migrations.apply(db, stop_before=M002)
    assert "labels" not in db.table_names()
    for run_id in range(1, 41):
        db["runs"].insert({"id": run_id, "uid": f"u{run_id}", "created_at": f"2026-01-01T00:00:{run_id:02d}.000+00:00", "prompt": f"prompt {run_id} 问题"})
        for position in range(2):
            db["responses"].insert({
                "uid": f"r{run_id}-{position}", "run_id": run_id, "position": position, "model_name": "M",
                "status": "done" if run_id % 10 else "streaming", "text": f"answer {run_id}-{position} 回答", "reasoning": "",
            })
    db.conn.close()
    before = _dump(path)

    notebook = open_notebook(path)
    try:
        conn = notebook.store.db.conn
        assert conn.execute("select count(*) from responses_fts_docsize").fetchone()[0] == 72  # 4 streaming answers are not indexed
        assert conn.execute("select count(*) from runs_fts_docsize").fetchone()[0] == 40
        assert_fts_consistent(conn)
        assert {h.response_id for h in notebook.search("回答", limit=100)} == set(range(1, 81))  # the 8 unfinished ones too
    finally:
        notebook.close()
    assert _dump(path, like=before) == dict(before, responses=_interrupted(before["responses"]))


def test_reopening_an_upgraded_notebook_applies_nothing_again(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    shutil.copy(FIXTURES / "m001.sqlite", path)
    open_notebook(path).close()
    notebook = open_notebook(path)
    try:
        assert notebook.schema == migrations.known_names()
        assert len(notebook.labels.all()) == len(BUILTIN_LABELS)
    finally:
        notebook.close()


def test_the_index_follows_every_kind_of_write(tmp_path: Path) -> None:
    """Streamed saves, the final save, edits, deletes and cascades keep the
    external-content indexes exactly in step with the tables."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        run_id = notebook.create_run("first prompt")
        response_id = notebook.add_response(run_id, 0, model_name="M", model_sha256=None, origin_country=None, seed=1, sampler={})
        notebook.save_partials([(response_id, "streamed so far", "", "[]")])
        notebook.finish_response(response_id, text="final answer", reasoning="thinking")
        notebook.annotations.set_run_note(run_id, "a note", annotator="ana")
        notebook.annotations.set_summary(run_id, "they differ", annotator="ana")
        span = notebook.annotations.add_span(response_id, "text", 0, 5, annotator="ana", note="span note")
        conn = notebook.store.db.conn
        conn.execute("update runs set prompt = 'edited prompt' where id = ?", [run_id])
        conn.execute("update responses set text = 'edited answer' where id = ?", [response_id])
        assert_fts_consistent(conn)
        assert [h.field for h in notebook.search("edited")] == ["prompt", "text"]
        assert notebook.search("final") == []
        assert [h.span_id for h in notebook.search("span note")] == [span.id]
        with notebook.store.db.atomic():  # Deleting a run takes its answers and annotations along.
            conn.execute("delete from responses where run_id = ?", [run_id])
            conn.execute("delete from runs where id = ?", [run_id])
        assert_fts_consistent(conn)
        for table in ("runs_fts", "responses_fts", "notes_fts"):
            assert conn.execute(f"select count(*) from {table}_docsize").fetchone()[0] == 0
    finally:
        notebook.close()


def test_only_a_notebook_missing_a_known_step_needs_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    assert not migrations.needs_upgrade(path)  # nothing there yet: creating it is not an upgrade
    shutil.copy(FIXTURES / "m001.sqlite", path)
    assert migrations.needs_upgrade(path)
    open_notebook(path).close()
    assert not migrations.needs_upgrade(path)
    (tmp_path / "other.sqlite").write_bytes(b"not a database at all")
    assert not migrations.needs_upgrade(tmp_path / "other.sqlite")  # opening it says what is wrong


def test_built_in_labels_are_stored_as_the_issue_names_them(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        rows = notebook.store.db.execute("select name, title, definition, colour, builtin, position from labels order by position").fetchall()
    finally:
        notebook.close()
    assert [r[0] for r in rows] == BUILTIN_LABELS
    assert [r[5] for r in rows] == list(range(1, 11))
    assert all(r[1] and r[2] and r[3].startswith("#") and len(r[3]) == 7 and r[4] == 1 for r in rows)
    assert len({r[3] for r in rows}) == 10  # each its own colour


def test_machine_flags_have_a_table_apart_from_labels(tmp_path: Path) -> None:
    """Issue 5 writes flags here without a migration of its own; the panes read them with the rest."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        run_id = notebook.create_run("p")
        response_id = notebook.add_response(run_id, 0, model_name="M", model_sha256=None, origin_country=None, seed=1, sampler={})
        evidence = {"field": "text", "start": 0, "end": 9, "quote": "I'm sorry", "score": 0.93}
        notebook.store.db.execute(
            "insert into flags (run_id, response_id, name, detector, evidence, created_at, updated_at) values (?, ?, 'refusal', 'refusal-phrases/1', ?, 'now', 'now')",
            [run_id, response_id, json.dumps(evidence)],
        )
        (flag,) = notebook.annotations.for_run(run_id).responses[response_id].flags
        assert (flag.name, flag.source, flag.detector, flag.evidence) == ("refusal", "auto", "refusal-phrases/1", evidence)
        assert notebook.annotations.for_run(run_id).responses[response_id].labels == ()
    finally:
        notebook.close()


def test_an_sqlite_without_trigram_search_is_refused_with_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    with pytest.raises(NotebookProblem, match="needs 3.34.0 or newer"):
        open_notebook(tmp_path / "nb.sqlite")
    assert not (tmp_path / "nb.sqlite").exists()
