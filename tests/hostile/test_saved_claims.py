"""`compare` and `batch` say "saved" only when the notebook holds what they say.

The audit's defect: with another program holding the notebook in a long write,
or with the disk full, `compare` printed "Saved as run N" and exited 0 while
the answer stayed `pending` or `streaming`. Here the notebook is locked, or the
disk filled, as the first answer is about to be saved (the hook is the notebook's own
`finish_response`), with real SQLite locks and a real full tmpfs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from pathlib import Path

import pytest
from prompt_set_factory import write_set

from workbench.cli.main import main
from workbench.core import comparison
from workbench.core.errors import NotebookProblem
from workbench.core.notebook.database import Notebook

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


@pytest.fixture
def quick_patience(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comparison, "SAVE_PATIENCE_S", 1.0)
    monkeypatch.setattr(comparison, "SAVE_RETRY_S", 0.2)


class Locker:
    """Another program's long write: an open write transaction on the notebook."""

    def __init__(self, db: Path) -> None:
        self._conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self._conn.execute("begin immediate")

    def release(self) -> None:
        self._conn.execute("rollback")
        self._conn.close()


def before_the_first_answer_is_saved(monkeypatch: pytest.MonkeyPatch, action) -> None:
    """Run `action(notebook path)` once, as the run's first finished answer is about to be saved."""
    real = Notebook.finish_response
    done = threading.Event()

    def finish_response(self, response_id, **fields):
        if not done.is_set():
            done.set()
            action(self.path)
        return real(self, response_id, **fields)

    monkeypatch.setattr(Notebook, "finish_response", finish_response)


def compare(tiny_model: Path, db: Path, *extra: str) -> int:
    return main(["compare", "Hello", "--model", str(tiny_model), "--db", str(db), "--max-tokens", "8", "--seed", "1", *extra])


def statuses(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("select status from responses order by id")]


def test_a_notebook_locked_for_the_whole_patience_is_not_called_saved(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], quick_patience: None
) -> None:
    db = tmp_path / "nb.sqlite"
    lockers: list[Locker] = []
    before_the_first_answer_is_saved(monkeypatch, lambda path: lockers.append(Locker(path)))
    status = compare(tiny_model, db)
    out, err = capsys.readouterr()
    lockers[0].release()
    assert status == 1
    assert "Saved as run" not in out
    assert "is NOT completely saved" in err and "locked by another program" in err
    assert "Traceback" not in err
    assert statuses(db) != ["done"]


def test_a_lock_released_within_the_patience_is_waited_for_and_the_run_saved(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The audit's 40 s write: the answer waits for the notebook instead of being dropped."""
    monkeypatch.setattr(comparison, "SAVE_PATIENCE_S", 30.0)
    monkeypatch.setattr(comparison, "SAVE_RETRY_S", 0.2)
    db = tmp_path / "nb.sqlite"

    def lock_for_a_while(path: Path) -> None:
        locker = Locker(path)
        threading.Timer(6.0, locker.release).start()

    before_the_first_answer_is_saved(monkeypatch, lock_for_a_while)
    status = compare(tiny_model, db, "--json")
    out, err = capsys.readouterr()
    assert status == 0, err
    assert '"saved": true' in out
    assert "locked by another program" in err  # said once, while it waited
    assert err.count("locked by another program") == 1
    assert statuses(db) == ["done"]


def test_a_disk_that_fills_during_the_answer_is_reported_and_the_exit_is_one(tiny_model: Path, small_disk, tmp_path: Path) -> None:
    disk = small_disk(2 * 1024 * 1024)
    db = disk.inside / "nb.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_NO_STARTER="1")
    done = disk.run(
        [sys.executable, str(HERE / "full_disk.py"), str(disk.inside), "--",
         "compare", "Hello", "--model", str(tiny_model), "--db", str(db), "--max-tokens", "8", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["responses"][0]["saved"] is False
    [line] = [line for line in done.stderr.splitlines() if "NOT completely saved" in line]
    assert "is full" in line and "Traceback" not in done.stderr
    disk.make_room()
    assert statuses(disk.copy_out("nb.sqlite", tmp_path)) != ["done"]  # nothing claims it was saved


def test_every_unsaved_answer_is_named_in_the_one_line(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], quick_patience: None
) -> None:
    db = tmp_path / "nb.sqlite"
    lockers: list[Locker] = []
    before_the_first_answer_is_saved(monkeypatch, lambda path: lockers.append(Locker(path)))
    status = main(
        ["compare", "Hello", "--folder", str(tiny_models), "--model", "tiny-alpha", "--model", "tiny-beta", "--db", str(db), "--max-tokens", "4"]
    )
    _, err = capsys.readouterr()
    lockers[0].release()
    assert status == 1
    [line] = [line for line in err.splitlines() if "NOT completely saved" in line]
    assert "Tiny Alpha's answer" in line and "Tiny Beta's answer" in line


def test_a_batch_whose_run_is_not_saved_pauses_and_says_so(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], quick_patience: None
) -> None:
    """The next prompt would meet the same refusing notebook: the batch pauses, the
    prompt stays to do, and resuming later asks it again. (The refusal is simulated
    here: a real lock would also refuse the batch its own bookkeeping.)"""
    db = tmp_path / "nb.sqlite"
    prompts = write_set(tmp_path / "set.toml", 3)

    def refuse(self, response_id, **fields):
        raise NotebookProblem(f"The notebook {self.path} is locked by another program. Close it, then try again.")

    monkeypatch.setattr(Notebook, "finish_response", refuse)
    args = ["--folder", str(tiny_models), "--db", str(db), "--json"]
    status = main(["batch", str(prompts), "--model", "tiny-alpha", "--lang", "en", "--max-tokens", "4", *args])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert json.loads(out)["status"] == "paused" and json.loads(out)["runs"] == 0
    [line] = [line for line in err.splitlines() if line.startswith("workbench: batch 1 paused")]
    assert "is not completely saved" in line and "locked by another program" in line
    monkeypatch.undo()
    assert main(["batch", "--resume", "1", *args]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == 3
