"""`workbench reflag`: recompute the automatic flags of answers already in the notebook.

Stored flags never change by themselves (a newer detector does not rewrite
old evidence behind the user's back); this command, like the window's
Notebook > Recompute flags…, flags the chosen runs' finished answers again
and replaces their automatic flags. Human labels are never touched. Batch
items among those runs get their divergence score again.

It prints what changed, counted: answers, flags added, removed and updated.
`--json` prints one object: `total`, `answers`, `changed`, `added`,
`removed`, `updated`, `failed`, `divergences`, `cancelled`, `problems`.
Exit status: 0 when every selected answer was flagged and saved; 1 when some
were not (the notebook, a run or batch that is not there, a failure on the
way: what was saved stays saved); 2 a misused command line; 130 Ctrl+C
(what was done before it stays).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.export.collect import Selection
from ..core.flagging import reflag
from ..core.notebook.database import Notebook
from .arguments import record_id
from .interrupt import run_cancellable
from .notebook_option import add_db, with_notebook
from .terminal import CLEAR_LINE, control, json_text


def add_reflag(subparsers: Any) -> None:
    """Add `reflag` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    parser = subparsers.add_parser("reflag")
    add_db(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", type=record_id, action="append", metavar="ID", help="a run's answers (repeatable)")
    which.add_argument("--batch", type=record_id, metavar="ID", help="every answer of a batch")
    which.add_argument("--all", action="store_true", help="every answer in the notebook")
    parser.add_argument("--json", action="store_true", help="print what changed as one JSON object")
    parser.set_defaults(func=cmd_reflag)


def cmd_reflag(args: argparse.Namespace) -> int:
    selection = Selection(run_ids=tuple(args.run or ()), batch_id=args.batch, everything=args.all)

    def work(notebook: Notebook) -> int:
        def progress(done: int, total: int) -> None:
            if not args.json and sys.stderr.isatty():
                control(sys.stderr, CLEAR_LINE)
                print(f"{done} of {total} answers…", end="", file=sys.stderr, flush=True)

        result, interrupted = run_cancellable(
            lambda cancel: reflag(notebook, selection, progress=progress, cancel=cancel),
            on_interrupt=lambda: print("\nStopping after the runs being flagged… (what is done stays)", file=sys.stderr),
        )
        if not args.json and sys.stderr.isatty():
            control(sys.stderr, CLEAR_LINE)
        if args.json:
            print(json_text(result.to_json()))
        else:
            print(result.summary())
        if interrupted:
            return 130
        if not result.complete:
            print(f"workbench reflag: {result.total - result.answers} of {result.total} answer(s) were not flagged again.", file=sys.stderr)
            return 1
        return 0

    return with_notebook("reflag", args, work, create=False)
