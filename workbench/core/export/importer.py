"""Importing a JSON Lines export: a colleague's evidence lands beside your own.

The whole file is read and checked before anything is written: it must be
ours (the header's `format`), of a version this workbench reads, complete
(the `end` line counts the records), in the format the exporter writes
(valid UTF-8 and JSON; every field of the type, range and vocabulary the
notebook stores: statuses and finish reasons from their one list, ISO 8601
times, no negative counts, 64-bit integers, timelines of the recorder's
shape) and consistent (every record refers to something earlier in the file
or already in the notebook, one answer per position). A file that fails any
check is refused with the first problem, its line number and field, and
the notebook is not touched. A UTF-8 byte-order mark at the start is read
past: Excel and Windows editors write one. The writing is then one transaction: it all
lands or none of it does.

Merging never overwrites: every record has a stable key (uid for runs,
responses, highlights and sessions; the notebook's own unique keys for the
rest, e.g. response + label + annotator), and a record whose key is already
in the notebook is left as the notebook has it. Where the two differ (your
note and the file's note by the same annotator on the same answer), yours is
kept and the result says so; a vote count the notebook already has for that
run, choice and annotator (under another uid) is skipped and counted. So a
second import of the same file changes nothing, and several annotators' work
sits side by side.

Imported text stays untrusted: it is stored as text, and every view and
export escapes it (core.rendering, export.text). Importing is not undoable
from the window's undo history; it adds rows only.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeGuard
from collections.abc import Callable

from ..notebook.votes import position_of
from ..engine.backend import FINISH_REASONS
from ..errors import EnvironmentProblem
from ..notebook import migrations
from ..notebook.annotations import DIVERGENCE, FIELDS, LANGUAGE_SHIFT
from ..notebook.stamps import utc_now
from ..notebook.flags import FLAG_SOURCE_AUTO
from ..notebook.labels import COLOUR_PATTERN, NAME_PATTERN
from ..notebook.recorder import ANSWER, REASONING
from ..notebook.statuses import RESPONSE_STATUSES
from ..user_files import open_input
from .collect import FORMAT_NAME, FORMAT_VERSION

if TYPE_CHECKING:
    from ..notebook.database import Notebook
    from ..notebook.store import Store

MAX_LINE_BYTES = 64 * 1024 * 1024  # one record; a real answer is far smaller
UID = re.compile(r"[0-9A-Za-z_-]{1,64}")
SHA256 = re.compile(r"[0-9a-f]{64}")
INT64 = (-(2**63), 2**63 - 1)  # SQLite's integers
# Longer numbers are refused while parsing (Python itself refuses 4,300 digits, with a
# ValueError); shorter ones reach the field checks, which name the field.
INT_DIGITS = 4000
MAX_DEPTH = 100  # nested arrays and objects; a real record nests 3 deep (a flag's evidence)
IMPORTED_BY = "import"  # the annotator of a label a file defines without one


class ImportProblem(EnvironmentProblem):
    """The file was refused; the notebook is as it was."""


@dataclass
class ImportResult:
    added: Counter[str] = field(default_factory=Counter)  # records written, by type
    present: Counter[str] = field(default_factory=Counter)  # already in the notebook, left alone
    kept: list[str] = field(default_factory=list)  # where the notebook's version differs and was kept
    skipped: Counter[str] = field(default_factory=Counter)  # the notebook has another record with the same key: its row stays

    @property
    def changed(self) -> bool:
        return sum(self.added.values()) > 0

    def summary(self) -> str:
        added = ", ".join(f"{kind.replace('_', ' ')}: {n}" for kind, n in sorted(self.added.items())) or "nothing new"
        text = f"Imported {added}; {sum(self.present.values())} record(s) were already in the notebook."
        for kind, n in sorted(self.skipped.items()):
            text += f" Skipped {kind.replace('_', ' ')}: {n}: {SKIPPED_BECAUSE[kind]}."
        if self.kept:
            text += f" Kept your version where the file differs ({len(self.kept)}): " + "; ".join(self.kept[:5]) + ("…" if len(self.kept) > 5 else "")
        return text


# --- checking the file ----------------------------------------------------------


class _Bad(ValueError):
    """One record is wrong; becomes an ImportProblem naming the line."""


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected text, got {type(value).__name__}")
    return value


def _maybe(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not INT64[0] <= value <= INT64[1]:
        raise _Bad(f"expected a whole number, got {value!r:.40}")
    return value


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"expected a number, got {value!r:.40}")
    return _integer(value) if isinstance(value, int) else value


def _at_least_zero(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`check`, and never negative: a count, a position, a duration."""

    def checked(value: Any) -> Any:
        value = check(value)
        if value < 0:
            raise _Bad(f"expected 0 or more, got {value!r}")
        return value

    return checked


