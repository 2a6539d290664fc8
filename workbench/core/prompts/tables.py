"""Importing a user's own prompts from a CSV, TSV or JSON Lines table.

Researchers keep questions in spreadsheets with their own column names, so the
import takes a mapping from our fields to their columns, plus defaults for
fields the table lacks (every row "zh", topic "housing"). Translations come
either from a `translation_of` column naming another row's id or from a
`pair` column: rows with the same pair value are the same question in two
languages. The result is validated by the same rules as a hand-written set,
with problems pointing at the row's line, and can be saved as TOML.

`read_table_set` reads a table whose columns (or JSON keys) already carry
our field names, the way `workbench batch mine.csv` takes a set: no mapping,
the file's name as the title.

Scripted follow-ups (`then`) are the one field that is a list: a JSON Lines
row gives a JSON list, a CSV or TSV cell one follow-up per line (a spreadsheet
cell keeps line breaks, and a follow-up is a sentence, never a paragraph).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeAlias

from ..analysis.language_use import text_language
from ..nesting import NestedTooDeeply, json_loads
from .model import PromptSet, Source
from .problems import PromptSetProblem, read_utf8, too_deep
from .validation import FOLLOW_UPS, PROMPT_FIELDS, ProblemLog, check_id, check_set, prompt_from_fields

TABLE_FIELDS = (*PROMPT_FIELDS, "pair", FOLLOW_UPS)
# A row's cells by column: text, except a JSON Lines row's follow-ups (a list, checked later).
Row: TypeAlias = dict[str, str | list[object]]
TABLE_REQUIRED = ("text", "topic", "kind")  # a table set's columns (id and language can be left out)
_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_JSON_LINES = (".jsonl", ".ndjson")
TABLE_SUFFIXES = (*_DELIMITERS, *_JSON_LINES)


def import_table(
    path: Path,
    mapping: Mapping[str, str],
    *,
    title: str,
    set_id: str | None = None,
    description: str = "",
    licence: str = "",
    sources: Sequence[Source] = (),
    defaults: Mapping[str, str] | None = None,
) -> PromptSet:
    """A validated PromptSet from a table.

    `mapping` maps our field names (id, text, language, topic, kind,
    translation_of, pair, notes, source, then) to the table's column names; `text`
    is required. `defaults` gives a value for a field that has no column, or
    whose cell is empty. A prompt with no language from either is given the
    language its text is clearly in (and a problem when it is clearly in none). Without an id column, ids are "row-N"
    (N the line of the row). `set_id` defaults to the title made into an id.
    """
    file = str(path)
    defaults = dict(defaults or {})
    for name in (*mapping, *defaults):
        if name not in TABLE_FIELDS:
            raise PromptSetProblem(f"Unknown field {name!r} in the column mapping or defaults (known: {', '.join(TABLE_FIELDS)}).")
    if "text" not in mapping:
        raise PromptSetProblem("The column mapping must say which column holds the prompt text ('text').")
    if "pair" in mapping and "translation_of" in mapping:
        raise PromptSetProblem("Map either 'pair' or 'translation_of', not both: they are two ways of naming translations.")
    rows = _read_rows(path)
    columns = set().union(*(row.keys() for _, row in rows)) if rows else set()
    missing = [column for column in mapping.values() if column not in columns]
    if missing:
        have = ", ".join(sorted(columns)) or "none"
        raise PromptSetProblem(f"{file}: no column {', '.join(repr(m) for m in missing)} (columns in the file: {have}).")
    identifier = set_id or _slug(title)
    header = (identifier, title, description, licence, tuple(sources))
    return _table_set(file, rows, mapping, defaults, header, lambda name: f"map a {name} column or give a default")


def read_table_set(path: Path) -> PromptSet:
    """A prompt set from a CSV, TSV or JSON Lines file whose columns (keys) are
    the fields themselves: `text`, `topic` and `kind` required, `id`, `language`,
    `translation_of`, `pair`, `notes`, `source` and `then` (follow-ups) optional. The file's name
    (without suffix) is the title and, made into an id, the set's id."""
    file = str(path)
    rows = _read_rows(path)
    log = ProblemLog(file, lambda _index, _field: None)
    first_use: dict[str, int] = {}  # each column, and the line that names it first (a CSV's header)
    for line, row in rows:
        for column in row:
            first_use.setdefault(column, 1 if path.suffix.lower() in _DELIMITERS else line)
    for column, line in first_use.items():
        if column not in TABLE_FIELDS:
            log.add(line, f"unknown column {column!r} (known: {', '.join(TABLE_FIELDS)})")
    if not rows:
        log.add(None, "no prompts: the table has no rows")
    elif missing := [name for name in TABLE_REQUIRED if name not in first_use]:
        log.add(None, f"no {' or '.join(repr(m) for m in missing)} column; a prompt set table needs {', '.join(TABLE_REQUIRED)}")
    if "pair" in first_use and "translation_of" in first_use:
        log.add(None, "has both 'pair' and 'translation_of' columns: use one of the two ways of naming translations")
    if log.problems:
        raise PromptSetProblem.listing(file, log.problems)
    title = path.stem.strip() or "Prompts"
    header = (_slug(title) or "prompts", title, "", "", ())
    mapping = {name: name for name in TABLE_FIELDS if name in first_use}
    return replace(_table_set(file, rows, mapping, {}, header, lambda name: f"fill in its {name}"), path=path)


