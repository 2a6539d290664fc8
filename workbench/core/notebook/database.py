"""Opening the notebook safely, and reading and writing runs.

Durability: WAL with synchronous=FULL, so a committed answer survives a
power cut (NORMAL can lose the newest transactions). Only the partial text
saved while an answer streams is committed with NORMAL; see `save_partials`.

Failures are split as in qutebrowser's sql module: what the environment did
(disk full, damaged file, locked, read-only, newer schema) becomes a
NotebookProblem with advice; anything else is a bug and propagates.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from sqlite_utils import Database

from ... import __version__
from .. import paths
from ..errors import NotebookProblem
from . import file_kind, migrations, statuses, writers
from .file_kind import FileKind
from .history import History

if TYPE_CHECKING:
    from .annotations import Annotations
    from .flags import Flags
    from .labels import Labels
    from .search import SearchFilters, SearchHit
    from .sessions import Sessions

# Full-text search uses FTS5's trigram tokenizer, new in SQLite 3.34.
MIN_SQLITE = (3, 34, 0)

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
)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def check_annotator(annotator: str) -> str:
    """Every annotation says who made it, so several people can share a notebook."""
    annotator = " ".join(annotator.split())
    if not annotator:
        raise ValueError("An annotator name is needed (who made this annotation).")
    return annotator


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


def open_notebook(path: Path | str, *, create: bool = True, make_folders: bool = False) -> "Notebook":
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
    with translate_errors(path):
        # The bytes of the path: a folder named in another encoding still opens.
        conn = sqlite3.connect(os.fsencode(path), check_same_thread=False, timeout=5.0, isolation_level=None)
        try:
            notebook = Notebook(path, conn)
            notebook._prepare()
        except BaseException:
            conn.close()
            if created:
                _discard(path, was_there)
            raise
    return notebook


def open_chosen_notebook(given: Path | str | None, *, create: bool) -> "Notebook":
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


# Below this much free space, a write SQLite reports as an I/O error (it does
# so for the WAL index, and for some failed syncs) is taken for a full disk:
# the notebook's next transaction, with its log frames, needs about as much.
LOW_SPACE_BYTES = 1 << 20
SQLITE_FULL, SQLITE_IOERR = 13, 10


@contextmanager
def translate_errors(path: Path) -> Iterator[None]:
    """Turn SQLite's reports about the environment into advice; let bugs through.

    A full disk is often reported as "disk I/O error" rather than "disk is
    full", and the file is then intact: before a file is called damaged, the
    free space on its file system is checked."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        message = str(exc).lower()
        code = getattr(exc, "sqlite_errorcode", None)
        damaged = "not a database" in message or "malformed" in message or "disk i/o" in message
        if "disk is full" in message or "disk full" in message or code == SQLITE_FULL or (
            (damaged or "unable to open" in message or (code is not None and code & 0xFF == SQLITE_IOERR)) and _disk_nearly_full(path)
        ):
            advice = f"The disk holding the notebook {path} is full. Free some space on it, then try again; nothing saved before is lost."
        elif damaged:
            advice = f"The notebook {path} is damaged ({exc}). It was left untouched: open another notebook with --db, or restore a backup of this file."
        elif "locked" in message or "busy" in message:
            advice = f"The notebook {path} is locked by another program. Close other copies of the workbench or tools that have it open, then try again."
        elif "readonly" in message or "read-only" in message or "unable to open" in message or "permission" in message:
            advice = f"The notebook {path} can't be written ({exc}). Check the file's permissions, or choose another place with --db."
        else:
            raise
        raise NotebookProblem(advice) from exc


def _disk_nearly_full(path: Path) -> bool:
    """Whether the file system holding `path` has less than LOW_SPACE_BYTES free
    for this user; False where that can't be told (no statvfs on Windows)."""
    folder = path if path.is_dir() else path.parent
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return stats.f_bavail * stats.f_frsize < LOW_SPACE_BYTES


