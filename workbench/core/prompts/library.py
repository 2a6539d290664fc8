"""The team's prompt sets, shipped in the project's `prompts/` folder, and
finding a set by name or path (what `workbench batch PROMPT_SET` needs): a
set file is TOML, or a CSV, TSV or JSON Lines table, told apart by its suffix."""

from __future__ import annotations

import os
from pathlib import Path

from ..paths import resources_dir
from .model import PromptSet
from ..user_files import check_input
from .problems import PromptSetProblem, unreadable
from .tables import TABLE_SUFFIXES, read_table_set
from .toml_file import load_prompt_set

SUFFIX = ".toml"
SET_SUFFIXES = (SUFFIX, *TABLE_SUFFIXES)


def prompt_sets_dir() -> Path:
    """`prompts/` beside `resources/`: the checkout's root, or the PyInstaller
    bundle's folder (build.spec must ship `prompts/` next to `resources/`)."""
    return resources_dir().parent / "prompts"


def available_prompt_sets() -> list[str]:
    """Names of the shipped sets (file names without .toml), sorted."""
    folder = prompt_sets_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob(f"*{SUFFIX}"))


def find_prompt_set(name_or_path: str | Path) -> PromptSet:
    """A shipped set by name ("prc-sensitive") or any set file by path."""
    path = Path(name_or_path)
    if os.path.lexists(path) and not path.is_dir():
        return read_prompt_set_file(path)  # a FIFO, a device or a dangling link: refused, saying which
    shipped = prompt_sets_dir() / f"{name_or_path}{SUFFIX}"
    if shipped.is_file():
        return load_prompt_set(shipped)
    names = ", ".join(available_prompt_sets()) or "none found in " + str(prompt_sets_dir())
    raise PromptSetProblem(f"No prompt set named or at {str(name_or_path)!r}. Shipped sets: {names}.")


def read_prompt_set_file(path: Path) -> PromptSet:
    """A set file of any accepted format, chosen by its suffix (docs/prompt-sets.md)."""
    suffix = path.suffix.lower()
    if suffix == SUFFIX:
        return load_prompt_set(path)
    if suffix in TABLE_SUFFIXES:
        return read_table_set(path)
    try:  # a FIFO or a device is named as such, whatever its name
        check_input(path)
    except OSError as exc:
        raise unreadable(path, "the prompt set", exc) from exc
    raise PromptSetProblem(f"{path}: can't tell the prompt set's format from its name; use {', '.join(SET_SUFFIXES)}.")
