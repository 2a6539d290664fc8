"""`workbench compare PROMPT --then FOLLOW_UP …`: the turns asked in order, the JSON
contract (the documented keys describe the last turn, `turns` holds the conversation),
the exit status, and Ctrl+C during a follow-up. The models answer from a script in this
process: what the command does with the turns is the point, not llama."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from cli_process import in_process
from workbench.core.engine.backend import FINISH_ERROR, GenerationResult

RESPONSE_KEYS = {
    "response_id", "model_id", "model_name", "origin_country", "text", "reasoning",
    "finish_reason", "completion_tokens", "ttft_s", "tokens_per_s", "error",
    "maker", "sha256", "prompt_tokens", "duration_s", "load_s", "flags", "flag_sources", "saved",
}  # fmt: skip
TURN_KEYS = {"prompt", "text", "reasoning", "finish_reason", "completion_tokens"}


@pytest.fixture(autouse=True)
def no_starter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")


def _compare(tiny_models: Path, db: Path, *argv: str) -> int:
    return in_process("compare", *argv, "--model", "tiny-alpha", "--model", "tiny-beta", "--folder", str(tiny_models), "--db", str(db))


def _reply(model: str, prompt: str) -> str:
    return f"<think>{model} weighs it.</think>{model}: {prompt[:12]}"


def test_then_asks_the_turns_in_order_and_json_describes_the_last_with_the_conversation(
    tiny_models: Path, tmp_path: Path, scripted_models, capsys
) -> None:
    loader = scripted_models(_reply)
    db = tmp_path / "nb.sqlite"
    status = _compare(tiny_models, db, "What happened in June 1989?", "--then", "Are you sure?", "--then", "请用中文回答", "--json")
    out, err = capsys.readouterr()
    assert status == 0, err
    result = json.loads(out)
    assert result["prompt"] == "请用中文回答"
    for response in result["responses"]:
        assert RESPONSE_KEYS <= set(response)
        assert response["text"] == f"{response['model_name']}: 请用中文回答" and response["reasoning"] == f"{response['model_name']} weighs it."
        assert [t["prompt"] for t in response["turns"]] == ["What happened in June 1989?", "Are you sure?", "请用中文回答"]
        assert all(set(t) == TURN_KEYS for t in response["turns"])
        assert response["turns"][1]["text"] == f"{response['model_name']}: Are you sure" and response["turns"][1]["finish_reason"] == "stop"
        assert response["turns"][-1]["text"] == response["text"] and response["turns"][-1]["completion_tokens"] == response["completion_tokens"]
    conn = sqlite3.connect(db)
    assert conn.execute("select turn, prompt from turns order by turn").fetchall() == [
        (0, "What happened in June 1989?"), (1, "Are you sure?"), (2, "请用中文回答"),
    ]  # fmt: skip
    last_ids = conn.execute("select id from responses where turn = 2 order by position").fetchall()
    assert [r["response_id"] for r in result["responses"]] == [row[0] for row in last_ids]
    # Each model was sent its own conversation.
    alpha = next(b for b in loader.loaded if b.display_name == "Tiny Alpha")
    assert [m["content"] for m in alpha.conversations[-1]] == [
        "What happened in June 1989?", "Tiny Alpha: What happene", "Are you sure?", "Tiny Alpha: Are you sure", "请用中文回答",
    ]  # fmt: skip


def test_compare_json_without_then_holds_one_turn(tiny_models: Path, tmp_path: Path, scripted_models, capsys) -> None:
    scripted_models(_reply)
    assert _compare(tiny_models, tmp_path / "nb.sqlite", "Hello", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert [[t["prompt"] for t in r["turns"]] for r in result["responses"]] == [["Hello"], ["Hello"]]


def test_then_prints_each_turn_with_its_prompt_and_control_characters_inert(tiny_models: Path, tmp_path: Path, scripted_models, capsys) -> None:
    scripted_models(lambda model, prompt: f"{model} says \x1b]52;c;cGF3bmVk\x07 to {prompt[:5]}")
    status = _compare(tiny_models, tmp_path / "nb.sqlite", "Hello", "--then", "Again \x1b[2J please")
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "\x1b" not in out and "\x07" not in out  # not a terminal: no colours of the CLI's own either
    first, second = out.split("Run 1 · follow-up 1\n")
    assert second.startswith("Again [U+001B][2J please\n")
    for part, prompt in ((first, "Hello"), (second, "Again")):
        assert part.count("── Tiny Alpha") == part.count("── Tiny Beta") == 1
        assert f"Tiny Beta says [U+001B]]52;c;cGF3bmVk[U+0007] to {prompt}" in part
    assert second.rstrip().endswith(f"Saved as run 1 in {tmp_path / 'nb.sqlite'}")


def test_a_follow_up_no_model_answered_exits_1_and_the_later_ones_are_not_asked(
    tiny_models: Path, tmp_path: Path, scripted_models, capsys
) -> None:
    def reply(model: str, prompt: str) -> str | GenerationResult:
        if prompt == "Second":
            return GenerationResult(finish_reason=FINISH_ERROR, error=f"{model} refused the template")
        return f"{model} on {prompt}"

    loader = scripted_models(reply)
    db = tmp_path / "nb.sqlite"
    status = _compare(tiny_models, db, "First", "--then", "Second", "--then", "Third", "--json")
    out, err = capsys.readouterr()
    assert status == 1
    assert err.strip() == (
        "workbench: no model answered follow-up 1: Tiny Alpha refused the template; Tiny Beta refused the template; "
        "1 follow-up(s) after it not asked"
    )
    assert json.loads(out)["prompt"] == "Second"
    assert [p for b in loader.loaded for p in b.prompts].count("Third") == 0
    assert sqlite3.connect(db).execute("select count(*) from turns").fetchone()[0] == 2


def test_an_empty_follow_up_is_a_usage_error(tiny_models: Path, tmp_path: Path, capsys) -> None:
    assert _compare(tiny_models, tmp_path / "nb.sqlite", "First", "--then", "Fine", "--then", "  ") == 2
    assert capsys.readouterr().err == "workbench compare: follow-up 2 (--then) is empty\n"
    assert not (tmp_path / "nb.sqlite").exists()


class _CtrlCAfterFirstPiece(list):
    """A scripted reply whose second piece is only reached after a real Ctrl+C (SIGINT to
    this process, which `run_cancellable` turns into the cancel) has been handled."""

    def __init__(self, pieces: list[str], cancel_seen) -> None:
        super().__init__(pieces)
        self.cancel_seen = cancel_seen

    def __iter__(self):
        pieces = list(super().__iter__())
        yield pieces[0]
        os.kill(os.getpid(), signal.SIGINT)
        assert self.cancel_seen(), "Ctrl+C did not become a cancel"
        yield from pieces[1:]


def test_ctrl_c_during_a_follow_up_keeps_what_was_said(tiny_models: Path, tmp_path: Path, scripted_models, capsys) -> None:
    cancels = []
    loader = scripted_models(
        lambda model, prompt: _CtrlCAfterFirstPiece(["Half an ", "answer"], lambda: cancels[-1].wait(10)) if prompt == "Second" else f"{model} on {prompt}",
        on_call=lambda _n, cancel: cancels.append(cancel),
    )
    db = tmp_path / "nb.sqlite"
    status = _compare(tiny_models, db, "First", "--then", "Second", "--then", "Third", "--json")
    out, err = capsys.readouterr()
    assert status == 130 and "Stopping… (the partial answers are kept)" in err and "Traceback" not in err
    result = json.loads(out)
    assert [(t["text"], t["finish_reason"]) for t in result["responses"][0]["turns"]] == [("Tiny Alpha on First", "stop"), ("Half an ", "stopped")]
    rows = sqlite3.connect(db).execute("select turn, position, text, finish_reason, status from responses order by turn, position").fetchall()
    assert rows == [
        (0, 0, "Tiny Alpha on First", "stop", "done"), (0, 1, "Tiny Beta on First", "stop", "done"),
        (1, 0, "Half an ", "stopped", "done"), (1, 1, "", "stopped", "done"),
    ]  # fmt: skip
    assert "Third" not in [p for b in loader.loaded for p in b.prompts]
