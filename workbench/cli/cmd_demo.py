"""`workbench demo list|export|import`: demo scripts go to class as one file.

The scripts shipped with the workbench (core/classroom/shipped.py) are listed
after the notebook's, and `demo export TITLE` takes one of them into the
notebook first when the notebook has no script of that title.

Exit status as for `workbench export`: 0 done; 1 the environment or the
file got in the way (no such script, a refused file, a disk problem), with
one line on stderr; 2 a misused command line (argparse).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.classroom.demo_file import export_demo, import_demo
from ..core.classroom.shipped import find_demo, shipped_not_in
from .notebook_option import add_db, with_notebook
from .terminal import json_text


def add_demo(subparsers: Any) -> None:
    """Add `demo` and its subcommands to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    demo = subparsers.add_parser("demo")
    add_db(demo)
    actions = demo.add_subparsers(dest="demo_command", required=True, metavar="{list,export,import}")
    listing = actions.add_parser("list", help="the notebook's demo scripts and their steps (with each step's follow-ups)")
    add_db(listing)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    out = actions.add_parser("export", help="write a script with the runs it replays to one file, for another computer")
    add_db(out)
    out.add_argument("script", metavar="TITLE_OR_ID")
    out.add_argument("-o", "--output", type=Path, required=True, metavar="PATH.demo.jsonl", help="the file to write (a file there is replaced; a folder, link, FIFO or device is refused)")
    out.set_defaults(func=cmd_export)
    into = actions.add_parser("import", help="add a demo file's script and recorded runs to the notebook")
    add_db(into)
    into.add_argument("path", type=Path, metavar="PATH.demo.jsonl")
    into.set_defaults(func=cmd_import)


def cmd_list(args: argparse.Namespace) -> int:
    def listing(notebook: Any) -> str:
        demos = notebook.demos
        scripts = [(script, demos.steps(script.id)) for script in demos.scripts()]
        if args.json:
            return json_text(
                [
                    {"id": s.id, "uid": s.uid, "title": s.title, "description": s.description,
                     "steps": [{"position": t.position + 1, "title": t.label, "mode": t.mode, "run": t.run_id, "models": [m["name"] for m in t.models], "follow_ups": list(t.follow_ups)} for t in steps]}
                    for s, steps in scripts
                ]
            )  # fmt: skip
        shipped = shipped_not_in(notebook)
        if not scripts and not shipped:
            return "No demo scripts yet (Demo > New script in the window)."
        lines = []
        for script, steps in scripts:
            # Titles come from prompts and from files others sent: main()'s TerminalText shows their controls.
            lines.append(f"{script.id}  {script.title}  ({len(steps)} step(s))")
            for step in steps:
                recorded = f", run {step.run_id}" if step.run_id is not None else ""
                lines.append(f"    {step.position + 1}. {step.label}  [{step.mode}{recorded}]")
                lines.extend(f"       then: {' '.join(follow_up.split())}" for follow_up in step.follow_ups)
        if shipped:
            lines.append("Shipped with the workbench (taken into the notebook when exported by title, or chosen in the Demo panel):")
            lines.extend(f"    {demo.title}  ({demo.steps} step(s))" for demo in shipped)
        return "\n".join(lines)

    return with_notebook("demo list", args, lambda notebook: _say(listing(notebook)), create=False)


def cmd_export(args: argparse.Namespace) -> int:
    def export(notebook: Any) -> str:
        script = find_demo(notebook, args.script)
        data = export_demo(notebook, script.id, args.output)
        return f"Wrote the demo script {script.title!r} ({len(data.demo['steps'])} step(s), {len(data.runs)} recorded run(s)) to {args.output}"

    return with_notebook("demo export", args, lambda notebook: _say(export(notebook)), create=False)


def cmd_import(args: argparse.Namespace) -> int:
    return with_notebook("demo import", args, lambda notebook: _say(import_demo(notebook, args.path).summary()), create=True)


def _say(text: str) -> int:
    print(text)
    return 0
