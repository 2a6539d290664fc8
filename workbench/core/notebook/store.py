"""The notebook's store: its SQLite connection, the lock around it, transactions,
and what SQLite's errors mean for the person using it.

Every table class (labels.py, annotations.py, batches.py, ...) is given the
one `Store` of its notebook and reads and writes through `reading()` and
`writing()`; none of them knows the `Notebook` object that built it.

Failures are split as in qutebrowser's sql module: what the environment did
(disk full, damaged file, locked, read-only) becomes a NotebookProblem with
advice (`translate_errors`); anything else is a bug and propagates.

Every write declares what it changed (`note`, changes.py); the store announces
each committed transaction's change once to its listeners (`subscribe`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable, Iterator

from sqlite_utils import Database

from ..errors import NotebookProblem
from .changes import NO_CHANGE, NotebookChange

Listener = Callable[[NotebookChange], None]
_log = logging.getLogger(__name__)

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


def insert_row(db: Database, table: str, row: dict[str, Any]) -> int:
    """Insert `row` into `table` (one whose key is an integer `id`); the new row's id."""
    pk = db.table(table).insert(row).last_pk
    assert pk is not None, f"sqlite-utils gave no key for the row just inserted into {table}"
    return int(pk)


class _StoreLock:
    """The store's re-entrant lock. When the thread holding it lets go of it
    entirely, it hands what that thread committed meanwhile to the store's
    listeners: after the lock is released, on that thread. So a listener never
    runs under the lock, even when a caller held it around a whole write
    (`UndoStack.change`, `Annotations.toggle_label`)."""

    def __init__(self, store: Store) -> None:
        self._lock = threading.RLock()
        self._store = store
        self._depth = 0  # changed only by the thread holding the lock
        self.owner: int | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._depth += 1
        self.owner = threading.get_ident()
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth:
            self._lock.release()
            return
        self.owner = None
        committed = self._store._take_committed()
        self._lock.release()
        self._store._announce(committed)

    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self.owner == threading.get_ident()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Store:
    """One open connection to a notebook file. Safe to share between threads:
    every read and write holds `lock` (re-entrant, so a caller may hold it
    across several steps that must not be interleaved).

    Change announcements: each write notes what it changes (`note`) inside its
    transaction; after the outermost transaction commits, its change is given
    once to every listener (`subscribe`), on the thread that wrote, once that
    thread has released the lock. A rolled-back transaction announces nothing,
    nor does one that noted nothing. A listener that raises is a bug in the
    listener: it is logged (error, with its traceback) and the others are still
    called; the write it heard of stays committed and its caller never sees it.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.db = Database(conn)
        self.lock = _StoreLock(self)
        # Under `lock`: one pending change per open transaction level (outermost
        # first), and the changes committed but not yet announced.
        self._pending: list[NotebookChange] = []
        self._committed: list[NotebookChange] = []
        self._listeners: tuple[Listener, ...] = ()
        self._listeners_lock = threading.Lock()  # never the notebook's: subscribing never waits for a write

    # --- change announcements ---------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(change)` after every committed change; returns the call that
        stops it. The listener runs on the writing thread, which is any thread (a
        comparison's, the stream recorder's, a batch's): a Qt view should only emit
        a queued signal from it. Keep it quick: the writer waits for it."""
        with self._listeners_lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                listeners = list(self._listeners)
                if listener in listeners:
                    listeners.remove(listener)
                self._listeners = tuple(listeners)

        return unsubscribe

    def note(self, tables: Iterable[str] = (), run_ids: Iterable[int] | None = None, *, operation: str = "") -> None:
        """Declare, inside a transaction, that it writes `tables` (rows of the runs
        `run_ids`; None: not listed, see NotebookChange.of). Adds to the change the
        outermost transaction announces when it commits."""
        if not self._pending or not self.lock.held():
            raise RuntimeError("Store.note is called inside the notebook transaction that makes the change (writing()).")
        self._pending[-1] = self._pending[-1] | NotebookChange.of(tables, run_ids, operation)

    def _take_committed(self) -> list[NotebookChange]:
        committed, self._committed = self._committed, []
        return committed

    def _announce(self, changes: list[NotebookChange]) -> None:
        if not changes:
            return
        listeners = self._listeners
        for change in changes:
            for listener in listeners:
                try:
                    listener(change)
                except Exception:  # noqa: BLE001 - a listener's bug must not undo or fail a committed write
                    _log.error("A notebook change listener %r failed on %r", listener, change, exc_info=True)

    @contextmanager
    def writing(self, durable: bool = True) -> Iterator[Database]:
        """One transaction. `durable=False` commits without syncing the disk: the
        transaction survives the app being killed but not a power cut, until the
        next durable commit syncs it too (SQLite's WAL with synchronous=NORMAL)."""
        with self.lock, translate_errors(self.path):
            if not durable:
                self.conn.execute("PRAGMA synchronous = NORMAL")
            try:
                with self.immediate():
                    yield self.db
            finally:
                if not durable:
                    self.conn.execute("PRAGMA synchronous = FULL")

    @contextmanager
    def immediate(self) -> Iterator[None]:
        """A write transaction that takes the write lock as it begins (nested: a savepoint).

        SQLite's plain BEGIN takes the lock at the first write; in WAL mode, if
        another program wrote since this transaction first read, that upgrade fails
        at once with "database is locked", without waiting: two workbenches on one
        notebook lost writes so. BEGIN IMMEDIATE waits its turn (the 5 s busy wait).
        The caller holds `lock`, as `writing()` does."""
        outermost = not self.conn.in_transaction
        if outermost:
            self.conn.execute("BEGIN IMMEDIATE")
        # What this level notes joins its parent's only if it is released, and is
        # announced only once the outermost level commits. A transaction begun
        # outside the store (none is) gets a level of its own, never announced.
        self._pending.append(NO_CHANGE)
        try:
            if outermost:
                try:
                    yield
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
            else:
                with self.db.atomic():
                    yield
        finally:
            change = self._pending.pop()
        if outermost:
            if change:
                self._committed.append(change)
        elif self._pending and change:
            self._pending[-1] = self._pending[-1] | change

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """Reads under the lock, with SQLite's reports about the environment translated."""
        with self.lock, translate_errors(self.path):
            yield self.db
