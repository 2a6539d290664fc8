"""Batches in the notebook: what a batch asked and which items are done.

A batch is written before its first prompt runs, with one `batch_items` row
per prompt (status `pending`), so a batch killed at any moment can be resumed:
an item becomes `done`, with its `run_id`, only after its run has finished
and its flags are stored. Schema: m003_batches in migrations.py and
docs/notebook.md. Batch and item statuses are checked here, not by CHECK
constraints, so adding a value never needs a table rebuild.

An item whose prompt has scripted follow-ups (m010) is a conversation: once
its first turn is complete its run is kept as `conversation_run_id`, each
follow-up answered completely adds the run's turn that answers it to
`follow_up_turns`, and the item is done (`run_id` set) after the last one.

`asking_run_id` (m012) is the run asking an item's prompt from the moment it is
created: a resume asks the answers that run lacks in it, not every model anew.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable

from ... import __version__
from .annotations import MACHINE_PREFIXES
from .stamps import utc_now
from .store import insert_row
from .flags import Flags, StoredFlag  # noqa: F401 - also imported from here, where it lived before flags.py

if TYPE_CHECKING:
    from .store import Store

RUNNING = "running"
PAUSED = "paused"
CANCELLED = "cancelled"
DONE = "done"
STATUSES = (RUNNING, PAUSED, CANCELLED, DONE)

ITEM_PENDING = "pending"
ITEM_DONE = "done"

# A label by a machine annotator (annotations.is_machine_annotator), in SQL: LIKE ignores
# ASCII case, as is_machine_annotator does; the stored names have no surrounding spaces.
_MACHINE_SQL = " OR ".join("response_labels.annotator LIKE ? || '%'" for _ in MACHINE_PREFIXES)


@dataclass(frozen=True)
class BatchModel:
    """A model of a batch, by content; `path` and `catalog_id` help find it again on resume."""

    sha256: str
    name: str
    path: str
    catalog_id: str


@dataclass(frozen=True)
class Batch:
    id: int
    uid: str
    created_at: str
    prompt_set_id: str
    prompt_set_title: str
    prompt_set_path: str | None
    prompt_set_sha256: str | None
    filters: dict[str, Any]
    models: tuple[BatchModel, ...]
    settings: dict[str, Any]
    status: str
    total: int
    done: int


@dataclass(frozen=True)
class BatchItem:
    """One prompt of a batch, asked of every model of the batch in one run, then its
    follow-ups (if any) in that run's conversation."""

    id: int
    batch_id: int
    position: int
    prompt_id: str
    topic: str
    kind: str
    language: str
    translation_of: str | None
    prompt: str
    status: str
    run_id: int | None
    divergence: float | None
    duration_s: float | None
    follow_ups: tuple[str, ...] = ()
    conversation_run_id: int | None = None  # the run asked so far, once its first turn is complete
    follow_up_turns: tuple[int, ...] = ()  # the turn answering each follow-up done so far, in order
    divergence_detail: dict[str, Any] | None = None
    asking_run_id: int | None = None  # the run asking its prompt, from the moment it is created (m012)

    @property
    def follow_ups_left(self) -> tuple[str, ...]:
        return self.follow_ups[len(self.follow_up_turns) :]


@dataclass(frozen=True)
class NewItem:
    """What `Batches.create` needs of a prompt (a prompts.Prompt fits)."""

    id: str
    topic: str
    kind: str
    language: str
    translation_of: str | None
    text: str
    then: tuple[str, ...] = ()


class BatchNotFound(LookupError):
    pass


