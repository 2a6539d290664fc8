"""Annotating runs: labels on answers, highlighted passages, notes, ratings, links.

`notebook.annotations` is the way in. Every change is committed at once,
in its own transaction, and is one undoable step in `notebook.undo`.
Every row records who made it (`annotator`) and when (`created_at`,
`updated_at`, ISO 8601 UTC), so several people can annotate the same runs.

Which annotations are one per person and which are shared:
- response labels: one row per (response, label, annotator); toggling
  touches only the caller's own;
- notes (per run, per response) and the run rating with its "how they
  differ" summary: one per annotator, each person edits their own;
- highlights (spans) and their labels and note: shared, with the author kept.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from collections.abc import Iterable

from .stamps import check_annotator, utc_now

if TYPE_CHECKING:
    from .undo import Changes, UndoStack
    from .labels import Labels
    from .store import Store

DIVERGENCE = ("none", "minor", "substantive", "opposite")
FIELDS = ("text", "reasoning")  # which stored text a highlight is in
LANGUAGE_SHIFT = "language_shift"  # the one run link kind so far
# Annotators whose names start so are programs, not people: `judge:<model name>` is a
# model judging answers with a rubric (core/judge). Their labels are machine verdicts,
# to be compared with people's, never counted as a person's check.
JUDGE_PREFIX = "judge:"
MACHINE_PREFIXES = (JUDGE_PREFIX,)


def is_machine_annotator(name: str) -> bool:
    """True for an annotator that is a program (a model judge, `judge:…`), False for a person."""
    return " ".join(name.split()).lower().startswith(MACHINE_PREFIXES)


def judge_annotator(model_name: str) -> str:
    """The annotator name under which a model judge's verdicts are stored: `judge:<model name>`."""
    return check_annotator(JUDGE_PREFIX + " ".join(model_name.split()))


@dataclass(frozen=True)
class ResponseLabel:
    label: str
    annotator: str
    created_at: str


@dataclass(frozen=True)
class Span:
    """A highlighted passage: `start`/`end` are code point offsets into the
    response's stored `field` text (see offsets.py), `quote` the text itself."""

    id: int
    uid: str
    response_id: int
    field: str
    start: int
    end: int
    quote: str
    note: str  # Markdown
    labels: tuple[str, ...]
    annotator: str
    created_at: str
    updated_at: str
    intact: bool  # the stored text still reads `quote` at start:end


@dataclass(frozen=True)
class Note:
    id: int
    run_id: int
    response_id: int | None  # None: a note on the whole run
    body: str  # Markdown, untrusted when shown: render with core.rendering
    annotator: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class RunAssessment:
    """One annotator's verdict on a run."""

    annotator: str
    divergence: str | None  # one of DIVERGENCE, or None when not rated
    summary: str  # "how they differ"
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class RunLink:
    id: int
    kind: str  # LANGUAGE_SHIFT
    run_a: int  # the smaller run id
    run_b: int
    note: str
    annotator: str
    created_at: str
    updated_at: str

    def other(self, run_id: int) -> int:
        return self.run_b if run_id == self.run_a else self.run_a


@dataclass(frozen=True)
class Flag:
    """Found by a program (issue 5's detectors), kept apart from human labels."""

    id: int
    run_id: int
    response_id: int | None
    name: str
    source: str  # "auto"
    detector: str  # which detector, with its version
    evidence: Any  # JSON as the detector wrote it (see docs/notebook.md)
    created_at: str
    basis: str | None = None  # "rules", "classifier" or "rules+classifier"; None before m005
    confidence: float | None = None  # the classifier's probability for this flag


@dataclass(frozen=True)
class ResponseAnnotations:
    response_id: int
    labels: tuple[ResponseLabel, ...]
    spans: tuple[Span, ...]
    notes: tuple[Note, ...]
    flags: tuple[Flag, ...]

    def label_names(self, annotator: str | None = None) -> set[str]:
        """Labels on this answer (by anyone, or by `annotator`: the label bar checks your own chips)."""
        return {label.label for label in self.labels if annotator is None or label.annotator == annotator}


@dataclass(frozen=True)
class RunAnnotations:
    """Everything annotated on one run, read in one call to fill the panes."""

    run_id: int
    session_id: int | None  # None: Unsorted
    assessments: tuple[RunAssessment, ...]
    notes: tuple[Note, ...]  # on the run as a whole
    links: tuple[RunLink, ...]
    flags: tuple[Flag, ...]  # on the run as a whole
    responses: dict[int, ResponseAnnotations]  # every response of the run, by id


