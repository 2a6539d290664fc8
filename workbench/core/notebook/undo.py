"""Undo and redo for annotations: every change is a list of row snapshots.

Each annotation or session change runs inside `UndoStack.change()`, which
writes through a `Changes` recorder: every row it inserts, updates or
deletes is captured as (table, id, row before, row after). That list is the
`Operation`; undo writes the "before" rows back, redo the "after" rows. No
change needs its own inverse code, so undo can't drift from what the change
did (a deleted highlight comes back with its id, labels and note).

The stack lives in memory, one per open notebook (an app session), like an
editor's; the data itself is committed at once, one transaction per change.
Before undoing, each row is compared with the state the operation left it
in: if someone else changed it since (another window, the CLI, another
annotator), the undo is refused with `UndoConflict` rather than overwriting
their work.

Each change, undo and redo announces the tables its rows are in and its
`run_ids` (changes.py): the recorder knows them, so no change declares them twice.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from collections.abc import Hashable, Iterator

from ..errors import NotebookProblem

if TYPE_CHECKING:
    from .store import Store

Row = dict[str, Any]
UNDO_LIMIT = 500


class UndoConflict(NotebookProblem):
    """The rows an undo or redo would rewrite were changed by someone else since."""


@dataclass(frozen=True)
class RowChange:
    table: str
    row_id: int
    before: Row | None  # None: the row did not exist
    after: Row | None  # None: the row was deleted


@dataclass(frozen=True)
class Operation:
    """One undoable step, as the GUI shows it ("Undo Label 'Evasive'")."""

    description: str
    changes: tuple[RowChange, ...]
    run_ids: frozenset[int] = frozenset()  # runs whose annotations changed: redraw them
    merge_key: Hashable | None = None  # consecutive operations with the same key merge

    @property
    def tables(self) -> frozenset[str]:
        """Tables touched: e.g. "sessions" means the session list needs a redraw."""
        return frozenset(change.table for change in self.changes)

    def merged_with(self, later: Operation) -> Operation:
        """This operation followed by `later`, as one step (typing in a note)."""
        combined: dict[tuple[str, int], RowChange] = {(c.table, c.row_id): c for c in self.changes}
        for change in later.changes:
            key = (change.table, change.row_id)
            first = combined.get(key)
            combined[key] = RowChange(change.table, change.row_id, first.before if first else change.before, change.after)
        changes = tuple(c for c in combined.values() if c.before != c.after)
        return Operation(later.description, changes, self.run_ids | later.run_ids, self.merge_key)


class Changes:
    """Writes rows inside one transaction and remembers what each looked like."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.changes: list[RowChange] = []

    def read(self, table: str, row_id: int) -> Row | None:
        cursor = self.conn.execute(f"select * from [{table}] where id = ?", [row_id])
        row = cursor.fetchone()
        if row is None:
            return None
        return {d[0]: v for d, v in zip(cursor.description, row)}

    def insert(self, table: str, values: Row) -> int:
        columns = ", ".join(f"[{c}]" for c in values)
        marks = ", ".join("?" for _ in values)
        row_id = self.conn.execute(f"insert into [{table}] ({columns}) values ({marks})", list(values.values())).lastrowid
        assert row_id is not None
        self.changes.append(RowChange(table, row_id, None, self.read(table, row_id)))
        return row_id

    def update(self, table: str, row_id: int, values: Row, *, stamp: Row | None = None) -> None:
        """Set `values`, and `stamp` (e.g. updated_at) with them, unless `values` are already so."""
        before = self.read(table, row_id)
        if before is None or all(before.get(k) == v for k, v in values.items()):
            return
        values = {**values, **(stamp or {})}
        assignments = ", ".join(f"[{c}] = ?" for c in values)
        self.conn.execute(f"update [{table}] set {assignments} where id = ?", [*values.values(), row_id])
        self.changes.append(RowChange(table, row_id, before, self.read(table, row_id)))

    def delete(self, table: str, row_id: int) -> None:
        before = self.read(table, row_id)
        self.conn.execute(f"delete from [{table}] where id = ?", [row_id])
        self.changes.append(RowChange(table, row_id, before, None))

    def restore(self, change: RowChange, *, expect: Row | None, to: Row | None) -> bool:
        """Put a row back to `to` if it still is `expect`; False if someone changed it."""
        if self.read(change.table, change.row_id) != expect:
            return False
        if to is None:
            self.conn.execute(f"delete from [{change.table}] where id = ?", [change.row_id])
        elif expect is None:
            columns = ", ".join(f"[{c}]" for c in to)
            self.conn.execute(f"insert into [{change.table}] ({columns}) values ({', '.join('?' for _ in to)})", list(to.values()))
        else:
            assignments = ", ".join(f"[{c}] = ?" for c in to)
            self.conn.execute(f"update [{change.table}] set {assignments} where id = ?", [*to.values(), change.row_id])
        return True


