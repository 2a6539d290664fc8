"""Prompt sets on disk: one TOML file per set (docs/prompt-sets.md).

TOML because people write these sets by hand, in two scripts: it allows
comments, multi-line text and any Unicode without escaping, Python reads it
with the standard library (tomllib), and `[[prompts]]` tables keep each
prompt's fields together. tomllib does not report where a value was, so
`_KeyLines` scans the text for the line of each `[[prompts]]` table and key,
which is what lets a problem say "prompts/x.toml:42".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from ..nesting import NestedTooDeeply, toml_loads
from ..user_files import save
from .model import Prompt, PromptSet, Source
from .problems import Problem, PromptSetProblem, read_utf8, too_deep
from .validation import FOLLOW_UPS, PROMPT_FIELDS, ProblemLog, check_id, check_set, prompt_from_fields

FORMAT = 1
SET_FIELDS = ("format", "id", "title", "description", "licence", "sources", "prompts")
SOURCE_FIELDS = ("title", "link", "licence", "notes")

_TABLE = re.compile(r"\s*\[\[\s*(\w+)\s*\]\]\s*(?:#.*)?$")
_KEY = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")
_TOML_ERROR_LINE = re.compile(r"at line (\d+)")


class _KeyLines:
    """Line numbers of keys in a TOML text: top level, and in each [[table]]."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, int, str | None], int] = {}
        section = ""
        counts: dict[str, int] = {}
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            table = _TABLE.match(line)
            if table:
                section = table.group(1)
                counts[section] = counts.get(section, -1) + 1
                self._lines[(section, counts[section], None)] = number
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((section, counts.get(section, 0), key.group(1)), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
                    break

    def line(self, section: str, index: int, key: str | None) -> int | None:
        found = self._lines.get((section, index, key))
        return found if found is not None else self._lines.get((section, index, None))


def load_prompt_set(path: Path) -> PromptSet:
    """Read and validate a set; PromptSetProblem lists everything wrong with it."""
    file = str(path)
    text = read_utf8(path, what="the prompt set")
    try:
        raw = toml_loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_ERROR_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        raise PromptSetProblem(str(Problem(file, line, f"not valid TOML: {exc}"))) from exc
    except NestedTooDeeply as exc:
        raise too_deep(file, exc) from None
    return _parse(raw, file, _KeyLines(text), path)


def _parse(raw: Mapping[str, object], file: str, lines: _KeyLines, path: Path) -> PromptSet:
    log = ProblemLog(file, lambda index, key: lines.line("prompts", index, key))

    def top(key: str | None) -> int | None:
        return lines.line("", 0, key)

    for key in raw:
        if key not in SET_FIELDS:
            log.add(top(key), f"unknown field {key!r} (known: {', '.join(SET_FIELDS)})")
    version = raw.get("format", FORMAT)
    if version != FORMAT:
        newer = isinstance(version, int) and version > FORMAT
        hint = "it was written for a newer workbench; update the workbench" if newer else f"this workbench reads format {FORMAT}"
        raise PromptSetProblem(str(Problem(file, top("format"), f"format {version!r} is not supported: {hint}.")))
    header = {}
    for key, required in (("id", True), ("title", True), ("description", False), ("licence", False)):
        value = raw.get(key)
        if value is None:
            if required:
                log.add(top(None), f"missing {key}")
            header[key] = ""
        elif not isinstance(value, str) or (required and not value.strip()):
            log.add(top(key), f"{key} must be non-empty text")
            header[key] = ""
        else:
            header[key] = value
    if header["id"]:
        why = check_id(header["id"])
        if why:
            log.add(top("id"), f"set id: {why}")
    sources = _sources(raw.get("sources", []), log, lines)
    raw_prompts = raw.get("prompts")
    prompts: list[tuple[int, Prompt]] = []
    if not isinstance(raw_prompts, list) or not raw_prompts:
        log.add(top("prompts"), "no prompts: add at least one [[prompts]] table")
    else:
        for index, fields in enumerate(raw_prompts):
            if not isinstance(fields, dict):
                log.prompt(index, None, None, "must be a table of fields")
                continue
            prompt = prompt_from_fields(index, fields, log)
            if prompt is not None:
                prompts.append((index, prompt))
        check_set(prompts, log)
    if log.problems:
        raise PromptSetProblem.listing(file, log.problems)
    return PromptSet(
        id=header["id"],
        title=header["title"],
        description=header["description"],
        licence=header["licence"],
        sources=tuple(sources),
        prompts=tuple(p for _, p in prompts),
        path=path,
    )


def _sources(raw: object, log: ProblemLog, lines: _KeyLines) -> list[Source]:
    if not isinstance(raw, list):
        log.add(lines.line("", 0, "sources"), "sources must be a list of [[sources]] tables")
        return []
    sources = []
    for index, fields in enumerate(raw):

        def at(key: str | None, index: int = index) -> int | None:
            return lines.line("sources", index, key)

        if not isinstance(fields, dict):
            log.add(at(None), f"source #{index + 1}: must be a table of fields")
            continue
        ok = True
        for key in fields:
            if key not in SOURCE_FIELDS:
                log.add(at(key), f"source #{index + 1}: unknown field {key!r} (known: {', '.join(SOURCE_FIELDS)})")
                ok = False
        for key in SOURCE_FIELDS:
            value = fields.get(key, "" if key == "notes" else None)
            if not isinstance(value, str) or (key != "notes" and not value.strip()):
                log.add(at(key), f"source #{index + 1}: {key} must be non-empty text")
                ok = False
        if ok:
            sources.append(Source(fields["title"], fields["link"], fields["licence"], fields.get("notes", "")))
    return sources


def dumps_prompt_set(prompt_set: PromptSet) -> str:
    """The set as TOML text that load_prompt_set reads back to an equal set."""
    out = [
        "# A prompt set for the Model Values Workbench. File format: docs/prompt-sets.md",
        f"format = {FORMAT}",
        f"id = {_string(prompt_set.id)}",
        f"title = {_string(prompt_set.title)}",
        f"description = {_string(prompt_set.description)}",
        f"licence = {_string(prompt_set.licence)}",
    ]
    for source in prompt_set.sources:
        out += ["", "[[sources]]"]
        out += [f"{key} = {_string(getattr(source, key))}" for key in SOURCE_FIELDS if getattr(source, key)]
    for prompt in prompt_set.prompts:
        out += ["", "[[prompts]]"]
        out += [f"{key} = {_string(getattr(prompt, key))}" for key in PROMPT_FIELDS if getattr(prompt, key)]
        if prompt.then:
            out.append(f"{FOLLOW_UPS} = [{', '.join(_string(follow_up) for follow_up in prompt.then)}]")
    return "\n".join(out) + "\n"


def save_prompt_set(prompt_set: PromptSet, path: Path) -> None:
    """Write the set to `path` (UTF-8), replacing a file there all or nothing
    (EnvironmentProblem if it can't; see core/user_files.py)."""
    save(path, dumps_prompt_set(prompt_set))


def _string(value: str) -> str:
    """A TOML basic string; multi-line when the text has line breaks, so a
    long prompt stays readable in the file."""
    escaped = []
    for char in value:
        if char == "\\":
            escaped.append("\\\\")
        elif char == '"':
            escaped.append('\\"')
        elif char == "\n":
            escaped.append(char)
        elif char == "\t":
            escaped.append("\\t")
        elif char == "\r":
            escaped.append("\\r")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    body = "".join(escaped)
    # A newline right after the opening quotes is dropped by TOML; the one
    # written here keeps the text's own first character where it was.
    return f'"""\n{body}"""' if "\n" in value else f'"{body}"'