def _fraction(value: Any) -> float | int:
    number = _number(value)
    if not 0 <= number <= 1:
        raise _Bad(f"expected a number from 0 to 1, got {number!r}")
    return number


def is_time(value: Any) -> TypeGuard[str]:
    """An ISO 8601 time, as the notebook writes them (utc_now); a demo file's too."""
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _timestamp(value: Any) -> str:
    if not is_time(value):
        raise _Bad(f"expected an ISO 8601 time such as 2026-01-31T12:00:00.000+00:00, got {value!r:.40}")
    return value


def _timeline(value: Any) -> list[list[int]]:
    """[[ms, kind, chars], ...] as notebook/recorder.py writes it (its lengths are checked
    against the texts by `_check_timeline_lengths`)."""
    entries = _array(value)
    for n, entry in enumerate(entries):
        if not (isinstance(entry, list) and len(entry) == 3 and all(type(v) is int and 0 <= v <= INT64[1] for v in entry)) or entry[1] not in (ANSWER, REASONING):
            raise _Bad(f"entry {n} is {entry!r:.40}; each must be [ms, 0 or 1, characters], whole numbers of 0 or more")
    return entries


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {value!r:.40}")
    return value


def _pattern(pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise _Bad(f"not a valid {what}: {value!r:.80}")
        return value

    return check


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in choices:  # said as the file says them: null, "stop"
            raise _Bad(f"{json.dumps(value, ensure_ascii=False):.40} is not one of {', '.join(json.dumps(c) for c in choices)}")
        return value

    return check


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"expected a JSON object, got {type(value).__name__}")
    return value


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(f"expected a JSON array, got {type(value).__name__}")
    return value


def _any(value: Any) -> Any:
    return value


def _turns(value: Any) -> list[dict[str, Any]]:
    """A run's follow-ups (format version 3): [{turn, prompt, language, created_at}, …],
    numbered 1, 2, … in order, as the notebook numbers them, fewer than a run can hold."""
    turns = []
    items = _array(value)
    if len(items) >= migrations.TURNS_PER_RUN:
        raise _Bad(f"{len(items):,} follow-ups; a run holds fewer than {migrations.TURNS_PER_RUN:,}")
    for n, item in enumerate(items):
        try:
            turn = _check_fields(_object(item), TURN)
        except _Bad as exc:
            raise _Bad(f"entry {n}: {exc}") from None
        if turn["turn"] != n + 1:
            raise _Bad(f"entry {n} is turn {turn['turn']!r}; follow-ups are numbered 1, 2, … in order, so it must be turn {n + 1}")
        turns.append(turn)
    return turns


S, OS = _string, _maybe(_string)
N, OI0, ON0 = _at_least_zero(_integer), _maybe(_at_least_zero(_integer)), _maybe(_at_least_zero(_number))
T, OT = _timestamp, _maybe(_timestamp)
uid, ouid = _pattern(UID, "uid"), _maybe(_pattern(UID, "uid"))
AUDIT: dict[str, Callable[[Any], Any]] = {"annotator": S, "created_at": T, "updated_at": T}

