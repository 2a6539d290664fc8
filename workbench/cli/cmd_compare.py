"""`workbench compare`: several models asked the same prompt (and its follow-ups), saved as one run.

Also what the bare `workbench` runs in a terminal that can't show the window
(cmd_window.py): the starter comparison, through `compare`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.comparison import PARALLEL, SEQUENTIAL, Contender, RunOutcome
from ..core.engine.cancel import Cancel
from ..core.engine.params import DEFAULT_CONTEXT, GenerationParams, all_cores, random_seed
from ..core.workspace import Workspace
from . import render
from .arguments import add_switches, add_workspace_options
from .interrupt import run_cancellable
from .terminal import json_text


def add_compare(subparsers: Any) -> None:
    """Add `compare` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    compare = subparsers.add_parser("compare")
    add_workspace_options(compare, before_command=False)
    compare.add_argument("prompt")
    compare.add_argument("--model", action="append", default=[], metavar="ID_OR_PATH", help="a model id, file path, or unique part of a name (repeatable; default: the starter pair)")
    compare.add_argument("--system", default="", metavar="TEXT", help="system prompt")
    compare.add_argument(
        "--then", action="append", default=[], metavar="FOLLOW_UP",
        help="a follow-up, asked after the prompt, each model continuing its own conversation (repeatable: asked in order)",
    )  # fmt: skip
    compare.add_argument("--seed", type=int, help="sampling seed (default: a new one, recorded)")
    compare.add_argument("--temperature", type=float, default=GenerationParams.temperature)
    compare.add_argument("--top-p", type=float, default=GenerationParams.top_p)
    compare.add_argument("--top-k", type=int, default=GenerationParams.top_k)
    compare.add_argument("--min-p", type=float, default=GenerationParams.min_p)
    compare.add_argument("--repeat-penalty", type=float, default=GenerationParams.repeat_penalty)
    compare.add_argument("--max-tokens", type=int, default=GenerationParams.max_tokens)
    compare.add_argument("--ctx", type=int, default=DEFAULT_CONTEXT, help="context size in tokens")
    compare.add_argument("--threads", type=int, default=all_cores(), help=f"CPU threads per model (default: all {all_cores()} cores)")
    compare.add_argument("--parallel", action="store_true", help="run the models at the same time, sharing the cores (default: one after another, each with all cores)")
    add_switches(compare)
    compare.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    compare.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    try:
        params = GenerationParams(
            temperature=args.temperature,
            top_p=args.top_p,
            top_k=args.top_k,
            min_p=args.min_p,
            repeat_penalty=args.repeat_penalty,
            max_tokens=args.max_tokens,
            seed=args.seed if args.seed is not None else random_seed(),
            n_ctx=args.ctx,
            n_threads=args.threads,
            system_prompt=args.system,
            thinking=args.thinking, reasoning_effort=args.reasoning_effort, gpu_layers=args.gpu_layers,
        )
    except ValueError as exc:
        print(f"workbench compare: {exc}", file=sys.stderr)
        return 2
    if not args.prompt.strip():
        print("workbench compare: the prompt is empty", file=sys.stderr)
        return 2
    for number, follow_up in enumerate(args.then, 1):
        if not follow_up.strip():
            print(f"workbench compare: follow-up {number} (--then) is empty", file=sys.stderr)
            return 2
    workspace = Workspace(args.db, args.folder)
    try:
        return compare(workspace, args.prompt, args.model, params, parallel=args.parallel, as_json=args.json, follow_ups=tuple(args.then))
    finally:
        workspace.close()


def compare(
    workspace: Workspace, prompt: str, models: list[str], params: GenerationParams, *, parallel: bool, as_json: bool, follow_ups: tuple[str, ...] = ()
) -> int:
    """Ask the models `prompt`, then each of `follow_ups` in order (`--then`), in one run.
    A follow-up is asked only if the turn before it was answered (by one model at least),
    saved, and not stopped: exit status 0 when every turn was."""
    workspace.prepare_starter(progress=render.progress_printer(quiet=as_json))
    entries = [workspace.catalog.resolve(m) for m in models] if models else render.starter_pair(workspace)
    contenders = [Contender(entry, params) for entry in entries]
    printer = None if as_json else render.StreamPrinter(sys.stdout, entries, parallel, (prompt, *follow_ups))
    listener = printer or render.ProblemPrinter(sys.stderr)
    schedule = PARALLEL if parallel else SEQUENTIAL

    def ask(cancel: Cancel) -> list[RunOutcome]:
        turns = [workspace.comparison.run(prompt, contenders, system_prompt=params.system_prompt, schedule=schedule, listener=listener, cancel=cancel)]
        # The models as the run hashed them, so a follow-up does not check the files again.
        hashed = [Contender(r.entry, params) for r in turns[0].responses]
        for follow_up in follow_ups:
            if cancel.is_set() or turns[-1].unsaved or not turns[-1].any_answered:
                break
            turns.append(workspace.comparison.follow_up(turns[0].run_id, follow_up, hashed, schedule=schedule, listener=listener, cancel=cancel))
        return turns

    turns, interrupted = run_cancellable(ask, on_interrupt=lambda: print("\nStopping… (the partial answers are kept)", file=sys.stderr))
    if printer is None:
        print(json_text(render.outcome_json(turns)))
    else:
        printer.summary(turns, workspace.db_path)
    unasked = len(follow_ups) + 1 - len(turns)
    not_asked = f"; {unasked} follow-up(s) after it not asked" if unasked else ""
    for outcome in turns:
        unsaved = render.unsaved_line(outcome, workspace.db_path)
        if unsaved:
            print(f"workbench: {unsaved}{not_asked}", file=sys.stderr)
            return 130 if interrupted else 1
    if interrupted:
        return 130
    last = turns[-1]
    if not last.any_answered:
        reasons = "; ".join(r.result.error or r.result.finish_reason for r in last.responses)
        which = f" follow-up {last.turn}" if last.turn else ""
        print(f"workbench: no model answered{which}: {reasons}{not_asked}", file=sys.stderr)
        return 1
    return 0
