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

from ..core import paths
from ..core.errors import EnvironmentProblem
from ..core.export import FORMATS, Selection, export, import_jsonl
from ..core.notebook import open_notebook


def register(subparsers: Any) -> None:
    """Add `export` and `import` to the `workbench` command's subparsers."""
    out = subparsers.add_parser("export", help="write runs with their answers and annotations as Markdown, HTML, PDF, CSV or JSON Lines")
    _add_db(out)
    scope = out.add_mutually_exclusive_group(required=True)
    scope.add_argument("--run", type=int, nargs="+", metavar="ID", help="these runs (ids as `workbench search --json` shows them)")
    scope.add_argument("--session", metavar="NAME_OR_ID", help="the runs of a session")
    scope.add_argument("--batch", type=int, metavar="ID", help="the runs of a batch (once the notebook has batches)")
    scope.add_argument("--all", action="store_true", help="every run in the notebook")
    out.add_argument("--format", required=True, choices=FORMATS, help="md, html (one self-contained file), pdf, csv (one row per answer) or jsonl (everything, for `workbench import`)")
    out.add_argument("-o", "--output", type=Path, required=True, metavar="PATH", help="the file to write (replaced if it exists)")
    out.set_defaults(func=cmd_export)

    into = subparsers.add_parser("import", help="merge a JSON Lines export (a colleague's runs and annotations) into the notebook")
    _add_db(into)
    into.add_argument("path", type=Path, metavar="PATH.jsonl")
    into.set_defaults(func=cmd_import)


def _add_db(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a --db given before the subcommand (workbench --db X export …) is kept.
    parser.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="notebook file (default: WORKBENCH_DB or the user data folder)")


def cmd_export(args: argparse.Namespace) -> int:
    notebook = None
    try:
        notebook = open_notebook(getattr(args, "db", None) or paths.default_notebook())
        session_id = notebook.sessions.find(args.session).id if args.session is not None else None
        if args.session is not None and session_id is None:
            print("workbench export: runs in no session (Unsorted) can't be exported as a session; use --run or --all", file=sys.stderr)
            return 2
        selection = Selection(run_ids=tuple(args.run or ()), session_id=session_id, batch_id=args.batch, everything=args.all)
        data = export(notebook, selection, args.format, args.output)
    except (EnvironmentProblem, LookupError) as problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 1
    finally:
        if notebook is not None:
            notebook.close()
    print(f"Wrote {len(data.runs)} run(s), {len(data.responses())} answer(s) to {args.output}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    notebook = None
    try:
        notebook = open_notebook(getattr(args, "db", None) or paths.default_notebook())
        result = import_jsonl(notebook, args.path)
    except EnvironmentProblem as problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 1
    finally:
        if notebook is not None:
            notebook.close()
    print(result.summary())
    return 0
