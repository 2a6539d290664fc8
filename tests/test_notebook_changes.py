"""Notebook changes are announced once, after the commit (issue 16; Anki's `operation_did_execute`).

Besides the ordinary tests, `test_every_public_write_declares_the_tables_it_writes`
checks the declarations against what SQLite itself saw: an authorizer on the
notebook's connection (opened without a statement cache, so every statement is
prepared, and so authorized, afresh) records every table an INSERT, UPDATE or
DELETE writes, and each public write operation must have announced at least
those tables. A write added without `Store.note` fails it.

Not counted as written: SQLite's own tables (sqlite_*), and the full-text search
tables (each `*_fts` virtual table and its shadow tables), which triggers derive
from the tables they index (runs, responses, notes, spans), themselves announced.
Nor are tables gone again by the end of the operation (sqlite-utils probes features
with a throwaway table). Foreign-key cascades are counted: deleting a demo script deletes its steps, and
that is a change to demo_steps a view must hear of.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

import pytest
from batch_notebooks import notebook_with_batch
from export_fixtures import build
from fake_model import ScriptedJudgeModel

from workbench.core.classroom.demo_file import export_demo, import_demo
from workbench.core.export import Selection, import_jsonl, write, collect
from workbench.core.flagging import reflag
from workbench.core.judge import Judge, batch_targets
from workbench.core.notebook import database, open_notebook
from workbench.core.notebook.batches import BatchModel, NewItem, StoredFlag
from workbench.core.notebook.changes import MAX_LISTED_RUNS, RUN_TABLES, NotebookChange
from workbench.core.notebook.database import ModelRecord
from workbench.core.notebook.recorder import ANSWER, ResponseState, StreamRecorder

WRITES = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)


class Heard:
    """A listener: every change announced, with the thread it came on."""

    def __init__(self) -> None:
        self.changes: list[NotebookChange] = []
        self.threads: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, change: NotebookChange) -> None:
        with self._lock:
            self.changes.append(change)
            self.threads.append(threading.current_thread().name)

    def take(self) -> list[NotebookChange]:
        with self._lock:
            changes, self.changes, self.threads = self.changes, [], []
        return changes


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = open_notebook(tmp_path / "nb.sqlite")
    yield notebook
    notebook.close()


def _run(notebook, answers=("An answer.", "I can't help with that.")) -> tuple[int, list[int]]:
    run_id = notebook.create_run("What happened in June 1989?", language="en")
    ids = []
    for position, text in enumerate(answers):
        rid = notebook.add_response(run_id, position, model_name=f"Model {position}", model_sha256=None, origin_country=None, seed=1, sampler={})
        notebook.finish_response(rid, text=text, finish_reason="stop")
        ids.append(rid)
    return run_id, ids


# --- the announcements ------------------------------------------------------------------


def test_a_label_announces_its_table_and_run_once_after_the_commit(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    heard = Heard()
    seen_committed = []
    notebook.subscribe(heard)
    # The listener reads what was announced: it is committed, and the lock is free.
    notebook.subscribe(lambda change: seen_committed.append((notebook.annotations.for_run(run_id).responses[rid].label_names(), notebook.store.lock.held())))
    assert notebook.annotations.add_label(rid, "evasive", annotator="ana")
    [change] = heard.take()
    assert change == NotebookChange(frozenset({"response_labels"}), frozenset({run_id}), False, "label")
    assert change.touches_run(run_id) and not change.touches_run(run_id + 1) and change.touches({"response_labels", "labels"})
    assert seen_committed == [({"evasive"}, False)]
    # Labelling again changes nothing, and announces nothing.
    assert not notebook.annotations.add_label(rid, "evasive", annotator="ana")
    assert heard.take() == []


def test_a_rollback_announces_nothing_and_a_released_savepoint_joins_its_transaction(notebook) -> None:
    run_id, _ = _run(notebook)
    heard = Heard()
    notebook.subscribe(heard)
    with pytest.raises(RuntimeError, match="no"):
        with notebook.store.writing() as db:
            db.execute("update runs set prompt = 'changed' where id = ?", [run_id])
            notebook.store.note({"runs"}, [run_id])
            raise RuntimeError("no")
    assert heard.take() == [] and notebook.run(run_id)["prompt"] != "changed"
    # A savepoint rolled back inside a transaction that commits: only what was kept is announced.
    with notebook.store.writing():
        notebook.sessions.create("Kept", annotator="ana")
        with pytest.raises(ValueError):
            with notebook.store.writing():
                notebook.votes.add(run_id, "tie", annotator="ana")
                raise ValueError("take it back")
    [change] = heard.take()
    assert change.tables == {"sessions"} and notebook.votes.tally(run_id).total == 0


def test_nested_writes_announce_once_with_everything_they_changed(notebook) -> None:
    heard = Heard()
    notebook.subscribe(heard)
    with notebook.store.writing():
        run_id, (rid, _) = _run(notebook)
        notebook.annotations.add_label(rid, "answered", annotator="ana")
        notebook.votes.add(run_id, "pane:0", annotator="ana")
        assert heard.changes == []  # nothing before the commit
    [change] = heard.take()
    assert change.tables == {"runs", "turns", "responses", "response_labels", "votes"}
    assert change.run_ids == {run_id} and not change.every_run


def test_a_raising_listener_loses_no_write_and_is_logged_as_the_bug_it_is(notebook, caplog) -> None:
    run_id, (rid, _) = _run(notebook)
    heard = Heard()

    def broken(change: NotebookChange) -> None:
        raise ZeroDivisionError("a bug in a view")

    notebook.subscribe(broken)
    notebook.subscribe(heard)
    with caplog.at_level(logging.ERROR, logger="workbench.core.notebook.store"):
        notebook.annotations.set_response_note(rid, "Kept.", annotator="ana")
    assert [n.body for n in notebook.annotations.for_run(run_id).responses[rid].notes] == ["Kept."]
    assert [c.tables for c in heard.take()] == [{"notes"}]  # the others still hear of it
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError


def test_listeners_run_outside_the_lock_on_the_writing_thread_and_unsubscribe(notebook) -> None:
    run_id, (rid, _) = _run(notebook)
    other_thread_got_the_lock = []

    def listener(change: NotebookChange) -> None:
        # Another thread can take the notebook's lock while a listener runs: no deadlock
        # for a listener that waits on a thread that reads the notebook.
        def grab() -> None:
            got = notebook.store.lock.acquire(timeout=5)
            other_thread_got_the_lock.append(got)
            if got:
                notebook.store.lock.release()

        thread = threading.Thread(target=grab)
        thread.start()
        thread.join()

    stop = notebook.subscribe(listener)
    # toggle_label holds the lock around its read and write: the announcement waits for its release.
    notebook.annotations.toggle_label(rid, "evasive", annotator="ana")
    assert other_thread_got_the_lock == [True]
    stop()
    stop()  # twice is harmless
    notebook.annotations.toggle_label(rid, "evasive", annotator="ana")
    assert other_thread_got_the_lock == [True]


def test_streamed_saves_announce_their_runs_on_the_recorder_thread_without_a_query(notebook, monkeypatch) -> None:
    run_id = notebook.create_run("Hello?")
    rid = notebook.add_response(run_id, 0, model_name="M", model_sha256=None, origin_country=None, seed=1, sampler={})
    heard = Heard()
    notebook.subscribe(heard)
    statements = []
    notebook.store.conn.set_trace_callback(statements.append)
    recorder = StreamRecorder(notebook)
    state = ResponseState(rid)
    state.append(ANSWER, "Hi", 10)
    recorder.mark(state)
    assert recorder.flush()
    recorder.close()
    notebook.store.conn.set_trace_callback(None)
    assert [(c.tables, c.run_ids, c.operation) for c in heard.changes] == [({"responses"}, {run_id}, "partials")]
    assert heard.threads == ["notebook-writer"]
    # The transaction's own statements and nothing else: no select of the runs.
    assert {s.split()[0].upper() for s in statements if not s.startswith("--")} == {"PRAGMA", "BEGIN", "UPDATE", "COMMIT"}  # "--": SQLite's own
    heard.take()
    notebook.finish_response(rid, text="Hi")
    assert [(c.tables, c.run_ids) for c in heard.take()] == [({"responses"}, {run_id})]
    # A response this notebook did not add: its run is not known without asking, so every run.
    other = open_notebook(notebook.path)
    other.subscribe(heard)
    other.save_partials([(rid, "Hi again", "", "[]")])
    other.close()
    [change] = heard.take()
    assert change.every_run and change.run_ids == frozenset() and change.touches_run(12345)


def test_merging_changes_and_runs_too_many_to_list() -> None:
    label = NotebookChange.of({"labels"}, operation="labels")
    assert not label.every_run and not label.run_ids  # not about runs
    some = NotebookChange.of({"flags"}, [1, 2], operation="flags")
    assert (label | some) == NotebookChange(frozenset({"labels", "flags"}), frozenset({1, 2}), False, "flags")
    every = NotebookChange.of({"responses"})  # run rows, runs not listed
    assert every.every_run and (some | every).every_run and (some | every).run_ids == frozenset()
    many = NotebookChange.of({"runs"}, range(MAX_LISTED_RUNS + 1))
    assert many.every_run and many.run_ids == frozenset()
    assert not NotebookChange() and NotebookChange.of(operation="reflag") == NotebookChange(operation="reflag")


def test_note_outside_a_transaction_is_a_bug(notebook) -> None:
    with pytest.raises(RuntimeError, match="inside the notebook transaction"):
        notebook.store.note({"runs"})


def test_run_tables_are_every_table_holding_rows_of_a_run(notebook) -> None:
    """RUN_TABLES decides when an unlisted change means "every run": a new table with a
    run's rows must join it (batch_items and demo_steps only point at a run)."""
    with notebook.store.reading() as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table' and sql not like 'create virtual%'")]
        holding = {
            t for t in tables
            if {"run_id", "run_a", "response_id", "span_id"} & {c[1] for c in db.execute(f"pragma table_info([{t}])")}
        }  # fmt: skip
    assert holding - {"batch_items", "demo_steps"} == RUN_TABLES - {"runs"}
    assert RUN_TABLES <= set(tables)


