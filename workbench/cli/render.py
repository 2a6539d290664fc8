"""How the CLI shows things in a terminal: tables, streamed answers, JSON."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from ..core.catalog import ModelEntry
from ..core.comparison import ResponseOutcome, RunOutcome
from ..core.engine.reasoning import REASONING
from ..core.errors import EnvironmentProblem
from ..core.export.text import visible_controls
from ..core.flagging import describe_basis

EVIDENCE_CHARS = 30  # of a flag's evidence words, in the one line of flags after an answer


def discard_stdout() -> None:
    """After a BrokenPipeError (piped into `head`, a pager closed): point stdout at
    /dev/null, so nothing more is written and Python's flush at exit doesn't complain
    (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _color(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _style(text: str, code: str, on: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if on else text


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


def models_table(entries: list[ModelEntry]) -> str:
    if not entries:
        return "No models found. Add GGUF files to a folder and use --folder, or install the starter pair (make run)."
    rows = [("ID", "ORIGIN", "PARAMS", "QUANT", "CONTEXT", "STATUS")]
    for e in entries:
        m = e.metadata
        rows.append(
            (
                e.id,
                origin_label(e),
                _human_count(m.parameters if m else None),
                (m.quantization if m else None) or "?",
                str(m.context_length) if m and m.context_length else "?",
                e.status,
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
    }


def outcome_json(outcome: RunOutcome) -> dict[str, Any]:
    return {"run_id": outcome.run_id, "prompt": outcome.prompt, "responses": [response_json(r) for r in outcome.responses]}


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


class ProblemPrinter:
    """For --json runs: only problems (a full disk, say) reach the terminal, on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def problem(self, problem: EnvironmentProblem) -> None:
        print(f"workbench: {problem}", file=self._stream)


class StreamPrinter(ProblemPrinter):
    """Streams answers as they arrive. One model after another streams live;
    models running at the same time would interleave, so each of their answers
    is printed whole when it is done."""

    def __init__(self, stream: TextIO, entries: list[ModelEntry], parallel: bool) -> None:
        super().__init__(sys.stderr)
        self._out: TextIO | None = stream
        self._entries = entries
        self._parallel = parallel
        self._color = _color(stream)
        self._current: int | None = None
        self._run_started = False
        self._kind: dict[int, str] = {}
        self._buffers: dict[int, list[str]] = {}
        self._lock = threading.Lock()
        if parallel:
            self._print(_style("Models run at the same time; each answer appears when it is complete.\n", "2", self._color))

    def _print(self, text: str) -> None:
        if self._out is None:
            return
        try:
            self._out.write(text)
            self._out.flush()
        except BrokenPipeError:
            # Piped into `head` or a closed pager: stop printing, keep running and saving.
            self._out = None
            discard_stdout()

    def _header(self, position: int) -> str:
        entry = self._entries[position]
        title = f"── {entry.name} · {origin_label(entry)} "
        width = min(shutil.get_terminal_size((80, 20)).columns, 100)
        return "\n" + _style(title.ljust(width, "─"), "1", self._color) + "\n"

    def run_created(self, run_id: int, response_ids: list[int]) -> None:
        self._run_started = True
        self._print(_style(f"Run {run_id}", "2", self._color) + "\n")

    def model_status(self, position: int, status: str) -> None:
        with self._lock:
            if not self._run_started:
                # Before the run exists (hashing a new file): a note, not a section.
                self._print(_style(f"{self._entries[position].name}: {status}", "2", self._color) + "\n")
                return
            if not self._parallel and self._current != position:
                self._current = position
                self._print(self._header(position))
            if not self._parallel and self._color:
                # A transient status line, overwritten by the answer.
                self._print(_style(f"[{status}]", "2", True) + "\r\033[K")

    def text(self, position: int, parts: list[tuple[str, str]]) -> None:
        with self._lock:
            out = []
            for kind, text in parts:
                previous = self._kind.get(position)
                if kind != previous:
                    self._kind[position] = kind
                    if kind == REASONING:
                        out.append(_style("[thinking]\n", "2", self._color))
                    elif previous == REASONING:
                        out.append(_style("\n[answer]\n", "2", self._color))
                out.append(_style(text, "2", self._color) if kind == REASONING else text)
            if self._parallel:
                self._buffers.setdefault(position, []).extend(out)
            else:
                self._print("".join(out))

    def response_finished(self, outcome: ResponseOutcome) -> None:
        with self._lock:
            body = ""
            if self._parallel:
                body = self._header(outcome.position) + "".join(self._buffers.pop(outcome.position, []))
            elif self._current != outcome.position:
                self._current = outcome.position
                body = self._header(outcome.position)
            line = result_line(outcome)
            if outcome.result.error:
                line += "\n" + _style(outcome.result.error, "31", self._color)
            flags = flags_line(outcome)
            self._print(body + "\n" + _style(f"[{line}]", "2", self._color) + "\n" + (_style(flags, "2", self._color) + "\n" if flags else ""))

    def summary(self, outcome: RunOutcome, db_path: Path) -> None:
        self._print(f"\nSaved as run {outcome.run_id} in {db_path}\n")
