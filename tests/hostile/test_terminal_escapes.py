"""Untrusted text on a terminal: a model's answer or name, a note, GGUF metadata.

ESC, BEL and OSC 52 sequences (set the window title, clear the screen, write
the clipboard), C1 controls, a lone CR that overwrites a line and bidi overrides
that reorder it are shown as `[U+001B]` on every command's output, as `demo
list` shows them, while newlines and tabs stay; --json keeps the text exactly,
as JSON escapes."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from cli_process import workbench
from notebooks import one_answer

from workbench.cli.main import main
from workbench.cli.render import StreamPrinter
from workbench.cli.terminal import TerminalText, json_text
from workbench.core.catalog import Catalog
from workbench.core.notebook import open_notebook

OSC52 = "\x1b]52;c;ZWNobyBvd25lZA==\x07"  # puts "echo owned" on the clipboard
TITLE = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J\x1b[H"
HOSTILE = f"Tiananmen{OSC52}{TITLE}{CLEAR} \x9b31m\u202eevil\rfine\x7f"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def raw_controls(text: str) -> list[str]:
    return RAW.findall(text)


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    """A notebook whose prompt, model name, answer, reasoning and note all carry escapes."""
    db = tmp_path / "nb.sqlite"
    rid = one_answer(db, f"Tiananmen prompt {TITLE}", HOSTILE, model_name=f"Model{TITLE}", origin_country="CN", reasoning=f"Tiananmen thinking {OSC52}")
    notebook = open_notebook(db)
    notebook.annotations.set_response_note(rid, f"Tiananmen note {CLEAR}", annotator="ana")
    notebook.close()
    return db


def test_search_shows_the_notebook_s_controls_written_out(hostile_db: Path) -> None:
    done = workbench("search", "Tiananmen", "--db", str(hostile_db))
    assert done.returncode == 0, done.stderr
    assert raw_controls(done.stdout + done.stderr) == []
    assert "[U+001B]]52;c;ZWNobyBvd25lZA==[U+0007]" in done.stdout and "[U+202E]" in done.stdout and "[U+009B]" in done.stdout
    assert "Model[U+001B]]0;owned[U+0007]" in done.stdout


def test_search_json_keeps_the_text_exactly_as_json_escapes(hostile_db: Path) -> None:
    done = workbench("search", "Tiananmen", "--json", "--db", str(hostile_db))
    assert done.returncode == 0, done.stderr
    assert raw_controls(done.stdout) == []
    hits = json.loads(done.stdout)
    assert any(OSC52 in hit["snippet"] for hit in hits) and any("\u202e" in hit["snippet"] and "\x9b" in hit["snippet"] for hit in hits)
    assert {hit["model_name"] for hit in hits if hit["response_id"]} == {f"Model{TITLE}"}


def test_json_text_escapes_what_json_itself_lets_through() -> None:
    dumped = json_text({"text": HOSTILE, "中文": "台湾"})
    assert raw_controls(dumped) == [] and "台湾" in dumped
    assert json.loads(dumped) == {"text": HOSTILE, "中文": "台湾"}


def test_every_command_s_output_goes_through_the_escaping_stream(hostile_db: Path, tiny_model: Path, capsys: pytest.CaptureFixture) -> None:
    """Notebook text on stdout and a model's name in the judge's progress lines on
    stderr alike: main() wraps both streams for every command."""
    assert main(["search", "Tiananmen", "--db", str(hostile_db)]) == 0
    assert main(["judge", "--run", "1", "--model", str(tiny_model), "--max-tokens", "8", "--threads", "1", "--db", str(hostile_db)]) == 0
    captured = capsys.readouterr()
    assert raw_controls(captured.out + captured.err) == []
    assert "Model[U+001B]]0;owned[U+0007]" in captured.out and "Model[U+001B]]0;owned[U+0007], response 1" in captured.err


def test_the_terminal_stream_escapes_sequences_split_between_writes() -> None:
    out = io.StringIO()
    terminal = TerminalText(out)
    for piece in ("Hello \x1b", "]52;c;b3duZWQ=", "\x07 line one\r", "\nline two\r", "over\tthe tab\n"):
        terminal.write(piece)
    assert out.getvalue() == "Hello [U+001B]]52;c;b3duZWQ=[U+0007] line one\nline two\nover\tthe tab\n"


def test_streamed_answers_keep_only_the_cli_s_own_colours(tiny_model: Path) -> None:
    """With colours on (a terminal), the only escape sequences left are the CLI's own."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    entry = Catalog([tiny_model.parent]).resolve(str(tiny_model))
    printer = StreamPrinter(TerminalText(out), [entry], parallel=False)
    printer.run_created(1, [1])
    printer.model_status(0, "generating…")
    printer.text(0, [("reasoning", f"think {TITLE}")])
    printer.text(0, [("answer", "answer \x1b"), ("answer", "[2J\x9b cleared?\r\n")])
    own = re.compile(r"\x1b\[(?:[0-9]+m|K)|\r(?=\x1b\[K)")
    shown = own.sub("", out.getvalue())
    assert raw_controls(shown) == [], shown
    assert "[U+001B]]0;owned[U+0007]" in shown and "answer [U+001B][2J[U+009B] cleared?\n" in shown


def test_compare_streams_a_model_s_control_characters_inert(tiny_model: Path, tmp_path: Path) -> None:
    """The tiny model at a high temperature writes random bytes, ESC and BEL among them:
    kept exactly in the notebook, written out on the terminal."""
    db = tmp_path / "nb.sqlite"
    done = workbench("compare", "Hello", "--model", str(tiny_model), "--max-tokens", "200", "--ctx", "256",
                     "--threads", "1", "--temperature", "2", "--seed", "3", "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert raw_controls(done.stdout + done.stderr) == []
    with sqlite3.connect(db) as conn:
        answer = conn.execute("select text from responses").fetchone()[0]
    assert "\x1b" in answer and "[U+001B]" in done.stdout
