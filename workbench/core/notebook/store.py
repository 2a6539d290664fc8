"""The notebook's store: its SQLite connection, the lock around it, transactions,
and what SQLite's errors mean for the person using it.

Every table class (labels.py, annotations.py, batches.py, ...) is given the
one `Store` of its notebook and reads and writes through `reading()` and
`writing()`; none of them knows the `Notebook` object that built it.

Failures are split as in qutebrowser's sql module: what the environment did
(disk full, damaged file, locked, read-only) becomes a NotebookProblem with
advice (`translate_errors`); anything else is a bug and propagates.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from ..errors import NotebookProblem

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


class Store:
    """One open connection to a notebook file. Safe to share between threads:
    every read and write holds `lock` (re-entrant, so a caller may hold it
    across several steps that must not be interleaved)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.db = Database(conn)
        self.lock = threading.RLock()

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
        if self.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """Reads under the lock, with SQLite's reports about the environment translated."""
        with self.lock, translate_errors(self.path):
            yield self.db
