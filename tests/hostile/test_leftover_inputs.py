"""Hostile inputs found while fixing the rest of issue 15: each gets one line, no traceback.

An id too big for SQLite or written in other digits, files nested past what
Python's parsers follow, a batch recorded with settings now out of range, and
Unicode tag characters that would hide text on a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.notebook import open_notebook


@pytest.fixture
def notebook_path(tmp_path: Path) -> Path:
    db = tmp_path / "nb.sqlite"
    notebook = open_notebook(db)
    notebook.sessions.create("Study", annotator="ana")
    notebook.close()
    return db


@pytest.mark.parametrize("session", ["99999999999999999999999", "9223372036854775808", "²", "١٢", "0"])
@pytest.mark.parametrize("command", [["search", "x"], ["export", "--format", "md", "-o", "out.md"]])
def test_a_session_that_is_no_id_is_looked_up_as_a_name(
    notebook_path: Path, session: str, command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(notebook_path.parent)
    status = main([*command, "--session", session, "--db", str(notebook_path)])
    err = capsys.readouterr().err
    assert status == 1
    assert err == f"workbench {command[0]}: There is no session named {session!r} in the notebook.\n"
    assert not (notebook_path.parent / "out.md").exists()


def test_a_session_id_in_ascii_digits_still_finds_it(notebook_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "xy", "--session", " 1 ", "--db", str(notebook_path)]) == 0


@pytest.mark.parametrize("script", ["99999999999999999999999", "²"])
def test_a_demo_script_that_is_no_id_is_looked_up_as_a_title(notebook_path: Path, script: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = notebook_path.parent / "out.demo.jsonl"
    status = main(["demo", "--db", str(notebook_path), "export", script, "-o", str(out)])
    assert status == 1
    assert capsys.readouterr().err.startswith(f"workbench demo export: There is no demo script named {script!r} in the notebook")
    assert not out.exists()
