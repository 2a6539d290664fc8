"""The notebook: migrations, refusing what it can't safely open, saving streams."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from thread_wakeups import needs_proc, voluntary_switches

from workbench.core.errors import NotebookProblem
from workbench.core.notebook import open_notebook
from workbench.core.notebook import recorder as recorder_module
from workbench.core.notebook.database import ModelRecord
from workbench.core.notebook.store import translate_errors
from workbench.core.notebook.migrations import MIGRATION_SET, known_names
from workbench.core.notebook.recorder import ANSWER, REASONING, ResponseState, StreamRecorder


def test_a_new_notebook_gets_every_migration_and_durable_settings(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "sub" / "nb.sqlite", make_folders=True)
    try:
        assert notebook.schema == known_names()
        conn = notebook.store.db.conn
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert conn.execute("pragma synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("pragma foreign_keys").fetchone()[0] == 1
        assert {"models", "runs", "responses"} <= set(notebook.store.db.table_names())
    finally:
        notebook.close()


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    open_notebook(tmp_path / "nb.sqlite").close()
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        assert notebook.schema == known_names()
    finally:
        notebook.close()


def test_a_notebook_from_a_newer_workbench_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "nb.sqlite"
    open_notebook(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "insert into _sqlite_migrations (migration_set, name, applied_at) values (?, ?, ?)",
        [MIGRATION_SET, "m999_from_the_future", "2030-01-01"],
    )
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NotebookProblem, match="newer Model Values Workbench.*m999_from_the_future"):
        open_notebook(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_damaged_file_gets_advice_and_is_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "nb.sqlite"
    path.write_bytes(content)
    with pytest.raises(NotebookProblem, match="damaged.*--db"):
        open_notebook(path)
    assert path.read_bytes() == content


def test_an_unwritable_place_gets_advice(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(NotebookProblem, match="--db"):
        open_notebook(blocker / "nb.sqlite")


@pytest.mark.parametrize(
    "message, advice",
    [
        ("database or disk is full", "is full"),
        ("database is locked", "locked by another program"),
        ("attempt to write a readonly database", "can't be written"),
        ("database disk image is malformed", "damaged"),
    ],
)
def test_sqlite_environment_errors_become_advice(message: str, advice: str) -> None:
    with pytest.raises(NotebookProblem, match=advice):
        with translate_errors(Path("nb.sqlite")):
            raise sqlite3.OperationalError(message)


def test_bugs_are_not_dressed_up_as_environment_problems() -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        with translate_errors(Path("nb.sqlite")):
            raise sqlite3.OperationalError("no such column: nope")


def _run_with_response(notebook):
    notebook.record_model(ModelRecord(sha256="a" * 64, name="Model A", path="/m/a.gguf", origin_country="CN"))
    run_id = notebook.create_run("问题 question", settings={"seed": 3}, language="zh")
    response_id = notebook.add_response(
        run_id, 0, model_name="Model A", model_sha256="a" * 64, origin_country="CN", seed=3, sampler={"seed": 3}
    )
    return run_id, response_id


def test_runs_and_responses_round_trip(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        run_id, response_id = _run_with_response(notebook)
        notebook.finish_response(response_id, text="答案 answer", reasoning="hmm", finish_reason="stop", completion_tokens=5, ttft_s=0.1)
        run = notebook.run(run_id)
        assert run["prompt"] == "问题 question" and run["settings"] == {"seed": 3} and run["language"] == "zh"
        (response,) = run["responses"]
        assert (response["text"], response["reasoning"], response["status"]) == ("答案 answer", "hmm", "done")
        assert response["sampler"] == {"seed": 3}
        assert notebook.recent_runs()[0]["models"] == "Model A"
        assert notebook.model("a" * 64)["origin_country"] == "CN"
    finally:
        notebook.close()


def test_finish_rejects_unknown_fields(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        _, response_id = _run_with_response(notebook)
        with pytest.raises(TypeError):
            notebook.finish_response(response_id, colour="red")
    finally:
        notebook.close()


def test_the_recorder_saves_streamed_text_as_it_arrives(tmp_path: Path) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    recorder = StreamRecorder(notebook)
    try:
        run_id, response_id = _run_with_response(notebook)
        state = ResponseState(response_id)
        for i, piece in enumerate(["<", "think", "ing", " done"]):
            state.append(REASONING if i < 3 else ANSWER, piece, i * 10)
            recorder.mark(state)
        assert recorder.flush()
        # A second connection sees it: it is committed, not just cached.
        other = sqlite3.connect(tmp_path / "nb.sqlite")
        row = other.execute("select text, reasoning, status, timeline from responses where id = ?", [response_id]).fetchone()
        other.close()
        assert row[:3] == (" done", "<thinking", "streaming")
        assert row[3] == "[[0,1,1],[10,1,5],[20,1,3],[30,0,5]]"
    finally:
        recorder.close()
        notebook.close()


def test_streamed_text_is_committed_without_a_disk_sync_and_the_answer_with_one(tmp_path: Path) -> None:
    """Partial text is saved several times a second while answers stream; a sync
    for each stalls the writer and wakes the app. It survives the app being
    killed without one, and finishing the response syncs everything."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    try:
        _, response_id = _run_with_response(notebook)
        statements: list[str] = []
        notebook.store.db.conn.set_trace_callback(statements.append)
        notebook.save_partials([(response_id, "so far", "", "[]")])
        notebook.finish_response(response_id, text="so far, and done")
        notebook.store.db.conn.set_trace_callback(None)
        normal, full = statements.index("PRAGMA synchronous = NORMAL"), statements.index("PRAGMA synchronous = FULL")
        assert normal < statements.index("COMMIT") < full  # the partial text's transaction
        assert not [s for s in statements[full + 1:] if "synchronous" in s]  # the finish's is synced
        assert notebook.store.db.conn.execute("pragma synchronous").fetchone()[0] == 2
    finally:
        notebook.close()


