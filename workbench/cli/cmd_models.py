"""`workbench models`: every model found, with its origin and status."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.errors import NotebookProblem
from ..core.workspace import Workspace
from . import render
from .arguments import add_workspace_options
from .terminal import json_text


def add_models(subparsers: Any) -> None:
    """Add `models` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    models = subparsers.add_parser("models")
    add_workspace_options(models, before_command=False)
    models.add_argument("--json", action="store_true", help="print a JSON list")
    models.add_argument("--hash", action="store_true", help="compute missing SHA-256 values (slow for big files; cached)")
    models.set_defaults(func=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    workspace = Workspace(args.db, args.folder)
    try:
        workspace.prepare_starter(progress=render.progress_printer(quiet=args.json))
        entries = workspace.catalog.scan()
        if args.hash:
            entries = [workspace.catalog.ensure_sha256(e) if e.ok else e for e in entries]
        try:
            ran_on = workspace.last_ran_on()
        except NotebookProblem as unread:
            ran_on = {}
            print(f"note: what the models last ran on is not shown: {unread}", file=sys.stderr)
        if args.json:
            print(json_text([dict(e.to_json(), ran_on=ran_on.get(e.sha256 or "")) for e in entries]))
        else:
            print(render.models_table(entries, ran_on))
        for problem in workspace.starter_problems + list(workspace.catalog.problems):
            print(f"note: {problem}", file=sys.stderr)
    finally:
        workspace.close()
    return 0
