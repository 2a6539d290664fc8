"""Full-text search over prompts, answers, reasoning and notes, English and Chinese.

How text is found
-----------------
Four FTS5 indexes with the `trigram` tokenizer (m002; m007 put the first two on
their tables, for Datasette and sqlite-utils): `runs_fts` (prompt,
system prompt), `responses_fts` (answer, reasoning; finished answers only, of
every turn), `turns_fts` (follow-up prompts, turn 1 on; m009) and `notes_fts`
(notes, highlight notes, "how they differ" summaries).
Trigrams find any substring of three or more characters in any script,
which is what Chinese needs: it has no spaces between words, so a word
tokenizer would see a whole sentence as one token.

Trigrams can't find one or two characters (台湾, 天安, "AI") by themselves.
Every indexed text ends in two padding characters, so each character of it
starts at least one trigram; a short term is answered by looking up, in
the index's own vocabulary, every trigram that starts with it, and
searching for any of them. That stays inside the index (milliseconds on
100,000 answers, see bench/notebook_scale.py), where scanning the text with
LIKE took about half a second. A short term so common that it starts
hundreds of trigrams (的) is instead checked in the text of the rows the
other terms found, or of the newest rows: being common, it is met at once.

Answers still streaming, or left unfinished by a killed app, are not in the
index (they change every second); they are few, and are scanned directly.

Filters with an index of their own (labels, flags, sessions, ratings, dates) are
used to list candidates first; when they leave few (MAX_CANDIDATES), their
texts are checked one by one, instead of walking thousands of index matches
to find the few that pass. A date range also bounds the walk by id.

Query syntax: words separated by spaces must all occur (in the same answer,
prompt or note); "double quotes" keep a phrase together. Matching is by
substring and ignores case. Nothing else is special, so any text typed is safe.

Results come newest run first, then in the order of its conversation (a turn's
prompt, then its answers by pane). A snippet marks each match between
MARK_START and MARK_END (U+27E6, U+27E7; never HTML). Those two characters
are removed from the text around them, so a marker is always a marker.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta, UTC
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable

from ..analysis.flag_names import FLAG_NAMES
from .annotations import DIVERGENCE
from .flags import FLAG_SOURCE_AUTO
from .migrations import TURNS_PER_RUN

if TYPE_CHECKING:
    from .store import Store

MARK_START, MARK_END = "\u27e6", "\u27e7"
SNIPPET_CHARS = 160
MAX_LIMIT = 1000
# Order of fields when several hits share a run: the prompt, then the panes.
FIELD_ORDER = ("prompt", "system_prompt", "summary", "note", "text", "reasoning", "span_note")
_TERM = re.compile(r'"([^"]*)"|(\S+)')
# notes_fts rowid = source id * 4 + kind (see migration m002).
_NOTE, _SPAN_NOTE, _SUMMARY = 1, 2, 3


@dataclass(frozen=True)
class SearchFilters:
    """All given filters must hold; a tuple holds when any of its values does.

    `models`, `origins`, `labels` and `flags` are about the answer: a match in
    an answer (or a note on it) must be that model's, from that country, with
    that label (on the answer or on a highlight in it), with that automatic
    flag. A match in a run's prompt or run note holds when any answer in the
    run fits.
    """

    models: tuple[str, ...] = ()  # part of a model name (recorded or current; any case), or a full SHA-256
    origins: tuple[str, ...] = ()  # ISO 3166 codes of the answering model: "US", "CN"
    labels: tuple[str, ...] = ()  # stored label names
    languages: tuple[str, ...] = ()  # the run's language: "en", "zh"
    sessions: tuple[int | None, ...] = ()  # session ids; None means Unsorted
    since: date | datetime | str | None = None  # runs made at or after (a date: local midnight)
    until: date | datetime | str | None = None  # runs made before (a date: that whole day included)
    ratings: tuple[str, ...] = ()  # divergence given by any annotator
    flags: tuple[str, ...] = ()  # automatic flag names (analysis.FLAG_NAMES)


@dataclass(frozen=True)
class SearchHit:
    """One match: enough to open the run and scroll to it."""

    run_id: int
    response_id: int | None  # None: a match in the prompt, a run note or a summary
    model_name: str | None
    snippet: str  # matches between MARK_START and MARK_END
    field: str  # prompt, system_prompt, text, reasoning, note, span_note, summary
    position: int | None  # the answer's pane, 0 = leftmost
    origin_country: str | None
    run_created_at: str
    language: str | None  # the run's
    annotator: str | None  # who wrote the note, summary or highlight that matched
    note_id: int | None
    span_id: int | None
    match_start: int | None  # code point offset of the first match in the field's stored text
    flags: tuple[str, ...] = ()  # the answer's automatic flags (none for a match in the run)
    status: str | None = None  # the answer's status (statuses.py: `interrupted` is a partial answer); None for a match in the run or a note
    turn: int | None = None  # the turn of the conversation matched (0: the run's prompt and its answers); None for a run note or summary

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_terms(query: str) -> list[str]:
    """The terms of a query, lower-cased: words, or "quoted phrases". One
    character is a term only outside ASCII (党 is a word; "a" finds everything)."""
    terms = []
    for quoted, bare in _TERM.findall(query):
        term = _fold((quoted if quoted else bare.strip('"')).strip())
        if (len(term) >= 2 or (term and not term.isascii())) and term not in terms:
            terms.append(term)
    return terms


def search(store: Store, query: str, filters: SearchFilters | None = None, *, limit: int = 50) -> list[SearchHit]:
    """Matches for `query`, newest run first. ValueError for a query with no
    usable term or a bad filter; blocks for milliseconds (call it off the GUI thread)."""
    terms = parse_terms(query)
    if not terms:
        raise ValueError("Type at least two letters (or one Chinese character) to search.")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"The limit is between 1 and {MAX_LIMIT}, not {limit}.")
    with store.reading() as db:
        db.conn.create_function(_FOLD, 1, _fold, deterministic=True)
        finder = _Finder(db.conn, terms, filters or SearchFilters(), limit)
        hits = finder.prompts() + finder.follow_ups() + finder.answers() + finder.notes() if finder.possible else []
        hits.sort(key=lambda h: (
            -h.run_id, h.turn or 0, -1 if h.position is None else h.position, FIELD_ORDER.index(h.field), h.note_id or h.span_id or 0
        ))  # fmt: skip
        return _with_flags(db.conn, hits[:limit])


def _with_flags(conn: sqlite3.Connection, hits: list[SearchHit]) -> list[SearchHit]:
    """Each answer's automatic flags on its hits, in FLAG_NAMES order (others after, by name)."""
    ids = sorted({h.response_id for h in hits if h.response_id is not None})
    flags: dict[int, set[str]] = {}
    for response_id, name in conn.execute(
        "select response_id, name from flags where source = ? and response_id in (select value from json_each(?))", [FLAG_SOURCE_AUTO, json.dumps(ids)]
    ):
        flags.setdefault(response_id, set()).add(name)
    order = {name: i for i, name in enumerate(FLAG_NAMES)}
    return [
        replace(h, flags=tuple(sorted(flags.get(h.response_id, ()), key=lambda n: (order.get(n, len(order)), n)))) if h.response_id in flags else h
        for h in hits
    ]