@needs_proc
def test_the_recorder_wakes_about_once_per_commit_however_fast_text_arrives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted in commits and wake-ups, not in seconds: on a busy machine the stream is
    slower and the commits fewer, and the rules below still hold."""
    notebook = open_notebook(tmp_path / "nb.sqlite")
    commits: list[float] = []  # when each commit began
    writers: set[int] = set()  # the thread that commits: the recorder's writer
    real_save = notebook.save_partials

    def save(partials):
        commits.append(time.monotonic())
        writers.add(threading.get_native_id())
        real_save(partials)

    monkeypatch.setattr(notebook, "save_partials", save)
    monkeypatch.setattr(recorder_module, "MIN_INTERVAL_S", 0.25)
    recorder = StreamRecorder(notebook)
    try:
        _, response_id = _run_with_response(notebook)
        state = ResponseState(response_id)
        state.append(ANSWER, "x", 0)
        recorder.mark(state)
        assert recorder.flush()
        (writer,) = writers
        first = len(commits)
        before = voluntary_switches(writer)
        pieces = 0
        deadline = time.monotonic() + 60
        while (pieces < 200 or len(commits) - first < 3) and time.monotonic() < deadline:  # streaming
            pieces += 1
            state.append(ANSWER, "x", pieces * 5)
            recorder.mark(state)
            time.sleep(0.005)
        wakes = voluntary_switches(writer) - before
        streamed = commits[first:]
        assert len(streamed) >= 3, "the writer stopped saving while text arrived"
        assert writers == {writer}
        # At most one commit per MIN_INTERVAL_S, however fast the pieces came...
        assert all(later - earlier >= 0.24 for earlier, later in zip(streamed, streamed[1:]))
        # ...and the 200 or more pieces marked in between did not wake the writer.
        assert wakes <= 2 * len(streamed) + 2
    finally:
        recorder.close()
        notebook.close()


def test_the_recorder_reports_a_failing_disk_once_and_keeps_the_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    problems = []
    full = threading.Event()
    full.set()
    real_save = notebook.save_partials

    def save(partials):
        if full.is_set():
            raise NotebookProblem("The disk holding the notebook is full.")
        real_save(partials)

    monkeypatch.setattr(notebook, "save_partials", save)
    monkeypatch.setattr("workbench.core.notebook.recorder.RETRY_AFTER_PROBLEM_S", 0.05)
    recorder = StreamRecorder(notebook, on_problem=problems.append)
    try:
        _, response_id = _run_with_response(notebook)
        state = ResponseState(response_id)
        for piece in ["kept ", "in ", "memory"]:
            state.append(ANSWER, piece, 0)
            recorder.mark(state)
        assert recorder.flush(timeout=2) is False
        full.clear()  # Space was freed: the retry saves everything.
        assert recorder.flush(timeout=5)
        assert len(problems) == 1 and "full" in str(problems[0])
        text = notebook.store.db.execute("select text from responses where id = ?", [response_id]).fetchone()[0]
        assert text == "kept in memory"
    finally:
        recorder.close()
        notebook.close()
