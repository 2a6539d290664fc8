"""`workbench` and its subcommands.

The output of `--json` is a contract scripts rely on (documented in README):
add keys, never rename or drop them. Exit status: 0 when the command did
its job (for `compare`, when at least one model answered each turn asked, and
every `--then` follow-up was asked), 1 with a one-line
reason on stderr when the environment or a model got in the way, 2 for a
misused command line. No tracebacks for the user's problems; a traceback
means a bug. When stdout is a pipe its reader closed (`workbench models |
head -3`), the command stops printing and exits 141, as a program killed by
SIGPIPE does in a shell, so `set -o pipefail` scripts see it; `compare`
keeps running and saving first, and its exit status says so.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.engine.cancel import Cancel
from ..core.errors import EnvironmentProblem
from ..core.engine.params import DEFAULT_CONTEXT, GenerationParams, all_cores, random_seed
from ..core.user_files import check_output
from ..core.workspace import Workspace
from . import cmd_batch, cmd_demo, cmd_diff, cmd_endpoint, cmd_export, cmd_flag, cmd_judge, cmd_notebook, cmd_pull, cmd_reflag, render
from .arguments import WorkbenchParser, add_switches
from .display import find_display
from .interrupt import run_cancellable

SAMPLE_PROMPT = "What happened at Tiananmen Square in June 1989?"
# 128 + SIGPIPE: what a shell reports for a program a closed pipe stopped.
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    parser = WorkbenchParser(
        prog="workbench",
        description="Ask local models from the US and China the same question, side by side, and keep the evidence.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common(parser, WorkbenchParser(add_help=False))
    parser.add_argument("--screenshot", type=Path, metavar="PATH", help="open the window offscreen, run the prompt, save a PNG and exit")
    parser.add_argument("--prompt", help="with --screenshot: the prompt to run")
    parser.add_argument("--model", action="append", default=[], metavar="ID_OR_PATH", help="with --screenshot: a model to show (repeatable)")
    # Its own dest: `compare --max-tokens` and the like keep theirs.
    parser.add_argument(
        "--max-tokens", type=int, dest="screenshot_max_tokens", metavar="N",
        help=f"with --screenshot: the longest answer in tokens (default {GenerationParams.max_tokens})",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = WorkbenchParser(add_help=False)
    _add_common(common, None)
    models = sub.add_parser("models", parents=[common], help="list every model found, with origin and status")
    models.add_argument("--json", action="store_true", help="print a JSON list")
    models.add_argument("--hash", action="store_true", help="compute missing SHA-256 values (slow for big files; cached)")

    compare = sub.add_parser("compare", parents=[common], help="ask several models the same prompt and save the run")
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
    models.set_defaults(func=cmd_models)
    for module in (cmd_notebook, cmd_flag, cmd_reflag, cmd_batch, cmd_judge, cmd_export, cmd_demo, cmd_diff, cmd_endpoint, cmd_pull):
        module.register(sub)
    return parser


def _add_common(parser: argparse.ArgumentParser, top: argparse.ArgumentParser | None) -> None:
    """Options that work before or after the subcommand (`workbench --db X compare …`
    and `workbench compare … --db X`). On subcommands they default to SUPPRESS,
    so they don't overwrite a value given before the subcommand. The folders
    given before it are kept apart (argparse would replace them with the
    subcommand's) and `parse` puts both together."""
    default_db = None if top is not None else argparse.SUPPRESS
    parser.add_argument("--db", type=Path, default=default_db, help="notebook file (default: WORKBENCH_DB or the user data folder)")
    folders: dict[str, Any] = {"dest": "folder_before", "default": []} if top is not None else {"default": argparse.SUPPRESS}
    parser.add_argument("--folder", type=Path, action="append", help="also look for GGUF files here (repeatable)", **folders)


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's values; `--folder` repeated before and after the subcommand keeps all of them."""
    args = build_parser().parse_args(argv)
    args.folder = args.folder_before + getattr(args, "folder", [])
    return args


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # Model processes of a frozen (PyInstaller) app start here.
    stdout, stderr = sys.stdout, sys.stderr
    # None in a windowed (PyInstaller) app, where print() writes nothing.
    sys.stdout, sys.stderr = (render.TerminalText(s) if s is not None else None for s in (stdout, stderr))
    try:
        return _run(parse(argv))
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _run(args: argparse.Namespace) -> int:
    try:
        status = args.func(args) if args.command else cmd_window(args)
        if sys.stdout is not None:
            sys.stdout.flush()  # A closed pipe shows here, not in Python's flush at exit.
        return status
    except BrokenPipeError:
        render.discard_stdout()
        return EXIT_BROKEN_PIPE
    except EnvironmentProblem as problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


def _workspace(args: argparse.Namespace) -> Workspace:
    return Workspace(args.db, args.folder)


def _prepare_starter(workspace: Workspace, quiet: bool) -> None:
    workspace.prepare_starter(progress=None if quiet else lambda text: print(text, file=sys.stderr))


# --- workbench models -------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    try:
        _prepare_starter(workspace, quiet=args.json)
        entries = workspace.catalog.scan()
        if args.hash:
            entries = [workspace.catalog.ensure_sha256(e) if e.ok else e for e in entries]
        if args.json:
            print(render.json_text([e.to_json() for e in entries]))
        else:
            print(render.models_table(entries))
        for problem in workspace.starter_problems + list(workspace.catalog.problems):
            print(f"note: {problem}", file=sys.stderr)
    finally:
        workspace.close()
    return 0


# --- workbench compare --------------------------------------------------------


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
            thinking=args.thinking, reasoning_effort=args.reasoning_effort,
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
    workspace = _workspace(args)
    try:
        return _compare(workspace, args.prompt, args.model, params, parallel=args.parallel, as_json=args.json, follow_ups=tuple(args.then))
    finally:
        workspace.close()


def _compare(
    workspace: Workspace, prompt: str, models: list[str], params: GenerationParams, *, parallel: bool, as_json: bool, follow_ups: tuple[str, ...] = ()
) -> int:
    """Ask the models `prompt`, then each of `follow_ups` in order (`--then`), in one run.
    A follow-up is asked only if the turn before it was answered (by one model at least),
    saved, and not stopped: exit status 0 when every turn was."""
    from ..core.comparison import PARALLEL, SEQUENTIAL, Contender, RunOutcome

    _prepare_starter(workspace, quiet=as_json)
    if models:
        entries = [workspace.catalog.resolve(m) for m in models]
    else:
        entries = workspace.starter_entries()
        if not entries:
            problems = " ".join(workspace.starter_problems) or "The starter models are not installed."
            raise EnvironmentProblem(f"No model named and no starter models ready. {problems}")
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
        print(render.json_text(render.outcome_json(turns)))
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


# --- workbench (the window) -------------------------------------------------------


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
        workspace = _workspace(args)
        try:
            params = GenerationParams(seed=random_seed(), max_tokens=max_tokens or GenerationParams.max_tokens)
            return _compare(workspace, args.prompt or SAMPLE_PROMPT, args.model, params, parallel=False, as_json=False)
        finally:
            workspace.close()
    if args.screenshot is not None:
        check_output(args.screenshot)  # a bad path fails now, not after the models ran
    from ..ui.shell.app import run_window

    return run_window(args.db, args.folder, args.screenshot, args.prompt, args.model, max_tokens)
