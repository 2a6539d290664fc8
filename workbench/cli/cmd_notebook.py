"""`workbench search` and `workbench annotate`: the notebook for scripts.

`register(subparsers)` adds both commands; each sets `func`, which returns
the exit status: 0 done, 1 the environment got in the way (a damaged or
locked notebook, a response or session that is not in it) with one line on
stderr, 2 a misused command line (an unknown label, an empty query).

`search --json` prints a list of matches, each with at least `run_id`,
`response_id` (null for a match in a prompt, run note or summary),
`model_name`, `snippet` (matches between ⟦ and ⟧), `flags` (the
answer's automatic flags) and `status` (the answer's, statuses.py; without
--json a partial answer says so on its line). Like every --json output, keys are added, never
renamed or dropped.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.analysis.flag_names import FLAG_NAMES
from ..core.annotator_name import current_annotator, person_name
from ..core.notebook.annotations import DIVERGENCE
from ..core.notebook.database import Notebook
from ..core.notebook.search import MAX_LIMIT, SearchFilters, SearchHit
from ..core.notebook.statuses import unfinished_note
from ..core.settings import Settings
from .arguments import record_id
from .notebook_option import add_db, with_notebook
from .terminal import json_text


def add_search(subparsers: Any) -> None:
    """Add `search` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    search = subparsers.add_parser("search")
    add_db(search)
    search.add_argument("query", help='words that must all occur; "quotes" keep a phrase together')
    search.add_argument("--json", action="store_true", help="print a JSON list of matches")
    search.add_argument("--model", action="append", default=[], metavar="NAME", help="only answers of a model whose name contains NAME, or whose SHA-256 is NAME (repeatable)")
    search.add_argument("--origin", action="append", default=[], metavar="CC", help="only answers of models from this country, e.g. CN or US (repeatable)")
    search.add_argument("--label", action="append", default=[], metavar="NAME", help="only answers carrying this label (repeatable: any of them)")
    search.add_argument("--flag", action="append", default=[], metavar="NAME", help=f"only answers with this automatic flag ({', '.join(FLAG_NAMES)}; repeatable or comma-separated: any of them)")
    search.add_argument("--lang", action="append", default=[], choices=["en", "zh"], help="only runs whose prompt is in this language")
    search.add_argument("--session", action="append", default=[], metavar="NAME_OR_ID", help='only runs in this session ("unsorted": in none; repeatable)')
    search.add_argument("--rating", action="append", default=[], choices=DIVERGENCE, help="only runs rated so (by any annotator)")
    search.add_argument("--since", metavar="DATE", help="only runs made on or after DATE (YYYY-MM-DD, local time)")
    search.add_argument("--until", metavar="DATE", help="only runs made on or before DATE")
    search.add_argument("--limit", type=_limit, default=50, metavar="N", help=f"at most N matches, newest first (default 50, at most {MAX_LIMIT})")
    search.set_defaults(func=cmd_search)


def add_annotate(subparsers: Any) -> None:
    """Add `annotate` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    annotate = subparsers.add_parser("annotate")
    add_db(annotate)
    annotate.add_argument("--response", type=record_id, required=True, metavar="ID", help="the answer's id (`search --json` shows it)")
    annotate.add_argument("--label", action="append", required=True, metavar="NAME", help="a label's stored name, e.g. evasive (repeatable)")
    annotate.add_argument("--note", metavar="TEXT", help="your note on the answer, in Markdown (replaces your earlier note on it)")
    annotate.add_argument("--annotator", default=None, metavar="NAME", help="who is annotating (default: WORKBENCH_ANNOTATOR, else the name chosen in the window, else your login name)")
    annotate.set_defaults(func=cmd_annotate)


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_LIMIT}")
    return value


# --- workbench search -----------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    flags = tuple(dict.fromkeys(name.strip() for given in args.flag for name in given.split(",") if name.strip()))
    unknown = [name for name in flags if name not in FLAG_NAMES]
    if unknown:
        print(f"workbench search: there is no flag {', '.join(map(repr, unknown))}; the flags are {', '.join(FLAG_NAMES)}", file=sys.stderr)
        return 2

    def work(notebook: Notebook) -> int:
        sessions = tuple(notebook.sessions.find(s).id for s in args.session)
        for label in args.label:
            notebook.labels.get(label)  # An unknown label is a typo, not "no matches".
        filters = SearchFilters(
            models=tuple(args.model),
            origins=tuple(args.origin),
            labels=tuple(args.label),
            languages=tuple(args.lang),
            sessions=sessions,
            since=args.since,
            until=args.until,
            ratings=tuple(args.rating),
            flags=flags,
        )
        hits = notebook.search(args.query, filters, limit=args.limit)
        if args.json:
            print(json_text([hit.to_json() for hit in hits]))
        else:
            _print_hits(hits)
        return 0

    return with_notebook("search", args, work, create=False)


def _print_hits(hits: list[SearchHit]) -> None:
    if not hits:
        print("No matches.", file=sys.stderr)
        return
    for hit in hits:
        where = f"response {hit.response_id} · {hit.model_name}" + (f" ({hit.origin_country})" if hit.origin_country else "") if hit.response_id else "the run"
        flags = f" · flags: {', '.join(hit.flags)}" if hit.flags else ""
        note = unfinished_note(hit.status) if hit.status else None  # a partial answer says so
        partial = f" · {note}" if note else ""
        turn = f" · follow-up {hit.turn}" if hit.turn else ""  # the run's own prompt and answers are turn 0
        print(f"run {hit.run_id} · {where}{turn} · {hit.field.replace('_', ' ')} · {hit.run_created_at[:10]}{flags}{partial}")
        print(f"    {hit.snippet}")


# --- workbench annotate ---------------------------------------------------------


def cmd_annotate(args: argparse.Namespace) -> int:
    def work(notebook: Notebook) -> int:
        annotator = person_name(args.annotator) if args.annotator is not None else current_annotator(Settings.load().annotator)
        labels = [notebook.labels.get(name) for name in dict.fromkeys(args.label)]  # all checked before any is written
        added = [label.name for label in labels if notebook.annotations.add_label(args.response, label.name, annotator=annotator)]
        if args.note is not None:
            notebook.annotations.set_response_note(args.response, args.note, annotator=annotator)
        kept = [label.name for label in labels if label.name not in added]
        parts = [f"labelled {', '.join(added)}"] if added else []
        parts += [f"already labelled {', '.join(kept)}"] if kept else []
        parts += ["note saved"] if args.note is not None else []
        print(f"response {args.response}: {'; '.join(parts)} (annotator: {annotator})")
        return 0

    return with_notebook("annotate", args, work, create=False)