# Every field a record must have, with its check. Keys a record has beyond
# these are ignored: a later version-1 writer may add fields.
SCHEMA: dict[str, dict[str, Callable[[Any], Any]]] = {
    "model": {
        "sha256": _pattern(SHA256, "SHA-256"), "catalog_id": OS, "name": S, "file_name": S, "file_size": OI0,
        "architecture": OS, "parameters": OI0, "quantization": OS, "context_length": OI0, "maker": OS,
        "origin_country": OS, "base_maker": OS, "base_country": OS, "origin_source": OS, "license": OS,
        "chat_template_sha256": OS, "metadata": _object, "first_seen": OT, "last_seen": OT,
    },
    "label": {"name": _pattern(NAME_PATTERN, "label name"), "title": S, "definition": S, "colour": _pattern(COLOUR_PATTERN, "colour"), "builtin": _flag},
    "session": {"uid": uid, "name": S, "archived_at": OT, **AUDIT},
    "run": {
        "uid": uid, "created_at": T, "prompt": S, "system_prompt": OS, "language": OS, "settings": _object,
        "schedule": OS, "app_version": OS,
    },
    "session_run": {"run": uid, "session": uid, **AUDIT},
    "response": {
        "uid": uid, "run": uid, "position": N, "model_sha256": _maybe(_pattern(SHA256, "SHA-256")), "model_name": S,
        "origin_country": OS, "status": _one_of(RESPONSE_STATUSES), "text": S, "reasoning": S,
        "finish_reason": _one_of((None, *FINISH_REASONS)), "error": OS,
        "prompt_tokens": OI0, "completion_tokens": OI0, "ttft_s": ON0, "tokens_per_s": ON0, "duration_s": ON0,
        "load_s": ON0, "seed": OI0, "sampler": _object, "llama_cpp_version": OS, "chat_template": OS,
        "template_sha256": OS, "timeline": _timeline, "started_at": OT, "finished_at": OT,
    },
    "response_label": {"response": uid, "label": _pattern(NAME_PATTERN, "label name"), **AUDIT},
    "span": {
        "uid": uid, "response": uid, "field": _one_of(FIELDS), "start": N, "end": N, "quote": S, "note": S,
        "labels": _array, **AUDIT,
    },
    "note": {"run": uid, "response": ouid, "body": S, **AUDIT},
    "run_annotation": {"run": uid, "divergence": _one_of((None, *DIVERGENCE)), "summary": S, **AUDIT},
    "flag": {"run": uid, "response": ouid, "name": S, "source": _one_of((FLAG_SOURCE_AUTO,)), "detector": S, "evidence": _any, "created_at": T, "updated_at": T},
    "run_link": {"kind": _one_of((LANGUAGE_SHIFT,)), "run_a": uid, "run_b": uid, "note": S, **AUDIT},
    "vote": {"uid": uid, "run": uid, "choice": S, "count": N, **AUDIT},
}  # fmt: skip
# The format version that introduced a record type (the others are in version 1):
# an older file holding one was not written by a workbench.
SINCE = {"vote": 2}
SPAN_LABEL = {"label": _pattern(NAME_PATTERN, "label name"), **AUDIT}
TURN = {"turn": _integer, "prompt": S, "language": OS, "created_at": T}
# Fields a record may leave out: a built-in label's audit (see collect._label_record);
# what a flag rests on (m005), which files written before it lack; a run's follow-ups
# and the turn an answer answers (m009, version 3): a file without them holds runs of one turn.
OPTIONAL: dict[str, dict[str, Callable[[Any], Any]]] = {
    "label": AUDIT, "flag": {"basis": OS, "confidence": _maybe(_fraction)}, "run": {"turns": _turns}, "response": {"turn": N},
}  # fmt: skip
# Why records of a kind were skipped (ImportResult.skipped), for the summary.
SKIPPED_BECAUSE = {
    "votes": "the notebook already counts them under the same run, choice and annotator",
    "flags": "the notebook has its own automatic flags for those answers, from another detector version (`workbench reflag` recomputes them)",
}


def _check_fields(record: dict[str, Any], schema: dict[str, Callable[[Any], Any]], optional: dict[str, Callable[[Any], Any]] | None = None) -> dict[str, Any]:
    checked = {}
    for key, check in (schema | (optional or {})).items():
        if key not in record:
            if optional and key in optional:
                continue
            raise _Bad(f"missing {key!r}")
        try:
            checked[key] = check(record[key])
        except _Bad as exc:
            raise _Bad(f"{key!r}: {exc}") from None
    return checked