# --- how to find the terms ------------------------------------------------------

_FOLD = "workbench_fold"  # _fold as an SQL function, on this connection only (never in triggers)
# A short term expanding to more trigrams than this, or found in more
# documents, is too common for an OR of trigrams to be quick: it is checked
# in the text of the rows found instead (it is common, so they come soon).
MAX_TRIGRAMS, MAX_TRIGRAM_DOCS = 300, 30_000
# When the filters with an index (labels, sessions, ratings, dates) leave at
# most this many answers, their texts are checked one by one instead of
# walking the index's matches looking for ones that pass.
MAX_CANDIDATES = 2_000


@dataclass(frozen=True)
class _Plan:
    """How one index answers the terms."""

    match: str | None  # FTS5 query for the terms the index answers well
    contains: tuple[str, ...]  # terms checked in the text itself
    absent: bool  # some term is in no text of this index: it can match nothing


def _plan(conn: sqlite3.Connection, table: str, terms: list[str]) -> _Plan:
    parts, contains = [], []
    for term in terms:
        if len(term) >= 3:
            parts.append(_phrase(term))
            continue
        trigrams = _trigrams_starting(conn, table, term)
        if not trigrams:
            return _Plan(None, (), True)
        if len(trigrams) > MAX_TRIGRAMS or sum(docs for _, docs in trigrams) > MAX_TRIGRAM_DOCS:
            contains.append(term)
        else:
            parts.append("(" + " OR ".join(_phrase(t) for t, _ in trigrams) + ")")
    return _Plan(" AND ".join(parts) or None, tuple(contains), False)


