"""A notebook on a full disk: "the disk is full", never "damaged"; nothing lost; no empty file left.

The audit saw "damaged … restore a backup" with 0 to 4 KB free although the
file was intact (SQLite says "disk I/O error" for some writes that hit a full
disk), and a 0-byte notebook left behind when a new one could not be made.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.errors import NotebookProblem
from workbench.core.notebook import open_notebook
from workbench.core.notebook.database import Notebook
from workbench.core.notebook.store import translate_errors
from workbench.core.notebook.migrations import migrations as workbench_migrations

MIGRATIONS = workbench_migrations.migrations_table

DISK = 4 * 1024 * 1024
FULL = "is full. Free some space"
ROOT = Path(__file__).resolve().parents[2]

# What a script opening the notebook with the library sees; run inside the disk's namespace.
LIBRARY = """
import sys
from workbench.core.errors import NotebookProblem
from workbench.core.notebook import open_notebook
try:
    notebook = open_notebook(sys.argv[1])
    try:
        exec(sys.argv[2])
    finally:
        notebook.close()
except NotebookProblem as problem:
    print(problem, file=sys.stderr)
    sys.exit(1)
"""
LABELLED_ANSWER = (
    "run_id = notebook.create_run('What happened in 1989? 1989年发生了什么？')\n"
    "rid = notebook.add_response(run_id, 0, model_name='M', model_sha256=None, origin_country='CN', seed=1, sampler={})\n"
    "notebook.finish_response(rid, text='An answer kept before the disk filled. 答案。')\n"
    "notebook.annotations.add_label(rid, 'evasive', annotator='ana')"
)
EVERYTHING = (
    "conn = notebook.store.db.conn\n"
    "assert conn.execute('pragma integrity_check').fetchone()[0] == 'ok'\n"
    "print(conn.execute('select prompt from runs').fetchall(), conn.execute('select text, status from responses').fetchall(),"
    " conn.execute('select label from response_labels').fetchall())"
)


def inside(disk, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_NO_STARTER="1")
    return disk.run(list(argv), capture_output=True, text=True, env=env, timeout=120)


def library(disk, code: str) -> subprocess.CompletedProcess:
    return inside(disk, sys.executable, "-c", LIBRARY, str(disk.inside / "nb.sqlite"), code)


def cli(disk, *argv: str) -> subprocess.CompletedProcess:
    return inside(disk, sys.executable, "-m", "workbench", *argv, "--db", str(disk.inside / "nb.sqlite"))


def one_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr


@pytest.mark.parametrize("leave", [0, 4096], ids=["0-free", "4KB-free"])
def test_writing_to_a_notebook_on_a_full_disk_says_the_disk_is_full_and_loses_nothing(small_disk, leave: int) -> None:
    disk = small_disk(DISK)
    assert library(disk, LABELLED_ANSWER).returncode == 0
    kept = library(disk, EVERYTHING)
    assert kept.returncode == 0 and "答案" in kept.stdout, kept.stderr
    disk.fill(leave=leave)

    # A label from the command line: one line, exit 1.
    err = one_line(cli(disk, "annotate", "--response", "1", "--label", "hard_refusal", "--note", "x" * 20_000))
    assert err.startswith("workbench: ") and FULL in err and "damaged" not in err

    # New runs from the library: the same advice.
    err = one_line(library(disk, "for _ in range(50): notebook.create_run('a long prompt ' * 2000)"))
    assert FULL in err and "damaged" not in err

    disk.make_room()
    assert library(disk, EVERYTHING).stdout == kept.stdout
    assert library(disk, "notebook.create_run('written once there is room')").returncode == 0


@pytest.mark.parametrize("leave", [0, 4096], ids=["0-free", "4KB-free"])
def test_a_new_notebook_on_a_full_disk_is_not_left_behind(small_disk, tmp_path: Path, leave: int) -> None:
    disk = small_disk(DISK)
    disk.fill(leave=leave)
    export = tmp_path / "export.jsonl"
    export.write_text("")
    err = one_line(cli(disk, "import", str(export)))
    assert err.startswith("workbench: ") and FULL in err, err
    assert sorted(p.name for p in disk.path.iterdir()) == ["filler"]  # no nb.sqlite, -wal or -shm
    disk.make_room()
    assert library(disk, "").returncode == 0  # and the same place works once there is room


def test_an_empty_file_given_as_a_new_notebook_stays_empty_when_the_disk_is_full(small_disk) -> None:
    disk = small_disk(DISK)
    (disk.path / "nb.sqlite").touch()
    disk.fill(leave=0)
    assert FULL in one_line(library(disk, ""))
    assert (disk.path / "nb.sqlite").read_bytes() == b""
    assert sorted(p.name for p in disk.path.iterdir()) == ["filler", "nb.sqlite"]


def test_an_io_error_on_a_disk_with_room_is_still_called_damaged(tmp_path: Path) -> None:
    with pytest.raises(NotebookProblem, match="damaged"):
        with translate_errors(tmp_path / "nb.sqlite"):
            raise sqlite3.OperationalError("disk I/O error")


def test_an_io_error_on_a_full_disk_is_called_a_full_disk(small_disk) -> None:
    disk = small_disk(DISK)
    disk.fill(leave=0)
    with pytest.raises(NotebookProblem, match=FULL):
        with translate_errors(disk.path / "nb.sqlite"):
            raise sqlite3.OperationalError("disk I/O error")


@pytest.fixture
def creating_fails(monkeypatch) -> None:
    """Every notebook fails half-way through being made, as on a disk that fills meanwhile."""

    def prepare(self) -> None:
        self.store.conn.execute("pragma journal_mode = wal")
        self.store.conn.execute("create table half_made (x)")
        raise NotebookProblem(f"The disk holding the notebook {self.path} is full.")

    monkeypatch.setattr(Notebook, "_prepare", prepare)


def test_what_a_failed_creation_made_is_removed_and_an_empty_file_emptied_again(tmp_path: Path, creating_fails) -> None:
    missing, empty = tmp_path / "missing.sqlite", tmp_path / "empty.sqlite"
    empty.touch()
    for path in (missing, empty):
        with pytest.raises(NotebookProblem, match="is full"):
            open_notebook(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.sqlite"]
    assert empty.read_bytes() == b""


def test_a_notebook_that_fails_to_open_is_never_removed(tmp_path: Path, creating_fails) -> None:
    path = tmp_path / "nb.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"create table {MIGRATIONS} (migration_set text, name text, applied_at text)")
    conn.execute(f"insert into {MIGRATIONS} values ('workbench', 'm001_models_runs_responses', 'then')")
    conn.commit()
    conn.close()
    with pytest.raises(NotebookProblem, match="is full"):
        open_notebook(path)
    assert sqlite3.connect(path).execute(f"select name from {MIGRATIONS}").fetchall() == [("m001_models_runs_responses",)]
