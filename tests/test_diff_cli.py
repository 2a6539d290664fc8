"""`workbench diff`: two saved answers word by word, terminal-safe, with --json and exit statuses."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cli_process import in_process as workbench
from workbench.cli.cmd_diff import print_diff
from workbench.core.analysis.answer_diff import diff_answers
from workbench.core.notebook import open_notebook
from workbench.core.side_by_side import saved_answer

HOSTILE = "The square was <b>cleared</b>.\x1b]0;owned\x07\n\n<script>alert(1)</script>"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Run 1: Llama (response 1) and Qwen (response 2); run 2: Qwen again (response 3), hostile."""
    path = tmp_path / "nb.sqlite"
    notebook = open_notebook(path)
    texts = [["The army cleared the square in June 1989.\n\nMany died.", "天安门广场在北京。\n\nMany died."], [HOSTILE]]
    for answers in texts:
        run_id = notebook.create_run("What happened in June 1989?", language="en")
        for position, text in enumerate(answers):
            name = "Llama" if (run_id, position) == (1, 0) else "Qwen"
            rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country=None, seed=1, sampler={})
            notebook.finish_response(rid, text=text)
    notebook.close()
    return path


def test_two_models_of_one_run_word_by_word(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert workbench("diff", "1", "2", "--db", str(db)) == 0
    assert capsys.readouterr().out == (
        "--- response 1: Llama · run 1, pane 1\n"
        "+++ response 2: Qwen · run 1, pane 2\n"
        "9 words removed, 9 added, 3 the same (Chinese counted by character).\n"
        "\n"
        "[-The army cleared the square in June 1989.-]{+天安门广场在北京。+}\n"
        "\n"
        "Many died.\n"
    )


def test_hostile_answers_are_printed_inert(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert workbench("--db", str(db), "diff", "2", "3") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "{+The square was <b>cleared</b>.[U+001B]]0;owned[U+0007]+}" in out
    assert "{+<script>alert(1)</script>+}" in out


def test_on_a_terminal_changes_are_coloured_and_struck_or_underlined(db: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    notebook = open_notebook(db)
    a, b = saved_answer(notebook, 1), saved_answer(notebook, 2)
    notebook.close()
    out = Terminal()
    print_diff(out, a, b, diff_answers("a b c", "a x c"))
    assert out.getvalue().endswith("\na \033[9;31mb\033[0m \033[4;32mx\033[0m c\n")


def test_json_names_both_answers_and_each_op(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert workbench("diff", "1", "3", "--json", "--db", str(db)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["a"] == {"response_id": 1, "run_id": 1, "position": 0, "model_name": "Llama", "model_sha256": None, "status": "done", "turn": 0}
    assert data["b"]["response_id"] == 3 and data["b"]["run_id"] == 2
    assert data["rows"][1] == {"left": "Many died.", "right": "<script>alert(1)</script>", "ops": [
        ["replace", "Many died.", "<script>alert(1)</script>"],
    ]}


def test_an_id_not_in_the_notebook_gets_one_line_and_status_1(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert workbench("diff", "1", "9", "--db", str(db)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("workbench diff: There is no response 9 in the notebook ")


def test_a_word_for_an_id_is_a_misused_command_line(db: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as raised:
        workbench("diff", "1", "x", "--db", str(db))
    assert raised.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "workbench diff: error: argument RESPONSE_B: 'x' is not an id (a whole number, as `workbench search --json` shows them)"


def test_an_answer_to_a_follow_up_is_compared_with_the_first(db: Path, capsys: pytest.CaptureFixture) -> None:
    """'Are you sure?': how a model's answer moved under a follow-up, by the answers' ids."""
    notebook = open_notebook(db)
    notebook.add_turn(1, "Are you sure?", language="en")
    rid = notebook.add_response(1, 0, model_name="Llama", model_sha256=None, origin_country=None, seed=1, sampler={}, turn=1)
    notebook.finish_response(rid, text="The army cleared the square in June 1989.\n\nSome died.")
    notebook.close()
    assert workbench("diff", "1", str(rid), "--db", str(db)) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["--- response 1: Llama · run 1, pane 1", f"+++ response {rid}: Llama · run 1, pane 1, follow-up 1"]
    assert workbench("diff", "1", str(rid), "--db", str(db), "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["a"]["turn"], result["b"]["turn"], result["removed"], result["added"]) == (0, 1, 1, 1)
