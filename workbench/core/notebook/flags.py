"""The `flags` table: what the automatic detectors found on an answer, apart from human labels.

Flags are machine suggestions (docs/notebook.md, "flags"). A response's
automatic flags are one set, written together by one detector version:
storing them again replaces that set, so recomputing never doubles them.
Which flags an answer gets is decided in `core/flagging.py`; this module
only keeps them. Reading them for the panes is `annotations.for_run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable

from .stamps import utc_now

if TYPE_CHECKING:
    from .store import Store

FLAG_SOURCE_AUTO = "auto"


@dataclass(frozen=True)
class StoredFlag:
    """One automatic flag as written to the `flags` table: evidence is any JSON;
    `basis` and `confidence` as in migration m005."""

    name: str
    detector: str
    evidence: Any
    basis: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class FlagSet:
    """Everything to store for one response: replaces its automatic flags."""

    run_id: int
    response_id: int
    flags: tuple[StoredFlag, ...]


class Flags:
    """`notebook.flags`. Every call holds the notebook's lock and is one transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, run_id: int, response_id: int, flags: Iterable[StoredFlag]) -> None:
        """Replace the automatic flags of one response (a re-flag never doubles them)."""
        self.replace([FlagSet(run_id, response_id, tuple(flags))])

    def without_any(self, response_ids: Iterable[int]) -> set[int]:
        """Those of the responses with no automatic flag: flagged with none, or never
        flagged because the app died between saving the answer and its flags."""
        ids = list(response_ids)
        with self._store.reading() as db:
            flagged = {
                row[0]
                for row in db.execute(
                    "select distinct response_id from flags where source = ? and response_id in (select value from json_each(?))",
                    [FLAG_SOURCE_AUTO, json.dumps(ids)],
                )
            }
        return set(ids) - flagged

    def replace(self, sets: Iterable[FlagSet]) -> dict[int, list[StoredFlag]]:
        """Replace the automatic flags of several responses in one transaction;
        returns, per response id, the flags it had before (what a recount compares)."""
        sets = list(sets)
        now = utc_now()
        before: dict[int, list[StoredFlag]] = {s.response_id: [] for s in sets}
        with self._store.writing() as db:
            ids = json.dumps(list(before))
            for row in db.query(
                "select response_id, name, detector, evidence, basis, confidence from flags "
                "where source = ? and response_id in (select value from json_each(?)) order by id",
                [FLAG_SOURCE_AUTO, ids],
            ):
                before[row["response_id"]].append(
                    StoredFlag(row["name"], row["detector"], json.loads(row["evidence"] or "null"), row["basis"], row["confidence"])
                )
            db.execute("DELETE FROM flags WHERE source = ? AND response_id IN (SELECT value FROM json_each(?))", [FLAG_SOURCE_AUTO, ids])
            db.conn.executemany(
                "INSERT INTO flags (run_id, response_id, name, source, detector, evidence, basis, confidence, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.run_id, s.response_id, f.name, FLAG_SOURCE_AUTO, f.detector, json.dumps(f.evidence, ensure_ascii=False), f.basis, f.confidence, now, now)
                    for s in sets
                    for f in s.flags
                ],
            )
            self._store.note({"flags"}, [s.run_id for s in sets], operation="flags")
        return before
