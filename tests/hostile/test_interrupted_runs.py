"""Answers a killed process left unfinished become `interrupted` on the next open; live ones don't.

The audit found runs left `pending`/`streaming` forever by a killed batch or
compare. And it found 0 lost writes with two workbenches writing one
notebook at once: opening must never take another live process's answer
for an interrupted one.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gguf_factory import write_tiny_model
from workbench.cli.main import main
from workbench.core.notebook import open_notebook
from workbench.core.notebook.database import Notebook
from workbench.core.notebook.writers import this_process

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_NO_STARTER="1")


def stored(db: Path) -> list[tuple]:
    """(status, text) of every response, read without opening the notebook."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute("select status, text from responses order by id").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not made yet
        return []


def wait_until_streaming(db: Path, process: subprocess.Popen, chars: int) -> None:
    deadline = time.monotonic() + 90
    while not any(status == "streaming" and len(text) >= chars for status, text in stored(db)):
        assert process.poll() is None, "the writer ended before streaming"
        assert time.monotonic() < deadline, "the answer never streamed"
        time.sleep(0.2)


@pytest.fixture
def killed_compare(tmp_path: Path) -> Path:
    """A notebook whose `workbench compare` was killed (SIGKILL) mid-answer; before it
    died, a second workbench opened the notebook while the answer streamed."""
    model = write_tiny_model(tmp_path / "long.gguf", context_length=4096, name="Long Talker")
    db = tmp_path / "nb.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "compare", "Talk", "--model", str(model), "--max-tokens", "3000", "--ctx", "4096", "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
    )
    try:
        wait_until_streaming(db, process, 100)
        # Another workbench opens the notebook while the answer streams: it is left alone.
        open_notebook(db).close()
        assert [status for status, _ in stored(db)] == ["streaming"]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return db


def test_a_killed_batch_s_answer_is_marked_interrupted_and_the_batch_still_resumable(tmp_path: Path) -> None:
    model = write_tiny_model(tmp_path / "long.gguf", context_length=4096, name="Long Talker")
    db = tmp_path / "nb.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "batch", "starter-20", "--model", str(model), "--limit", "1", "--lang", "en",
         "--max-tokens", "3000", "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
    )
    try:
        wait_until_streaming(db, process, 100)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    ((_, text),) = stored(db)
    notebook = open_notebook(db)
    try:
        assert [(r["status"], r["text"]) for r in notebook.run(1)["responses"]] == [("interrupted", text)]
        assert notebook.store.db.execute("select status from batch_items").fetchall() != [("done",)]  # --resume asks it again
    finally:
        notebook.close()


def test_a_killed_compare_s_answer_is_marked_interrupted_with_its_text_kept(killed_compare: Path) -> None:
    ((status, text),) = stored(killed_compare)
    assert status == "streaming" and len(text) >= 100
    notebook = open_notebook(killed_compare)
    try:
        (response,) = notebook.run(1)["responses"]
        assert (response["status"], response["text"]) == ("interrupted", text)
        # A partial answer can be evidence: it may be labelled.
        assert notebook.annotations.add_label(response["id"], "evasive", annotator="ana")
    finally:
        notebook.close()


def test_the_views_say_an_answer_is_partial(killed_compare: Path, tmp_path: Path, capsys) -> None:
    open_notebook(killed_compare).close()
    word = stored(killed_compare)[0][1].split()[0]
    assert main(["search", word, "--db", str(killed_compare)]) == 0
    out = capsys.readouterr().out
    assert "interrupted: the workbench stopped before this answer finished" in out and "partial answer" in out
    assert main(["search", word, "--json", "--db", str(killed_compare)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "interrupted"
    for fmt in ("md", "html", "jsonl", "csv"):
        out_file = tmp_path / f"export.{fmt}"
        assert main(["export", "--all", "--format", fmt, "-o", str(out_file), "--db", str(killed_compare)]) == 0
        assert "interrupted" in out_file.read_text(encoding="utf-8")
    assert "partial answer" in (tmp_path / "export.md").read_text(encoding="utf-8")


def _unfinished_response(notebook: Notebook) -> int:
    run_id = notebook.create_run("A question")
    response_id = notebook.add_response(run_id, 0, model_name="M", model_sha256=None, origin_country=None, seed=1, sampler={})
    notebook.save_partials([(response_id, "half an ans", "", "[]")])
    return response_id


def _status(db: Path, response_id: int) -> str:
    notebook = open_notebook(db)  # each open marks what it finds
    try:
        return notebook.run(1)["responses"][response_id - 1]["status"]
    finally:
        notebook.close()


def test_an_answer_this_very_process_is_writing_is_not_marked(tmp_path: Path) -> None:
    db = tmp_path / "nb.sqlite"
    writing = open_notebook(db)
    try:
        response_id = _unfinished_response(writing)
        assert _status(db, response_id) == "streaming"
        writing.finish_response(response_id, text="half an answer, then the rest")
        assert _status(db, response_id) == "done"
    finally:
        writing.close()


def test_an_answer_another_live_process_is_writing_is_not_marked_until_it_dies(tmp_path: Path) -> None:
    db = tmp_path / "nb.sqlite"
    open_notebook(db).close()
    writer = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from workbench.core.notebook import open_notebook\n"
            "nb = open_notebook(sys.argv[1])\n"
            "rid = nb.add_response(nb.create_run('q'), 0, model_name='M', model_sha256=None, origin_country=None, seed=1, sampler={})\n"
            "nb.save_partials([(rid, 'half', '', '[]')])\n"
            "print('writing', flush=True)\n"
            "time.sleep(120)\n"
        ), str(db)],
        stdout=subprocess.PIPE, text=True, env=ENV,
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        assert _status(db, 1) == "streaming"
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    assert _status(db, 1) == "interrupted"


def _set_writer(db: Path, pid: int | None, started: str | None, host: str | None) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update responses set writer_pid = ?, writer_started = ?, writer_host = ?", [pid, started, host])
    conn.close()


@pytest.mark.parametrize(
    "writer, marked",
    [
        (lambda me: (me.pid, "another boot:12345", me.host), True),  # this pid, reused: the writer started at another time
        (lambda me: (None, None, None), True),  # no writer: written before m006, or imported
        (lambda me: (me.pid, me.started, "another-computer"), False),  # a notebook shared with another computer: can't tell
        (lambda me: (me.pid, me.started, me.host), False),  # this process
    ],
    ids=["pid-reused", "no-writer", "other-host", "this-process"],
)
def test_whose_answer_is_marked(tmp_path: Path, writer, marked: bool) -> None:
    db = tmp_path / "nb.sqlite"
    notebook = open_notebook(db)
    try:
        response_id = _unfinished_response(notebook)
    finally:
        notebook.close()
    _set_writer(db, *writer(this_process()))
    assert _status(db, response_id) == ("interrupted" if marked else "streaming")
    assert stored(db)[0][1] == "half an ans"


def test_a_search_still_works_while_another_program_holds_the_notebook_s_write_lock(tmp_path: Path, capsys) -> None:
    """Marking is tidying: when it can't be done now, the open goes on and the next one marks."""
    db = tmp_path / "nb.sqlite"
    notebook = open_notebook(db)
    try:
        _unfinished_response(notebook)
    finally:
        notebook.close()
    _set_writer(db, None, None, None)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("begin immediate")  # another program, in a long write
        assert main(["search", "half", "--db", str(db)]) == 0
        assert "unfinished: still being written, or its workbench stopped" in capsys.readouterr().out
    finally:
        holder.execute("rollback")
        holder.close()
    assert _status(db, 1) == "interrupted"
