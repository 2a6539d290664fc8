"""Several programs on one notebook at once: every write that was reported lands.

A compare in a terminal while the window (or a second terminal) is open is
ordinary use. Here two compares stream while annotations are written and
searches read, all on one notebook; and two compares create one new notebook
at the same moment, so both run its migrations.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from workbench.core.notebook import open_notebook
from workbench.core.notebook.database import Notebook

from commands import env, run

WORKBENCH = [sys.executable, "-m", "workbench"]


def compare(db: Path, model: Path, prompt: str, tokens: int = 60) -> subprocess.Popen:
    return subprocess.Popen(
        [*WORKBENCH, "compare", prompt, "--model", str(model), "--db", str(db), "--max-tokens", str(tokens), "--json"],
        env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_compares_annotations_and_searches_on_one_notebook_lose_nothing(tiny_model: Path, tmp_path: Path) -> None:
    db = tmp_path / "nb.sqlite"
    first = run("compare", "First", "--model", str(tiny_model), "--db", str(db), "--max-tokens", "4", "--json")
    assert first.returncode == 0, first.stderr
    response_id = json.loads(first.stdout)["responses"][0]["response_id"]
    failures: list[str] = []

    def annotate_loop() -> None:
        for n in range(8):
            done = run("annotate", "--response", str(response_id), "--label", "evasive", "--note", f"note {n}", "--db", str(db))
            if done.returncode != 0:
                failures.append(f"annotate {n}: {done.stderr}")

    def search_loop() -> None:
        for n in range(8):
            done = run("search", "Question", "--db", str(db), "--json")
            if done.returncode != 0:
                failures.append(f"search {n}: {done.stderr}")

    compares = [compare(db, tiny_model, f"Question {n}") for n in range(2)]
    loops = [threading.Thread(target=annotate_loop), threading.Thread(target=search_loop)]
    for loop in loops:
        loop.start()
    outputs = [process.communicate(timeout=300) for process in compares]
    for loop in loops:
        loop.join(timeout=300)
    assert failures == []
    for process, (out, err) in zip(compares, outputs):
        assert process.returncode == 0, err
        for response in json.loads(out)["responses"]:
            assert response["saved"]
            with sqlite3.connect(db) as conn:
                assert conn.execute("select status, text from responses where id = ?", [response["response_id"]]).fetchone() == ("done", response["text"])
    with sqlite3.connect(db) as conn:
        assert conn.execute("select body from notes where response_id = ?", [response_id]).fetchone() == ("note 7",)
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_two_compares_creating_one_new_notebook_at_once_both_save(tiny_model: Path, tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    compares = [compare(db, tiny_model, f"Race {n}", tokens=4) for n in range(2)]
    outputs = [process.communicate(timeout=300) for process in compares]
    for process, (_, err) in zip(compares, outputs):
        assert process.returncode == 0, err
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from responses where status = 'done'").fetchone() == (2,)
        migrations = [name for (name,) in conn.execute("select name from _sqlite_migrations")]
    assert len(migrations) == len(set(migrations))  # each step applied once


def test_a_new_notebook_another_process_holds_is_never_removed(tmp_path: Path, monkeypatch) -> None:
    """Opening a new notebook that another process is creating at the same moment: refused
    ("locked") while it does, the open tries again and joins it, and that process's file
    and write-ahead log are never removed as a half-made notebook."""
    db = tmp_path / "new.sqlite"
    other = sqlite3.connect(db)
    prepare, calls = Notebook._prepare, []

    def contended_once(self: Notebook) -> None:
        calls.append(1)
        if len(calls) == 1:
            other.execute("PRAGMA journal_mode = WAL")
            other.execute("create table theirs (x)")
            other.execute("insert into theirs values (1)")
            other.commit()
            raise sqlite3.OperationalError("database is locked")
        prepare(self)

    monkeypatch.setattr(Notebook, "_prepare", contended_once)
    notebook = open_notebook(db)
    try:
        assert len(calls) == 2 and notebook.create_run("Joined") > 0
    finally:
        notebook.close()
    # What a third process opening it now finds (its write-ahead log included): their table.
    assert sqlite3.connect(db).execute("select x from theirs").fetchall() == [(1,)]
    other.close()