def _table_set(
    file: str,
    rows: list[tuple[int, Row]],
    mapping: Mapping[str, str],
    defaults: Mapping[str, str],
    header: tuple[str, str, str, str, tuple[Source, ...]],
    advice: Callable[[str], str],
) -> PromptSet:
    """The rows as a validated set; `header` is (id, title, description, licence,
    sources), `advice` says how to give a prompt a field it lacks."""
    lines = [line for line, _ in rows]
    log = ProblemLog(file, lambda index, _field: lines[index] if index < len(lines) else None)
    records: list[dict[str, str]] = []
    follow_ups: list[list[object]] = []
    for line, row in rows:
        record = {}
        for name in TABLE_FIELDS:
            cell = row.get(mapping[name], "") if name in mapping else ""
            if name == FOLLOW_UPS:
                follow_ups.append(_follow_ups(cell if _filled(cell) else defaults.get(name, "")))
                continue
            value = _text(cell).strip() if name != "text" else _text(cell)
            record[name] = value if value.strip() else defaults.get(name, "")
        if not any(_filled(row.get(column, "")) for column in mapping.values()):
            log.add(line, "empty row: none of the mapped columns has a value")
        elif not record["text"].strip():
            log.add(line, f"no text in column {mapping['text']!r}")
        if not record["id"]:
            record["id"] = f"row-{line}"
        if not record["language"]:
            record["language"] = text_language(record["text"]) or ""
        records.append(record)
    _link_pairs(records, lines, log)

    prompts = []
    for index, record in enumerate(records):
        if not record["text"].strip():
            continue
        fields: dict[str, object] = {name: record[name] for name in PROMPT_FIELDS if record[name] or name in ("id", "text")}
        if follow_ups[index]:
            fields[FOLLOW_UPS] = follow_ups[index]
        missing = [name for name in ("topic", "kind", "language") if name not in fields]
        for name in missing:
            hint = " (its text is not clearly English or Chinese)" if name == "language" else ""
            log.prompt(index, record["id"], None, f"no {name}{hint}: {advice(name)}")
        prompt = None if missing else prompt_from_fields(index, fields, log)
        if prompt is not None:
            prompts.append((index, prompt))
    check_set(prompts, log)
    identifier, title, description, licence, sources = header
    why = check_id(identifier) if identifier else "the title gives no usable id; pass set_id"
    if why:
        log.add(None, f"set id: {why}")
    if log.problems:
        raise PromptSetProblem.listing(file, log.problems)
    return PromptSet(identifier, title, description, licence, sources, tuple(p for _, p in prompts))


def _filled(cell: str | list[object]) -> bool:
    return bool(cell) if isinstance(cell, list) else bool(cell.strip())


def _text(cell: str | list[object]) -> str:
    """A text field's cell; only `then` may hold a list (a JSON Lines row
    with a list elsewhere is refused as it is read)."""
    assert isinstance(cell, str)
    return cell


def _follow_ups(cell: str | list[object]) -> list[object]:
    """A `then` cell as the list of follow-ups: a JSON list as it is, a table
    cell split at its line breaks (blank lines inside stay, as empty follow-ups
    the validation names)."""
    if isinstance(cell, list):
        return cell
    return [line.strip() for line in cell.strip().splitlines()]


def _read_rows(path: Path) -> list[tuple[int, Row]]:
    """(line, row) for every row of the table; blank lines are skipped."""
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in _DELIMITERS and suffix not in _JSON_LINES:
        raise PromptSetProblem(f"{file}: can't tell the table format from the name; use .csv, .tsv, .jsonl or .ndjson.")
    text = read_utf8(path, what="the table", hint=' (in Excel: Save As, "CSV UTF-8")')
    if suffix in _JSON_LINES:
        return _json_rows(file, text)
    return _csv_rows(file, text, _DELIMITERS[suffix])


def _csv_rows(file: str, text: str, delimiter: str) -> list[tuple[int, Row]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise PromptSetProblem(f"{file}: the table is empty; its first line should name the columns.") from None
    header = [name.strip() for name in header]
    rows: list[tuple[int, Row]] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            if cells:
                if len(cells) > len(header):
                    raise PromptSetProblem(f"{file}:{start}: {len(cells)} cells but only {len(header)} column names.")
                rows.append((start, dict(zip(header, cells))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise PromptSetProblem(f"{file}:{reader.line_num}: not valid CSV: {exc}.") from exc
    return rows


def _json_rows(file: str, text: str) -> list[tuple[int, Row]]:
    rows: list[tuple[int, Row]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json_loads(raw)
        except json.JSONDecodeError as exc:
            raise PromptSetProblem(f"{file}:{line}: not valid JSON: {exc.msg}.") from exc
        except NestedTooDeeply as exc:
            raise too_deep(f"{file}:{line}", exc) from None
        if not isinstance(row, dict):
            raise PromptSetProblem(f"{file}:{line}: each line must be a JSON object, not {type(row).__name__}.")
        cells: Row = {}
        for key, value in row.items():
            if key == FOLLOW_UPS and value is not None:
                if not isinstance(value, list):
                    raise PromptSetProblem(f'{file}:{line}: field {key!r} must be a list of follow-up texts (["Are you sure?"]).')
                cells[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int, float, type(None))):
                raise PromptSetProblem(f"{file}:{line}: field {key!r} must be text or a number.")
            cells[key] = "" if value is None else str(value)
        rows.append((line, cells))
    return rows


def _link_pairs(records: list[dict[str, str]], lines: list[int], log: ProblemLog) -> None:
    """Rows sharing a `pair` value become each other's translation."""
    groups: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        if record["pair"]:
            groups.setdefault(record["pair"], []).append(index)
    for pair, members in groups.items():
        if len(members) != 2:
            where = ", ".join(str(lines[i]) for i in members)
            log.add(lines[members[0]], f"pair {pair!r} has {len(members)} rows (lines {where}); a pair is one prompt and its translation")
            continue
        first, second = (records[i] for i in members)
        first["translation_of"], second["translation_of"] = second["id"], first["id"]


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
