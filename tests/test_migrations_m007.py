"""m007: the search indexes sit on their tables, so sqlite-utils and Datasette find them,
and the app's own search (trigrams, short Chinese terms, finished answers only) is unchanged."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlite_utils import Database

from fts_check import assert_fts_consistent
from workbench.core.notebook import Notebook, migrations, open_notebook

M007 = "m007_search_indexes_on_their_tables"
SQLITE_UTILS = Path(sys.executable).parent / "sqlite-utils"


def _answer(notebook: Notebook, prompt: str, text: str, *, finished: bool = True) -> tuple[int, int]:
    run_id = notebook.create_run(prompt)
    response_id = notebook.add_response(run_id, 0, model_name="M", model_sha256=None, origin_country=None, seed=1, sampler={})
    if finished:
        notebook.finish_response(response_id, text=text, finish_reason="stop")
    else:
        notebook.save_partials([(response_id, text, "", "[]")])
    return run_id, response_id


def _datasette_finds(conn: sqlite3.Connection, table: str) -> list[str]:
    """Datasette's rule for a table's full-text index: a virtual table whose SQL says
    content="<table>" (newer releases also accept content=[<table>]), or the table itself."""
    return [row[0] for row in conn.execute(
        """select name from sqlite_master where rootpage = 0 and (
               sql like '%VIRTUAL TABLE%USING FTS%content="' || :t || '"%'
               or (tbl_name = :t and sql like '%VIRTUAL TABLE%USING FTS%'))""",
        {"t": table},
    )]


def test_a_notebook_before_m007_is_reindexed_and_still_finds_old_and_new_answers(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    db = Database(sqlite3.connect(path, isolation_level=None))
    migrations.migrations.apply(db, stop_before=M007)
    db["runs"].insert({"id": 1, "uid": "r1", "created_at": "2026-01-01T00:00:00.000+00:00", "prompt": "台湾的地位是什么？", "system_prompt": "Be brief"})
    db["responses"].insert({"uid": "a1", "run_id": 1, "position": 0, "model_name": "M", "status": "done", "text": "台湾是一个岛", "reasoning": ""})
    db["responses"].insert({"uid": "a2", "run_id": 1, "position": 1, "model_name": "N", "status": "done", "text": "About Taiwan.", "reasoning": "think"})
    assert not db["responses"].detect_fts()  # the views hid the index: the issue
    db.conn.close()

    notebook = open_notebook(path)
    try:
        assert M007 in notebook.schema and notebook.schema == migrations.known_names()
        conn = notebook.store.db.conn
        assert {(h.run_id, h.response_id, h.field) for h in notebook.search("台湾")} == {(1, None, "prompt"), (1, 1, "text")}
        assert [(h.response_id, h.field) for h in notebook.search("taiwan")] == [(2, "text")]
        assert [(h.response_id, h.field) for h in notebook.search("岛")] == [(1, "text")]  # one character, at the end of the text
        run_id, response_id = _answer(notebook, "Taiwan again", "台湾再次。")
        assert {(h.run_id, h.response_id) for h in notebook.search("台湾")} == {(1, None), (1, 1), (run_id, response_id)}
        assert_fts_consistent(conn)
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        assert [v for (v,) in conn.execute("select name from sqlite_master where type = 'view'")] == []
    finally:
        notebook.close()


def test_sqlite_utils_and_datasette_find_the_indexes_and_search_finished_answers(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    notebook = open_notebook(path)
    try:
        run_id, answered = _answer(notebook, "What about Taiwan?", "Taiwan is an island. 台湾")
        _answer(notebook, "Later", "Taiwan, streaming still", finished=False)
    finally:
        notebook.close()

    db = Database(path)
    try:
        assert db["responses"].detect_fts() == "responses_fts"
        assert db["runs"].detect_fts() == "runs_fts"
        assert _datasette_finds(db.conn, "responses") == ["responses_fts"]
        assert _datasette_finds(db.conn, "runs") == ["runs_fts"]
        assert [row["id"] for row in db["responses"].search("Taiwan")] == [answered]  # not the unfinished one
        assert [row["id"] for row in db["runs"].search("Taiwan")] == [run_id]
        assert [row["id"] for row in db["responses"].search("台湾")] == []  # two characters: only the app's search pads them
    finally:
        db.close()

    found = subprocess.run([str(SQLITE_UTILS), "search", str(path), "responses", "Taiwan"], capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert [row["id"] for row in json.loads(found.stdout)] == [answered]
