"""The annotator name a person chooses: checked one way, saved where the CLI and the window both read it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli_process import in_process as workbench
from workbench.core.annotator_name import AnnotatorNameProblem, current_annotator, person_name
from workbench.core.notebook import open_notebook
from workbench.core.settings import Settings


@pytest.mark.parametrize("typed, problem", [
    ("", "An annotator name is needed"),
    (" \t\n ", "An annotator name is needed"),
    ("ana\u202eevil", "invisible control character (U+202E)"),
    ("ana\x07", "invisible control character (U+0007)"),
    ("a" * 65, "65 characters long"),
    ("Judge:Qwen", "kept for model judges"),
])  # fmt: skip
def test_a_name_that_cant_be_used_says_why(typed: str, problem: str) -> None:
    with pytest.raises(AnnotatorNameProblem, match=re.escape(problem)):
        person_name(typed)


def test_a_usable_name_is_trimmed_and_keeps_its_script() -> None:
    assert person_name("  Dana \t Lee  ") == "Dana Lee"
    assert person_name("مهدی\u200cزاده") == "مهدی\u200cزاده"  # a zero-width non-joiner is how Persian spells it
    assert person_name("王小明") == "王小明" and person_name("a" * 64) == "a" * 64


def test_the_saved_name_survives_a_restart_and_a_broken_one_is_ignored(isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_ANNOTATOR", raising=False)
    settings = Settings.load()
    settings.add_folder(isolated_dirs)
    with pytest.raises(AnnotatorNameProblem):
        settings.set_annotator("judge:me")
    assert settings.annotator == ""  # refused: nothing changed
    assert settings.set_annotator(" ana ") == "ana"
    again = Settings.load()
    assert (again.annotator, again.model_folders) == ("ana", [str(isolated_dirs)])
    assert current_annotator(again.annotator) == "ana"
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "bo")
    assert current_annotator(again.annotator) == "bo" and current_annotator(again.annotator, use_env=False) == "ana"
    file = isolated_dirs / "config" / "settings.json"
    file.write_text(json.dumps({"model_folders": [], "annotator": "ana\x1b[2J"}), encoding="utf-8")  # a hand edit
    assert Settings.load() == Settings()


def test_an_unusable_environment_name_stops_the_command_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = open_notebook(tmp_path / "nb.sqlite")
    run_id = notebook.create_run("Q?", language="en")
    notebook.finish_response(notebook.add_response(run_id, 0, model_name="m", model_sha256=None, origin_country=None, seed=1, sampler={}), text="A.")
    notebook.close()
    monkeypatch.setenv("WORKBENCH_ANNOTATOR", "ana\x1b]0;pwned\x07")
    assert workbench("annotate", "--response", "1", "--label", "evasive", "--db", str(tmp_path / "nb.sqlite")) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench annotate: WORKBENCH_ANNOTATOR is not a usable annotator name.") and err.count("\n") == 1 and "\x1b" not in err
