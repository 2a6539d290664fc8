"""`workbench flag`: suggested flags for answers piped in as JSON Lines.

Input, one JSON object per line on stdin: `id` (any JSON value, echoed back),
`prompt` and `response` (text), optional `lang` ("en", "zh" or null: the
language the prompt was asked in; detected when absent), `reasoning` (the
model's separate reasoning text) and `reasoning_model` (true when the model is
expected to reason, for `thought_suppressed`).

Output, one line per good input line, in input order: `{"id": …, "flags": […]}`,
plus `sources` (each flag's basis, rules and/or classifier, and the classifier's
confidence), `evidence`, `asked_language` and `answer_language` with --evidence. Output is JSON Lines with or without --json
(the option exists so scripts can pass it to every command alike).

A bad line (not UTF-8, not JSON, a missing or mistyped field) is reported on
stderr as one line naming its line number, and the command goes on: good
lines are still flagged, so one broken record in a large export costs only
itself. The exit status is 1 when any line was bad, else 0. Blank lines are
skipped. The same code flags responses in the app (workbench.core.analysis).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from ..core.analysis import analyse_response
from ..core.nesting import json_loads
from .terminal import json_text

LANGUAGES = ("en", "zh")


def add_flag(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `flag` subcommand to `workbench`'s subparsers (its one-line help is in main.COMMANDS); `func` runs it."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "flag",
        description=(
            "Read JSON Lines from stdin (id, prompt, response, optional lang, reasoning, reasoning_model) "
            "and write one JSON line per input: id and flags. See docs/flags.md."
        ),
    )
    parser.add_argument("--json", action="store_true", help="accepted for symmetry with other commands: the output is always JSON Lines")
    parser.add_argument("--evidence", action="store_true", help="also write each flag's basis and confidence, its evidence (rule and matched words) and the languages asked and answered")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Flag every line of stdin; 1 if any line was bad, else 0."""
    _use_utf8(sys.stdout)
    bad = 0
    for number, raw in _lines(sys.stdin):
        try:
            record = _parse(raw)
        except ValueError as exc:
            bad += 1
            print(f"workbench flag: line {number}: {exc}", file=sys.stderr)
            continue
        report = analyse_response(
            record["prompt"],
            record["response"],
            prompt_lang=record.get("lang"),
            reasoning=record.get("reasoning"),
            is_reasoning_model=record.get("reasoning_model", False),
        )
        out: dict[str, Any] = {"id": record["id"], "flags": list(report.flags)}
        if args.evidence:
            out.update(report.to_json())
        sys.stdout.write(json_text(out, indent=None) + "\n")
        sys.stdout.flush()
    return 1 if bad else 0


def _lines(stream: TextIO) -> Iterator[tuple[int, str | UnicodeDecodeError]]:
    """(line number, text) for each non-blank line; undecodable bytes become a
    ValueError for that line alone, whatever the terminal's encoding."""
    binary = getattr(stream, "buffer", None)
    for number, line in enumerate(binary if binary is not None else stream, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, exc
                continue
        if line.strip():
            yield number, line


def _parse(raw: str | UnicodeDecodeError) -> dict[str, Any]:
    if isinstance(raw, UnicodeDecodeError):
        raise ValueError(f"not UTF-8 (byte 0x{raw.object[raw.start]:02x} at column {raw.start + 1})")
    try:
        record = json_loads(raw)  # NestedTooDeeply is a ValueError, like the others
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    for key in ("id", "prompt", "response"):
        if key not in record:
            raise ValueError(f"missing {key!r}")
    for key in ("prompt", "response"):
        if not isinstance(record[key], str):
            raise ValueError(f"{key!r} must be a string")
    if record.get("lang") not in (None, *LANGUAGES):
        raise ValueError(f"'lang' must be one of {', '.join(LANGUAGES)} or null, not {record['lang']!r}")
    if not isinstance(record.get("reasoning"), (str, type(None))):
        raise ValueError("'reasoning' must be a string or null")
    if not isinstance(record.get("reasoning_model", False), bool):
        raise ValueError("'reasoning_model' must be true or false")
    return record


def _use_utf8(stream: TextIO) -> None:
    """Chinese evidence must not fail on a terminal whose encoding lacks it."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8")
