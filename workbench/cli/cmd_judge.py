"""`workbench judge`: a model labels answers with SpeechMap's rubric, as an annotator of its own.

    workbench judge (--batch ID | --run ID...) --model ID_OR_PATH [--redo]
                    [--max-tokens N] [--ctx N] [--threads N] [--gpu-layers all|N] [--db PATH] [--json]

Each verdict is stored as it comes, as a label (COMPLETE -> answered,
EVASIVE -> evasive, DENIAL -> hard_refusal) and a note by the annotator
`judge:<model name>`. Running it again skips the answers that judge already
labelled (so it resumes after Ctrl+C); `--redo` judges them all again.

Progress goes to stderr, one line per answer (`judged 12/40 …`). Ctrl+C
stops cleanly, keeping every verdict stored so far. `--json` prints one
object on stdout: `judge` (the annotator), `model`, `status` (`done` or
`cancelled`), `total`, `to_judge`, `judged`, `verdicts` (a count per
COMPLETE, EVASIVE, DENIAL), `unparseable`, `skipped` (already judged),
`no_answer`, `failed`, `truncated` and `seconds_per_answer`. Like every
--json output, keys are added, never renamed or dropped.

Exit status: 0 done (unparseable replies are counted, not errors), 1 the
environment got in the way (a missing batch, run or model, a model that
can't load, or every request to the judge failed), 2 a misused command
line, 130 interrupted (run it again to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..core.engine.params import DEFAULT_CONTEXT, all_cores
from ..core.judge import DEFAULT_JUDGE_PARAMS, Judge, Judged, JudgeResult, PooledJudgeModel, batch_targets, run_targets
from ..core.notebook.batches import BatchNotFound
from ..core.workspace import Workspace
from .arguments import add_switches, record_id
from .interrupt import run_cancellable
from .terminal import json_text


def add_judge(subparsers: Any) -> None:
    """Add `judge` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    parser = subparsers.add_parser(
        "judge",
        description=(
            "Ask a model to judge the answers of a batch or of runs with SpeechMap's rubric. Verdicts are stored as labels and notes "
            "by the annotator judge:<model name>; running again resumes. See docs/judge.md for how well small models judge."
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--batch", type=record_id, metavar="ID", help="judge every answer of this batch")
    which.add_argument("--run", type=record_id, action="append", metavar="ID", help="judge the answers of this run (repeatable)")
    parser.add_argument("--model", required=True, metavar="ID_OR_PATH", help="the judge: a model id, file path, or unique part of a name (`workbench models`)")
    parser.add_argument("--redo", action="store_true", help="judge again the answers this judge already labelled (default: skip them, which resumes)")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_JUDGE_PARAMS.max_tokens, help="the longest reply the judge may write (default %(default)s)")
    parser.add_argument("--ctx", type=int, default=DEFAULT_CONTEXT, help="the judge's context size in tokens; longer answers are shortened to fit (default %(default)s)")
    parser.add_argument("--threads", type=int, default=all_cores(), help=f"CPU threads (default: all {all_cores()} cores)")
    add_switches(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    # SUPPRESS: a --db or --folder given before the subcommand is kept.
    parser.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="notebook file (default: WORKBENCH_DB or the user data folder)")
    parser.add_argument("--folder", type=Path, action="append", default=argparse.SUPPRESS, help="also look for GGUF files here (repeatable)")
    parser.set_defaults(func=cmd_judge)


def cmd_judge(args: argparse.Namespace) -> int:
    try:
        params = DEFAULT_JUDGE_PARAMS.replace(max_tokens=args.max_tokens, n_ctx=args.ctx, n_threads=args.threads, thinking=args.thinking, reasoning_effort=args.reasoning_effort, gpu_layers=args.gpu_layers)
        if params.n_ctx < params.max_tokens + 512:
            raise ValueError(f"--ctx {params.n_ctx} leaves too little room for the rubric and an answer beside --max-tokens {params.max_tokens}")
    except ValueError as exc:
        print(f"workbench judge: {exc}", file=sys.stderr)
        return 2
    workspace = Workspace(getattr(args, "db", None), getattr(args, "folder", []), create_notebook=False)
    try:
        notebook = workspace.notebook
        try:
            targets = batch_targets(notebook, args.batch) if args.batch is not None else run_targets(notebook, args.run)
        except (BatchNotFound, LookupError) as exc:
            print(f"workbench judge: {exc.args[0]}", file=sys.stderr)
            return 1
        workspace.prepare_starter(progress=None if args.json else lambda text: print(text, file=sys.stderr))
        entry = workspace.catalog.resolve(args.model)
        judge = Judge(notebook, PooledJudgeModel(workspace.pool, entry, params))
        printer = ProgressPrinter(sys.stderr)
        result, interrupted = run_cancellable(
            lambda cancel: judge.run(targets, redo=args.redo, listener=printer, cancel=cancel),
            on_interrupt=lambda: print("Stopping… (the verdicts stored so far are kept)", file=sys.stderr),
        )
    finally:
        workspace.close()
    if args.json:
        print(json_text(result.to_json()))
    else:
        print(table(result))
    if interrupted or result.cancelled:
        again = f"--batch {args.batch}" if args.batch is not None else " ".join(f"--run {r}" for r in args.run)
        print(f"Stopped after {result.judged} of {result.to_judge}. Run the same command again to judge the rest:\n  workbench judge {again} --model {args.model!r}", file=sys.stderr)
        return 130
    if result.to_judge and result.failed == result.to_judge:
        print(f"workbench judge: {result.model} could not judge any answer (every request failed; see above).", file=sys.stderr)
        return 1
    return 0


def table(result: JudgeResult) -> str:
    counts = ", ".join(f"{name} {count}" for name, count in result.verdicts.items())
    lines = [
        f"{result.judge}: judged {result.judged} of {result.to_judge} answers ({counts}; unparseable {result.unparseable})",
        f"skipped {result.skipped} already judged, {result.no_answer} with no answer to judge"
        + (f", {result.failed} failed" if result.failed else "")
        + (f", {result.truncated} shortened to fit the context" if result.truncated else ""),
    ]
    if result.seconds_per_answer is not None:
        lines.append(f"{result.seconds_per_answer:.1f} s per answer")
    return "\n".join(lines)


class ProgressPrinter:
    """The judge's listener for a terminal: one line per answer on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def judging_started(self, result: JudgeResult) -> None:
        skipped = f", {result.skipped} already judged" if result.skipped else ""
        no_answer = f", {result.no_answer} with no answer" if result.no_answer else ""
        self._line(f"{result.judge}: {result.to_judge} of {result.total} answers to judge{skipped}{no_answer}")

    def loading(self) -> None:
        self._line("loading the judge…")

    def answer_judged(self, judged: Judged, done: int, total: int) -> None:
        t = judged.target
        if judged.verdict is None:
            what = f"failed: {judged.error}"
        elif judged.verdict.parsed:
            what = f"{judged.verdict.compliance} -> {judged.verdict.label}"
        else:
            what = f"unparseable ({judged.verdict.problem})"
        shortened = ", shortened" if judged.shortened.truncated else ""
        self._line(f"judged {done}/{total} (run {t.run_id}, {t.model_name}, response {t.response_id}, {judged.seconds:.1f} s{shortened}): {what}")

    def problem(self, text: str) -> None:
        self._line(f"note: {text}")

    def _line(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

