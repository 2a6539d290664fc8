"""Remember what scanning a file found, so the next scan reads no headers.

Keyed by (resolved path, size, mtime_ns): a file that changes gets a new
entry. Holds each file's header facts (or the reason it can't be read) and its
SHA-256, which takes seconds per gigabyte and so is computed once. Everything
here can be recomputed, so a damaged cache is deleted and rebuilt, and a cache
that can't be written (locked, read-only, full) is silently skipped: the
cache must never be the reason a scan fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..paths import cache_dir
from .metadata import HeaderFacts

FILE_NAME = "catalog.sqlite"
_SHA256 = re.compile(r"[0-9a-f]{64}")
RETRY_AFTER_SECONDS = 60
SCHEMA_VERSION = 2  # bump when HeaderFacts changes; old rows are dropped (2: file_type)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    facts    TEXT,    -- HeaderFacts as JSON, when the header was read
    problem  TEXT,    -- why the header can't be read, when it can't
    sha256   TEXT
)
"""


@dataclass(frozen=True)
class FileKey:
    """Identifies one version of one file."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileKey:
        resolved = Path(path).resolve()
        st = os.stat(resolved)
        return cls(str(resolved), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class CachedFile:
    facts: HeaderFacts | None
    problem: str | None
    sha256: str | None


class CatalogCache:
    """A small SQLite file in `cache_dir()`; `path=":memory:"` keeps it in memory."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = path if path is not None else cache_dir() / FILE_NAME
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # a scan may run in a worker thread
        self._retry_at = 0.0  # after trouble, work without the cache for a while

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        if time.monotonic() < self._retry_at:
            return None
        try:
            self._db = self._open()
        except sqlite3.OperationalError:  # locked or unwritable
            self._pause()
        except sqlite3.DatabaseError:  # damaged: start again
            self._delete()
            try:
                self._db = self._open()
            except sqlite3.Error:
                self._pause()
        return self._db

    def _pause(self) -> None:
        """Stop using the cache for a minute, so one locked file can't slow every lookup."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise sqlite3.OperationalError(str(e)) from e
        db = sqlite3.connect(str(self.path), timeout=1, isolation_level=None, check_same_thread=False)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                db.execute("DROP TABLE IF EXISTS files")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute(_SCHEMA)
            db.execute("SELECT count(*) FROM files").fetchone()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _delete(self) -> None:
        if self.path == ":memory:":
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}{suffix}")

    def _run(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        """Run one statement; on any database trouble return None (and drop a damaged file)."""
        with self._lock:
            db = self._connect()
            if db is None:
                return None
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # locked, disk full, read-only
                self._pause()
                return None
            except sqlite3.DatabaseError:  # damaged
                db.close()
                self._db = None
                self._delete()
                return None

    def get(self, key: FileKey) -> CachedFile | None:
        rows = self._run(
            "SELECT facts, problem, sha256 FROM files WHERE path = ? AND size = ? AND mtime_ns = ?",
            (key.path, key.size, key.mtime_ns),
        )
        if not rows:
            return None
        facts_json, problem, sha256 = rows[0]
        try:
            facts = HeaderFacts.from_json(json.loads(facts_json)) if facts_json else None
        except (ValueError, KeyError, TypeError, AttributeError):
            facts, problem = None, None  # unreadable row: treat as not read yet
        return CachedFile(facts, problem, sha256)

    def put_header(self, key: FileKey, facts: HeaderFacts | None, problem: str | None) -> None:
        """Store what reading the header found, keeping a known hash of the same file version."""
        self._upsert(key)
        self._run(
            "UPDATE files SET facts = ?, problem = ? WHERE path = ?",
            (json.dumps(facts.to_json()) if facts else None, problem, key.path),
        )

    def remember_sha256(self, file: Path | FileKey, sha256: str) -> None:
        """Record a file's known SHA-256 (an Ollama digest, a verified download).

        Raises OSError if `file` is a path that can't be looked at.
        """
        if not _SHA256.fullmatch(sha256.lower()):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        key = file if isinstance(file, FileKey) else FileKey.of(file)
        self._upsert(key)
        self._run("UPDATE files SET sha256 = ? WHERE path = ?", (sha256.lower(), key.path))

    def _upsert(self, key: FileKey) -> None:
        """Make sure the row for `key` exists, clearing it if the file has changed."""
        self._run(
            "INSERT INTO files (path, size, mtime_ns) VALUES (?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "facts = CASE WHEN size = excluded.size AND mtime_ns = excluded.mtime_ns THEN facts END, "
            "problem = CASE WHEN size = excluded.size AND mtime_ns = excluded.mtime_ns THEN problem END, "
            "sha256 = CASE WHEN size = excluded.size AND mtime_ns = excluded.mtime_ns THEN sha256 END",
            (key.path, key.size, key.mtime_ns),
        )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
