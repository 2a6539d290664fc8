"""What one committed notebook transaction changed, announced once to whoever listens.

Anki's `OpChanges` (`operation_did_execute`): whoever writes declares what its
transaction changed, the store announces it once after the COMMIT, and every
view showing notebook data refreshes from the announcement, instead of being
told by whoever wrote. A label set from the window, the command line in
another thread, an import, a judge or an undo all reach the same views the
same way, and a view nobody remembered to tell can't go stale.

A write declares its change inside its transaction with `Store.note(...)`;
nested helpers add to the change of the outermost transaction, which is
announced after it commits (never after a rollback). See `Store.subscribe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable

# Tables whose rows belong to one run (through run_id, or response_id of one of its
# answers): a change to them is a change to those runs. batch_items and demo_steps
# only point at a run they replay or produced, and are not among them. A note that
# names one of these tables without listing its runs is taken for "every run".
RUN_TABLES = frozenset(
    {
        "runs", "responses", "response_labels", "spans", "span_labels", "notes", "run_annotations",
        "run_links", "session_runs", "flags", "votes", "turns",
    }
)  # fmt: skip

# Beyond this many runs, a change lists none and says `every_run` (an import, a reflag
# of the whole notebook): a view then rereads what it shows rather than test each id.
MAX_LISTED_RUNS = 1000


@dataclass(frozen=True)
class NotebookChange:
    """The tables one transaction wrote and the runs whose rows changed.

    `run_ids` lists the runs whose rows (RUN_TABLES) changed; it is empty when
    the change is not about particular runs (a new label, a session renamed), and
    also when it is about runs but too many, or not known cheaply, to list: then
    `every_run` is True. `operation` is a short name of what was done ("label",
    "import", "reflag", "undo"...), for logs and tests; views go by the tables.
    """

    tables: frozenset[str] = frozenset()
    run_ids: frozenset[int] = frozenset()
    every_run: bool = False
    operation: str = ""

    @classmethod
    def of(cls, tables: Iterable[str] = (), run_ids: Iterable[int] | None = None, operation: str = "") -> NotebookChange:
        """A change to `tables`; `run_ids=None` when its runs are not listed (every run,
        if the tables hold runs' rows); an empty list when it concerns no run."""
        tables = frozenset(tables)
        if run_ids is None:
            return cls(tables, frozenset(), bool(tables & RUN_TABLES), operation)
        return cls(tables, frozenset(run_ids), False, operation)._bounded()

    def __bool__(self) -> bool:
        """False when no table was written (nothing to announce)."""
        return bool(self.tables)

    def __or__(self, later: NotebookChange) -> NotebookChange:
        """This change and a `later` one, as one announcement (the later operation's name wins)."""
        every = self.every_run or later.every_run
        return NotebookChange(
            self.tables | later.tables,
            frozenset() if every else self.run_ids | later.run_ids,
            every,
            later.operation or self.operation,
        )._bounded()

    def touches_run(self, run_id: int) -> bool:
        """Whether rows of run `run_id` may have changed (a pane showing it rereads it)."""
        return self.every_run or run_id in self.run_ids

    def touches(self, tables: Iterable[str]) -> bool:
        """Whether any of `tables` (those a view shows) was written."""
        return not self.tables.isdisjoint(tables)

    def _bounded(self) -> NotebookChange:
        if len(self.run_ids) > MAX_LISTED_RUNS:
            return NotebookChange(self.tables, frozenset(), True, self.operation)
        return self


NO_CHANGE = NotebookChange()
