"""How the CLI shows models and comparisons in a terminal: the models table, streamed
answers, their flags, the JSON of an outcome.

The terminal-safe writing every command shares (TerminalText, `control`,
`json_text`) is in terminal.py, which imports nothing heavy: this module brings
the catalog, the comparison and the flags along, which only `models`, `compare`
and the window's terminal fallback need.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..core.catalog import ModelEntry
from ..core.comparison import ComparisonListener, ResponseOutcome, RunOutcome
from ..core.engine.formats import reasoning_never_ended
from ..core.engine.offload import NOT_RUN_YET
from ..core.engine.offload import describe as describe_ran_on
from ..core.engine.reasoning import REASONING
from ..core.errors import EnvironmentProblem
from ..core.invisible import visible_controls
from ..core.paths import frozen_app
from ..core.flagging import describe_basis
from .terminal import CLEAR_LINE, color_enabled, control, discard_stdout

if TYPE_CHECKING:
    from ..core.workspace import Workspace

EVIDENCE_CHARS = 30  # of a flag's evidence words, in the one line of flags after an answer


def progress_printer(quiet: bool) -> Callable[[str], None] | None:
    """Where the starter pair's first-time preparation (joining Qwen's chunks, checking
    SHA-256) reports: stderr, or nowhere when stdout is JSON a script reads."""
    return None if quiet else lambda text: print(text, file=sys.stderr)


def starter_pair(workspace: Workspace) -> list[ModelEntry]:
    """The models a command asks when none is named: the starter models that are ready,
    after a note on stderr when that is only part of the pair (which one is missing and how
    to get it). Raises EnvironmentProblem when none is ready."""
    entries = workspace.starter_entries()
    if not entries:
        problems = " ".join(workspace.starter_problems) or "The starter models are not installed."
        raise EnvironmentProblem(f"No model named and no starter models ready. {problems}")
    shortfall = workspace.starter_shortfall()
    if shortfall:
        print(f"note: {shortfall}", file=sys.stderr)
    return entries


# A piece of the stream printer's output: text, and the SGR code it is shown in
# (None: plain), or CLEAR_LINE's marker.
Piece = tuple[str, str | None]
_REDRAW: Piece = ("", "redraw")


def origin_label(entry: ModelEntry) -> str:
    origin = entry.origin
    label = origin.country or "origin unknown"
    if origin.maker:
        label += f" · {origin.maker}"
    if origin.base_maker and origin.base_maker != origin.maker:
        label += f" (on {origin.base_maker}'s {origin.base_family or 'model'}, {origin.base_country or '?'})"
    return label


def _human_count(value: int | None) -> str:
    if not value:
        return "?"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}".replace(".0", "")
    return str(value)


def models_table(entries: list[ModelEntry], ran_on: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """One row per model; RAN ON: what its newest answer ran on (engine/offload.py), from
    `ran_on` (by SHA-256, Workspace.last_ran_on)."""
    if not entries:
        if frozen_app():
            return "No models found. Add GGUF files to a folder and use --folder, or download some: `workbench pull --list` names them."
        return "No models found. Add GGUF files to a folder and use --folder, or install the starter pair (make run)."
    rows = [("ID", "ORIGIN", "PARAMS", "QUANT", "CONTEXT", "RAN ON", "STATUS")]
    for e in entries:
        m = e.metadata
        rows.append(
            (
                e.id,
                origin_label(e),
                _human_count(m.parameters if m else None),
                "remote" if e.remote else (m.quantization if m else None) or "?",
                str(m.context_length) if m and m.context_length else "?",
                "-" if e.remote else describe_ran_on((ran_on or {}).get(e.sha256 or "")) or NOT_RUN_YET,
                f"{e.status} (endpoint {e.endpoint})" if e.remote else e.status,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths)) + "  " + r[-1] for r in rows]
    return "\n".join(lines)


def response_json(r: ResponseOutcome) -> dict[str, Any]:
    return {
        "response_id": r.response_id,
        "model_id": r.entry.id,
        "model_name": r.entry.name,
        "origin_country": r.entry.origin.country,
        "text": r.answer,
        "reasoning": r.reasoning,
        "finish_reason": r.result.finish_reason,
        "completion_tokens": r.result.completion_tokens,
        "ttft_s": r.result.ttft_s,
        "tokens_per_s": r.result.tokens_per_s,
        "error": r.result.error,
        "maker": r.entry.origin.maker,
        "sha256": r.entry.sha256,
        "prompt_tokens": r.result.prompt_tokens,
        "duration_s": r.result.duration_s,
        "load_s": r.load_s,
        "flags": list(r.flags.flags) if r.flags else [],
        "flag_sources": [d.to_json() for d in r.flags.decisions] if r.flags else [],
        "saved": r.unsaved is None,
        # The settings recorded with the answer, the template switches and any it ignored among them.
        "sampler": r.sampler,
        "note": r.note,
    }


def outcome_json(turns: list[RunOutcome]) -> dict[str, Any]:
    """`compare --json`: the documented keys describe the last turn asked; each response
    adds `turns`, its conversation (every turn asked, in order: the prompt and its answer)."""
    last = turns[-1]
    responses = []
    for r in last.responses:
        said = [t.responses[r.position] for t in turns]
        conversation = [
            {"prompt": t.prompt, "text": s.answer, "reasoning": s.reasoning, "finish_reason": s.result.finish_reason,
             "completion_tokens": s.result.completion_tokens}
            for t, s in zip(turns, said)
        ]  # fmt: skip
        responses.append(dict(response_json(r), turns=conversation))
    return {"run_id": last.run_id, "prompt": last.prompt, "responses": responses}


def result_line(r: ResponseOutcome) -> str:
    res = r.result
    parts = [res.finish_reason]
    if res.completion_tokens is not None:
        parts.append(f"{res.completion_tokens} tokens")
    if res.tokens_per_s:
        parts.append(f"{res.tokens_per_s:.1f} tokens/s")
    if res.ttft_s is not None:
        parts.append(f"first token {res.ttft_s:.2f} s")
    return " · ".join(parts)


def flags_line(r: ResponseOutcome) -> str | None:
    """One line naming the answer's automatic flags, each with what it rests on and
    the first words it quotes (control characters from the model written out)."""
    report = r.flags
    if report is None:
        return None
    if not report.flags:
        return "flags (automatic): none"
    parts = []
    for name in report.flags:
        decision = report.decision(name)
        about = [describe_basis(decision.basis, decision.confidence)] if decision else []
        words = next((e.text for e in report.evidence if e.flag == name and e.text.strip()), None)
        if words:
            words = " ".join(visible_controls(words).split())
            about.append("“" + (words if len(words) <= EVIDENCE_CHARS else words[: EVIDENCE_CHARS - 1] + "…") + "”")
        parts.append(name + (f" ({'; '.join(about)})" if about else ""))
    return "flags (automatic): " + " · ".join(parts)


class ProblemPrinter(ComparisonListener):
    """For --json runs: only problems (a full disk, say) reach the terminal, on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def problem(self, problem: EnvironmentProblem) -> None:
        print(f"workbench: {problem}", file=self._stream)