class Batches:
    """Reads and writes batches; every call holds the notebook's lock."""

    def __init__(self, store: Store, flags: Flags) -> None:
        self._store = store
        self._flags = flags

    def create(
        self,
        *,
        prompt_set_id: str,
        prompt_set_title: str,
        prompt_set_path: str | None,
        prompt_set_sha256: str | None,
        filters: dict[str, Any],
        models: Iterable[BatchModel],
        settings: dict[str, Any],
        items: Iterable[NewItem],
    ) -> Batch:
        items = list(items)
        now = utc_now()
        row = {
            "uid": uuid.uuid4().hex,
            "created_at": now,
            "updated_at": now,
            "prompt_set_id": prompt_set_id,
            "prompt_set_title": prompt_set_title,
            "prompt_set_path": prompt_set_path,
            "prompt_set_sha256": prompt_set_sha256,
            "filters": json.dumps(filters, ensure_ascii=False),
            "models": json.dumps([m.__dict__ for m in models], ensure_ascii=False),
            "settings": json.dumps(settings, ensure_ascii=False),
            "status": RUNNING,
            "total": len(items),
            "done": 0,
            "app_version": __version__,
        }
        with self._store.writing() as db:
            batch_id = insert_row(db, "batches", row)
            db.conn.executemany(
                "INSERT INTO batch_items (batch_id, position, prompt_id, topic, kind, language, translation_of, prompt, follow_ups) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (batch_id, i, p.id, p.topic, p.kind, p.language, p.translation_of, p.text, json.dumps(list(p.then), ensure_ascii=False))
                    for i, p in enumerate(items)
                ],
            )
            self._store.note({"batches", "batch_items"}, operation="batch")
        return self.get(batch_id)

    def get(self, batch_id: int) -> Batch:
        with self._store.reading() as db:
            rows = list(db.query("SELECT * FROM batches WHERE id = ?", [batch_id]))
        if not rows:
            raise BatchNotFound(f"There is no batch {batch_id} in the notebook {self._store.path}.")
        return _batch(rows[0])

    def recent(self, limit: int = 50) -> list[Batch]:
        """Newest first."""
        with self._store.reading() as db:
            rows = list(db.query("SELECT * FROM batches ORDER BY id DESC LIMIT ?", [limit]))
        return [_batch(r) for r in rows]

    def items(self, batch_id: int) -> list[BatchItem]:
        """In prompt order."""
        with self._store.reading() as db:
            rows = list(db.query("SELECT * FROM batch_items WHERE batch_id = ? ORDER BY position", [batch_id]))
        return [_item(r) for r in rows]

    def set_status(self, batch_id: int, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"batch status must be one of {STATUSES}, not {status!r}")
        with self._store.writing() as db:
            db.execute("UPDATE batches SET status = ?, updated_at = ? WHERE id = ?", [status, utc_now(), batch_id])
            self._store.note({"batches"}, operation="batch")

    def record_flags(self, run_id: int, response_id: int, flags: Iterable[StoredFlag]) -> None:
        """Replace the automatic flags of one response: `notebook.flags.record`."""
        self._flags.record(run_id, response_id, flags)

    def set_divergence(self, item_id: int, divergence: float | None, divergence_detail: dict[str, Any] | None) -> None:
        """A done item's divergence score again, after its answers were flagged again."""
        with self._store.writing() as db:
            db.execute(
                "UPDATE batch_items SET divergence = ?, divergence_detail = ? WHERE id = ?",
                [divergence, json.dumps(divergence_detail) if divergence_detail else None, item_id],
            )
            self._store.note({"batch_items"}, operation="divergence")

    def start_asking(self, item_id: int, run_id: int) -> None:
        """Run `run_id` was just created to ask the item's prompt: a resume asks the
        answers it lacks in it (`BatchRunner`), rather than every model in a new run."""
        with self._store.writing() as db:
            db.execute("UPDATE batch_items SET asking_run_id = ? WHERE id = ?", [run_id, item_id])
            self._store.note({"batch_items"}, [run_id], operation="batch")

    def start_conversation(
        self, item_id: int, run_id: int, *, divergence: float | None, divergence_detail: dict[str, Any] | None
    ) -> None:
        """An item with follow-ups has its first turn complete in run `run_id` (its flags
        stored, its divergence score given here): a resume continues that run. No follow-up
        of it is answered yet (any answered in an earlier run, since deleted, are not this one's)."""
        with self._store.writing() as db:
            db.execute(
                "UPDATE batch_items SET conversation_run_id = ?, follow_up_turns = '[]', divergence = ?, divergence_detail = ? WHERE id = ?",
                [run_id, divergence, json.dumps(divergence_detail) if divergence_detail else None, item_id],
            )
            self._store.note({"batch_items"}, [run_id], operation="batch")

    def answer_follow_up(self, item_id: int, turn: int) -> None:
        """The item's next follow-up was answered completely, by its run's turn `turn`."""
        with self._store.writing() as db:
            db.execute(
                "UPDATE batch_items SET follow_up_turns = json_insert(follow_up_turns, '$[#]', ?) WHERE id = ?",
                [turn, item_id],
            )
            self._store.note({"batch_items"}, operation="batch")

    def finish_item(
        self,
        item_id: int,
        run_id: int,
        *,
        divergence: float | None,
        divergence_detail: dict[str, Any] | None,
        duration_s: float,
    ) -> None:
        """Mark an item done with its complete run (its flags are already stored),
        and recount the batch's done items in the same transaction."""
        now = utc_now()
        with self._store.writing() as db:
            db.execute(
                "UPDATE batch_items SET status = ?, run_id = ?, divergence = ?, divergence_detail = ?, duration_s = ?, finished_at = ? "
                "WHERE id = ?",
                [ITEM_DONE, run_id, divergence, json.dumps(divergence_detail) if divergence_detail else None, duration_s, now, item_id],
            )
            db.execute(
                "UPDATE batches SET done = (SELECT count(*) FROM batch_items WHERE batch_id = batches.id AND status = ?), updated_at = ? "
                "WHERE id = (SELECT batch_id FROM batch_items WHERE id = ?)",
                [ITEM_DONE, now, item_id],
            )
            # The item's run now answers it: the run's place in the batch view changed.
            self._store.note({"batch_items", "batches"}, [run_id], operation="batch")

    def item(self, item_id: int) -> BatchItem:
        with self._store.reading() as db:
            rows = list(db.query("SELECT * FROM batch_items WHERE id = ?", [item_id]))
        if not rows:
            raise BatchNotFound(f"There is no batch item {item_id}.")
        return _item(rows[0])

    def responses(self, batch_id: int, *, follow_up: int = 0) -> list[dict[str, Any]]:
        """Every response of the batch's done items to their prompt (`follow_up` 0, the
        question the prompt set asks: the first turn), or to their follow-up number
        `follow_up` (1, 2, …; items with fewer have none), with its item's prompt facts,
        `flags` (a list of automatic flag names), `labels` (the human labels on
        it, anyone's, each once) and `machine_labels` (those of machine annotators,
        e.g. a model judge's, each once; never among `labels`), in prompt then pane order."""
        if follow_up < 0:
            raise ValueError(f"follow-up numbers start at 1 (0: the prompt itself), not {follow_up}")
        sql = f"""
            SELECT batch_items.position AS item_position, batch_items.prompt_id, batch_items.topic, batch_items.kind,
                   batch_items.language, batch_items.translation_of, batch_items.divergence,
                   responses.id AS response_id, responses.run_id, responses.turn, responses.position, responses.model_sha256,
                   responses.model_name, responses.finish_reason, responses.completion_tokens, responses.text,
                   (SELECT json_group_array(name) FROM flags
                    WHERE flags.response_id = responses.id AND flags.source = 'auto') AS flags,
                   (SELECT json_group_array(DISTINCT label) FROM response_labels
                    WHERE response_labels.response_id = responses.id AND NOT ({_MACHINE_SQL})) AS labels,
                   (SELECT json_group_array(DISTINCT label) FROM response_labels
                    WHERE response_labels.response_id = responses.id AND ({_MACHINE_SQL})) AS machine_labels
            FROM batch_items JOIN responses ON responses.run_id = batch_items.run_id
            WHERE batch_items.batch_id = ? AND batch_items.status = 'done'
              AND responses.turn = (CASE WHEN ? = 0 THEN 0 ELSE json_extract(batch_items.follow_up_turns, '$[' || (? - 1) || ']') END)
            ORDER BY batch_items.position, responses.position
        """
        with self._store.reading() as db:
            rows = list(db.query(sql, [*MACHINE_PREFIXES, *MACHINE_PREFIXES, batch_id, follow_up, follow_up]))
        for row in rows:
            row["flags"] = json.loads(row["flags"] or "[]")
            row["labels"] = json.loads(row["labels"] or "[]")
            row["machine_labels"] = json.loads(row["machine_labels"] or "[]")
        return rows

    def follow_up_count(self, batch_id: int) -> int:
        """The most follow-ups any item of the batch has (0: a batch of single questions)."""
        with self._store.reading() as db:
            row = db.execute("SELECT max(json_array_length(follow_ups)) FROM batch_items WHERE batch_id = ?", [batch_id]).fetchone()
        return int(row[0] or 0)

    def turn_answers(self, run_id: int, turn: int) -> list[tuple[str | None, tuple[str, ...]]]:
        """(finish reason, automatic flag names) of each answer of a run's turn, in pane order."""
        with self._store.reading() as db:
            rows = db.execute(
                "SELECT finish_reason, (SELECT json_group_array(name) FROM flags WHERE flags.response_id = responses.id AND flags.source = 'auto') "
                "FROM responses WHERE run_id = ? AND turn = ? ORDER BY position",
                [run_id, turn],
            ).fetchall()
        return [(reason, tuple(json.loads(flags or "[]"))) for reason, flags in rows]

    def flag_counts(self, batch_id: int, *, follow_up: int = 0) -> dict[str, dict[str, int]]:
        """For each model name, how many of its answers in the batch (to the prompt, or
        to follow-up number `follow_up`) carry each automatic flag."""
        counts: dict[str, dict[str, int]] = {}
        for row in self.responses(batch_id, follow_up=follow_up):
            per_model = counts.setdefault(row["model_name"], {})
            for name in row["flags"]:
                per_model[name] = per_model.get(name, 0) + 1
        return counts