class Notebook:
    """One open notebook. Safe to share between threads: every call holds a lock.

    Runs and responses are read and written here; the rest has a module of
    its own, reached through an attribute: `labels`, `annotations`,
    `flags` (automatic ones), `sessions`, `history` (undo/redo of those)
    and `search()`.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self.db = Database(conn)
        self._lock = threading.RLock()
        self.history = History(self)

    # These modules import this one (for utc_now and the Notebook type), so
    # they are imported when first used rather than at the top.

    @cached_property
    def labels(self) -> "Labels":
        from .labels import Labels

        return Labels(self)

    @cached_property
    def annotations(self) -> "Annotations":
        from .annotations import Annotations

        return Annotations(self)

    @cached_property
    def flags(self) -> "Flags":
        from .flags import Flags

        return Flags(self)

    @cached_property
    def sessions(self) -> "Sessions":
        from .sessions import Sessions

        return Sessions(self)

    def search(self, query: str, filters: "SearchFilters | None" = None, *, limit: int = 50) -> "list[SearchHit]":
        """Prompts, answers, reasoning and notes matching `query`; see search.py."""
        from .search import search

        return search(self, query, filters, limit=limit)

    # --- opening ------------------------------------------------------

    def _prepare(self) -> None:
        self._conn.execute("PRAGMA foreign_keys = ON")
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and str(self.path) != ":memory:":
            raise NotebookProblem(f"The notebook {self.path} can't use write-ahead logging (the file system said {mode!r}). Keep notebooks on a local disk.")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._refuse_newer_schema()
        if set(migrations.known_names()) - set(migrations.applied_names(self.db)):
            self._migrate()
        self._mark_interrupted()

    def _migrate(self) -> None:
        """Apply the pending migrations under one write lock, taken before looking at
        what is pending: two workbenches opening one new notebook at once (a compare
        in a terminal beside the window) would otherwise both apply the first step,
        and one would fail. The second waits for the lock, then finds nothing to do."""
        with self._immediate():
            self._refuse_newer_schema()
            migrations.migrations.apply(self.db)  # each step a savepoint inside this transaction

    def _mark_interrupted(self) -> None:
        """Mark `interrupted` the answers left unfinished by a process that is gone
        (writers.py), keeping their text. Answers another live workbench is writing
        are left alone. This tidies; it loses nothing if it can't be done now (a
        locked or read-only notebook, a full disk): the next open tries again."""
        unfinished = ", ".join(f"'{status}'" for status in statuses.UNFINISHED)
        try:
            with self._lock, translate_errors(self.path):
                rows = self._conn.execute(
                    f"select id, writer_pid, writer_started, writer_host from responses indexed by responses_unfinished"
                    f" where status != '{statuses.DONE}' and status in ({unfinished})"
                ).fetchall()
                gone = [(response_id,) for response_id, *writer in rows if writers.is_gone(*writer)]
                if gone:
                    with self._immediate():
                        # Only if still unfinished: a writer may have finished it since it was read.
                        self._conn.executemany(
                            f"update responses set status = '{statuses.INTERRUPTED}' where id = ? and status in ({unfinished})", gone
                        )
        except NotebookProblem:
            pass

    def _refuse_newer_schema(self) -> None:
        known = set(migrations.known_names())
        unknown = [name for name in migrations.applied_names(self.db) if name not in known]
        if unknown:
            raise NotebookProblem(
                f"The notebook {self.path} was written by a newer Model Values Workbench "
                f"(it has schema steps this version does not know: {', '.join(unknown)}). "
                "Update the workbench to open it; it was left untouched."
            )

    @property
    def schema(self) -> list[str]:
        return migrations.applied_names(self.db)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _writing(self, durable: bool = True) -> Iterator[Database]:
        """One transaction. `durable=False` commits without syncing the disk: the
        transaction survives the app being killed but not a power cut, until the
        next durable commit syncs it too (SQLite's WAL with synchronous=NORMAL)."""
        with self._lock, translate_errors(self.path):
            if not durable:
                self._conn.execute("PRAGMA synchronous = NORMAL")
            try:
                with self._immediate():
                    yield self.db
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous = FULL")

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        """A write transaction that takes the write lock as it begins (nested: a savepoint).

        SQLite's plain BEGIN takes the lock at the first write; in WAL mode, if
        another program wrote since this transaction first read, that upgrade fails
        at once with "database is locked", without waiting: two workbenches on one
        notebook lost writes so. BEGIN IMMEDIATE waits its turn (the 5 s busy wait)."""
        if self._conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[Database]:
        with self._lock, translate_errors(self.path):
            yield self.db

    # --- writing ------------------------------------------------------

    def record_model(self, model: ModelRecord) -> None:
        now = utc_now()
        row = {k: v for k, v in model.__dict__.items() if k != "metadata"}
        row["metadata"] = json.dumps(model.metadata or {}, ensure_ascii=False)
        row["last_seen"] = now
        with self._writing() as db:
            existing = db.execute("select first_seen from models where sha256 = ?", [model.sha256]).fetchone()
            row["first_seen"] = existing[0] if existing else now
            db["models"].upsert(row, pk="sha256")

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
        with self._writing() as db:
            return int(db["runs"].insert(row).last_pk)

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
    ) -> int:
        row = {
            "uid": uuid.uuid4().hex,
            "run_id": run_id,
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
        with self._writing() as db:
            return int(db["responses"].insert(row).last_pk)

    def save_partials(self, partials: list[tuple[int, str, str, str]]) -> None:
        """Store streamed text so far for several responses in one transaction.

        Each item is (response_id, text, reasoning, timeline_json). Not synced to
        disk: these are saved several times a second while answers stream, and a
        sync stalls the writer (and wakes the app) for every one; the response's
        `finish_response` syncs it.
        """
        with self._writing(durable=False) as db:
            db.conn.executemany(
                f"update responses set text = ?, reasoning = ?, timeline = ?, status = '{statuses.STREAMING}', "
                "started_at = coalesce(started_at, ?) where id = ?",
                [(text, reasoning, timeline, utc_now(), rid) for rid, text, reasoning, timeline in partials],
            )

    def finish_response(self, response_id: int, **fields: Any) -> None:
        unknown = set(fields) - set(RESULT_FIELDS)
        if unknown:
            raise TypeError(f"not response result fields: {sorted(unknown)}")
        update = dict(fields, status=statuses.DONE, finished_at=utc_now())
        with self._writing() as db:
            db["responses"].update(response_id, update)

    # --- reading ------------------------------------------------------

    def run(self, run_id: int) -> dict[str, Any] | None:
        """A run with its responses (in pane order), or None."""
        with self._reading() as db:
            rows = list(db.query("select * from runs where id = ?", [run_id]))
            if not rows:
                return None
            run = rows[0]
            run["settings"] = json.loads(run["settings"] or "{}")
            run["responses"] = list(db.query("select * from responses where run_id = ? order by position", [run_id]))
        for response in run["responses"]:
            response["sampler"] = json.loads(response["sampler"] or "{}")
            response["timeline"] = json.loads(response["timeline"] or "[]")
        return run

    def recent_runs(self, limit: int = 50, before_id: int | None = None) -> list[dict[str, Any]]:
        """Newest first; `before_id` pages further back. Each run lists its model names,
        and counts its `interrupted` (partial) answers."""
        where = "where runs.id < ?" if before_id is not None else ""
        params: list[Any] = [before_id] if before_id is not None else []
        sql = f"""
            select runs.id, runs.created_at, runs.prompt, runs.language,
                   group_concat(responses.model_name, ' · ') as models,
                   coalesce(sum(responses.status = '{statuses.INTERRUPTED}'), 0) as interrupted
            from runs left join responses on responses.run_id = runs.id
            {where}
            group by runs.id order by runs.id desc limit ?
        """
        with self._reading() as db:
            return list(db.query(sql, params + [limit]))

    def model(self, sha256: str) -> dict[str, Any] | None:
        with self._reading() as db:
            rows = list(db.query("select * from models where sha256 = ?", [sha256]))
        return rows[0] if rows else None