class StreamPrinter(ProblemPrinter):
    """Streams answers as they arrive. One model after another streams live;
    models running at the same time would interleave, so each of their answers
    is printed whole when it is done."""

    def __init__(self, stream: TextIO, entries: list[ModelEntry], parallel: bool, prompts: tuple[str, ...] = ()) -> None:
        super().__init__(sys.stderr)
        self._out: TextIO | None = stream
        self._entries = entries
        self._parallel = parallel
        self._prompts = prompts  # of every turn, the first one's included (--then), to head each follow-up
        self._color = color_enabled(stream)
        self._current: int | None = None
        self._run_started = False
        self._kind: dict[int, str] = {}
        self._buffers: dict[int, list[Piece]] = {}
        self._lock = threading.Lock()
        if parallel:
            self._print(("Models run at the same time; each answer appears when it is complete.\n", "2"))

    def _print(self, *pieces: Piece) -> None:
        if self._out is None:
            return
        try:
            for text, code in pieces:
                if code == "redraw":
                    control(self._out, CLEAR_LINE)
                elif code and self._color:
                    control(self._out, f"\033[{code}m")
                    self._out.write(text)
                    control(self._out, "\033[0m")
                else:
                    self._out.write(text)
            self._out.flush()
        except BrokenPipeError:
            # Piped into `head` or a closed pager: stop printing, keep running and saving.
            self._out = None
            discard_stdout()

    def _header(self, position: int) -> list[Piece]:
        entry = self._entries[position]
        title = f"── {entry.name} · {origin_label(entry)} "
        width = min(shutil.get_terminal_size((80, 20)).columns, 100)
        return [("\n", None), (title.ljust(width, "─"), "1"), ("\n", None)]

    def run_created(self, run_id: int, response_ids: list[int]) -> None:
        self._run_started = True
        self._print((f"Run {run_id}", "2"), ("\n", None))

    def turn_created(self, run_id: int, turn: int, response_ids: list[int]) -> None:
        """A follow-up: its prompt heads it, and each model's answer gets its header again."""
        with self._lock:
            self._current = None
            self._kind.clear()
            prompt = self._prompts[turn] if turn < len(self._prompts) else ""
            self._print(("\n", None), (f"Run {run_id} · follow-up {turn}", "1"), ("\n", None), (prompt, None), ("\n", None))

    def model_status(self, position: int, status: str) -> None:
        with self._lock:
            if not self._run_started:
                # Before the run exists (hashing a new file): a note, not a section.
                self._print((f"{self._entries[position].name}: {status}", "2"), ("\n", None))
                return
            if not self._parallel and self._current != position:
                self._current = position
                self._print(*self._header(position))
            if not self._parallel and self._color:
                # A transient status line, overwritten by the answer.
                self._print((f"[{status}]", "2"), _REDRAW)

    def text(self, position: int, parts: list[tuple[str, str]]) -> None:
        with self._lock:
            out: list[Piece] = []
            for kind, text in parts:
                previous = self._kind.get(position)
                if kind != previous:
                    self._kind[position] = kind
                    if kind == REASONING:
                        out.append(("[thinking]\n", "2"))
                    elif previous == REASONING:
                        out.append(("\n[answer]\n", "2"))
                out.append((text, "2" if kind == REASONING else None))
            if self._parallel:
                self._buffers.setdefault(position, []).extend(out)
            else:
                self._print(*out)

    def response_finished(self, outcome: ResponseOutcome) -> None:
        with self._lock:
            body: list[Piece] = []
            if self._parallel:
                body = self._header(outcome.position) + self._buffers.pop(outcome.position, [])
            elif self._current != outcome.position:
                self._current = outcome.position
                body = self._header(outcome.position)
            tail: list[Piece] = [("\n", None), (f"[{result_line(outcome)}", "2")]
            error = outcome.result.error or reasoning_never_ended(outcome.answer, outcome.reasoning, outcome.result.finish_reason)
            if error:
                tail += [("\n", None), (error, "31")]
            tail += [("]", "2"), ("\n", None)]
            if outcome.note:
                tail += [(f"note: {outcome.note}", "2"), ("\n", None)]
            flags = flags_line(outcome)
            if flags:
                tail += [(flags, "2"), ("\n", None)]
            self._print(*body, *tail)

    def summary(self, turns: list[RunOutcome], db_path: Path) -> None:
        """"Saved" only when the notebook holds every answer of every turn and their
        flags; what it lacks is said by `unsaved_line`, on stderr."""
        if not any(t.unsaved for t in turns):
            self._print((f"\nSaved as run {turns[-1].run_id} in {db_path}\n", None))


def unsaved_line(outcome: RunOutcome, db_path: Path) -> str | None:
    """The one line that says what of a run the notebook lacks, and why."""
    lacking = [(r.entry.name, r.unsaved) for r in outcome.responses if r.unsaved is not None]
    if not lacking:
        return None
    which = ", ".join(f"{name}'s {unsaved.what}" for name, unsaved in lacking)
    if outcome.turn:
        which += f" (follow-up {outcome.turn})"
    return (
        f"run {outcome.run_id} is NOT completely saved in {db_path}: it lacks {which}. {lacking[0][1].reason} "
        "What is missing was shown above; ask again once the notebook can be written."
    )
