"""`--db` on what is not a notebook: refused in one line, and left exactly as it was.

Another application's SQLite file (with a `runs` table of its own, or
unrelated tables, or open in WAL mode by its owner), a text file, random
bytes, a folder, a device; and paths that name no notebook: a mistyped
folder, a missing file for a command that only reads.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from cli_process import in_process as workbench
from workbench.core.errors import NotebookProblem
from workbench.core.notebook import open_notebook

# Every subcommand that opens the notebook without adding runs to it, as a script calls it.
READERS = {
    "search": ["search", "anything"],
    "annotate": ["annotate", "--response", "1", "--label", "evasive"],
    "export": ["export", "--all", "--format", "jsonl", "-o", "{out}"],
    "reflag": ["reflag", "--all"],
    "demo list": ["demo", "list"],
    "demo export": ["demo", "export", "1", "-o", "{out}"],
    "judge": ["judge", "--run", "1", "--model", "{out}"],
    "batch --resume": ["batch", "--resume", "1"],
}
# Commands that may start a notebook; the refusals must still come first.
WRITERS = {
    "import": ["import", "{out}"],
    "demo import": ["demo", "import", "{out}"],
}


@pytest.fixture(autouse=True)
def no_starter(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in `folder` with its SHA-256: a -wal or -shm file left behind shows too."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def another_apps_database(path: Path, *tables: str, wal: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("pragma journal_mode = wal")
    for table in tables:
        conn.execute(f"create table {table} (id integer primary key, value text)")
        conn.execute(f"insert into {table} (value) values ('theirs')")
    conn.commit()
    return conn


def command(words: list[str], db: Path, out: Path) -> list[str]:
    return [word.format(out=out) for word in words] + ["--db", str(db)]


def assert_one_line(err: str, *parts: str) -> None:
    assert err.startswith("workbench: ") and err.count("\n") == 1, err
    for part in parts:
        assert part in err, err


@pytest.mark.parametrize("tables", [("runs",), ("runs", "responses", "models"), ("invoices", "customers")], ids=["runs", "our-names", "unrelated"])
@pytest.mark.parametrize("name", [*READERS, *WRITERS])
def test_another_apps_database_is_refused_and_left_byte_identical(tmp_path: Path, capsys, tables: tuple[str, ...], name: str) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir()
    db = folder / "app.db"
    another_apps_database(db, *tables).close()
    before = snapshot(folder)
    assert workbench(*command({**READERS, **WRITERS}[name], db, tmp_path / "out")) == 1
    assert_one_line(capsys.readouterr().err, "is not a Model Values Workbench notebook", f"it has tables {', '.join(sorted(tables))}", "left untouched", "--db")
    assert snapshot(folder) == before


def test_a_database_its_owner_has_open_in_wal_mode_is_left_as_it_is(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir()
    db = folder / "app.db"
    owner = another_apps_database(db, "runs", wal=True)  # still open: its -wal and -shm files are there
    try:
        owner.execute("insert into runs (value) values ('only in the log')")
        owner.commit()
        before = snapshot(folder)
        assert {"app.db-wal", "app.db-shm"} <= set(before)
        assert workbench("search", "x", "--db", str(db)) == 1
        assert_one_line(capsys.readouterr().err, "it has tables runs")
        assert owner.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert owner.execute("select count(*) from runs").fetchone()[0] == 2
    finally:
        owner.close()
    assert set(snapshot(folder)) == {"app.db"}  # its owner, closing, cleaned up its own files
    assert sqlite3.connect(db).execute("select value from runs order by id").fetchall() == [("theirs",), ("only in the log",)]


def test_a_tool_table_named_like_ours_with_other_columns_is_not_taken_for_a_notebook(tmp_path: Path, capsys) -> None:
    db = tmp_path / "app.db"
    another_apps_database(db, "_sqlite_migrations").close()
    before = snapshot(tmp_path)
    assert workbench("search", "x", "--db", str(db)) == 1
    assert_one_line(capsys.readouterr().err, "it has tables _sqlite_migrations")
    assert snapshot(tmp_path) == before


def test_many_tables_are_named_up_to_five(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    another_apps_database(db, *(f"t{i}" for i in range(8))).close()
    with pytest.raises(NotebookProblem, match=r"it has tables t0, t1, t2, t3, t4 and 3 more\)"):
        open_notebook(db)


@pytest.mark.parametrize(
    "content",
    [b"Just some notes, not a database.\n" * 40, os.urandom(8192), b"SQLite format 3"],  # the last: a header cut short
    ids=["text", "random", "short-header"],
)
@pytest.mark.parametrize("words", [READERS["search"], WRITERS["import"]], ids=["search", "import"])
def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path, capsys, content: bytes, words: list[str]) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    db = folder / "notes.txt"
    db.write_bytes(content)
    before = snapshot(folder)
    assert workbench(*command(words, db, tmp_path / "out")) == 1
    assert_one_line(capsys.readouterr().err, "not an SQLite database", "left untouched", "--db")
    assert snapshot(folder) == before


@pytest.mark.parametrize("words", [READERS["search"], WRITERS["import"]], ids=["search", "import"])
def test_a_folder_given_as_the_notebook_is_refused(tmp_path: Path, capsys, words: list[str]) -> None:
    folder = tmp_path / "a folder"
    folder.mkdir()
    assert workbench(*command(words, folder, tmp_path / "out")) == 1
    assert_one_line(capsys.readouterr().err, "is a folder, not a notebook file", "--db")
    assert list(folder.iterdir()) == []


def test_a_device_given_as_the_notebook_is_refused(capsys) -> None:
    assert workbench("search", "x", "--db", os.devnull) == 1
    assert_one_line(capsys.readouterr().err, "not a regular file", "left untouched")


def test_a_fifo_given_as_the_notebook_is_refused_without_waiting(fifo: Path, capsys) -> None:
    assert workbench("search", "x", "--db", str(fifo)) == 1
    assert_one_line(capsys.readouterr().err, "not a regular file")


@pytest.mark.parametrize("name", [*READERS, *WRITERS, "compare"])
def test_a_mistyped_folder_is_refused_and_not_created(tmp_path: Path, capsys, tiny_model: Path, name: str) -> None:
    words = {**READERS, **WRITERS, "compare": ["compare", "hello", "--max-tokens", "2", "--model", str(tiny_model)]}[name]
    db = tmp_path / "Notebookz" / "nb.sqlite"
    assert workbench(*command(words, db, tmp_path / "out")) == 1
    assert_one_line(capsys.readouterr().err, f"The folder {db.parent} does not exist", "--db")
    assert not db.parent.exists()


@pytest.mark.parametrize("name", READERS)
def test_a_command_that_reads_refuses_a_missing_notebook_instead_of_making_one(tmp_path: Path, capsys, name: str) -> None:
    db = tmp_path / "nb.sqlite"
    assert workbench(*command(READERS[name], db, tmp_path / "out")) == 1
    assert_one_line(capsys.readouterr().err, f"No notebook at {db}", "workbench compare")
    assert not db.exists()


def test_an_empty_file_is_a_new_notebook_for_a_command_that_adds_runs(tmp_path: Path) -> None:
    db = tmp_path / "nb.sqlite"
    db.touch()
    open_notebook(db, create=True).close()
    assert "responses" in {row[0] for row in sqlite3.connect(db).execute("select name from sqlite_master")}


def test_an_empty_file_is_no_notebook_to_read(tmp_path: Path, capsys) -> None:
    db = tmp_path / "nb.sqlite"
    db.touch()
    assert workbench("search", "x", "--db", str(db)) == 1
    assert_one_line(capsys.readouterr().err, f"No notebook at {db}")
    assert db.read_bytes() == b""


def test_the_default_notebook_gets_its_folders_made(tmp_path: Path, monkeypatch, capsys) -> None:
    default = tmp_path / "fresh" / "data" / "notebook.sqlite"
    monkeypatch.setenv("WORKBENCH_DB", str(default))
    assert workbench("search", "anything") == 0
    assert "No matches." in capsys.readouterr().err
    assert default.is_file()


def test_a_real_notebook_is_still_opened(tmp_path: Path) -> None:
    db = tmp_path / "nb.sqlite"
    open_notebook(db).close()
    assert workbench("search", "anything", "--db", str(db)) == 0