def _trigrams_starting(conn: sqlite3.Connection, table: str, prefix: str) -> list[tuple[str, int]]:
    """(trigram, documents) for trigrams in `table`'s index starting with `prefix`,
    one more than MAX_TRIGRAMS at most."""
    vocabulary = f"{table}_terms"
    # A temporary view of the index's vocabulary: nothing is stored, and it
    # vanishes with the connection. Its term column supports range lookups.
    conn.execute(f"create virtual table if not exists temp.{vocabulary} using fts5vocab(main, {table}, row)")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return conn.execute(
        f"select term, doc from temp.{vocabulary} where term >= ? and term < ? limit ?", [prefix, upper, MAX_TRIGRAMS + 1]
    ).fetchall()


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _contains(columns: tuple[str, ...], terms: Iterable[str]) -> tuple[str, list[Any]]:
    """SQL: every term occurs in one of `columns` (case folded as the index folds)."""
    sql, params = [], []
    for term in terms:
        sql.append("(" + " or ".join(f"instr({_FOLD}(coalesce({c}, '')), ?) > 0" for c in columns) + ")")
        params += [term] * len(columns)
    return "".join(f" and {s}" for s in sql), params


# --- filters -----------------------------------------------------------------


class _Filters:
    """SQL conditions for the filters, on `r` (an answer) and `runs` (its run).
    Sets (labels, sessions, ratings) are uncorrelated IN subqueries: SQLite
    builds each once per query, then checking a row is one index probe."""

    def __init__(self, f: SearchFilters) -> None:
        self.since = _utc(f.since, end=False) if f.since is not None else None
        self.until = _utc(f.until, end=True) if f.until is not None else None
        unknown = set(f.ratings) - set(DIVERGENCE)
        if unknown:
            raise ValueError(f"A rating is one of {', '.join(DIVERGENCE)}, not {', '.join(sorted(unknown))}.")
        unknown = set(f.flags) - set(FLAG_NAMES)
        if unknown:
            raise ValueError(f"There is no flag {', '.join(map(repr, sorted(unknown)))}; the flags are {', '.join(FLAG_NAMES)}.")
        # Answer sets an index can list (labels, flags): they can make the candidates.
        self.answer_sets: list[tuple[str, list[Any]]] = []
        if f.labels:
            self.answer_sets.append(self._labelled(f.labels))
        if f.flags:
            self.answer_sets.append((f"select response_id as id from flags where source = ? and name in ({_marks(f.flags)})", [FLAG_SOURCE_AUTO, *f.flags]))
        self.session_ids = [s for s in f.sessions if s is not None]
        # Run sets an index can list: they can make the candidates.
        self.run_sets: list[tuple[str, list[Any]]] = []
        if f.sessions and None not in f.sessions:
            self.run_sets.append((f"select run_id as id from session_runs where session_id in ({_marks(self.session_ids)})", self.session_ids))
        if f.ratings:
            self.run_sets.append((f"select distinct run_id as id from run_annotations where divergence in ({_marks(f.ratings)})", list(f.ratings)))
        if self.since or self.until:
            self.run_sets.append(("select id from runs where created_at >= ? and created_at < ?", [self.since or "", self.until or "\uffff"]))

        response: list[str] = []
        response_params: list[Any] = []
        if f.models:
            # The model's name now (models.name, rewritten on each use) as well as the one
            # each answer was recorded under: answers recorded before a model's name changed
            # (issue 17: one file, two names) are found by either.
            response.append("(" + " or ".join(
                "r.model_sha256 = lower(?) or instr(lower(r.model_name), lower(?)) > 0"
                " or r.model_sha256 in (select sha256 from models where instr(lower(name), lower(?)) > 0)"
                for _ in f.models
            ) + ")")
            response_params += [m.strip() for m in f.models for _ in (0, 1, 2)]
        if f.origins:
            response.append(f"r.origin_country in ({_marks(f.origins)})")
            response_params += [o.strip().upper() for o in f.origins]
        for sql, params in self.answer_sets:
            response.append(f"r.id in ({sql})")
            response_params += params
        self.response_sql, self.response_params = " and ".join(response), response_params

        run: list[str] = []
        run_params: list[Any] = []
        if f.languages:
            run.append(f"runs.language in ({_marks(f.languages)})")
            run_params += list(f.languages)
        if f.sessions:
            either = [f"runs.id in (select run_id from session_runs where session_id in ({_marks(self.session_ids)}))"] if self.session_ids else []
            if None in f.sessions:
                either.append("not exists (select 1 from session_runs where run_id = runs.id)")
            run.append("(" + " or ".join(either) + ")")
            run_params += self.session_ids
        if f.ratings:
            run.append(f"runs.id in (select run_id from run_annotations where divergence in ({_marks(f.ratings)}))")
            run_params += list(f.ratings)
        if self.since:
            run.append("runs.created_at >= ?")
            run_params.append(self.since)
        if self.until:
            run.append("runs.created_at < ?")
            run_params.append(self.until)
        self.run_sql, self.run_params = " and ".join(run), run_params

    @staticmethod
    def _labelled(labels: tuple[str, ...]) -> tuple[str, list[Any]]:
        """Answers carrying one of `labels`, on the answer or on a highlight in it."""
        sql = f"""select response_id as id from response_labels where label in ({_marks(labels)})
                  union select s.response_id from span_labels sl join spans s on s.id = sl.span_id where sl.label in ({_marks(labels)})"""
        return sql, [*labels, *labels]

    def for_answer(self) -> tuple[str, list[Any]]:
        """Conditions for a match in answer `r` of run `runs`."""
        parts = [p for p in (self.response_sql, self.run_sql) if p]
        return "".join(f" and {p}" for p in parts), self.response_params + self.run_params

    def for_run(self) -> tuple[str, list[Any]]:
        """Conditions for a match in run `runs` as a whole: some answer must fit."""
        sql, params = "", []
        if self.response_sql:
            sql += f" and exists (select 1 from responses r where r.run_id = runs.id and {self.response_sql})"
            params += self.response_params
        if self.run_sql:
            sql += f" and {self.run_sql}"
            params += self.run_params
        return sql, params

    def candidates(self) -> tuple[tuple[str, list[Any]] | None, tuple[str, list[Any]] | None]:
        """SQL listing (answer ids, run ids), each once, in a column `id`, that
        the indexed filters allow: a superset of what passes every filter.
        (None, None) when no such filter is set."""
        runs: tuple[str, list[Any]] | None = None
        if self.run_sets:
            runs = (" intersect ".join(sql for sql, _ in self.run_sets), [p for _, params in self.run_sets for p in params])
        answers: tuple[str, list[Any]] | None = None
        if self.answer_sets:
            answers = (" intersect ".join(f"select id from ({sql})" for sql, _ in self.answer_sets), [p for _, params in self.answer_sets for p in params])
        if runs and answers:
            return (
                (f"select id from responses where run_id in ({runs[0]}) intersect {answers[0]}", runs[1] + answers[1]),
                (f"{runs[0]} intersect select run_id from responses where id in ({answers[0]})", runs[1] + answers[1]),
            )
        if runs:
            return (f"select id from responses where run_id in ({runs[0]})", runs[1]), runs
        if answers:
            return answers, (f"select distinct run_id as id from responses where id in ({answers[0]})", answers[1])
        return None, None


