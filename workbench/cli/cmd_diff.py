"""`workbench diff RESPONSE_A RESPONSE_B`: how two saved answers differ, word by word.

The ids are responses' ids, as `workbench search --json` and `compare --json`
show them: two models of one run, or one model in two runs. Paragraphs are
aligned and compared word by word (Chinese character by character;
core/analysis/answer_diff.py). Printed as git's --word-diff does:
`[-removed-]` and `{+added+}`; on a terminal (unless NO_COLOR is set) as
colour with a cue that needs none, struck-through red and underlined green.
Control characters in the answers are written out inert, as everywhere in the
CLI (terminal.TerminalText).

`--json` prints `{"a": …, "b": …, "removed", "added", "same", "rows"}`: each
answer's `response_id`, `run_id`, `position`, `model_name`, `model_sha256` and
`status`; per aligned paragraph pair, `left` and `right` (null where that
answer has no such paragraph) and `ops`, difflib's `[tag, left text, right
text]`. Exit status 0 when both answers were found and compared, 1 for an id
not in the notebook (one line on stderr), 2 for a misused command line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ..core.analysis.answer_diff import ADDED, REMOVED, SAME, AnswerDiff, Piece, diff_answers
from ..core.notebook.database import Notebook
from ..core.side_by_side import SavedAnswer, saved_answer
from .arguments import record_id
from .notebook_option import add_db, with_notebook
from .terminal import color_enabled, control, json_text

PLAIN_MARKS = {REMOVED: ("[-", "-]"), ADDED: ("{+", "+}")}
# SGR codes: struck-through red, underlined green (the line style is the cue colour-blind
# readers and washed-out projectors still see).
COLOUR_MARKS = {REMOVED: "9;31", ADDED: "4;32"}


def add_diff(subparsers: Any) -> None:
    """Add `diff` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    diff = subparsers.add_parser("diff")
    add_db(diff)
    diff.add_argument("response_a", type=record_id, metavar="RESPONSE_A", help="the first answer's id (`search --json` shows it)")
    diff.add_argument("response_b", type=record_id, metavar="RESPONSE_B", help="the answer to compare it with")
    diff.add_argument("--json", action="store_true", help="print the aligned paragraphs and their word changes as JSON")
    diff.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    def work(notebook: Notebook) -> int:
        a, b = saved_answer(notebook, args.response_a), saved_answer(notebook, args.response_b)
        diff = diff_answers(a.text, b.text)
        if args.json:
            print(json_text({"a": a.to_json(), "b": b.to_json(), **diff.to_json()}))
        else:
            print_diff(sys.stdout, a, b, diff)
        return 0

    return with_notebook("diff", args, work, create=False)


def print_diff(out: TextIO, a: SavedAnswer, b: SavedAnswer, diff: AnswerDiff) -> None:
    """The two answers' names, the counts, then each paragraph with its changes marked."""
    colour = color_enabled(out)
    out.write(f"--- response {a.response_id}: {a.title}\n+++ response {b.response_id}: {b.title}\n")
    out.write(f"{diff.summary}\n")
    for row in diff.rows:
        out.write("\n")
        _write(out, row.inline, colour)
        out.write("\n")


def _write(out: TextIO, pieces: tuple[Piece, ...], colour: bool) -> None:
    for piece in pieces:
        if piece.mark == SAME:
            out.write(piece.text)
            continue
        if colour:
            control(out, f"\033[{COLOUR_MARKS[piece.mark]}m")
            out.write(piece.body)
            control(out, "\033[0m")
        else:
            start, end = PLAIN_MARKS[piece.mark]
            out.write(f"{start}{piece.body}{end}")
        out.write(piece.trailing)
