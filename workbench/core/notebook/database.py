"""Opening the notebook safely, and reading and writing runs.

Durability: WAL with synchronous=FULL, so a committed answer survives a
power cut (NORMAL can lose the newest transactions). Only the partial text
saved while an answer streams is committed with NORMAL; see `save_partials`.

Failures are split as in qutebrowser's sql module: what the environment did
(disk full, damaged file, locked, read-only, newer schema) becomes a
NotebookProblem with advice (store.py); anything else is a bug and propagates.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable

from ... import __version__
from .. import paths
from ..errors import NotebookProblem
from . import file_kind, migrations, statuses, writers
from .annotations import Annotations
from .batches import Batches
from .changes import NotebookChange
from .demos import Demos
from .file_kind import FileKind
from .flags import Flags
from .undo import UndoStack
from .labels import Labels
from .search import search
from .sessions import Sessions
from .stamps import utc_now
from .store import Store, insert_row, translate_errors
from .votes import Votes

if TYPE_CHECKING:
    from .search import SearchFilters, SearchHit

# Full-text search uses FTS5's trigram tokenizer, new in SQLite 3.34.
MIN_SQLITE = (3, 34, 0)
# How long a write waits for another process's (SQLite's busy timeout), and how long opening
# waits for another process's migration of the same notebook.
BUSY_WAIT_MS = 5000
MIGRATION_WAIT_MS = 60000

# Fields of a response that `finish_response` may set.
RESULT_FIELDS = (
    "text",
    "reasoning",
    "finish_reason",
    "error",
    "prompt_tokens",
    "completion_tokens",
    "ttft_s",
    "tokens_per_s",
    "duration_s",
    "load_s",
    "llama_cpp_version",
    "chat_template",
    "template_sha256",
    "timeline",
    "sampler",  # JSON: the settings again, with the ones the template ignored (engine/switches.py)
)


@dataclass(frozen=True)
class ModelRecord:
    """What the notebook keeps about a model; built from a catalog entry by the caller."""

    sha256: str
    name: str
    path: str
    catalog_id: str | None = None
    file_size: int | None = None
    architecture: str | None = None
    parameters: int | None = None
    quantization: str | None = None
    context_length: int | None = None
    maker: str | None = None
    origin_country: str | None = None
    base_maker: str | None = None
    base_country: str | None = None
    origin_source: str | None = None
    license: str | None = None
    chat_template_sha256: str | None = None
    metadata: dict[str, Any] | None = None


def open_notebook(path: Path | str, *, create: bool = True, make_folders: bool = False) -> Notebook:
    """Open and migrate the notebook at `path`: "open for reading" or "open or create".

    `create=False` is for commands that read, or change what is already in a
    notebook (search, export, annotate): a missing or empty file is refused
    ("no notebook at …"), where creating one would answer a mistyped --db with
    an empty notebook and "nothing found". `create=True` may start a new
    notebook file, in an existing folder. `make_folders=True` also makes the
    folders leading to it: for the default location only (the user data
    folder, or WORKBENCH_DB), never for a path typed on a command line.

    A file that is not a notebook (file_kind.py) is refused before anything
    writes to it. A new notebook that can't be completed (a full disk) is
    removed again, so no empty file is left to be taken for one.
    """
    path = Path(path).expanduser()
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise NotebookProblem(
            f"This Python's SQLite is version {sqlite3.sqlite_version}; the notebook needs {'.'.join(map(str, MIN_SQLITE))} "
            "or newer (for full-text search in Chinese). Use a newer Python build (python.org or your distribution's current one)."
        )
    if make_folders:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NotebookProblem(f"Can't create the folder for the notebook {path}: {exc.strerror}. Choose another place with --db.") from exc
    elif not path.parent.is_dir():
        what = "is not a folder" if path.parent.exists() else "does not exist"
        raise NotebookProblem(f"The folder {path.parent} {what}, so there is no notebook {path.name} in it. Check the path given with --db.")
    new = file_kind.examine(path) is FileKind.NEW
    if new and not create:
        raise NotebookProblem(f"No notebook at {path}; check the path, or run `workbench compare` to start one there.")
    # Created here: nothing there, or an empty file (left empty again if creating fails).
    created = new and (not path.exists() or path.stat().st_size == 0)
    was_there = path.exists()
    # A new notebook another process is creating at the same moment can refuse us at any
    # step of its creation (the journal mode, the first read): try again until it is done.
    deadline = time.monotonic() + MIGRATION_WAIT_MS / 1000
    with translate_errors(path):
        while True:
            # The bytes of the path: a folder named in another encoding still opens.
            conn = sqlite3.connect(os.fsencode(path), check_same_thread=False, timeout=BUSY_WAIT_MS / 1000, isolation_level=None)
            try:
                notebook = Notebook(path, conn)
                notebook._prepare()
                return notebook
            except BaseException as exc:
                conn.close()
                if _contended(exc):
                    if created and time.monotonic() < deadline:
                        time.sleep(0.1)
                        continue
                elif created:
                    _discard(path, was_there)
                raise


def _contended(exc: BaseException) -> bool:
    """A new notebook that failed because another process holds it (a second compare
    creating the same file): that process is using the file, so it must not be removed."""
    return isinstance(exc, sqlite3.OperationalError) and any(word in str(exc).lower() for word in ("locked", "busy"))


def open_chosen_notebook(given: Path | str | None, *, create: bool) -> Notebook:
    """The notebook a front end was given (--db), or else the default one.

    The default (WORKBENCH_DB, or the user data folder) is always created,
    folders and all: that is where a first run starts. A given path is used as
    it is: its folder must exist, and the file must too unless `create` (a
    command that adds runs may start a notebook there; one that reads or
    labels what is there would only find a mistyped path empty)."""
    if not given:
        return open_notebook(paths.default_notebook(), create=True, make_folders=True)
    return open_notebook(given, create=create)


def _discard(path: Path, existed: bool) -> None:
    """Undo a new notebook that could not be completed: its file goes (or is emptied
    again, if it was an empty file before), with SQLite's side files."""
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        side.unlink(missing_ok=True)
    if existed:
        os.truncate(path, 0)
    else:
        path.unlink(missing_ok=True)