def _between(column: str, bounds: tuple[int, int] | None) -> str:
    """An id range as SQL (integers from the database, so inlined)."""
    return f" and {column} between {int(bounds[0])} and {int(bounds[1])}" if bounds else ""


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


def _utc(value: date | datetime | str, *, end: bool) -> str:
    """As stored in runs.created_at (ISO 8601 UTC with milliseconds), so strings compare in time order.
    A date (or a string without a time) means local midnight; as an end, the next midnight."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"A date is written YYYY-MM-DD (or YYYY-MM-DDTHH:MM), not {value!r}.") from None
        value = parsed.date() if len(value.strip()) == 10 else parsed
    if not isinstance(value, datetime):
        value = datetime.combine(value + timedelta(days=1) if end else value, time())
    if value.tzinfo is None:
        value = value.astimezone()  # The user's local time.
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


# --- finding -------------------------------------------------------------------

_ANSWER_COLUMNS = "r.id, r.run_id, r.model_name, r.origin_country, r.position, runs.created_at, runs.language, r.text, r.reasoning, r.status, r.turn"
_PROMPT_COLUMNS = "runs.id, runs.created_at, runs.language, runs.prompt, runs.system_prompt"


class _Finder:
    """One search: picks, per source, the cheapest way that gives exact results.

    - the index, newest match first, checking the filters on each (the usual way);
    - the rows the indexed filters allow, when they are few, each text checked;
    - the table itself, newest first, when every term is too common for the
      index (they are common, so matches come soon).
    A date range also bounds the index walk to the ids of the runs in the range.
    """

    def __init__(self, conn: sqlite3.Connection, terms: list[str], filters: SearchFilters, limit: int) -> None:
        self.conn, self.terms, self.limit = conn, terms, limit
        self.where = _Filters(filters)
        self.possible = True
        self.run_bounds: tuple[int, int] | None = None
        self.answer_bounds: tuple[int, int] | None = None
        if self.where.since or self.where.until:
            self._bound_by_dates()
        answers, runs = self.where.candidates()
        self.answer_candidates = self._if_few(answers)
        self.run_candidates = self._if_few(runs)

    def _bound_by_dates(self) -> None:
        low, high = self.conn.execute(
            "select min(id), max(id) from runs where created_at >= ? and created_at < ?", [self.where.since or "", self.where.until or "\uffff"]
        ).fetchone()
        if low is None:
            self.possible = False  # No run in the range: nothing can match.
            return
        first, last = self.conn.execute("select min(id), max(id) from responses where run_id between ? and ?", [low, high]).fetchone()
        self.run_bounds = (low, high)
        self.answer_bounds = (first or 0, last or 0)

    def _if_few(self, candidates: tuple[str, list[Any]] | None) -> tuple[str, list[Any]] | None:
        if candidates is None:
            return None
        sql, params = candidates
        count = self.conn.execute(f"select count(*) from (select 1 from ({sql}) limit ?)", [*params, MAX_CANDIDATES + 1]).fetchone()[0]
        return candidates if count <= MAX_CANDIDATES else None

    # --- prompts ---

    def prompts(self) -> list[SearchHit]:
        filters, filter_params = self.where.for_run()
        columns = ("runs.prompt", "runs.system_prompt")
        if self.run_candidates:
            sql, params = self.run_candidates
            contains, contains_params = _contains(columns, self.terms)
            rows = self._rows(
                f"select {_PROMPT_COLUMNS} from ({sql}) c cross join runs on runs.id = c.id"
                f" where 1 {contains} {filters} order by runs.id desc limit ?",
                [*params, *contains_params, *filter_params],
            )
        else:
            plan = _plan(self.conn, "runs_fts", self.terms)
            if plan.absent:
                return []
            contains, contains_params = _contains(columns, plan.contains)
            if plan.match:
                rows = self._rows(
                    f"select {_PROMPT_COLUMNS} from runs_fts f join runs on runs.id = f.rowid"
                    f" where runs_fts match ? {_between('f.rowid', self.run_bounds)} {contains} {filters} order by f.rowid desc limit ?",
                    [plan.match, *contains_params, *filter_params],
                )
            else:
                rows = self._rows(
                    f"select {_PROMPT_COLUMNS} from runs where 1 {_between('runs.id', self.run_bounds)} {contains} {filters}"
                    " order by runs.id desc limit ?",
                    [*contains_params, *filter_params],
                )
        hits = []
        for run_id, created_at, language, prompt, system_prompt in rows:
            field, text = _best_field(self.terms, ("prompt", prompt), ("system_prompt", system_prompt))
            hits.append(_hit(self.terms, text, run_id=run_id, response_id=None, field=field, run_created_at=created_at, language=language, turn=0))
        return hits

    def follow_ups(self) -> list[SearchHit]:
        """Follow-up prompts (turn 1 on; the first turn's is the run's prompt), with the
        run's filters, as a run's prompt takes them."""
        filters, filter_params = self.where.for_run()
        columns = "t.run_id, t.turn, runs.created_at, runs.language, t.prompt"
        if self.run_candidates:
            sql, params = self.run_candidates
            contains, contains_params = _contains(("t.prompt",), self.terms)
            rows = self._rows(
                f"select {columns} from ({sql}) c cross join turns t on t.run_id = c.id join runs on runs.id = t.run_id"
                f" where t.turn > 0 {contains} {filters} order by t.run_id desc, t.turn limit ?",
                [*params, *contains_params, *filter_params],
            )
        else:
            plan = _plan(self.conn, "turns_fts", self.terms)
            if plan.absent:
                return []
            contains, contains_params = _contains(("t.prompt",), plan.contains)
            if plan.match:
                bounds = (self.run_bounds[0] * TURNS_PER_RUN, (self.run_bounds[1] + 1) * TURNS_PER_RUN - 1) if self.run_bounds else None
                rows = self._rows(
                    f"select {columns} from turns_fts f"
                    f" join turns t on t.run_id = f.rowid / {TURNS_PER_RUN} and t.turn = f.rowid % {TURNS_PER_RUN} join runs on runs.id = t.run_id"
                    f" where turns_fts match ? {_between('f.rowid', bounds)} {contains} {filters} order by f.rowid desc limit ?",
                    [plan.match, *contains_params, *filter_params],
                )
            else:
                rows = self._rows(
                    f"select {columns} from turns t join runs on runs.id = t.run_id"
                    f" where t.turn > 0 {_between('t.run_id', self.run_bounds)} {contains} {filters} order by t.run_id desc, t.turn limit ?",
                    [*contains_params, *filter_params],
                )
        return [
            _hit(self.terms, prompt, run_id=run_id, response_id=None, field="prompt", run_created_at=created_at, language=language, turn=turn)
            for run_id, turn, created_at, language, prompt in rows
        ]

    # --- answers ---

    def answers(self) -> list[SearchHit]:
        filters, filter_params = self.where.for_answer()
        columns = ("r.text", "r.reasoning")
        if self.answer_candidates:
            # Every status: answers still streaming are checked like the rest.
            sql, params = self.answer_candidates
            contains, contains_params = _contains(columns, self.terms)
            return self._answer_hits(
                f"select {_ANSWER_COLUMNS} from ({sql}) c cross join responses r on r.id = c.id join runs on runs.id = r.run_id"
                f" where 1 {contains} {filters} order by r.id desc limit ?",
                [*params, *contains_params, *filter_params],
            )
        plan = _plan(self.conn, "responses_fts", self.terms)
        contains, contains_params = _contains(columns, plan.contains)
        if not plan.absent and not plan.match:
            return self._answer_hits(
                f"select {_ANSWER_COLUMNS} from responses r join runs on runs.id = r.run_id"
                f" where 1 {_between('r.id', self.answer_bounds)} {contains} {filters} order by r.id desc limit ?",
                [*contains_params, *filter_params],
            )
        hits = []
        if plan.match:
            hits = self._answer_hits(
                f"select {_ANSWER_COLUMNS} from responses_fts f join responses r on r.id = f.rowid join runs on runs.id = r.run_id"
                f" where responses_fts match ? {_between('f.rowid', self.answer_bounds)} {contains} {filters} order by f.rowid desc limit ?",
                [plan.match, *contains_params, *filter_params],
            )
        # Not in the index yet: streaming now, or cut off by a killed app. Few, so scanned.
        contains, contains_params = _contains(columns, self.terms)
        return hits + self._answer_hits(
            f"select {_ANSWER_COLUMNS} from responses r indexed by responses_unfinished join runs on runs.id = r.run_id"
            f" where r.status != 'done' {contains} {filters} order by r.id desc limit ?",
            [*contains_params, *filter_params],
        )

    def _answer_hits(self, sql: str, params: list[Any]) -> list[SearchHit]:
        hits = []
        for response_id, run_id, model_name, origin, position, created_at, language, text, reasoning, status, turn in self._rows(sql, params):
            field, found = _best_field(self.terms, ("text", text), ("reasoning", reasoning))
            hits.append(_hit(
                self.terms, found, run_id=run_id, response_id=response_id, field=field, model_name=model_name,
                origin_country=origin, position=position, run_created_at=created_at, language=language, status=status, turn=turn,
            ))
        return hits

    # --- notes ---

    def notes(self) -> list[SearchHit]:
        """Notes, highlight notes and summaries: one small index; its own copy of
        the text is scanned instead when every term is too common for it."""
        plan = _plan(self.conn, "notes_fts", self.terms)
        if plan.absent:
            return []
        contains, contains_params = _contains(("f.body",), plan.contains)
        text = ("notes_fts match ?" if plan.match else "1") + contains
        text_params = ([plan.match] if plan.match else []) + contains_params
        answer_sql, answer_params = self.where.for_answer()
        run_sql, run_params = self.where.for_run()
        # (kind, field, columns, joins, condition, filters): notes on a run
        # take the run's filters, notes on an answer the answer's.
        sources = (
            (_NOTE, "note", "n.id, n.run_id, n.response_id, null, n.annotator, n.body",
             "notes n on n.id = f.rowid / 4 join runs on runs.id = n.run_id left join responses r on r.id = n.response_id",
             "n.response_id is null", run_sql, run_params),
            (_NOTE, "note", "n.id, n.run_id, n.response_id, null, n.annotator, n.body",
             "notes n on n.id = f.rowid / 4 join runs on runs.id = n.run_id join responses r on r.id = n.response_id",
             "n.response_id is not null", answer_sql, answer_params),
            (_SPAN_NOTE, "span_note", "null, r.run_id, s.response_id, s.id, s.annotator, s.note",
             "spans s on s.id = f.rowid / 4 join responses r on r.id = s.response_id join runs on runs.id = r.run_id",
             "1", answer_sql, answer_params),
            (_SUMMARY, "summary", "null, a.run_id, null, null, a.annotator, a.summary",
             "run_annotations a on a.id = f.rowid / 4 join runs on runs.id = a.run_id left join responses r on 0",
             "1", run_sql, run_params),
        )
        hits = []
        for kind, field, columns, joins, condition, sql, params in sources:
            rows = self._rows(
                f"""select {columns}, r.model_name, r.origin_country, r.position, runs.created_at, runs.language, r.turn
                    from notes_fts f join {joins}
                    where {text} and f.rowid % 4 = {kind} and {condition} {sql}
                    order by runs.id desc limit ?""",
                [*text_params, *params],
            )
            for note_id, run_id, response_id, span_id, annotator, body, model_name, origin, position, created_at, language, turn in rows:
                hits.append(_hit(
                    self.terms, body, run_id=run_id, response_id=response_id, field=field, model_name=model_name,
                    origin_country=origin, position=position, run_created_at=created_at, language=language,
                    annotator=annotator, note_id=note_id, span_id=span_id, turn=turn,
                ))
        return hits

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, [*params, self.limit]).fetchall()


# --- snippets -----------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case, keeping every character where it was (so offsets still hold)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _occurrences(folded: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of every term in `folded`, in order."""
    found = sorted((m.start(), m.start() + len(t)) for t in terms for m in re.finditer(re.escape(t), folded))
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _best_field(terms: list[str], *fields: tuple[str, str | None]) -> tuple[str, str]:
    """The field holding the most of the terms (the first field on a tie)."""
    scored = [(sum(t in _fold(text or "") for t in terms), -i, name, text or "") for i, (name, text) in enumerate(fields)]
    _, _, name, text = max(scored)
    return name, text


def _hit(terms: list[str], text: str, **fields: Any) -> SearchHit:
    snippet, first = make_snippet(text, terms)
    values: dict[str, Any] = dict.fromkeys(SearchHit.__dataclass_fields__)
    values.update(fields, snippet=snippet, match_start=first, flags=())
    return SearchHit(**values)


def make_snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> tuple[str, int | None]:
    """(A one-line excerpt around the first match with every match marked, the
    first match's offset in `text`). Without a match: the start of the text, unmarked."""
    clean = text.replace(MARK_START, " ").replace(MARK_END, " ")
    matches = _occurrences(_fold(clean), terms)
    first = matches[0][0] if matches else None
    start = max(0, (first or 0) - width // 4)
    end = min(len(clean), start + width)
    start = max(0, min(start, end - width))
    pieces, cursor = [], start
    for m_start, m_end in matches:
        if m_start >= end:
            break
        pieces += [clean[cursor:max(cursor, m_start)], MARK_START, clean[max(cursor, m_start):min(m_end, end)], MARK_END]
        cursor = min(m_end, end)
    pieces.append(clean[cursor:end])
    excerpt = " ".join("".join(pieces).split())
    return ("…" if start > 0 else "") + excerpt + ("…" if end < len(clean) else ""), first
