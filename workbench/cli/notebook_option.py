"""The `--db` option and opening the notebook it names, for every command that reads or writes one.

Exit statuses are the CLI's convention: 0 done; 1 the environment got in the
way (a damaged or locked notebook, an id or name that is not in it), with one
line on stderr; 2 a misused command line (what was asked can't be done as
asked).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ..core.errors import EnvironmentProblem
from ..core.notebook import Notebook, open_chosen_notebook


def add_db(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a --db given before the subcommand (workbench --db X search …) is kept.
    parser.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="notebook file (default: WORKBENCH_DB or the user data folder)")


def with_notebook(command: str, args: argparse.Namespace, work: Callable[[Notebook], int], *, create: bool) -> int:
    """Open the notebook, run `work`, close it, and turn the user's problems into exit statuses.

    `create`: whether the command may start a new notebook at a --db path that has
    none (see open_chosen_notebook)."""
    try:
        notebook = open_chosen_notebook(getattr(args, "db", None), create=create)
    except EnvironmentProblem as problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 1
    try:
        return work(notebook)
    except EnvironmentProblem as problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 1
    except LookupError as problem:  # an id or name that is not in this notebook
        print(f"workbench {command}: {problem.args[0]}", file=sys.stderr)
        return 1
    except ValueError as problem:  # what was asked can't be done as asked
        print(f"workbench {command}: {problem}", file=sys.stderr)
        return 2
    finally:
        notebook.close()