def _batch(row: dict[str, Any]) -> Batch:
    return Batch(
        id=row["id"],
        uid=row["uid"],
        created_at=row["created_at"],
        prompt_set_id=row["prompt_set_id"],
        prompt_set_title=row["prompt_set_title"],
        prompt_set_path=row["prompt_set_path"],
        prompt_set_sha256=row["prompt_set_sha256"],
        filters=json.loads(row["filters"] or "{}"),
        models=tuple(BatchModel(**m) for m in json.loads(row["models"] or "[]")),
        settings=json.loads(row["settings"] or "{}"),
        status=row["status"],
        total=row["total"],
        done=row["done"],
    )


def _item(row: dict[str, Any]) -> BatchItem:
    return BatchItem(
        id=row["id"],
        batch_id=row["batch_id"],
        position=row["position"],
        prompt_id=row["prompt_id"],
        topic=row["topic"],
        kind=row["kind"],
        language=row["language"],
        translation_of=row["translation_of"],
        prompt=row["prompt"],
        status=row["status"],
        run_id=row["run_id"],
        divergence=row["divergence"],
        duration_s=row["duration_s"],
        follow_ups=tuple(json.loads(row["follow_ups"] or "[]")),
        conversation_run_id=row["conversation_run_id"],
        follow_up_turns=tuple(json.loads(row["follow_up_turns"] or "[]")),
        divergence_detail=json.loads(row["divergence_detail"]) if row["divergence_detail"] else None,
        asking_run_id=row["asking_run_id"],
    )
