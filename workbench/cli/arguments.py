"""How the command line's words become values: text that is valid UTF-8, ids SQLite can hold.

Every command's parser is a `WorkbenchParser`, so an argument without a
`type` (a prompt, a query, a note, a name) is checked as text by default and
a new option can't forget it. Paths keep `type=Path`: a file name may be any
bytes the file system allows. A value that fails is a misused command line:
argparse's usage line and one `error:` line, exit status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.engine.params import ALL_LAYERS, EFFORT_CHOICES, THINKING_CHOICES, GpuLayers, parse_gpu_layers


def text(value: str) -> str:
    """`value` if it is valid UTF-8. Python hands undecodable argv bytes over as
    lone surrogates (surrogateescape), which can be neither saved nor printed."""
    for position, char in enumerate(value, start=1):
        if "\udc80" <= char <= "\udcff":
            raise argparse.ArgumentTypeError(
                f"not valid UTF-8 (byte 0x{ord(char) - 0xDC00:02x} at character {position}); write it in UTF-8"
            )
        if "\ud800" <= char <= "\udfff":
            raise argparse.ArgumentTypeError(f"not valid UTF-8 (a lone surrogate at character {position}); write it in UTF-8")
    return value


def record_id(value: str) -> int:
    """A notebook id (a run, response, batch…): a whole number from 1 to 2**63-1."""
    # Here, not at the top: the notebook package brings sqlite-utils, and main.py
    # imports this module for `workbench --help` too.
    from ..core.notebook.ids import MAX_ID

    digits = value.strip()
    # ASCII digits only: int() also reads other scripts' digits ("١٢" as 12).
    if not (digits.isascii() and digits.isdecimal()):
        raise argparse.ArgumentTypeError(f"{value!r} is not an id (a whole number, as `workbench search --json` shows them)")
    number = int(digits)
    if not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{value} is not an id: ids are whole numbers from 1 to {MAX_ID}")
    return number


def add_workspace_options(parser: argparse.ArgumentParser, *, before_command: bool) -> None:
    """Options that work before or after the subcommand (`workbench --db X compare …`
    and `workbench compare … --db X`), for the window and the commands that open a
    workspace (`models`, `compare`). On subcommands they default to SUPPRESS, so they
    don't overwrite a value given before the subcommand. The folders given before it
    are kept apart (argparse would replace them with the subcommand's) and main.py's
    `parse` puts both together."""
    default_db = None if before_command else argparse.SUPPRESS
    parser.add_argument("--db", type=Path, default=default_db, help="notebook file (default: WORKBENCH_DB or the user data folder)")
    folders: dict[str, Any] = {"dest": "folder_before", "default": []} if before_command else {"default": argparse.SUPPRESS}
    parser.add_argument("--folder", type=Path, action="append", help="also look for GGUF files here (repeatable)", **folders)


def gpu_layers(value: str) -> GpuLayers:
    """--gpu-layers: "all" or a count of layers (GenerationParams.gpu_layers)."""
    try:
        return parse_gpu_layers(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: {exc}") from None


def add_switches(parser: argparse.ArgumentParser) -> None:
    """The settings every command that generates shares (`compare`, `batch`, `judge`): the
    chat template's switches (core/engine/switches.py) and the GPU layers. `args.thinking`,
    `args.reasoning_effort` and `args.gpu_layers` are GenerationParams' fields of the same names."""
    parser.add_argument(
        "--thinking", choices=THINKING_CHOICES, default=THINKING_CHOICES[0],
        help="thinking on or off, for models whose chat template has the switch (Qwen3, DeepSeek hybrids); default: the template's own",
    )  # fmt: skip
    parser.add_argument(
        "--reasoning-effort", choices=EFFORT_CHOICES, default=EFFORT_CHOICES[0],
        help="reasoning effort, for models whose chat template takes one (gpt-oss); default: the template's own",
    )  # fmt: skip
    parser.add_argument(
        "--gpu-layers", type=gpu_layers, default=ALL_LAYERS, metavar="all|N",
        help="how many of each model's layers llama.cpp puts on the GPU: all, or a number (0: CPU only); "
        "a CPU-only llama.cpp ignores it (default: all)",
    )  # fmt: skip


class WorkbenchParser(argparse.ArgumentParser):
    """An ArgumentParser whose untyped arguments are checked by `text`; its subcommands' parsers are one too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("type", None, text)

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction[Any]:
        action = super().add_subparsers(**kwargs)
        # The subcommand's action hands every word after the command's name to
        # its parser; its own type must not check them as text (paths among them).
        action.type = str
        return action
