"""`workbench batch`: a prompt set asked of several models, flagged, resumable.

    workbench batch PROMPT_SET [--model ID]... [--lang en,zh] [--topic T]... [--limit N]
                    [--resume BATCH_ID] [--max-tokens N] [--seed N] [--sequences N|auto]
                    [--db PATH] [--json]

`--sequences N` answers N prompts at once on each local model, decoded together in
one context (default `auto`: up to 8, as the memory allows; `1`: one at a time). The
number used is saved with the batch, and a resumed batch uses it again.

Progress goes to stderr: a bar redrawn in place on a terminal, one plain line
per prompt otherwise (CI logs). Ctrl+C stops cleanly: finished prompts are
kept and the command says how to resume. `--json` prints one object on
stdout: `batch_id`, `status`, `runs`, `responses`, `flags` (for each model
name, the count of each automatic flag over the whole batch, uncorrected),
`prompt_set`, `checked` (answers people labelled: machine judges' labels
don't count) and `corrections` (empty until someone checked an answer; then
one object per flag that has a label of its name: the flag's precision and
recall on the checked answers and its rates corrected for its errors, as
`FlagCorrection.as_dict` in core/analysis/correction.py and docs/rates.md
describe). These describe the answers to the prompts themselves (the first turn);
`follow_ups` adds, for a set whose prompts carry scripted follow-ups (`then`),
one object per follow-up number: `follow_up` (1, 2, …), `responses` and `flags`
(as above) for the answers after that follow-up (empty list without follow-ups).
Progress shows each follow-up as it is asked, and a line per follow-up answered.
Like every --json output, keys are added, never renamed or dropped.

Exit status: 0 the batch is done, 1 the environment got in the way, 2 a
misused command line, 130 interrupted (resumable).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..core.analysis.correction import FlagCorrection, correct
from ..core.analysis.summary import checked_answers, correctable_flags
from ..core.batch import MAX_SEQUENCES, BatchListener, BatchRunner, ItemOutcome, Progress, batch_sequences, check_sequences
from ..core.catalog import ModelEntry
from ..core.engine.params import DEFAULT_CONTEXT, GenerationParams, all_cores, random_seed
from ..core.errors import EnvironmentProblem
from ..core.export import report
from ..core.notebook.batches import DONE, Batch, BatchItem, BatchNotFound
from ..core.prompts import LANGUAGES, PromptSetProblem, find_prompt_set
from ..core.workspace import Workspace
from . import render
from .arguments import add_switches, record_id
from .interrupt import run_cancellable
from .terminal import CLEAR_LINE, control, json_text

BAR_WIDTH = 24


def add_batch(subparsers: Any) -> None:
    """Add `batch` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    parser = subparsers.add_parser(
        "batch",
        description="Run a prompt set against models; every prompt is saved as a run with flags. Resumable after Ctrl+C or a crash.",
    )
    parser.add_argument("prompt_set", nargs="?", metavar="PROMPT_SET", help="a shipped set's name (e.g. starter-20) or a set file: .toml, .csv, .tsv, .jsonl or .ndjson")
    parser.add_argument("--model", action="append", default=[], metavar="ID_OR_PATH", help="a model (repeatable; default: the starter pair)")
    parser.add_argument("--lang", type=_languages, default=None, metavar="en,zh", help="only prompts in these languages (default: all)")
    parser.add_argument("--topic", action="append", default=None, metavar="TOPIC", help="only prompts on this topic (repeatable)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N questions (each in every language asked)")
    parser.add_argument("--resume", type=record_id, default=None, metavar="BATCH_ID", help="finish an interrupted batch with its own prompts, models and settings (the options above are not used)")
    parser.add_argument("--max-tokens", type=int, default=GenerationParams.max_tokens)
    parser.add_argument("--seed", type=int, help="sampling seed (default: a new one, recorded)")
    parser.add_argument("--threads", type=int, default=all_cores(), help=f"CPU threads per model (default: all {all_cores()} cores)")
    parser.add_argument(
        "--sequences", type=_sequences, default=None, metavar="N|auto",
        help=f"prompts each local model answers at once, decoded together (1 to {MAX_SEQUENCES}; default: auto, up to 8 as the memory allows; 1: one at a time)",
    )  # fmt: skip
    add_switches(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    # SUPPRESS: a --db or --folder given before the subcommand is kept.
    parser.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="notebook file (default: WORKBENCH_DB or the user data folder)")
    parser.add_argument("--folder", type=Path, action="append", default=argparse.SUPPRESS, help="also look for GGUF files here (repeatable)")
    parser.set_defaults(func=cmd_batch)


def _languages(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [c for c in chosen if c not in LANGUAGES]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"languages are {', '.join(LANGUAGES)} (comma-separated)")
    return chosen


