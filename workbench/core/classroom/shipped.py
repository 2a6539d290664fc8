"""Demo scripts shipped with the workbench: `prompts/demos/*.demo.jsonl`.

Each is a demo file like one a teacher exports (demo_file.py), written by a
tool in tools/ so that it is exactly what the app would write. A shipped
script enters a notebook only when it is used: `workbench demo export TITLE`
and choosing it in the window's demo panel import it then. So a teacher who
deletes it is not handed it back, and a notebook that already holds it (the
same uid) keeps its own, edited version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..export.importer import ImportProblem, read_file
from ..prompts import prompt_sets_dir
from .demo_file import SUFFIX, import_demo

if TYPE_CHECKING:
    from ..notebook.database import Notebook
    from ..notebook.demos import DemoScript


@dataclass(frozen=True)
class ShippedDemo:
    path: Path
    uid: str
    title: str
    steps: int


def shipped_demos_dir() -> Path:
    """Beside the shipped prompt sets, so a bundle that ships `prompts/` ships these."""
    return prompt_sets_dir() / "demos"


def shipped_demos() -> list[ShippedDemo]:
    """Every shipped script, by title. A file that can't be read is left out rather
    than hiding the others (tests/test_shipped_demos.py keeps the shipped ones whole)."""
    found = []
    for path in sorted(shipped_demos_dir().glob(f"*{SUFFIX}")):
        try:
            demo = read_file(path).header["demo"]
            found.append(ShippedDemo(path, str(demo["script"]["uid"]), str(demo["script"]["title"]), len(demo["steps"])))
        except (ImportProblem, KeyError, TypeError):
            continue
    return sorted(found, key=lambda d: d.title.casefold())


def shipped_not_in(notebook: Notebook) -> list[ShippedDemo]:
    """The shipped scripts this notebook has not taken in yet (by uid)."""
    have = {script.uid for script in notebook.demos.scripts()}
    return [demo for demo in shipped_demos() if demo.uid not in have]


def find_demo(notebook: Notebook, title_or_id: str) -> DemoScript:
    """A script of the notebook by title or id, or else the shipped script of that
    title, imported into the notebook first; LookupError when there is neither."""
    try:
        return notebook.demos.find(title_or_id)
    except LookupError:
        wanted = " ".join(title_or_id.split()).casefold()
        shipped = next((demo for demo in shipped_demos() if demo.title.casefold() == wanted), None)
        if shipped is None:
            raise
        return notebook.demos.get(import_demo(notebook, shipped.path).script_id)