# --- the declarations are complete ------------------------------------------------------


class Audit:
    """What SQLite saw written, against what was announced, one operation at a time."""

    def __init__(self, notebook) -> None:
        self.notebook = notebook
        self.heard = Heard()
        self.written: set[str] = set()
        self.checked: dict[str, set[str]] = {}
        with notebook.store.reading() as db:
            self.fts = [r[0] for r in db.execute("select name from sqlite_master where sql like 'create virtual table%'")]
        assert self.fts, "the notebook has full-text tables to leave out"
        notebook.subscribe(self.heard)
        notebook.store.conn.set_authorizer(self._authorize)

    def _authorize(self, action: int, table: str | None, _column: str | None, database_name: str | None, _trigger: str | None) -> int:
        if action in WRITES and table and database_name == "main" and not self._derived(table):
            self.written.add(table)
        return sqlite3.SQLITE_OK

    def _derived(self, table: str) -> bool:
        return table.startswith("sqlite_") or any(table == fts or table.startswith(f"{fts}_") for fts in self.fts)

    @contextmanager
    def check(self, name: str) -> Iterator[None]:
        self.written.clear()
        self.heard.take()
        yield
        announced = self.heard.take()
        # Tables that are gone again are no notebook's: sqlite-utils probes SQLite's features
        # once with a throwaway table, created and dropped in a savepoint.
        with self.notebook.store.reading() as db:
            self.written &= {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
        told = set().union(*(c.tables for c in announced))
        assert self.written, f"{name}: wrote nothing; the check would prove nothing"
        assert self.written <= told, f"{name}: wrote {sorted(self.written - told)} without announcing them (announced {sorted(told)})"
        self.checked[name] = set(self.written)


@pytest.fixture
def audited(tmp_path: Path, monkeypatch):
    """A notebook whose connection has no statement cache: the authorizer sees every statement."""
    monkeypatch.setattr(database.sqlite3, "connect", functools.partial(sqlite3.connect, cached_statements=0))
    notebook = open_notebook(tmp_path / "audited.sqlite")
    monkeypatch.undo()
    yield notebook, Audit(notebook)
    notebook.close()


def test_the_audit_catches_a_write_that_is_not_declared(audited) -> None:
    notebook, audit = audited
    run_id, _ = _run(notebook)
    with pytest.raises(AssertionError, match=r"wrote \['runs'\] without announcing"):
        with audit.check("an undeclared write"):
            with notebook.store.writing() as db:
                db.execute("update runs set language = 'zh' where id = ?", [run_id])
    # Nor does a statement cache hide a write from it: the same statement, prepared again.
    with pytest.raises(AssertionError, match="without announcing"):
        with audit.check("the same write again"):
            with notebook.store.writing() as db:
                db.execute("update runs set language = 'zh' where id = ?", [run_id])


def test_every_public_write_declares_the_tables_it_writes(audited, tmp_path: Path) -> None:
    notebook, audit = audited
    check = audit.check
    ann, demos = notebook.annotations, notebook.demos

    # Runs, responses, models; the streamed saves and the recorder.
    with check("record a model"):
        notebook.record_model(ModelRecord("a" * 64, "US model", "/m/us.gguf"))
    with check("record a model again"):
        notebook.record_model(ModelRecord("a" * 64, "US model", "/m/us.gguf", origin_country="US"))
    with check("create a run"):
        run_id = notebook.create_run("What happened in June 1989?", language="en")
    with check("add a turn"):
        notebook.add_turn(run_id, "Are you sure?", language="en")
    with check("add a follow-up's response"):
        notebook.add_response(run_id, 0, model_name="M0", model_sha256="a" * 64, origin_country=None, seed=1, sampler={}, turn=1)
    with check("add responses"):
        rids = [
            notebook.add_response(run_id, p, model_name=f"M{p}", model_sha256="a" * 64, origin_country=None, seed=1, sampler={}) for p in (0, 1)
        ]
    with check("save partials"):
        notebook.save_partials([(rids[0], "Troops cleared", "", "[]")])
    with check("the recorder"):
        recorder = StreamRecorder(notebook)
        state = ResponseState(rids[1])
        state.append(ANSWER, "I can't", 5)
        recorder.mark(state)
        assert recorder.flush()
        recorder.close()
    with check("finish responses"):
        notebook.finish_response(rids[0], text="Troops cleared the square.", finish_reason="stop")
        notebook.finish_response(rids[1], text="I can't help with that.", finish_reason="stop")
    other_run, other_rids = _run(notebook)

    # The label set and annotations.
    with check("create a label"):
        notebook.labels.create("whataboutism", annotator="ana", title="Whataboutism")
    with check("edit a label"):
        notebook.labels.update("whataboutism", annotator="ana", title="Deflection")
    with check("label"):
        ann.add_label(rids[0], "whataboutism", annotator="ana")
    with check("unlabel"):
        ann.remove_label(rids[0], "whataboutism", annotator="ana")
    with check("toggle a label"):
        ann.toggle_label(rids[1], "hard_refusal", annotator="ana")
    with check("a verdict"):
        ann.record_verdict(rids[1], "evasive", "Changes the subject.", annotator="judge:J", replaces=["answered", "evasive", "hard_refusal"])
    with check("highlight"):
        span = ann.add_span(rids[0], "text", 0, 6, annotator="ana", labels=["factual_error"], note="Which troops?")
    with check("highlight labels"):
        ann.set_span_labels(span.id, ["state_narrative"], annotator="ana")
    with check("highlight note"):
        ann.set_span_note(span.id, "Whose troops?")
    with check("response note"):
        ann.set_response_note(rids[0], "Vague.", annotator="ana")
    with check("run note"):
        ann.set_run_note(run_id, "Compare with the Chinese run.", annotator="ana")
    with check("rating"):
        ann.set_divergence(run_id, "opposite", annotator="ana")
    with check("summary"):
        ann.set_summary(run_id, "One answers, one refuses.", annotator="ana")
    zh_run = notebook.create_run("1989年6月发生了什么？", language="zh")
    with check("link"):
        link = ann.link_language_shift(run_id, zh_run, annotator="ana", note="Shift")
    with check("unlink"):
        ann.unlink(link.id)
    with check("remove a highlight"):
        ann.delete_span(span.id)

    # Sessions.
    with check("create a session"):
        session = notebook.sessions.create("Class 1", annotator="ana")
    with check("rename a session"):
        notebook.sessions.rename(session.id, "Class one")
    with check("archive a session"):
        notebook.sessions.set_archived(session.id, True)
    with check("restore a session"):
        notebook.sessions.set_archived(session.id, False)
    with check("move runs to a session"):
        notebook.sessions.move_runs([run_id, other_run], session.id, annotator="ana")
    with check("move a run back to Unsorted"):
        notebook.sessions.move_runs([other_run], None, annotator="ana")

    # Undo and redo.
    with check("undo"):
        notebook.undo.undo()
    with check("redo"):
        notebook.undo.redo()

    # Votes.
    with check("vote"):
        notebook.votes.add(run_id, "pane:0", annotator="ana")
    with check("another vote"):
        notebook.votes.add(run_id, "pane:0", 2, annotator="ana")
    with check("take a vote back"):
        notebook.votes.add(run_id, "pane:0", -1, annotator="ana")

    # Demo scripts.
    with check("create a demo script"):
        script = demos.create("Monday", annotator="ana")
    with check("edit a demo script"):
        demos.update(script.id, title="Monday's", description="For the class")
    with check("add a step"):
        step = demos.add_step(script.id, prompt="Who are you?", annotator="ana", models=[{"sha256": "a" * 64, "name": "US model"}])
    with check("add a step from a run"):
        demos.add_step_from_run(script.id, run_id, annotator="ana")
    with check("edit a step"):
        demos.update_step(step.id, note="Ask it live")
    with check("move a step"):
        demos.move_step(step.id, 1)
    with check("delete a step"):
        demos.delete_step(step.id)
    with check("build a demo from a session"):
        built = demos.build_from_session(session.id, annotator="ana")
    with check("delete a demo script"):
        demos.delete(built.id)

    # Flags, batches, reflag.
    with check("flags"):
        notebook.flags.record(run_id, rids[0], [StoredFlag("answered", "test/1", [])])
    with check("create a batch"):
        batch = notebook.batches.create(
            prompt_set_id="hand", prompt_set_title="Hand", prompt_set_path=None, prompt_set_sha256=None, filters={},
            models=[BatchModel("a" * 64, "US model", "/m/us.gguf", "us")], settings={},
            items=[NewItem("q1", "tiananmen", "sensitive", "en", None, "What happened in June 1989?")],
        )  # fmt: skip
    [item] = notebook.batches.items(batch.id)
    with check("batch flags"):
        notebook.batches.record_flags(run_id, rids[1], [StoredFlag("hard_refusal", "test/1", [])])
    with check("finish a batch item"):
        notebook.batches.finish_item(item.id, run_id, divergence=0.5, divergence_detail={"x": 1}, duration_s=1.0)
    with check("batch status"):
        notebook.batches.set_status(batch.id, "done")
    with check("a batch item's score again"):
        notebook.batches.set_divergence(item.id, 0.7, None)
    with check("reflag"):
        result = reflag(notebook, Selection(everything=True))
    assert result.answers == 4 and not result.problems

    # A judge.
    with check("judge"):
        judged = Judge(notebook, ScriptedJudgeModel("J", ["ANALYSIS: Refuses.\nCOMPLIANCE: DENIAL"] * 2)).run(batch_targets(notebook, batch.id))
    assert judged.judged == 1

    # Imports: an export, a demo file.
    home = build(tmp_path / "home.sqlite")
    home.add_turn(1, "Are you sure?", language="en")  # a follow-up to import, with its answer
    home.finish_response(
        home.add_response(1, 0, model_name="SmolLM2", model_sha256="a" * 64, origin_country="US", seed=7, sampler={}, turn=1), text="Yes."
    )
    home_script = home.demos.create("Lesson", annotator="bo")
    home.demos.add_step_from_run(home_script.id, 1, annotator="bo")
    exported, demo_path = tmp_path / "home.jsonl", tmp_path / "lesson.demo.jsonl"
    write(collect(home, Selection(everything=True)), "jsonl", exported)
    export_demo(home, home_script.id, demo_path)
    home.close()
    with check("import"):
        assert import_jsonl(notebook, exported).changed
    with check("import a demo file"):
        assert import_demo(notebook, demo_path).result.added["demo_scripts"] == 1

    # Every table a person's work lives in was written by some checked operation.
    written = set().union(*audit.checked.values())
    assert written >= RUN_TABLES | {"models", "labels", "sessions", "batches", "batch_items", "demo_scripts", "demo_steps"}


def test_announced_runs_are_the_ones_changed(notebook, tmp_path: Path) -> None:
    heard = Heard()
    notebook.subscribe(heard)
    run_id, (rid, _) = _run(notebook)
    assert {c.operation: c.run_ids for c in heard.take()} == {"run": {run_id}, "response": {run_id}, "finish": {run_id}}
    assert notebook.add_turn(run_id, "Are you sure?", language="en") == 1
    assert [(c.operation, c.tables, c.run_ids) for c in heard.take()] == [("turn", {"turns"}, {run_id})]
    notebook.annotations.add_span(rid, "text", 0, 2, annotator="ana")
    notebook.flags.record(run_id, rid, [StoredFlag("answered", "test/1", [])])
    notebook.votes.add(run_id, "tie", annotator="ana")
    session = notebook.sessions.create("S", annotator="ana")
    notebook.sessions.move_runs([run_id], session.id, annotator="ana")
    assert [(c.operation, c.run_ids, c.every_run) for c in heard.take()] == [
        ("highlight", {run_id}, False), ("flags", {run_id}, False), ("vote", {run_id}, False),
        ("session", frozenset(), False), ("session", {run_id}, False),
    ]  # fmt: skip
    notebook.undo.undo()
    notebook.undo.redo()
    assert [(c.operation, c.run_ids) for c in heard.take()] == [("undo", {run_id}), ("redo", {run_id})]
    # A reflag announces once per chunk of runs, with them.
    reflag(notebook, Selection(everything=True))
    assert [(c.operation, c.tables, c.run_ids) for c in heard.take()] == [("reflag", {"flags"}, {run_id})]


def test_an_import_announces_the_runs_it_added_and_a_second_import_nothing(tmp_path: Path) -> None:
    home = build(tmp_path / "home.sqlite")
    exported = tmp_path / "home.jsonl"
    write(collect(home, Selection(everything=True)), "jsonl", exported)
    home.close()
    target = open_notebook(tmp_path / "target.sqlite")
    _run(target)  # run 1 here is not the file's
    heard = Heard()
    target.subscribe(heard)
    import_jsonl(target, exported)
    [change] = heard.take()
    assert change.operation == "import" and change.run_ids == {2, 3, 4} and not change.every_run
    assert {"models", "runs", "responses", "labels", "response_labels", "votes"} <= change.tables
    import_jsonl(target, exported)
    assert heard.take() == []
    target.close()


def test_a_batch_notebook_announces_each_finished_item(tmp_path: Path) -> None:
    notebook, batch, _ = notebook_with_batch(tmp_path / "batch")
    heard = Heard()
    notebook.subscribe(heard)
    [item] = [i for i in notebook.batches.items(batch.id) if i.prompt_id == "q1-en"]
    notebook.batches.finish_item(item.id, item.run_id, divergence=None, divergence_detail=None, duration_s=1.0)
    [change] = heard.take()
    assert change.tables == {"batches", "batch_items"} and change.run_ids == {item.run_id}
    notebook.close()
