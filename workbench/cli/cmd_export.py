"""`workbench export` and `workbench import`: findings leave the machine, and come back.

Exit status: 0 done; 1 the environment or the file got in the way (a run,
session or batch that is not in the notebook, a refused import, a disk
problem), with one line on stderr; 2 a misused command line (argparse).
`import` prints what it added and what it kept on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..core.export import FORMATS, Selection, export, import_jsonl
from ..core.notebook import Notebook
from .arguments import record_id
from .notebook_option import add_db, with_notebook


def add_export(subparsers: Any) -> None:
    """Add `export` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    out = subparsers.add_parser("export")
    add_db(out)
    scope = out.add_mutually_exclusive_group(required=True)
    scope.add_argument("--run", type=record_id, nargs="+", action="extend", metavar="ID", help="these runs (ids as `workbench search --json` shows them; repeatable)")
    scope.add_argument("--session", metavar="NAME_OR_ID", help="the runs of a session")
    scope.add_argument("--batch", type=record_id, metavar="ID", help="the runs of a batch (once the notebook has batches)")
    scope.add_argument("--all", action="store_true", help="every run in the notebook")
    out.add_argument("--format", required=True, choices=FORMATS, help="md, html (one self-contained file), pdf, csv (one row per answer) or jsonl (everything, for `workbench import`)")
    out.add_argument("-o", "--output", type=Path, required=True, metavar="PATH", help="the file to write (a file there is replaced; a folder, link, FIFO or device is refused)")
    out.set_defaults(func=cmd_export)


def add_import(subparsers: Any) -> None:
    """Add `import` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    into = subparsers.add_parser("import")
    add_db(into)
    into.add_argument("path", type=Path, metavar="PATH.jsonl")
    into.set_defaults(func=cmd_import)


def cmd_export(args: argparse.Namespace) -> int:
    def work(notebook: Notebook) -> int:
        session_id = notebook.sessions.find(args.session).id if args.session is not None else None
        if args.session is not None and session_id is None:
            print("workbench export: runs in no session (Unsorted) can't be exported as a session; use --run or --all", file=sys.stderr)
            return 2
        selection = Selection(run_ids=tuple(args.run or ()), session_id=session_id, batch_id=args.batch, everything=args.all)
        data = export(notebook, selection, args.format, args.output)
        print(f"Wrote {len(data.runs)} run(s), {len(data.every_response())} answer(s) to {args.output}", file=sys.stderr)
        return 0

    return with_notebook("export", args, work, create=False)


def cmd_import(args: argparse.Namespace) -> int:
    def work(notebook: Notebook) -> int:
        print(import_jsonl(notebook, args.path).summary())
        return 0

    return with_notebook("import", args, work, create=True)