def _sequences(text: str) -> int | None:
    """A number of sequences, or None for "auto" (chosen from the models and the memory)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return check_sequences(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a whole number from 1 to {MAX_SEQUENCES}, or auto") from None


def cmd_batch(args: argparse.Namespace) -> int:
    if (args.prompt_set is None) == (args.resume is None):
        print("workbench batch: give a PROMPT_SET, or --resume BATCH_ID", file=sys.stderr)
        return 2
    prompt_set = None
    if args.resume is None:
        try:  # before the starter pair is prepared: a mistyped file costs nothing
            prompt_set = find_prompt_set(args.prompt_set)
        except PromptSetProblem as problem:
            print(f"workbench batch: {problem}", file=sys.stderr)
            return 2
    workspace = Workspace(getattr(args, "db", None), getattr(args, "folder", []), create_notebook=args.resume is None)  # a batch to resume is in a notebook that exists
    try:
        # Before the runner takes the catalog: the starter pair joins it here,
        # for a new batch's default models and a resumed batch's alike.
        workspace.prepare_starter(progress=None if args.json else lambda text: print(text, file=sys.stderr))
        runner = BatchRunner(workspace.comparison)
        entries = None
        if prompt_set is None:
            try:
                batch_id = runner.batches.get(args.resume).id
            except BatchNotFound as exc:
                print(f"workbench batch: {exc}", file=sys.stderr)
                return 1
        else:
            try:
                params = GenerationParams(
                    max_tokens=args.max_tokens,
                    seed=args.seed if args.seed is not None else random_seed(),
                    n_ctx=DEFAULT_CONTEXT,
                    n_threads=args.threads,
                    thinking=args.thinking, reasoning_effort=args.reasoning_effort, gpu_layers=args.gpu_layers,
                )
                if args.limit is not None and args.limit < 1:
                    raise ValueError("--limit must be at least 1")
            except ValueError as exc:
                print(f"workbench batch: {exc}", file=sys.stderr)
                return 2
            try:
                entries = _entries(workspace, args.model)
                batch_id = runner.create(prompt_set, entries, params, topics=args.topic, languages=args.lang, limit=args.limit, sequences=args.sequences).id
            except PromptSetProblem as problem:
                print(f"workbench batch: {problem}", file=sys.stderr)
                return 2
        return _run(runner, batch_id, entries, workspace, args.json)
    finally:
        workspace.close()


def _entries(workspace: Workspace, models: list[str]) -> list[ModelEntry]:
    if models:
        return [workspace.catalog.resolve(m) for m in models]
    return render.starter_pair(workspace)


def _run(runner: BatchRunner, batch_id: int, entries: list[ModelEntry] | None, workspace: Workspace, as_json: bool) -> int:
    progress = ProgressPrinter(sys.stderr, batch_id)

    def interrupted_note() -> None:
        progress.end_line()
        print("Stopping… (finished prompts are kept)", file=sys.stderr)

    result, interrupted = run_cancellable(
        lambda cancel: runner.run(batch_id, entries=entries, listener=progress, cancel=cancel),
        on_interrupt=interrupted_note,
    )
    progress.end_line()
    batch = result.batch
    rows = runner.batches.responses(batch_id)
    summary = {
        "batch_id": batch.id,
        "status": batch.status,
        "prompt_set": batch.prompt_set_id,
        "runs": batch.done,
        "total": batch.total,
        "responses": len(rows),
        "flags": runner.batches.flag_counts(batch_id),
    }
    summary["follow_ups"] = [
        {
            "follow_up": number,
            "responses": len(runner.batches.responses(batch_id, follow_up=number)),
            "flags": runner.batches.flag_counts(batch_id, follow_up=number),
        }
        for number in range(1, runner.batches.follow_up_count(batch_id) + 1)
    ]
    corrections = batch_corrections(workspace, batch_id)
    summary["checked"] = corrections[0]
    summary["corrections"] = [c.as_dict() for c in corrections[1]]
    if as_json:
        print(json_text(summary))
    else:
        print(_table(summary))
        print(corrections_text(*corrections))
    unsaved = next((outcome for outcome in result.ran if outcome.unsaved), None)
    if unsaved is not None:
        print(f"workbench: batch {batch.id} paused: its run {unsaved.run_id} ({unsaved.item.prompt_id}) is not completely saved. {unsaved.unsaved}", file=sys.stderr)
    if batch.status != DONE:
        print(
            f"Batch {batch.id}: {batch.done} of {batch.total} prompts done. Resume with:\n  workbench batch --resume {batch.id} --db {workspace.db_path}",
            file=sys.stderr,
        )
        return 130 if interrupted else 1
    return 0


def batch_corrections(workspace: Workspace, batch_id: int) -> tuple[int, list[FlagCorrection]]:
    """(answers people checked, a FlagCorrection per flag that has a label of its name);
    no corrections while nobody has checked an answer."""
    notebook = workspace.notebook
    answers = checked_answers(notebook, [batch_id])
    checked = sum(a.people is not None for a in answers)
    if not checked:
        return 0, []
    return checked, [correct(answers, flag) for flag in correctable_flags(label.name for label in notebook.labels.all())]


def corrections_text(checked: int, corrections: list[FlagCorrection]) -> str:
    """The corrected rates as plain text, the tables of the reports."""
    if not checked:
        return "Flag counts are uncorrected: nobody has checked an answer of this batch yet (docs/rates.md)."
    lines = [f"People checked {checked} answers. Flag rates corrected for the flags' errors (docs/rates.md):"]
    for correction in corrections:
        lines.append("")
        lines.append(f"{correction.flag} on the checked answers:")
        lines.extend(_columns(report.CHECK_COLUMNS, report.check_rows(correction)))
        lines.append(f"{correction.flag} rate, uncorrected and corrected:")
        lines.extend(_columns(report.CORRECTED_COLUMNS, report.corrected_rows(correction)))
        lines.extend(report.correction_lines(correction))
    return "\n".join(lines)


def _columns(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Aligned plain-text columns; the last (a note) is left as long as it is."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    widths[-1] = 0
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in (header, *rows)]


def _table(summary: dict[str, Any]) -> str:
    names = sorted({flag for counts in summary["flags"].values() for flag in counts})
    lines = [
        f"Batch {summary['batch_id']} ({summary['prompt_set']}): {summary['runs']} of {summary['total']} prompts, {summary['responses']} answers"
        + ("; answers per flag (uncorrected):" if names else "")
    ]
    lines += _flag_table(summary["flags"], names)
    for after in summary["follow_ups"]:
        shown = sorted({flag for counts in after["flags"].values() for flag in counts})
        lines.append(f"After follow-up {after['follow_up']}: {after['responses']} answers" + ("; answers per flag (uncorrected):" if shown else ""))
        lines += _flag_table(after["flags"], shown)
    return "\n".join(lines)


def _flag_table(flags: dict[str, dict[str, int]], names: list[str]) -> list[str]:
    """Models by flag names, the count of answers in each cell; nothing without names."""
    if not names:
        return []
    width = max(len(m) for m in flags)
    lines = [" " * width + "  " + "  ".join(names)]
    for model, counts in flags.items():
        lines.append(model.ljust(width) + "  " + "  ".join(str(counts.get(n, 0)).rjust(len(n)) for n in names))
    return lines


class ProgressPrinter(BatchListener):
    """The batch's listener for a terminal: a bar redrawn in place on a tty,
    one line per prompt otherwise, so CI logs stay readable."""

    def __init__(self, stream: TextIO, batch_id: int) -> None:
        self._stream = stream
        self._batch_id = batch_id
        self._tty = stream.isatty()
        self._drawn = False
        self._names: list[str] = []
        self._progress = Progress(0, 0, 0.0, None)  # the latest, redrawn while an item's follow-ups are asked

    def batch_started(self, batch: Batch, items: list[BatchItem]) -> None:
        self._names = [m.name for m in batch.models]
        left = sum(1 for i in items if i.status != "done")
        sequences = batch_sequences(batch)
        at_once = f", {sequences} at once" if sequences > 1 else ""
        self._print_line(f"Batch {batch.id}: {batch.prompt_set_id}, {left} of {len(items)} prompts to ask {', '.join(self._names)}{at_once}")

    def item_started(self, item: BatchItem, progress: Progress) -> None:
        self._progress = progress
        if self._tty:
            self._draw(progress, f"asking {item.prompt_id}…")

    def follow_up_started(self, item: BatchItem, number: int, total: int) -> None:
        if self._tty:
            self._draw(self._progress, f"asking {item.prompt_id}, follow-up {number} of {total}…")

    def item_finished(self, outcome: ItemOutcome, progress: Progress) -> None:
        line = f"{outcome.item.prompt_id} (run {outcome.run_id}, {outcome.duration_s:.1f} s): {self._results(outcome.flags, outcome.finish_reasons)}"
        after = [
            f"  after follow-up {f.number} (turn {f.turn}{'' if f.complete else ', cut short'}): {self._results(f.flags, f.finish_reasons)}"
            for f in outcome.follow_ups
        ]
        if self._tty:
            for text in (line, *after):
                self._print_line(text)
            self._draw(progress, "")
        else:
            for text in (f"[{progress.done}/{progress.total}, {_eta(progress)}] {line}", *after):
                self._print_line(text)

    def _results(self, flags: tuple[tuple[str, ...], ...], reasons: tuple[str, ...]) -> str:
        return "; ".join(f"{name}: {', '.join(names) or reason}" for name, names, reason in zip(self._names, flags, reasons))

    def problem(self, problem: EnvironmentProblem) -> None:
        self._print_line(f"note: {problem}")

    def end_line(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False

    def _draw(self, progress: Progress, what: str) -> None:
        filled = int(BAR_WIDTH * progress.done / progress.total) if progress.total else BAR_WIDTH
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        control(self._stream, CLEAR_LINE)
        self._stream.write(f"[{bar}] {progress.done}/{progress.total} {_eta(progress)} {what}")
        self._stream.flush()
        self._drawn = True

    def _print_line(self, text: str) -> None:
        if self._drawn:
            control(self._stream, CLEAR_LINE)
            self._drawn = False
        self._stream.write(text + "\n")
        self._stream.flush()


def _eta(progress: Progress) -> str:
    eta = progress.eta_s
    if eta is None:
        return "time left: measuring"
    minutes, seconds = divmod(int(round(eta)), 60)
    return f"time left: {minutes}m{seconds:02d}s" if minutes else f"time left: {seconds}s"
