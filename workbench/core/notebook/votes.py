"""Audience votes on a run: "which answer was better?", counted by show of hands.

A teacher adds (or takes back) one vote at a time for an answer or for a
tie, and the count is committed at once, so a vote survives a crash in the
middle of a lesson. A choice is a stored name whose meaning never changes:
`tie`, or `pane:N` for the answer at position N of the run (the pane shown
as "Model A" in a blind comparison is position 0). Only choices that exist
for the run are accepted, so a tally can never point at an answer that is not
there. Each annotator keeps their own counts (two teachers sharing a notebook
do not overwrite each other); a tally adds them up.

Votes are not undoable through `notebook.undo`: taking a vote back is
itself the undo (a negative delta), and counts never go below zero.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from string import ascii_uppercase
from typing import TYPE_CHECKING

from .stamps import check_annotator, utc_now

if TYPE_CHECKING:
    from sqlite_utils import Database

    from .store import Store

TIE = "tie"
_PANE = re.compile(r"pane:(0|[1-9][0-9]*)")


def pane_choice(position: int) -> str:
    """The stored name of a vote for the answer at `position`."""
    if position < 0:
        raise ValueError(f"An answer position is never negative (got {position}).")
    return f"pane:{position}"


def position_of(choice: str) -> int | None:
    """The answer position a choice names; None for a tie. ValueError for anything else."""
    if choice == TIE:
        return None
    match = _PANE.fullmatch(choice)
    if match is None:
        raise ValueError(f"{choice!r} is not a vote choice: use {TIE!r} or 'pane:N' (N = answer position).")
    return int(match.group(1))


def letter(position: int) -> str:
    """The blind name's letter for a position: 0 -> "A" (as in "Model A")."""
    if not 0 <= position < len(ascii_uppercase):
        raise ValueError(f"No letter for answer position {position}.")
    return ascii_uppercase[position]


@dataclass(frozen=True)
class Tally:
    """A run's votes: every choice of the run in order (answers, then tie), with 0 for none yet."""

    run_id: int
    counts: dict[str, int]  # choice -> votes, summed over annotators
    by_annotator: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def choices(self) -> list[str]:
        return list(self.counts)


class Votes:
    """`notebook.votes`: the votes on its runs. All calls block (run them off the GUI thread).

    An unknown run raises LookupError, a choice the run does not have ValueError.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, run_id: int, choice: str, delta: int = 1, *, annotator: str) -> Tally:
        """Add `delta` votes (negative: take them back, stopping at zero); returns the new tally."""
        annotator = check_annotator(annotator)
        with self._store.writing() as db:
            self._check_choice(db, run_id, choice)
            row = db.execute(
                "select id, count from votes where run_id = ? and choice = ? and annotator = ?", [run_id, choice, annotator]
            ).fetchone()
            now = utc_now()
            if row is not None:
                count = max(0, row[1] + delta)
                if count != row[1]:
                    db.execute("update votes set count = ?, updated_at = ? where id = ?", [count, now, row[0]])
                    self._store.note({"votes"}, [run_id], operation="vote")
            elif delta > 0:
                db.table("votes").insert(
                    {
                        "uid": uuid.uuid4().hex,
                        "run_id": run_id,
                        "choice": choice,
                        "count": delta,
                        "annotator": annotator,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                self._store.note({"votes"}, [run_id], operation="vote")
            return self._tally(db, run_id)

    def tally(self, run_id: int) -> Tally:
        with self._store.reading() as db:
            self._positions(db, run_id)  # an unknown run is an error, not an empty tally
            return self._tally(db, run_id)

    # --- inside a transaction ------------------------------------------------------

    @staticmethod
    def _positions(db: Database, run_id: int) -> list[int]:
        if db.execute("select 1 from runs where id = ?", [run_id]).fetchone() is None:
            raise LookupError(f"There is no run {run_id} in the notebook.")
        return [row[0] for row in db.execute("select position from responses where run_id = ? order by position", [run_id])]

    def _check_choice(self, db: Database, run_id: int, choice: str) -> None:
        positions = self._positions(db, run_id)
        position = position_of(choice)
        if position is not None and position not in positions:
            raise ValueError(f"Run {run_id} has no answer at position {position}, so {choice!r} can't get a vote.")

    def _tally(self, db: Database, run_id: int) -> Tally:
        counts = {pane_choice(p): 0 for p in self._positions(db, run_id)}
        counts[TIE] = 0
        by_annotator: dict[str, dict[str, int]] = {}
        rows = db.execute("select annotator, choice, count from votes where run_id = ? order by annotator", [run_id])
        for annotator, choice, count in rows:
            if choice in counts:  # an imported vote for an answer this run lacks is kept, not counted
                counts[choice] += count
            by_annotator.setdefault(annotator, {})[choice] = count
        return Tally(run_id, counts, by_annotator)
