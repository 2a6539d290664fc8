"""The bare `workbench`: the window, or where no display can show it, the starter
comparison in the terminal; `--screenshot` opens the window offscreen.

Imported only when no command is given (main.py), so the commands never load
the window's checks, and the window's own imports (Qt) wait until it opens.
"""

from __future__ import annotations

import argparse
import sys

from ..core.engine.params import GenerationParams, random_seed
from ..core.user_files import check_output
from ..core.workspace import Workspace
from .cmd_compare import compare
from .display import find_display

SAMPLE_PROMPT = "What happened at Tiananmen Square in June 1989?"


def cmd_window(args: argparse.Namespace) -> int:
    display = find_display() if args.screenshot is None else None
    max_tokens = args.screenshot_max_tokens
    if max_tokens is not None:
        problem = None
        if display is not None and display.usable:
            problem = "--max-tokens goes with --screenshot (in the window: Shared settings > Max tokens)"
        else:
            try:
                GenerationParams(max_tokens=max_tokens)
            except ValueError as exc:
                problem = f"--max-tokens: {exc}"
        if problem:
            print(f"workbench: {problem}", file=sys.stderr)
            return 2
    if display is not None and not display.usable:
        print(
            f"{display.problem}\nRunning the starter comparison in the terminal instead.\n"
            "(On a desktop, `workbench` opens the window. Here, use `workbench compare \"your question\"`.)\n",
            file=sys.stderr,
        )
        workspace = Workspace(args.db, args.folder)
        try:
            params = GenerationParams(seed=random_seed(), max_tokens=max_tokens or GenerationParams.max_tokens)
            return compare(workspace, args.prompt or SAMPLE_PROMPT, args.model, params, parallel=False, as_json=False)
        finally:
            workspace.close()
    if args.screenshot is not None:
        check_output(args.screenshot)  # a bad path fails now, not after the models ran
    from ..ui.shell.app import run_window

    return run_window(args.db, args.folder, args.screenshot, args.prompt, args.model, max_tokens)