class Annotations:
    """`notebook.annotations`. All calls block (the window calls them off the GUI thread).

    Bad arguments (an unknown label, offsets outside the text, a rating not in
    DIVERGENCE) raise ValueError; an id that is not in the notebook raises
    LookupError; what the disk does becomes a NotebookProblem.
    """

    def __init__(self, store: Store, undo: UndoStack, labels: Labels) -> None:
        self._store = store
        self._undo = undo
        self._labels = labels

    # --- labels on an answer -------------------------------------------------

    def add_label(self, response_id: int, label: str, *, annotator: str) -> bool:
        """False when this annotator had already put this label on it."""
        annotator, title = check_annotator(annotator), self._labels.get(label).title
        run_id = self._run_of(response_id)
        with self._undo.change(f"Label {title!r} on response {response_id}", run_ids=frozenset({run_id}), operation="label") as changes:
            if self._response_label_id(changes, response_id, label, annotator) is not None:
                return False
            now = utc_now()
            changes.insert("response_labels", {"response_id": response_id, "label": label, "annotator": annotator, "created_at": now, "updated_at": now})
        return True

    def remove_label(self, response_id: int, label: str, *, annotator: str) -> bool:
        """False when this annotator had not put this label on it."""
        annotator, title = check_annotator(annotator), self._labels.get(label).title
        run_id = self._run_of(response_id)
        with self._undo.change(f"Remove label {title!r} from response {response_id}", run_ids=frozenset({run_id}), operation="label") as changes:
            row_id = self._response_label_id(changes, response_id, label, annotator)
            if row_id is None:
                return False
            changes.delete("response_labels", row_id)
        return True

    def toggle_label(self, response_id: int, label: str, *, annotator: str) -> bool:
        """The number-key action. True when the label is now on."""
        with self._store.lock:  # Read and write as one step against other threads.
            if self._has_label(response_id, label, check_annotator(annotator)):
                self.remove_label(response_id, label, annotator=annotator)
                return False
            self.add_label(response_id, label, annotator=annotator)
            return True

    def record_verdict(
        self,
        response_id: int,
        label: str | None,
        note: str,
        *,
        annotator: str,
        replaces: Iterable[str],
        merge_key: Any = None,
    ) -> None:
        """A machine annotator's verdict on an answer, written as one transaction: of the
        labels `replaces`, the annotator's ones on this answer become exactly `label` (none
        when None: an unreadable verdict), and its note on the answer becomes `note`.

        One undoable step; consecutive verdicts with the same `merge_key` undo together
        (a whole judging pass is one Undo)."""
        annotator = check_annotator(annotator)
        replaces = self._known_labels(replaces)
        if label is not None and label not in replaces:
            raise ValueError(f"The verdict's label {label!r} is not one of {replaces}.")
        run_id = self._run_of(response_id)
        with self._undo.change(f"Verdicts of {annotator}", run_ids=frozenset({run_id}), merge_key=merge_key, operation="verdict") as changes:
            have = dict(
                changes.conn.execute(
                    f"select label, id from response_labels where response_id = ? and annotator = ? and label in ({', '.join('?' for _ in replaces)})",
                    [response_id, annotator, *replaces],
                ).fetchall()
            )
            now = utc_now()
            for name, row_id in have.items():
                if name != label:
                    changes.delete("response_labels", row_id)
            if label is not None and label not in have:
                changes.insert("response_labels", {"response_id": response_id, "label": label, "annotator": annotator, "created_at": now, "updated_at": now})
            _write_note(changes, run_id, response_id, annotator, note.strip(), now)

    def labelled_by(self, annotator: str, response_ids: Iterable[int], labels: Iterable[str] | None = None) -> set[int]:
        """Which of `response_ids` carry a label by `annotator` (of `labels`, when given)."""
        annotator, ids = check_annotator(annotator), list(dict.fromkeys(response_ids))
        names = list(labels) if labels is not None else None
        found: set[int] = set()
        with self._store.reading() as db:
            for start in range(0, len(ids), 500):  # within SQLite's limit on parameters
                chunk = ids[start : start + 500]
                sql = f"select distinct response_id from response_labels where annotator = ? and response_id in ({', '.join('?' for _ in chunk)})"
                params: list[Any] = [annotator, *chunk]
                if names is not None:
                    sql += f" and label in ({', '.join('?' for _ in names)})"
                    params += names
                found.update(row[0] for row in db.execute(sql, params))
        return found

    # --- highlights ----------------------------------------------------------

    def add_span(
        self,
        response_id: int,
        field: str,
        start: int,
        end: int,
        *,
        annotator: str,
        labels: Iterable[str] = (),
        note: str = "",
    ) -> Span:
        """Highlight text[start:end] of the response's stored `field` ("text" or
        "reasoning"); offsets are code points (offsets.py converts Qt's)."""
        annotator = check_annotator(annotator)
        if field not in FIELDS:
            raise ValueError(f"A highlight is in {' or '.join(FIELDS)}, not {field!r}.")
        labels = self._known_labels(labels)
        run_id = self._run_of(response_id)
        with self._undo.change(f"Highlight in response {response_id}", run_ids=frozenset({run_id}), operation="highlight") as changes:
            text = changes.conn.execute(f"select coalesce({field}, '') from responses where id = ?", [response_id]).fetchone()[0]
            if not 0 <= start < end <= len(text):
                raise ValueError(f"A highlight needs 0 <= start < end <= {len(text)} (the length of the stored {field}), not {start}:{end}.")
            now = utc_now()
            span_id = changes.insert(
                "spans",
                {
                    "uid": uuid.uuid4().hex,
                    "response_id": response_id,
                    "field": field,
                    "start": start,
                    "end": end,
                    "quote": text[start:end],
                    "note": note.strip(),
                    "annotator": annotator,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            for label in labels:
                changes.insert("span_labels", {"span_id": span_id, "label": label, "annotator": annotator, "created_at": now, "updated_at": now})
        return self.span(span_id)

    def set_span_labels(self, span_id: int, labels: Iterable[str], *, annotator: str) -> Span:
        """Make the highlight carry exactly `labels`; new ones are credited to `annotator`."""
        annotator, wanted = check_annotator(annotator), self._known_labels(labels)
        span = self.span(span_id)
        with self._undo.change(f"Labels of a highlight in response {span.response_id}", run_ids=self._runs_of_span(span), operation="highlight") as changes:
            have = dict(changes.conn.execute("select label, id from span_labels where span_id = ?", [span_id]).fetchall())
            now = utc_now()
            for label in wanted:
                if label not in have:
                    changes.insert("span_labels", {"span_id": span_id, "label": label, "annotator": annotator, "created_at": now, "updated_at": now})
            for label, row_id in have.items():
                if label not in wanted:
                    changes.delete("span_labels", row_id)
        return self.span(span_id)

    def set_span_note(self, span_id: int, note: str) -> Span:
        """The highlight's Markdown note (shared; the highlight keeps its author)."""
        span = self.span(span_id)
        with self._undo.change(
            f"Note on a highlight in response {span.response_id}", run_ids=self._runs_of_span(span), merge_key=("span_note", span_id), operation="highlight"
        ) as changes:
            changes.update("spans", span_id, {"note": note.strip()}, stamp={"updated_at": utc_now()})
        return self.span(span_id)

    def delete_span(self, span_id: int) -> None:
        span = self.span(span_id)
        with self._undo.change(f"Remove highlight {span.quote[:30]!r}", run_ids=self._runs_of_span(span), operation="highlight") as changes:
            # Children first and one by one, so that undo brings each back.
            for (row_id,) in changes.conn.execute("select id from span_labels where span_id = ?", [span_id]).fetchall():
                changes.delete("span_labels", row_id)
            changes.delete("spans", span_id)

    def span(self, span_id: int) -> Span:
        spans = self._spans("spans.id = ?", [span_id])
        if not spans:
            raise LookupError(f"There is no highlight {span_id} in the notebook.")
        return spans[0]

    # --- notes ---------------------------------------------------------------

    def set_response_note(self, response_id: int, body: str, *, annotator: str) -> None:
        """The annotator's Markdown note on an answer; an empty body removes it."""
        self._set_note(self._run_of(response_id), response_id, body, annotator)

    def set_run_note(self, run_id: int, body: str, *, annotator: str) -> None:
        """The annotator's Markdown note on a run as a whole; an empty body removes it."""
        self._check_run(run_id)
        self._set_note(run_id, None, body, annotator)

    def _set_note(self, run_id: int, response_id: int | None, body: str, annotator: str) -> None:
        annotator, body = check_annotator(annotator), body.strip()
        target = f"response {response_id}" if response_id is not None else f"run {run_id}"
        # Successive saves of the same note (the editor saving as one types)
        # undo as one step.
        with self._undo.change(
            f"Note on {target}", run_ids=frozenset({run_id}), merge_key=("note", run_id, response_id, annotator), operation="note"
        ) as changes:
            _write_note(changes, run_id, response_id, annotator, body, utc_now())

    # --- the run as a whole ---------------------------------------------------

    def set_divergence(self, run_id: int, divergence: str | None, *, annotator: str) -> None:
        """How far the answers diverge: one of DIVERGENCE, or None to clear."""
        if divergence is not None and divergence not in DIVERGENCE:
            raise ValueError(f"A divergence rating is one of {', '.join(DIVERGENCE)}, not {divergence!r}.")
        self._set_assessment(run_id, annotator, "divergence", divergence, f"Rate run {run_id} {divergence or 'unrated'}")

    def set_summary(self, run_id: int, summary: str, *, annotator: str) -> None:
        """The annotator's short "how they differ" for the run."""
        self._set_assessment(run_id, annotator, "summary", " ".join(summary.split()), f"Summary of run {run_id}")

    def _set_assessment(self, run_id: int, annotator: str, column: str, value: Any, description: str) -> None:
        annotator = check_annotator(annotator)
        self._check_run(run_id)
        # Typing a summary saves it repeatedly: those saves undo as one step.
        merge_key = ("summary", run_id, annotator) if column == "summary" else None
        with self._undo.change(description, run_ids=frozenset({run_id}), merge_key=merge_key, operation="rate") as changes:
            row = changes.conn.execute("select id from run_annotations where run_id = ? and annotator = ?", [run_id, annotator]).fetchone()
            now = utc_now()
            if row is None:
                if value:
                    changes.insert("run_annotations", {"run_id": run_id, column: value, "annotator": annotator, "created_at": now, "updated_at": now})
                return
            current = changes.read("run_annotations", row[0])
            assert current is not None
            other = "summary" if column == "divergence" else "divergence"
            if not value and not current[other]:
                changes.delete("run_annotations", row[0])  # Nothing left of this verdict.
            else:
                changes.update("run_annotations", row[0], {column: value}, stamp={"updated_at": now})

    def link_language_shift(self, run_a: int, run_b: int, *, annotator: str, note: str = "") -> RunLink:
        """Mark two runs as the same prompt asked in two languages, whose answers shift between them."""
        annotator = check_annotator(annotator)
        if run_a == run_b:
            raise ValueError("A language-shift mark links two different runs.")
        low, high = sorted((run_a, run_b))
        languages = [self._check_run(run_id) for run_id in (low, high)]
        if languages[0] and languages[0] == languages[1]:
            raise ValueError(f"Runs {low} and {high} are both in {languages[0]!r}: a language shift links runs in two languages.")
        with self._undo.change(f"Language shift between runs {low} and {high}", run_ids=frozenset({low, high}), operation="link") as changes:
            row = changes.conn.execute("select id from run_links where kind = ? and run_a = ? and run_b = ?", [LANGUAGE_SHIFT, low, high]).fetchone()
            now = utc_now()
            if row is None:
                link_id = changes.insert(
                    "run_links",
                    {"kind": LANGUAGE_SHIFT, "run_a": low, "run_b": high, "note": note.strip(), "annotator": annotator, "created_at": now, "updated_at": now},
                )
            else:
                link_id = row[0]
                changes.update("run_links", link_id, {"note": note.strip()}, stamp={"updated_at": now})
        return next(link for link in self.for_run(low).links if link.id == link_id)

    def unlink(self, link_id: int) -> None:
        with self._store.reading() as db:
            row = db.execute("select run_a, run_b from run_links where id = ?", [link_id]).fetchone()
        if row is None:
            raise LookupError(f"There is no run link {link_id} in the notebook.")
        with self._undo.change(f"Remove the link between runs {row[0]} and {row[1]}", run_ids=frozenset(row), operation="link") as changes:
            changes.delete("run_links", link_id)

    # --- reading ---------------------------------------------------------------

    def for_run(self, run_id: int) -> RunAnnotations:
        """Everything annotated on a run and its answers, to show with `notebook.run()`."""
        self._check_run(run_id)
        with self._store.reading() as db:
            response_ids = [r[0] for r in db.execute("select id from responses where run_id = ? order by position", [run_id])]
            labels: dict[int, list[ResponseLabel]] = {rid: [] for rid in response_ids}
            for row in db.query(
                "select l.* from response_labels l join responses r on r.id = l.response_id where r.run_id = ? order by l.id", [run_id]
            ):
                labels[row["response_id"]].append(ResponseLabel(row["label"], row["annotator"], row["created_at"]))
            notes = [Note(**row) for row in db.query("select * from notes where run_id = ? order by id", [run_id])]
            assessments = [
                RunAssessment(r["annotator"], r["divergence"], r["summary"], r["created_at"], r["updated_at"])
                for r in db.query("select * from run_annotations where run_id = ? order by id", [run_id])
            ]
            links = [RunLink(**row) for row in db.query("select * from run_links where ? in (run_a, run_b) order by id", [run_id])]
            flags = [
                Flag(
                    r["id"], r["run_id"], r["response_id"], r["name"], r["source"], r["detector"],
                    json.loads(r["evidence"] or "null"), r["created_at"], r["basis"], r["confidence"],
                )
                for r in db.query("select * from flags where run_id = ? order by id", [run_id])
            ]
            session = db.execute("select session_id from session_runs where run_id = ?", [run_id]).fetchone()
        spans = self._spans("responses.run_id = ?", [run_id])
        responses = {
            rid: ResponseAnnotations(
                rid,
                tuple(labels[rid]),
                tuple(s for s in spans if s.response_id == rid),
                tuple(n for n in notes if n.response_id == rid),
                tuple(f for f in flags if f.response_id == rid),
            )
            for rid in response_ids
        }
        return RunAnnotations(
            run_id,
            session[0] if session else None,
            tuple(assessments),
            tuple(n for n in notes if n.response_id is None),
            tuple(links),
            tuple(f for f in flags if f.response_id is None),
            responses,
        )

    # --- helpers ----------------------------------------------------------------

    def _spans(self, where: str, params: list[Any]) -> list[Span]:
        sql = f"""
            select spans.*, responses.text as _text, responses.reasoning as _reasoning,
                   (select json_group_array(label) from (select label from span_labels where span_id = spans.id order by id)) as _labels
            from spans join responses on responses.id = spans.response_id
            where {where} order by spans.response_id, spans.start, spans.id
        """
        with self._store.reading() as db:
            rows = list(db.query(sql, params))
        spans = []
        for row in rows:
            text, reasoning = row.pop("_text"), row.pop("_reasoning")
            stored = (text if row["field"] == "text" else reasoning) or ""
            labels = tuple(json.loads(row.pop("_labels")))
            spans.append(Span(**row, labels=labels, intact=stored[row["start"] : row["end"]] == row["quote"]))
        return spans

    def _runs_of_span(self, span: Span) -> frozenset[int]:
        return frozenset({self._run_of(span.response_id)})

    def _run_of(self, response_id: int) -> int:
        with self._store.reading() as db:
            row = db.execute("select run_id from responses where id = ?", [response_id]).fetchone()
        if row is None:
            raise LookupError(f"There is no response {response_id} in the notebook {self._store.path}.")
        return cast(int, row[0])  # responses.run_id: an integer, never null

    def _check_run(self, run_id: int) -> str | None:
        """The run's language; LookupError if there is no such run."""
        with self._store.reading() as db:
            row = db.execute("select language from runs where id = ?", [run_id]).fetchone()
        if row is None:
            raise LookupError(f"There is no run {run_id} in the notebook {self._store.path}.")
        return cast(str | None, row[0])  # runs.language: text, null when not known

    def _known_labels(self, labels: Iterable[str]) -> list[str]:
        names = list(dict.fromkeys(labels))
        for name in names:
            self._labels.get(name)  # ValueError for an unknown one
        return names

    def _has_label(self, response_id: int, label: str, annotator: str) -> bool:
        with self._store.reading() as db:
            return db.execute(
                "select 1 from response_labels where response_id = ? and label = ? and annotator = ?", [response_id, label, annotator]
            ).fetchone() is not None

    @staticmethod
    def _response_label_id(changes: Changes, response_id: int, label: str, annotator: str) -> int | None:
        row = changes.conn.execute(
            "select id from response_labels where response_id = ? and label = ? and annotator = ?", [response_id, label, annotator]
        ).fetchone()
        return row[0] if row else None


def _write_note(changes: Any, run_id: int, response_id: int | None, annotator: str, body: str, now: str) -> None:
    """Within `changes` (an undoable step): the annotator's one note on the answer
    (or, with no response id, on the run) becomes `body`; an empty body removes it."""
    row = changes.conn.execute(
        "select id from notes where run_id = ? and ifnull(response_id, 0) = ifnull(?, 0) and annotator = ?",
        [run_id, response_id, annotator],
    ).fetchone()
    if row is None and body:
        changes.insert("notes", {"run_id": run_id, "response_id": response_id, "body": body, "annotator": annotator, "created_at": now, "updated_at": now})
    elif row is not None and not body:
        changes.delete("notes", row[0])
    elif row is not None:
        changes.update("notes", row[0], {"body": body}, stamp={"updated_at": now})
