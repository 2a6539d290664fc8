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

Starting at once: `COMMANDS` names each command's module and keeps its one-line
help, so `workbench --help` lists them all without importing one, and
`workbench CMD …` imports CMD's module alone (its `add_CMD(subparsers)` builds
its parser then). This module and what it imports at the top stay light (the
standard library, arguments.py, terminal.py): numpy, sqlite-utils, openai, Qt
and the like load only with the command that needs them. The bare `workbench`
(the window) is cmd_window.py, imported the same way.
tests/test_entry_imports.py holds this to what `--help` loads.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import __version__
from ..core.engine.params import GenerationParams
from ..core.errors import EnvironmentProblem
from .arguments import WorkbenchParser, add_workspace_options
from .terminal import TerminalText, discard_stdout

# 128 + SIGPIPE: what a shell reports for a program a closed pipe stopped.
EXIT_BROKEN_PIPE = 141


class Command(NamedTuple):
    module: str  # in workbench.cli; its `add_<command>(subparsers)` adds the command's parser
    help: str  # the one line `workbench --help` shows
    loads_models: bool = False  # a model process is started before its module is imported


# In the order `workbench --help` lists them.
COMMANDS: dict[str, Command] = {
    "models": Command("cmd_models", "list every model found, with origin and status"),
    "compare": Command("cmd_compare", "ask several models the same prompt and save the run", loads_models=True),
    "search": Command("cmd_notebook", "find prompts, answers, reasoning and notes in the notebook (English and Chinese)"),
    "annotate": Command("cmd_notebook", "put a label (and a note) on an answer in the notebook"),
    "flag": Command("cmd_flag", "suggest flags (refusal, evasion, state narrative…) for answers read as JSON Lines from stdin"),
    "reflag": Command("cmd_reflag", "recompute the automatic flags of answers already in the notebook (labels stay)"),
    "batch": Command("cmd_batch", "ask every prompt of a prompt set (English and Chinese) of several models, with automatic flags", loads_models=True),
    "judge": Command("cmd_judge", "have a model label answers with SpeechMap's rubric (complete, evasive, denial), as an annotator of its own", loads_models=True),
    "export": Command("cmd_export", "write runs with their answers and annotations as Markdown, HTML, PDF, CSV or JSON Lines"),
    "import": Command("cmd_export", "merge a JSON Lines export (a colleague's runs and annotations) into the notebook"),
    "demo": Command("cmd_demo", "list, export or import classroom demo scripts"),
    "diff": Command("cmd_diff", "show how two saved answers differ, word by word (Chinese: character by character)"),
    "endpoint": Command("cmd_endpoint", "add, list, test or remove OpenAI-compatible endpoints (vLLM, llama-server, Ollama, hosted APIs)"),
    "pull": Command("cmd_pull", "download a curated model (`pull --list`) or any GGUF from Hugging Face, checked against the hub's SHA-256"),
}


if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    _SubParsers = argparse._SubParsersAction


class _LazyCommands(_SubParsers):
    """The subcommands of `workbench`, each one's parser built only once it is chosen.

    Each command is listed (its help from COMMANDS) with an empty parser in its place,
    which is all argparse needs to list the commands and to refuse an unknown one.
    When argparse picks a command, its module is imported and its `add_<command>`
    adds the real parser in place of the empty one."""

    def list_commands(self, commands: dict[str, Command]) -> None:
        self._unbuilt = dict(commands)
        for name, command in commands.items():
            self._choices_actions.append(self._ChoicesPseudoAction(name, (), command.help))
            self._name_parser_map[name] = self._parser_class(prog=f"{self._prog_prefix} {name}")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        name = values[0]
        command = self._unbuilt.pop(name, None)
        if command is not None:
            del self._name_parser_map[name]
            if command.loads_models and not {"-h", "--help"} & set(values[1:]):
                # Its Python and llama.cpp start while this one imports the command (local.py).
                from ..core.engine.local import start_spare

                start_spare()
            module = importlib.import_module(f"{__package__}.{command.module}")
            getattr(module, f"add_{name}")(self)
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    parser = WorkbenchParser(
        prog="workbench",
        description="Ask local models from the US and China the same question, side by side, and keep the evidence.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_workspace_options(parser, before_command=True)
    parser.add_argument("--screenshot", type=Path, metavar="PATH", help="open the window offscreen, run the prompt, save a PNG and exit")
    parser.add_argument("--prompt", help="with --screenshot: the prompt to run")
    parser.add_argument("--model", action="append", default=[], metavar="ID_OR_PATH", help="with --screenshot: a model to show (repeatable)")
    # Its own dest: `compare --max-tokens` and the like keep theirs.
    parser.add_argument(
        "--max-tokens", type=int, dest="screenshot_max_tokens", metavar="N",
        help=f"with --screenshot: the longest answer in tokens (default {GenerationParams.max_tokens})",
    )  # fmt: skip
    commands = parser.add_subparsers(action=_LazyCommands, dest="command", metavar="COMMAND")
    assert isinstance(commands, _LazyCommands)
    commands.list_commands(COMMANDS)
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's values; `--folder` repeated before and after the subcommand keeps all of them."""
    args = build_parser().parse_args(argv)
    args.folder = args.folder_before + getattr(args, "folder", [])
    return args


def main(argv: list[str] | None = None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    # None in a windowed (PyInstaller) app, where print() writes nothing.
    sys.stdout, sys.stderr = (TerminalText(s) if s is not None else None for s in (stdout, stderr))
    try:
        return _run(parse(argv))
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command:
            status: int = args.func(args)
        else:
            from .cmd_window import cmd_window

            status = cmd_window(args)
        if sys.stdout is not None:
            sys.stdout.flush()  # A closed pipe shows here, not in Python's flush at exit.
        return status
    except BrokenPipeError:
        discard_stdout()
        return EXIT_BROKEN_PIPE
    except EnvironmentProblem as problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