class Notebook:
    """One open notebook. Safe to share between threads: every call holds a lock.

    Runs and responses are read and written here; the rest has a module of
    its own, reached through an attribute: `labels`, `annotations`,
    `flags` (automatic ones), `sessions`, `batches`, `votes`, `demos`,
    `undo` (the undo/redo stack) and `search()`. All of them share one
    `Store` (store.py): its connection, lock and transactions, and the
    announcement of every committed change (`subscribe`).
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.store = Store(path, conn)
        self.path = path
        # Built here, each given the store and what it works with; none imports this module.
        self.undo = UndoStack(self.store)
        self.labels = Labels(self.store, self.undo)
        self.annotations = Annotations(self.store, self.undo, self.labels)
        self.flags = Flags(self.store)
        self.sessions = Sessions(self.store, self.undo)
        self.batches = Batches(self.store, self.flags)
        self.votes = Votes(self.store)
        self.demos = Demos(self.store, self.sessions, self.run)
        # The run of each response this notebook added and has not finished: what
        # the streamed saves announce, without a query for it.
        self._response_runs: dict[int, int] = {}

    def subscribe(self, listener: Callable[[NotebookChange], None]) -> Callable[[], None]:
        """`listener(change)` after every committed change to the notebook; returns the
        call that stops it. See `Store.subscribe` (this is that, not a copy)."""
        return self.store.subscribe(listener)

    def search(self, query: str, filters: SearchFilters | None = None, *, limit: int = 50) -> list[SearchHit]:
        """Prompts, answers, reasoning and notes matching `query`; see search.py."""
        return search(self.store, query, filters, limit=limit)

    # --- opening ------------------------------------------------------

    def _prepare(self) -> None:
        self.store.conn.execute("PRAGMA foreign_keys = ON")
        mode = self.store.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and str(self.path) != ":memory:":
            raise NotebookProblem(f"The notebook {self.path} can't use write-ahead logging (the file system said {mode!r}). Keep notebooks on a local disk.")
        self.store.conn.execute("PRAGMA synchronous = FULL")
        self._refuse_newer_schema()
        if set(migrations.known_names()) - set(migrations.applied_names(self.store.db)):
            self._migrate()
        self._mark_interrupted()

    def _migrate(self) -> None:
        """Apply the pending migrations under one write lock, taken before looking at
        what is pending: two workbenches opening one new notebook at once (a compare
        in a terminal beside the window) would otherwise both apply the first step,
        and one would fail. The second waits for the lock, then finds nothing to do."""
        # Another process's migration may hold the lock for longer than an ordinary write
        # (every step of a new notebook, on a busy machine): wait for it rather than fail.
        self.store.conn.execute(f"PRAGMA busy_timeout = {MIGRATION_WAIT_MS}")
        try:
            with self.store.immediate():
                self._refuse_newer_schema()
                migrations.migrations.apply(self.store.db)  # each step a savepoint inside this transaction
        finally:
            self.store.conn.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")

    def _mark_interrupted(self) -> None:
        """Mark `interrupted` the answers left unfinished by a process that is gone
        (writers.py), keeping their text. Answers another live workbench is writing
        are left alone. This tidies; it loses nothing if it can't be done now (a
        locked or read-only notebook, a full disk): the next open tries again."""
        unfinished = ", ".join(f"'{status}'" for status in statuses.UNFINISHED)
        try:
            with self.store.lock, translate_errors(self.path):
                rows = self.store.conn.execute(
                    f"select id, writer_pid, writer_started, writer_host from responses indexed by responses_unfinished"
                    f" where status != '{statuses.DONE}' and status in ({unfinished})"
                ).fetchall()
                gone = [(response_id,) for response_id, *writer in rows if writers.is_gone(*writer)]
                if gone:
                    with self.store.immediate():
                        self.store.note({"responses"}, operation="interrupted")
                        # Only if still unfinished: a writer may have finished it since it was read.
                        self.store.conn.executemany(
                            f"update responses set status = '{statuses.INTERRUPTED}' where id = ? and status in ({unfinished})", gone
                        )
        except NotebookProblem:
            pass

    def _refuse_newer_schema(self) -> None:
        known = set(migrations.known_names())
        unknown = [name for name in migrations.applied_names(self.store.db) if name not in known]
        if unknown:
            raise NotebookProblem(
                f"The notebook {self.path} was written by a newer Model Values Workbench "
                f"(it has schema steps this version does not know: {', '.join(unknown)}). "
                "Update the workbench to open it; it was left untouched."
            )

    @property
    def schema(self) -> list[str]:
        return migrations.applied_names(self.store.db)

    def close(self) -> None:
        with self.store.lock:
            self.store.conn.close()

    # --- writing ------------------------------------------------------

    def record_model(self, model: ModelRecord) -> None:
        now = utc_now()
        row = {k: v for k, v in model.__dict__.items() if k != "metadata"}
        row["metadata"] = json.dumps(model.metadata or {}, ensure_ascii=False)
        row["last_seen"] = now
        with self.store.writing() as db:
            existing = db.execute("select first_seen from models where sha256 = ?", [model.sha256]).fetchone()
            row["first_seen"] = existing[0] if existing else now
            db.table("models").upsert(row, pk="sha256")
            self.store.note({"models"}, operation="model")

    def create_run(
        self,
        prompt: str,
        *,
        system_prompt: str = "",
        settings: dict[str, Any] | None = None,
        schedule: str = "sequential",
        language: str | None = None,
    ) -> int:
        row = {
            "uid": uuid.uuid4().hex,
            "created_at": utc_now(),
            "prompt": prompt,
            "system_prompt": system_prompt,
            "language": language,
            "settings": json.dumps(settings or {}, ensure_ascii=False),
            "schedule": schedule,
            "app_version": __version__,
        }
        with self.store.writing() as db:
            run_id = insert_row(db, "runs", row)
            # The run's prompt is its first turn (m009): a conversation's turns are read from one table.
            db.table("turns").insert({"run_id": run_id, "turn": 0, "prompt": prompt, "language": language, "created_at": row["created_at"]})
            self.store.note({"runs", "turns"}, [run_id], operation="run")
        return run_id

    def add_turn(self, run_id: int, prompt: str, *, language: str | None) -> int:
        """Append a follow-up `prompt` to run `run_id`'s conversation; returns its turn (1, 2, …).

        ValueError for a run the notebook does not hold, or one already at TURNS_PER_RUN turns."""
        with self.store.writing() as db:
            row = db.execute("select max(turn) from turns where run_id = ?", [run_id]).fetchone()
            if row is None or row[0] is None:
                raise ValueError(f"the notebook holds no run {run_id}")
            turn = int(row[0]) + 1
            if turn >= migrations.TURNS_PER_RUN:
                raise ValueError(f"run {run_id} already has {turn:,} turns, the most one run can hold; start a new run")
            db.table("turns").insert({"run_id": run_id, "turn": turn, "prompt": prompt, "language": language, "created_at": utc_now()})
            self.store.note({"turns"}, [run_id], operation="turn")
        return turn

    def add_response(
        self,
        run_id: int,
        position: int,
        *,
        model_name: str,
        model_sha256: str | None,
        origin_country: str | None,
        seed: int,
        sampler: dict[str, Any],
        turn: int = 0,
    ) -> int:
        """A pending answer of run `run_id`'s turn `turn` (0: the run's prompt; see `add_turn`)
        in pane `position`; returns its id."""
        row = {
            "uid": uuid.uuid4().hex,
            "run_id": run_id,
            "turn": turn,
            "position": position,
            "model_sha256": model_sha256,
            "model_name": model_name,
            "origin_country": origin_country,
            "status": statuses.PENDING,
            "seed": seed,
            "sampler": json.dumps(sampler, ensure_ascii=False),
            "writer_pid": writers.this_process().pid,
            "writer_started": writers.this_process().started,
            "writer_host": writers.this_process().host,
        }
        with self.store.writing() as db:
            response_id = insert_row(db, "responses", row)
            self.store.note({"responses"}, [run_id], operation="response")
            self._response_runs[response_id] = run_id
        return response_id

    def save_partials(self, partials: list[tuple[int, str, str, str]]) -> None:
        """Store streamed text so far for several responses in one transaction.

        Each item is (response_id, text, reasoning, timeline_json). Not synced to
        disk: these are saved several times a second while answers stream, and a
        sync stalls the writer (and wakes the app) for every one; the response's
        `finish_response` syncs it.

        Announced with the runs this notebook added those responses to (no query:
        `add_response` remembered them); a response it did not add makes it "every run".
        """
        with self.store.writing(durable=False) as db:
            db.conn.executemany(
                f"update responses set text = ?, reasoning = ?, timeline = ?, status = '{statuses.STREAMING}', "
                "started_at = coalesce(started_at, ?) where id = ?",
                [(text, reasoning, timeline, utc_now(), rid) for rid, text, reasoning, timeline in partials],
            )
            known = [self._response_runs.get(item[0]) for item in partials]
            runs = [run_id for run_id in known if run_id is not None]
            self.store.note({"responses"}, runs if len(runs) == len(known) else None, operation="partials")

    def finish_response(self, response_id: int, **fields: Any) -> None:
        unknown = set(fields) - set(RESULT_FIELDS)
        if unknown:
            raise TypeError(f"not response result fields: {sorted(unknown)}")
        update = dict(fields, status=statuses.DONE, finished_at=utc_now())
        with self.store.writing() as db:
            db.table("responses").update(response_id, update)
            run_id = self._response_runs.pop(response_id, None)
            if run_id is None:
                row = db.execute("select run_id from responses where id = ?", [response_id]).fetchone()
                run_id = row[0] if row else None
            self.store.note({"responses"}, None if run_id is None else [run_id], operation="finish")

    # --- reading ------------------------------------------------------

    def restart_response(self, response_id: int) -> None:
        """Make a response without a finished answer (stopped, not asked, left unfinished)
        pending again, its result fields cleared, for its model to be asked again in the
        same place (a resumed batch item, core/comparison.py `ask_again`); `finish_response`
        then records the new answer. Its stopped text, never a finished answer, is not kept."""
        cleared = {name: None for name in RESULT_FIELDS if name != "sampler"}
        update = dict(
            cleared,
            text="",
            reasoning="",
            status=statuses.PENDING,
            started_at=None,
            finished_at=None,
            writer_pid=writers.this_process().pid,
            writer_started=writers.this_process().started,
            writer_host=writers.this_process().host,
        )
        with self.store.writing() as db:
            db.table("responses").update(response_id, update)
            row = db.execute("select run_id from responses where id = ?", [response_id]).fetchone()
            if row is not None:
                self._response_runs[response_id] = row[0]
            self.store.note({"responses"}, None if row is None else [row[0]], operation="response")

    def run(self, run_id: int) -> dict[str, Any] | None:
        """A run with its first turn's responses (in pane order), or None.

        `run["turns"]` is the conversation, in order: `{"turn", "prompt", "language",
        "created_at", "responses"}` each, the responses of that turn in pane order
        (turn 0's are the very dicts of `run["responses"]`)."""
        with self.store.reading() as db:
            rows = list(db.query("select * from runs where id = ?", [run_id]))
            if not rows:
                return None
            run = rows[0]
            run["settings"] = json.loads(run["settings"] or "{}")
            turns = list(db.query("select turn, prompt, language, created_at from turns where run_id = ? order by turn", [run_id]))
            responses = list(db.query("select * from responses where run_id = ? order by turn, position", [run_id]))
        by_turn: dict[int, list[dict[str, Any]]] = {}
        for response in responses:
            response["sampler"] = json.loads(response["sampler"] or "{}")
            response["timeline"] = json.loads(response["timeline"] or "[]")
            by_turn.setdefault(response["turn"], []).append(response)
        run["turns"] = [dict(turn, responses=by_turn.get(turn["turn"], [])) for turn in turns]
        run["responses"] = by_turn.get(0, [])
        return run

    def recent_runs(self, limit: int = 50, before_id: int | None = None) -> list[dict[str, Any]]:
        """Newest first; `before_id` pages further back. Each run lists its model names
        (its first turn's, one per pane), counts its `interrupted` (partial) answers
        (of every turn) and its `turns` (1 for a run without follow-ups)."""
        where = "where runs.id < ?" if before_id is not None else ""
        params: list[Any] = [before_id] if before_id is not None else []
        sql = f"""
            select runs.id, runs.created_at, runs.prompt, runs.language,
                   group_concat(case when responses.turn = 0 then responses.model_name end, ' · ') as models,
                   coalesce(sum(responses.status = '{statuses.INTERRUPTED}'), 0) as interrupted,
                   (select count(*) from turns where turns.run_id = runs.id) as turns
            from runs left join responses on responses.run_id = runs.id
            {where}
            group by runs.id order by runs.id desc limit ?
        """
        with self.store.reading() as db:
            return list(db.query(sql, params + [limit]))

    def last_ran_on(self, sha256: str | None = None) -> dict[str, dict[str, Any]]:
        """What each model's newest answer that says so ran on (its sampler's "ran_on",
        engine/offload.py), by the model's SHA-256, with that answer's `finished_at`: the
        library's and `workbench models`' "last ran on"; `sha256`: that model's alone. A
        model absent never ran here since answers began recording it."""
        only = "and model_sha256 = ?" if sha256 is not None else ""
        sql = f"""
            select model_sha256, json_extract(sampler, '$.ran_on') as ran_on, finished_at, max(id)
            from responses
            where json_valid(sampler) and json_type(sampler, '$.ran_on') = 'object' {only}
            group by model_sha256
        """
        with self.store.reading() as db:
            rows = list(db.execute(sql, [sha256] if sha256 is not None else []))
        return {sha: dict(json.loads(ran_on), finished_at=finished_at) for sha, ran_on, finished_at, _ in rows}

    def model(self, sha256: str) -> dict[str, Any] | None:
        with self.store.reading() as db:
            rows = list(db.query("select * from models where sha256 = ?", [sha256]))
        return rows[0] if rows else None
