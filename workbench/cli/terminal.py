"""Writing to a terminal safely, for every command: what `main()` wraps stdout and stderr in.

Everything the CLI prints is untrusted somewhere: model answers and names,
GGUF metadata, notebook text others imported, file contents quoted in an
error. `main()` hands every command stdout and stderr wrapped in
`TerminalText`, which writes control characters out as `[U+001B]`, so no
command can forget; the CLI's own colours and line redraws go through
`control()`. `--json` output is built by `json_text`, which leaves nothing
for that wrapper to change.

Light on purpose (the standard library and core/invisible.py): `main()` needs it
before it knows which command runs, `workbench --help` included.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from ..core.invisible import spell_invisible, visible_controls

CLEAR_LINE = "\r\033[K"


class TerminalText:
    """A text stream that shows the control characters written to it as `[U+001B]`
    (C0 and C1 controls, DEL, a lone carriage return, bidi overrides), as `demo list`
    and the reports do (`visible_controls`): an answer, a name or a note can't retitle
    the window, clear the screen, set the clipboard (OSC 52), redraw a line or reorder
    text. Newlines and tabs stay. The CLI's own escape sequences go through `control`.

    Streamed text arrives in pieces: an escape sequence split between two writes is
    harmless all the same (its ESC is written out on its own), and a CR that ends one
    write before the LF that starts the next stays one line break."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._after_cr = False

    def write(self, text: str) -> int:
        given = len(text)
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
        if text:
            self._after_cr = text.endswith("\r")
        self._stream.write(visible_controls(text))
        return given

    def control(self, sequence: str) -> None:
        """Write one of the CLI's own escape sequences (a colour, a line redraw) as it is."""
        self._after_cr = False
        self._stream.write(sequence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)  # flush, isatty, fileno, encoding, reconfigure…


def control(stream: TextIO, sequence: str) -> None:
    """Write the CLI's own escape `sequence` to `stream`, past its TerminalText if it has one."""
    getattr(stream, "control", stream.write)(sequence)


def json_text(value: Any, indent: int | None = 2) -> str:
    """`value` as JSON for stdout: text kept exactly (not ASCII-escaped, so Chinese stays
    readable), with the controls JSON itself lets through raw (C1, DEL, bidi
    overrides, tag characters) escaped as `\\u009b` (a tag character as its two
    surrogates' escapes, as JSON spells characters past U+FFFF), so a terminal
    shows them inert and TerminalText has nothing to change."""
    dumped = json.dumps(value, ensure_ascii=False, indent=indent)
    return spell_invisible(dumped, lambda char: json.dumps(char)[1:-1])


def discard_stdout() -> None:
    """After a BrokenPipeError (piped into `head`, a pager closed): point stdout at
    /dev/null, so nothing more is written and Python's flush at exit doesn't complain
    (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def color_enabled(stream: TextIO) -> bool:
    """Whether the CLI colours what it writes to `stream`: only a terminal, and not with NO_COLOR set."""
    return stream.isatty() and not os.environ.get("NO_COLOR")
