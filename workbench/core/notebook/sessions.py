"""Sessions: named groups of runs (a study, a class), and browsing runs by session.

A run belongs to at most one session. Runs in none are shown under
"Unsorted", which is not stored: it is the session whose id is None.
Archiving hides a session from the default list and keeps its runs.
Changes are undoable through `notebook.undo`, like annotations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable

from .stamps import check_annotator, utc_now
from .ids import typed_id
from .statuses import INTERRUPTED

if TYPE_CHECKING:
    from .undo import UndoStack
    from .store import Store

UNSORTED = "Unsorted"


@dataclass(frozen=True)
class Session:
    id: int | None  # None: Unsorted, the runs in no session
    name: str
    run_count: int
    archived: bool = False
    uid: str | None = None
    annotator: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    archived_at: str | None = None


class Sessions:
    """`notebook.sessions`. All calls block. Unknown ids raise LookupError, bad names ValueError."""

    def __init__(self, store: Store, undo: UndoStack) -> None:
        self._store = store
        self._undo = undo

    def all(self, *, include_archived: bool = False) -> list[Session]:
        """Unsorted first, then the sessions by name, each with its number of runs."""
        archived = "" if include_archived else "where s.archived_at is null"
        with self._store.reading() as db:
            rows = list(
                db.query(
                    f"""select s.*, (select count(*) from session_runs where session_id = s.id) as run_count
                        from sessions s {archived} order by s.name collate nocase"""
                )
            )
            unsorted = db.execute("select (select count(*) from runs) - (select count(*) from session_runs)").fetchone()[0]
        return [Session(None, UNSORTED, unsorted)] + [self._session(row) for row in rows]

    def get(self, session_id: int) -> Session:
        with self._store.reading() as db:
            rows = list(
                db.query("select s.*, (select count(*) from session_runs where session_id = s.id) as run_count from sessions s where id = ?", [session_id])
            )
        if not rows:
            raise LookupError(f"There is no session {session_id} in the notebook.")
        return self._session(rows[0])

    def find(self, name_or_id: str) -> Session:
        """A session by id or by name (case-insensitive), for the command line; "unsorted" works too."""
        if name_or_id.strip().lower() == UNSORTED.lower():
            return self.all()[0]
        with self._store.reading() as db:
            row = db.execute("select id from sessions where name = ? collate nocase", [name_or_id.strip()]).fetchone()
        if row:
            return self.get(row[0])
        if (session_id := typed_id(name_or_id)) is not None:
            return self.get(session_id)
        raise LookupError(f"There is no session named {name_or_id!r} in the notebook.")

    def create(self, name: str, *, annotator: str) -> Session:
        annotator, name = check_annotator(annotator), self._name(name)
        with self._undo.change(f"New session {name!r}", operation="session") as changes:
            self._check_free(changes.conn, name, None)
            now = utc_now()
            session_id = changes.insert(
                "sessions", {"uid": uuid.uuid4().hex, "name": name, "annotator": annotator, "created_at": now, "updated_at": now}
            )
        return self.get(session_id)

    def rename(self, session_id: int, name: str) -> Session:
        old, name = self.get(session_id), self._name(name)
        with self._undo.change(f"Rename session {old.name!r} to {name!r}", operation="session") as changes:
            self._check_free(changes.conn, name, session_id)
            changes.update("sessions", session_id, {"name": name}, stamp={"updated_at": utc_now()})
        return self.get(session_id)

    def set_archived(self, session_id: int, archived: bool) -> Session:
        session = self.get(session_id)
        now = utc_now()
        with self._undo.change(f"{'Archive' if archived else 'Restore'} session {session.name!r}", operation="session") as changes:
            if archived != session.archived:
                changes.update("sessions", session_id, {"archived_at": now if archived else None}, stamp={"updated_at": now})
        return self.get(session_id)

    def move_runs(self, run_ids: Iterable[int], session_id: int | None, *, annotator: str) -> int:
        """Put runs in a session (None: back to Unsorted); returns how many moved."""
        annotator, run_ids = check_annotator(annotator), list(dict.fromkeys(run_ids))
        target = self.get(session_id).name if session_id is not None else UNSORTED
        with self._store.reading() as db:
            missing = [r for r in run_ids if db.execute("select 1 from runs where id = ?", [r]).fetchone() is None]
        if missing:
            raise LookupError(f"There is no run {', '.join(map(str, missing))} in the notebook.")
        moved = 0
        with self._undo.change(f"Move {len(run_ids)} run(s) to {target!r}", run_ids=frozenset(run_ids), operation="session") as changes:
            now = utc_now()
            for run_id in run_ids:
                row = changes.conn.execute("select id, session_id from session_runs where run_id = ?", [run_id]).fetchone()
                if (row[1] if row else None) == session_id:
                    continue
                if session_id is None:
                    changes.delete("session_runs", row[0])
                elif row:
                    changes.update("session_runs", row[0], {"session_id": session_id, "annotator": annotator}, stamp={"updated_at": now})
                else:
                    changes.insert("session_runs", {"run_id": run_id, "session_id": session_id, "annotator": annotator, "created_at": now, "updated_at": now})
                moved += 1
        return moved

    def session_of(self, run_id: int) -> int | None:
        with self._store.reading() as db:
            row = db.execute("select session_id from session_runs where run_id = ?", [run_id]).fetchone()
        return row[0] if row else None

    def runs(self, session_id: int | None, limit: int = 200, before_id: int | None = None) -> list[dict[str, Any]]:
        """A page of the session's runs (None: Unsorted), newest first; `before_id` pages back.

        Same row shape as `Notebook.recent_runs` (id, created_at, prompt,
        language, models, interrupted, turns), plus session_id.
        """
        if session_id is None:
            below = "and runs.id < :before" if before_id is not None else ""
            source = f"from runs where not exists (select 1 from session_runs sr where sr.run_id = runs.id) {below} order by runs.id desc"
        else:
            # Walks the (session_id, run_id) index backwards: a page costs the
            # same wherever the session's runs lie among all the others.
            below = "and sr.run_id < :before" if before_id is not None else ""
            source = f"from session_runs sr cross join runs on runs.id = sr.run_id where sr.session_id = :session {below} order by sr.run_id desc"
        sql = f"""
            select runs.id, runs.created_at, runs.prompt, runs.language,
                   (select group_concat(model_name, ' · ') from (select model_name from responses where run_id = runs.id and turn = 0 order by position)) as models,
                   (select count(*) from responses where run_id = runs.id and status = '{INTERRUPTED}') as interrupted,
                   (select count(*) from turns where turns.run_id = runs.id) as turns,
                   :session as session_id
            {source} limit :limit
        """
        with self._store.reading() as db:
            return list(db.query(sql, {"session": session_id, "before": before_id, "limit": limit}))

    @staticmethod
    def _session(row: dict[str, Any]) -> Session:
        return Session(
            id=row["id"],
            name=row["name"],
            run_count=row["run_count"],
            archived=row["archived_at"] is not None,
            uid=row["uid"],
            annotator=row["annotator"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            archived_at=row["archived_at"],
        )

    @staticmethod
    def _name(name: str) -> str:
        name = " ".join(name.split())
        if not name:
            raise ValueError("A session needs a name.")
        if name.lower() == UNSORTED.lower():
            raise ValueError(f"{UNSORTED!r} is where runs in no session are shown; choose another name.")
        return name

    @staticmethod
    def _check_free(conn: Any, name: str, session_id: int | None) -> None:
        row = conn.execute("select id from sessions where name = ? collate nocase", [name]).fetchone()
        if row and row[0] != session_id:
            raise ValueError(f"There is already a session named {name!r}.")
