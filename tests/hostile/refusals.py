"""The one way a refused file must end: exit 1, one line, and the notebook as it was."""

from __future__ import annotations

import re
from pathlib import Path

from export_fixtures import snapshot
from workbench.cli.main import main


def refused(notebook_path: Path, bad: Path, content: bytes, command: list[str], says: str, capsys) -> None:
    """`workbench COMMAND BAD --db NOTEBOOK` with `content` in BAD exits 1 with one line on
    stderr that matches `says`, and every row of the notebook is as it was."""
    before = snapshot(notebook_path)
    bad.write_bytes(content)
    assert main([*command, str(bad), "--db", str(notebook_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    assert captured.err.startswith(f"workbench: {bad.name} was not imported: ") and captured.err.endswith("Nothing in the notebook was changed.\n")
    assert re.search(says, captured.err), captured.err
    assert snapshot(notebook_path) == before