def _reject_constant(name: str) -> None:
    raise _Bad(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Bad(f"the number {text:.40} is too large")
    return value


def _whole(text: str) -> int:
    if len(text.lstrip("-")) > INT_DIGITS:
        raise _Bad(f"a number has {len(text.lstrip('-')):,} digits; it is too large")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object; a key given twice is refused (readers disagree on which one counts)."""
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            raise _Bad(f"the key {key!r:.40} appears twice in one object")
        record[key] = value
    return record


def _check_text(value: Any) -> None:
    """Every string (and key) is valid Unicode, and the nesting is shallow: a lone
    surrogate (JSON `\\ud800`) can't be stored, and a deep value can't be written back.
    Walked without recursion, so no value is too deep to check."""
    stack = [(value, 0, "")]
    while stack:
        item, depth, key = stack.pop()
        if depth > MAX_DEPTH:
            raise _Bad(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for name, inner in item.items():
                _check_string(name, name if depth == 0 else key)
                stack.append((inner, depth + 1, name if depth == 0 else key))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1, key) for inner in item)
        elif isinstance(item, str):
            _check_string(item, key)


def _check_string(text: str, key: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        where = f"{key!r}: " if key else ""
        raise _Bad(f"{where}the text holds a lone surrogate (U+{ord(text[exc.start]):04X}), which is not valid Unicode") from None


def _parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Bad(f"not valid UTF-8 at byte {exc.start + 1} of the line; save the file as UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite, parse_int=_whole, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise _Bad(f"not JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise _Bad(f"nested more than {MAX_DEPTH} levels deep") from None
    _check_text(value)
    return value


@dataclass
class _File:
    """The checked contents, in file order, with each record's line number."""

    header: dict[str, Any]
    records: list[tuple[int, str, dict[str, Any]]]


def read_file(path: Path) -> _File:
    """Read and check the whole file; ImportProblem at the first problem."""
    try:
        with open_input(path) as stream:  # a FIFO or a device is refused, not read forever
            return _read(stream, path)
    except OSError as exc:
        raise ImportProblem(f"Can't read {path}: {exc.strerror or exc}.") from exc


def _refuse(path: Path, problem: str) -> ImportProblem:
    return ImportProblem(f"{path.name} was not imported: {problem} Nothing in the notebook was changed.")


def _read(stream: BinaryIO, path: Path) -> _File:
    first = stream.readline(MAX_LINE_BYTES + 1)
    # Excel and Windows editors start a UTF-8 file with a byte-order mark.
    first = first.removeprefix(codecs.BOM_UTF8)
    try:
        header = _object(_parse(first))
    except _Bad as exc:
        if FORMAT_NAME.encode() in first:  # our header, damaged: say where
            raise _refuse(path, f"line 1: {exc}.") from None
        header = {}
    if header.get("format") != FORMAT_NAME:
        raise _refuse(path, "it is not a Model Values Workbench export (its first line is not the export header).")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _refuse(path, f"its format version {version!r:.20} is not one this workbench knows.")
    if version > FORMAT_VERSION:
        raise _refuse(
            path, f"it was written by a newer workbench (export format version {version}; this one reads up to {FORMAT_VERSION}). Update the workbench to import it."
        )
    records: list[tuple[int, str, dict[str, Any]]] = []
    end: dict[str, Any] | None = None
    number = 1
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            break
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise _refuse(path, f"line {number} is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB.")
        if not raw.strip():
            continue
        if end is not None:
            raise _refuse(path, f"line {number} comes after the end line; the file was altered.")
        try:
            record = _object(_parse(raw))
            kind = record.get("type")
            if kind == "end":
                end = record
                continue
            if not isinstance(kind, str) or kind not in SCHEMA:
                raise _Bad(f"unknown record type {kind!r:.40}")
            if SINCE.get(kind, 1) > version:
                raise _Bad(f"{kind} records arrived with format version {SINCE[kind]}, but the file says version {version}")
            checked = _check_fields(record, SCHEMA[kind], OPTIONAL.get(kind))
            if kind == "span":
                checked["labels"] = [_check_fields(_object(item), SPAN_LABEL) for item in checked["labels"]]
            if kind == "response":
                _check_timeline_lengths(checked)
        except _Bad as exc:
            if not raw.endswith(b"\n"):
                raise _refuse(path, f"it is truncated (line {number} is cut off).") from None
            raise _refuse(path, f"line {number}: {exc}.") from None
        records.append((number, kind, checked))
    if end is None:
        raise _refuse(path, "it is truncated (the end line is missing).")
    if type(end.get("records")) is not int or end["records"] != len(records):
        raise _refuse(path, f"it should hold {end.get('records')!r:.20} records but holds {len(records)}; it was cut or altered.")
    _check_references(path, records)
    return _File(header, records)


def _check_timeline_lengths(response: dict[str, Any]) -> None:
    """A timeline's pieces of each kind, laid end to end, are the saved text or its start
    (a timeline cut short by a crash, or none from before timelines): never longer."""
    for kind, name in ((ANSWER, "text"), (REASONING, "reasoning")):
        covered = sum(chars for _, part, chars in response["timeline"] if part == kind)
        if covered > len(response[name]):
            raise _Bad(f"'timeline': its pieces of {name} add up to {covered} characters, but the {name} has {len(response[name])}")


def _check_references(path: Path, records: list[tuple[int, str, dict[str, Any]]]) -> None:
    """Every uid is defined once, and everything a record points to comes before it."""
    runs: set[str] = set()
    responses: dict[str, dict[str, Any]] = {}
    sessions: set[str] = set()
    spans: set[str] = set()
    votes: set[str] = set()
    positions: dict[str, set[int]] = {}  # each run's answer positions (of its first turn), for its votes' choices
    answered: set[tuple[str, int, int]] = set()  # (run, turn, position) of each answer
    follow_ups: dict[str, int] = {}  # each run's number of follow-up turns
    for number, kind, record in records:
        problem = None
        if kind == "run":
            problem = "a second run with the same uid" if record["uid"] in runs else None
            runs.add(record["uid"])
            follow_ups[record["uid"]] = len(record.get("turns", []))
        elif kind == "session":
            problem = "a second session with the same uid" if record["uid"] in sessions else None
            sessions.add(record["uid"])
        elif kind == "response":
            if record["uid"] in responses:
                problem = "a second response with the same uid"
            elif record["run"] not in runs:
                problem = "its run is not earlier in the file"
            elif record.get("turn", 0) > follow_ups[record["run"]]:
                problem = f"it answers turn {record['turn']}, but its run has {follow_ups[record['run']]} follow-up(s)"
            elif (record["run"], record.get("turn", 0), record["position"]) in answered:
                problem = f"a second answer at position {record['position']} of its run" + (f"'s turn {record['turn']}" if record.get("turn") else "")
            responses[record["uid"]] = record
            answered.add((record["run"], record.get("turn", 0), record["position"]))
            if not record.get("turn"):
                positions.setdefault(record["run"], set()).add(record["position"])
        elif kind == "session_run":
            problem = None if record["run"] in runs and record["session"] in sessions else "its run or session is not earlier in the file"
        elif kind in ("response_label", "span"):
            problem = None if record["response"] in responses else "its response is not earlier in the file"
            if kind == "span" and problem is None:
                text = responses[record["response"]][record["field"]]
                if record["uid"] in spans:
                    problem = "a second highlight with the same uid"
                elif not 0 <= record["start"] < record["end"] <= len(text):
                    problem = f"highlight offsets {record['start']}:{record['end']} are outside the {len(text)} characters of its text"
                spans.add(record["uid"])
        elif kind in ("note", "flag", "run_annotation"):
            if record["run"] not in runs:
                problem = "its run is not earlier in the file"
            elif record.get("response") is not None and responses.get(record["response"], {}).get("run") != record["run"]:
                problem = "its response is not an earlier response of its run"
        elif kind == "run_link":
            if record["run_a"] not in runs or record["run_b"] not in runs or record["run_a"] == record["run_b"]:
                problem = "it must link two different runs from earlier in the file"
        elif kind == "vote":
            problem = _vote_problem(record, runs, positions.get(record["run"], set()), votes)
            votes.add(record["uid"])
        if problem:
            raise _refuse(path, f"line {number}: {problem}.")


def _vote_problem(record: dict[str, Any], runs: set[str], positions: set[int], votes: set[str]) -> str | None:
    """What is wrong with a vote, if anything: its choice must name an answer of its run
    in the file (or a tie), as `Votes.add` requires in the notebook."""
    if record["uid"] in votes:
        return "a second vote with the same uid"
    if record["run"] not in runs:
        return "its run is not earlier in the file"
    try:
        position = position_of(record["choice"])
    except ValueError:
        return f"{record['choice']!r:.40} is not a vote choice (tie or pane:N)"
    if position is not None and position not in positions:
        return f"its run has no answer at position {position} earlier in the file"
    return None


# --- writing ----------------------------------------------------------------------


def import_jsonl(notebook: Notebook, path: Path | str) -> ImportResult:
    """Merge the export at `path` into `notebook` (see the module docstring)."""
    path = Path(path).expanduser()
    contents = read_file(path)
    result = ImportResult()
    with notebook.store.writing():
        merge(notebook.store, path, contents, result)
        notebook.store.note(operation="import")
    return result


def merge(store: Store, path: Path, contents: _File, result: ImportResult) -> dict[str, int]:
    """Write contents `read_file` checked, inside the caller's transaction (a demo
    file adds its script in the same one), noting the tables and runs written;
    returns each run uid's local id."""
    writer = _Writer(store.conn, path, result)
    writer.write(contents.records)
    store.note(writer.tables, writer.changed_runs, operation="import")
    return writer.runs


class _Writer:
    def __init__(self, conn: Any, path: Path, result: ImportResult) -> None:
        self.conn = conn
        self.path = path
        self.result = result
        self.runs: dict[str, int] = {}
        self.responses: dict[str, int] = {}
        self.sessions: dict[str, int] = {}
        self.response_runs: dict[str, int] = {}  # response uid -> its run's local id
        self.tables: set[str] = set()  # written
        self.changed_runs: set[int] = set()  # runs whose rows were written
        self.labels = {row[0] for row in conn.execute("select name from labels")}
        self.models = {row[0] for row in conn.execute("select sha256 from models")}

    def write(self, records: list[tuple[int, str, dict[str, Any]]]) -> None:
        for number, kind, record in records:
            try:
                getattr(self, f"_{kind}")(record)
            except _Bad as exc:
                raise _refuse(self.path, f"line {number}: {exc}.") from None

    def _one(self, sql: str, params: list[Any]) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def _insert(self, table: str, row: dict[str, Any], run_ids: tuple[int, ...] = ()) -> int:
        """Insert a row of `table`; `run_ids`: the runs it belongs to (none for a label, model or session)."""
        columns = ", ".join(f'"{key}"' for key in row)
        cursor = self.conn.execute(f"insert into {table} ({columns}) values ({', '.join('?' for _ in row)})", list(row.values()))
        self.result.added[table] += 1
        self.tables.add(table)
        self.changed_runs.update(run_ids)
        return int(cursor.lastrowid)

    def _present(self, table: str) -> None:
        self.result.present[table] += 1

    def _model(self, r: dict[str, Any]) -> None:
        if r["sha256"] in self.models:
            return self._present("models")
        row = {k: v for k, v in r.items() if k not in ("file_name", "metadata")}
        row.update(path=r["file_name"] or r["name"], metadata=json.dumps(r["metadata"], ensure_ascii=False))
        self._insert("models", row)
        self.models.add(r["sha256"])

    def _label(self, r: dict[str, Any]) -> None:
        row = self._one("select definition from labels where name = ?", [r["name"]])
        if row is not None:
            if row[0] != r["definition"]:
                self.result.kept.append(f"label {r['name']!r}: your definition")
            return self._present("labels")
        position = self._one("select coalesce(max(position), 0) + 1 from labels", [])[0]
        now = utc_now()
        # An imported label is the user's own (builtin = 0), whatever the file says:
        # a file must not be able to fix a label's definition for this notebook.
        self._insert(
            "labels",
            {
                "name": r["name"], "title": " ".join(r["title"].split()) or r["name"], "definition": r["definition"].strip(),
                "colour": r["colour"].lower(), "builtin": 0, "position": position,
                "annotator": _who(r.get("annotator", IMPORTED_BY)), "created_at": r.get("created_at", now), "updated_at": r.get("updated_at", now),
            },
        )  # fmt: skip
        self.labels.add(r["name"])

    def _session(self, r: dict[str, Any]) -> None:
        row = self._one("select id from sessions where uid = ?", [r["uid"]])
        if row is not None:
            self.sessions[r["uid"]] = row[0]
            return self._present("sessions")
        name = " ".join(r["name"].split()) or "Imported"
        base, n = name, 1
        while self._one("select 1 from sessions where name = ? collate nocase", [name]) or name.lower() == "unsorted":
            n += 1
            name = f"{base} (imported{'' if n == 2 else f' {n - 1}'})"
        if name != base:
            self.result.kept.append(f"session {base!r}: yours keeps the name, the file's is {name!r}")
        self.sessions[r["uid"]] = self._insert("sessions", {**r, "name": name, "annotator": _who(r["annotator"])})

    def _run(self, r: dict[str, Any]) -> None:
        row = self._one("select id from runs where uid = ?", [r["uid"]])
        if row is not None:
            self.runs[r["uid"]] = run_id = row[0]
            self._present("runs")
        else:
            row = {k: v for k, v in r.items() if k != "turns"}
            row["settings"] = json.dumps(r["settings"], ensure_ascii=False)
            self.runs[r["uid"]] = run_id = self._insert("runs", row)
            self.changed_runs.add(run_id)
            # Its prompt is its first turn, as Notebook.create_run writes it (part of the run, not counted apart).
            self.conn.execute(
                "insert into turns (run_id, turn, prompt, language, created_at) values (?, 0, ?, ?, ?)", [run_id, r["prompt"], r["language"], r["created_at"]]
            )
            self.tables.add("turns")
        self._turns(run_id, r.get("turns", []))

    def _turns(self, run_id: int, turns: list[dict[str, Any]]) -> None:
        """The run's follow-ups the notebook lacks (it may hold the run from before they
        were asked, or have asked more since); one it holds with another prompt contradicts the file."""
        for turn in turns:
            row = self._one("select prompt from turns where run_id = ? and turn = ?", [run_id, turn["turn"]])
            if row is None:
                self._insert("turns", {"run_id": run_id, **turn}, (run_id,))
            elif row[0] != turn["prompt"]:
                raise _Bad(f"follow-up {turn['turn']} of its run asks something else in this notebook; the file contradicts it")
            else:
                self._present("turns")

    def _session_run(self, r: dict[str, Any]) -> None:
        run_id, session_id = self.runs[r["run"]], self.sessions[r["session"]]
        row = self._one("select session_id from session_runs where run_id = ?", [run_id])
        if row is not None:
            if row[0] != session_id:
                self.result.kept.append(f"run {run_id}: the session you put it in")
            return self._present("session_runs")
        self._insert("session_runs", {"run_id": run_id, "session_id": session_id, **_audit(r)}, (run_id,))

    def _response(self, r: dict[str, Any]) -> None:
        run_id = self.runs[r["run"]]
        row = self._one("select id, run_id from responses where uid = ?", [r["uid"]])
        if row is not None:
            if row[1] != run_id:
                raise _Bad(f"response {r['uid']} belongs to another run in this notebook; the file contradicts it")
            self.responses[r["uid"]] = row[0]
            self.response_runs[r["uid"]] = run_id
            return self._present("responses")
        if self._one("select 1 from responses where run_id = ? and turn = ? and position = ?", [run_id, r.get("turn", 0), r["position"]]):
            raise _Bad(f"its run already has another answer at position {r['position']} in this notebook; the file contradicts it")
        if r["model_sha256"] is not None and r["model_sha256"] not in self.models:
            raise _Bad(f"its model {r['model_sha256'][:12]}… is neither in the file nor in the notebook")
        row = {k: v for k, v in r.items() if k != "run"}
        row.update(
            run_id=run_id,
            sampler=json.dumps(r["sampler"], ensure_ascii=False),
            timeline=json.dumps(r["timeline"], ensure_ascii=False),
        )
        self.responses[r["uid"]] = self._insert("responses", row, (run_id,))
        self.response_runs[r["uid"]] = run_id

    def _known_label(self, name: str) -> str:
        if name not in self.labels:
            raise _Bad(f"label {name!r} is neither in the file nor in the notebook")
        return name

    def _response_label(self, r: dict[str, Any]) -> None:
        response_id, label, annotator = self.responses[r["response"]], self._known_label(r["label"]), _who(r["annotator"])
        if self._one("select 1 from response_labels where response_id = ? and label = ? and annotator = ?", [response_id, label, annotator]):
            return self._present("response_labels")
        self._insert("response_labels", {"response_id": response_id, "label": label, **_audit(r)}, (self.response_runs[r["response"]],))

    def _span(self, r: dict[str, Any]) -> None:
        if self._one("select 1 from spans where uid = ?", [r["uid"]]):
            return self._present("spans")
        labels = [self._known_label(item["label"]) for item in r["labels"]]
        row = {k: v for k, v in r.items() if k not in ("response", "labels")}
        run_id = self.response_runs[r["response"]]
        span_id = self._insert("spans", {**row, "response_id": self.responses[r["response"]], "annotator": _who(r["annotator"])}, (run_id,))
        for label, item in zip(labels, r["labels"]):
            if not self._one("select 1 from span_labels where span_id = ? and label = ?", [span_id, label]):
                self._insert("span_labels", {"span_id": span_id, "label": label, **_audit(item)}, (run_id,))

    def _note(self, r: dict[str, Any]) -> None:
        run_id = self.runs[r["run"]]
        response_id = self.responses[r["response"]] if r["response"] is not None else None
        annotator = _who(r["annotator"])
        row = self._one(
            "select body from notes where run_id = ? and ifnull(response_id, 0) = ifnull(?, 0) and annotator = ?", [run_id, response_id, annotator]
        )
        if row is not None:
            if row[0] != r["body"]:
                target = f"response {response_id}" if response_id is not None else f"run {run_id}"
                self.result.kept.append(f"{annotator}'s note on {target}")
            return self._present("notes")
        if r["body"].strip():
            self._insert("notes", {"run_id": run_id, "response_id": response_id, "body": r["body"], **_audit(r)}, (run_id,))

    def _run_annotation(self, r: dict[str, Any]) -> None:
        run_id, annotator = self.runs[r["run"]], _who(r["annotator"])
        row = self._one("select divergence, summary from run_annotations where run_id = ? and annotator = ?", [run_id, annotator])
        if row is not None:
            if tuple(row) != (r["divergence"], r["summary"]):
                self.result.kept.append(f"{annotator}'s rating of run {run_id}")
            return self._present("run_annotations")
        self._insert("run_annotations", {"run_id": run_id, "divergence": r["divergence"], "summary": r["summary"], **_audit(r)}, (run_id,))

    def _flag(self, r: dict[str, Any]) -> None:
        run_id = self.runs[r["run"]]
        response_id = self.responses[r["response"]] if r["response"] is not None else None
        evidence = json.dumps(r["evidence"], ensure_ascii=False)
        if self._one(
            "select 1 from flags where run_id = ? and ifnull(response_id, 0) = ifnull(?, 0) and name = ? and detector = ? and json(evidence) = json(?)",
            [run_id, response_id, r["name"], r["detector"], evidence],
        ):
            return self._present("flags")
        if r["source"] == FLAG_SOURCE_AUTO and self._one(
            "select 1 from flags where response_id = ? and source = ? and detector != ?", [response_id, FLAG_SOURCE_AUTO, r["detector"]]
        ):
            # An answer's automatic flags are one detector's set: adding another's would
            # show the answer flagged twice over (and replacing would overwrite).
            self.result.skipped["flags"] += 1
            return None
        row = {k: v for k, v in r.items() if k not in ("run", "response")}
        self._insert("flags", {**row, "run_id": run_id, "response_id": response_id, "evidence": evidence}, (run_id,))

    def _run_link(self, r: dict[str, Any]) -> None:
        low, high = sorted((self.runs[r["run_a"]], self.runs[r["run_b"]]))
        row = self._one("select note from run_links where kind = ? and run_a = ? and run_b = ?", [r["kind"], low, high])
        if row is not None:
            if row[0] != r["note"]:
                self.result.kept.append(f"the note on the link between runs {low} and {high}")
            return self._present("run_links")
        self._insert("run_links", {"kind": r["kind"], "run_a": low, "run_b": high, "note": r["note"], **_audit(r)}, (low, high))

    def _vote(self, r: dict[str, Any]) -> None:
        run_id, annotator = self.runs[r["run"]], _who(r["annotator"])
        row = self._one("select run_id, count from votes where uid = ?", [r["uid"]])
        if row is not None:
            if row[0] != run_id:
                raise _Bad(f"vote {r['uid']} belongs to another run in this notebook; the file contradicts it")
            if row[1] != r["count"]:
                self.result.kept.append(f"{annotator}'s count of {row[1]} for {r['choice']} on run {run_id} (the file has {r['count']})")
            return self._present("votes")
        if self._one("select 1 from votes where run_id = ? and choice = ? and annotator = ?", [run_id, r["choice"], annotator]):
            # Someone's count under another uid (the same teacher voting in two copies of
            # the notebook): adding the two could double-count, replacing would lose one.
            self.result.skipped["votes"] += 1
            return None
        self._insert("votes", {"uid": r["uid"], "run_id": run_id, "choice": r["choice"], "count": r["count"], **_audit(r)}, (run_id,))


def _who(annotator: str) -> str:
    """Annotator names as the notebook stores them (check_annotator's rule); never empty."""
    return " ".join(annotator.split()) or "unknown"


def _audit(r: dict[str, Any]) -> dict[str, Any]:
    return {"annotator": _who(r["annotator"]), "created_at": r["created_at"], "updated_at": r["updated_at"]}
