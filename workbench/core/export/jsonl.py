"""JSON Lines: the full-fidelity export, and what `import_jsonl` reads back.

A header line, then one record per line in an order an importer can follow
(what a record refers to comes before it), then an `end` line that counts
the records: a file cut short anywhere is recognised as such. Local row ids
are left out (they mean nothing in another notebook); records refer to each
other by uid, label name or model SHA-256. See docs/export-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .collect import ExportData, every_turn_response

# Keys of the nested records that writers flatten into records of their own.
NESTED = ("responses", "turns", "notes", "assessments", "flags", "votes", "session_run", "labels", "spans")


def records(data: ExportData) -> Iterator[dict[str, Any]]:
    """Every record after the header, with its `type`, in file order."""
    for model in data.models:
        yield {"type": "model", **model}
    for label in data.labels:
        yield {"type": "label", **label}
    for session in data.sessions:
        yield {"type": "session", **session}
    for run in data.runs:
        # The run's follow-ups ride on it (without their answers, which follow as responses of their turn).
        yield {"type": "run", **_plain(run), "turns": [_plain(turn) for turn in run["turns"]]}
        if run["session_run"]:
            yield {"type": "session_run", **run["session_run"]}
        for response in every_turn_response(run):
            yield {"type": "response", **_plain(response)}
            for label in response["labels"]:
                yield {"type": "response_label", **label}
            for span in response["spans"]:
                yield {"type": "span", **span}
            for note in response["notes"]:
                yield {"type": "note", **note}
            for flag in response["flags"]:
                yield {"type": "flag", **flag}
        for note in run["notes"]:
            yield {"type": "note", **note}
        for assessment in run["assessments"]:
            yield {"type": "run_annotation", **assessment}
        for flag in run["flags"]:
            yield {"type": "flag", **flag}
        for vote in run["votes"]:
            yield {"type": "vote", **vote}
    for link in data.links:
        yield {"type": "run_link", **link}


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "id" and key not in NESTED}


def lines(data: ExportData) -> Iterator[str]:
    """The file, line by line (each ending in a newline)."""
    yield _dump(data.header())
    count = 0
    for record in records(data):
        count += 1
        yield _dump(record)
    yield _dump({"type": "end", "records": count})


def _dump(record: dict[str, Any]) -> str:
    # ensure_ascii=False keeps Chinese readable. json escapes newlines and
    # control characters; U+2028/U+2029 (line breaks to some readers, e.g.
    # str.splitlines) are escaped here, so a record is one line to every reader.
    text = json.dumps(record, ensure_ascii=False, allow_nan=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