class UndoStack:
    """The undo/redo stack of one open notebook. All calls block; thread-safe."""

    def __init__(self, store: Store, limit: int = UNDO_LIMIT) -> None:
        self._store = store
        self._limit = limit
        self._undo: list[Operation] = []
        self._redo: list[Operation] = []
        # The notebook's own lock: one lock, so no order between two locks to get wrong.
        self._lock = store.lock

    @contextmanager
    def change(
        self,
        description: str,
        *,
        run_ids: frozenset[int] = frozenset(),
        merge_key: Hashable | None = None,
        operation: str = "annotate",
    ) -> Iterator[Changes]:
        """One transaction whose writes become one undoable operation (if it wrote anything),
        announced as `operation` with the tables written and `run_ids` (none given: not listed)."""
        # The notebook lock is held until the operation is on the stack, so the
        # stack's order is the order in which changes were committed.
        with self._lock:
            with self._store.writing() as db:
                changes = Changes(db.conn)
                yield changes
                self._note(changes.changes, run_ids, operation)
            if changes.changes:  # Committed: now it can be undone.
                self._push(Operation(description, tuple(changes.changes), frozenset(run_ids), merge_key))

    def _note(self, changes: tuple[RowChange, ...] | list[RowChange], run_ids: frozenset[int], operation: str) -> None:
        if changes:
            self._store.note({change.table for change in changes}, run_ids or None, operation=operation)

    def _push(self, operation: Operation) -> None:
        with self._lock:
            self._redo.clear()
            undo = self._undo
            if operation.merge_key is not None and undo and undo[-1].merge_key == operation.merge_key:
                operation = undo.pop().merged_with(operation)
                if not operation.changes:
                    return  # Typed and deleted again: nothing left to undo.
            undo.append(operation)
            del undo[: -self._limit]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str | None:
        """The description of what undo would undo, for the Edit menu."""
        with self._lock:
            return self._undo[-1].description if self._undo else None

    @property
    def redo_text(self) -> str | None:
        with self._lock:
            return self._redo[-1].description if self._redo else None

    def undo(self) -> Operation | None:
        """Revert the newest operation; returns it (to redraw what it touched), None if none."""
        return self._move(self._undo, self._redo, undoing=True)

    def redo(self) -> Operation | None:
        return self._move(self._redo, self._undo, undoing=False)

    def _move(self, source: list[Operation], target: list[Operation], *, undoing: bool) -> Operation | None:
        with self._lock:
            if not source:
                return None
            operation = source[-1]
            steps = reversed(operation.changes) if undoing else operation.changes
            conflict = UndoConflict(
                f"Can't {'undo' if undoing else 'redo'} \"{operation.description}\": it was changed "
                "since (in another window, by the command line or by another annotator). Nothing was overwritten."
            )
            try:
                with self._store.writing() as db:
                    changes = Changes(db.conn)
                    for change in steps:
                        expect, to = (change.after, change.before) if undoing else (change.before, change.after)
                        try:
                            restored = changes.restore(change, expect=expect, to=to)
                        except sqlite3.IntegrityError as exc:
                            # E.g. removing a label that others have used since.
                            raise conflict from exc
                        if not restored:
                            raise conflict
                    self._note(operation.changes, operation.run_ids, "undo" if undoing else "redo")
            except UndoConflict:
                source.pop()  # It can never apply cleanly again.
                raise
            source.pop()
            target.append(operation)
            return operation
