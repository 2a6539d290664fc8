"""The command line as scripts use it: JSON contracts, exit status, no tracebacks.

Most run `workbench` in a process of its own on the tiny GGUF models; the two
about what `compare` prints run it in this process with scripted models
(`scripted`), where the text, not llama, is the point."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from cli_process import WORKBENCH, env, in_process, workbench
from gguf_factory import write_bytes, write_tiny_model

from workbench.cli.render import StreamPrinter

MODEL_KEYS = {
    "id", "name", "path", "origin_country", "organization", "architecture", "parameters",
    "quantization", "context_length", "chat_template", "sha256", "status",
}
REPLIES = {"Tiny Alpha": "Hello, 你好! How can I help?", "Tiny Beta": "抱歉，我无法回答这个问题。"}
RESPONSE_KEYS = {
    "response_id", "model_id", "model_name", "origin_country", "text", "reasoning",
    "finish_reason", "completion_tokens", "ttft_s", "tokens_per_s", "error",
}


@pytest.fixture
def folder(tiny_models: Path, tmp_path: Path) -> Path:
    """The two tiny models and a broken file beside them."""
    target = tmp_path / "models"
    target.mkdir()
    for model in tiny_models.iterdir():
        (target / model.name).write_bytes(model.read_bytes())
    write_bytes(target / "broken.gguf", b"GGUF\x03\x00")
    return target


def test_models_json_lists_every_model_with_the_contract_keys(folder: Path) -> None:
    done = workbench("models", "--json", "--folder", str(folder), "--hash")
    assert done.returncode == 0, done.stderr
    models = {m["id"]: m for m in json.loads(done.stdout)}
    assert {"tiny-alpha", "tiny-beta", "broken"} <= set(models)
    for model in models.values():
        assert MODEL_KEYS <= set(model)
    assert models["tiny-alpha"]["status"] == "ok" and len(models["tiny-alpha"]["sha256"]) == 64
    assert models["tiny-alpha"]["chat_template"] is True and models["tiny-alpha"]["architecture"] == "llama"
    assert models["broken"]["status"] != "ok" and models["broken"]["sha256"] is None


@pytest.fixture
def scripted(scripted_models, monkeypatch: pytest.MonkeyPatch) -> None:
    """`workbench compare` in this process, its models answering REPLIES: the output's
    shape is the point, not llama."""
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    scripted_models(lambda model, _prompt: REPLIES[model])


def test_compare_json_prints_one_object_and_saves_the_run(folder: Path, tmp_path: Path, scripted, capsys) -> None:
    db = tmp_path / "nb.sqlite"
    status = in_process(
        "compare", "Hello 你好", "--model", "tiny-alpha", "--model", "tiny-beta", "--folder", str(folder),
        "--seed", "5", "--max-tokens", "16", "--temperature", "0.7", "--db", str(db), "--json",
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    result = json.loads(out)
    assert result["prompt"] == "Hello 你好" and isinstance(result["run_id"], int)
    assert [r["model_name"] for r in result["responses"]] == ["Tiny Alpha", "Tiny Beta"]
    assert [r["text"] for r in result["responses"]] == list(REPLIES.values())
    conn = sqlite3.connect(db)
    for response in result["responses"]:
        assert RESPONSE_KEYS <= set(response)
        # Flags on every answer: the names stored with it, and what each rests on.
        stored = conn.execute("select name, basis, confidence from flags where response_id = ? order by id", [response["response_id"]]).fetchall()
        assert response["flags"] == [name for name, _, _ in stored]
        assert response["flag_sources"] == [{"flag": n, "basis": b, "confidence": c} for n, b, c in stored]
        assert response["flags"]
    rows = conn.execute("select text, seed from responses where run_id = ? order by position", [result["run_id"]]).fetchall()
    assert rows == [(r["text"], 5) for r in result["responses"]]
    temperature = json.loads(conn.execute("select settings from runs").fetchone()[0])["temperature"]
    assert temperature == 0.7


def test_compare_streams_readably_and_prints_the_run_id(folder: Path, tmp_path: Path, scripted, capsys) -> None:
    status = in_process("compare", "Hi", "--model", "tiny-alpha", "--folder", str(folder), "--max-tokens", "8", "--db", str(tmp_path / "nb.sqlite"))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "── Tiny Alpha" in out and REPLIES["Tiny Alpha"] in out
    assert "Saved as run 1 in" in out
    assert "flags (automatic): " in out


def test_when_no_model_answers_the_exit_is_one_line_without_traceback(folder: Path, tmp_path: Path) -> None:
    done = workbench("compare", "Hi", "--model", str(folder / "broken.gguf"), "--db", str(tmp_path / "nb.sqlite"), "--json")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no model answered" in done.stderr


def test_an_unknown_model_is_a_clear_error(folder: Path, tmp_path: Path) -> None:
    done = workbench("compare", "Hi", "--model", "tiny-gamma", "--folder", str(folder), "--db", str(tmp_path / "nb.sqlite"))
    assert done.returncode == 1
    assert done.stderr.startswith("workbench: No model matches 'tiny-gamma'") and "Traceback" not in done.stderr


def test_bad_settings_are_a_usage_error(folder: Path) -> None:
    done = workbench("compare", "Hi", "--temperature", "9", "--folder", str(folder))
    assert done.returncode == 2 and "temperature must be between 0 and 5" in done.stderr


def test_a_damaged_notebook_is_refused_with_advice(folder: Path, tmp_path: Path) -> None:
    db = write_bytes(tmp_path / "nb.sqlite", b"not a database" * 500)
    done = workbench("compare", "Hi", "--model", "tiny-alpha", "--folder", str(folder), "--db", str(db))
    assert done.returncode == 1
    assert "damaged" in done.stderr and "Traceback" not in done.stderr


def test_without_a_display_the_bare_command_runs_the_comparison_in_the_terminal(folder: Path, tmp_path: Path) -> None:
    done = workbench("--model", "tiny-alpha", "--folder", str(folder), "--db", str(tmp_path / "nb.sqlite"))
    assert done.returncode == 0, done.stderr
    assert "No display found" in done.stderr
    assert "Saved as run 1" in done.stdout


def test_with_a_display_qt_cannot_use_the_bare_command_says_why_and_runs_in_the_terminal(folder: Path, tmp_path: Path) -> None:
    """Qt aborts (SIGABRT) when DISPLAY names no server or its X11 plugin misses a library;
    the command checks first and falls back to the terminal with the reason."""
    done = workbench(
        "--model", "tiny-alpha", "--folder", str(folder), "--db", str(tmp_path / "nb.sqlite"),
        env_extra={"DISPLAY": ":987"},  # no X server listens there
    )
    assert done.returncode == 0, done.stderr
    assert "The window can't open" in done.stderr and "Traceback" not in done.stderr
    assert "does not answer" in done.stderr or "sudo apt install" in done.stderr
    assert "Saved as run 1" in done.stdout


def test_screenshot_max_tokens_is_checked_before_anything_runs(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # a display: without --screenshot the window would open
    assert in_process("--max-tokens", "0", "--screenshot", str(tmp_path / "shot.png")) == 2
    assert capsys.readouterr().err.splitlines() == ["workbench: --max-tokens: max tokens must be at least 1, at most 1048576"]
    assert in_process("--max-tokens", "64") == 2
    assert capsys.readouterr().err.splitlines() == ["workbench: --max-tokens goes with --screenshot (in the window: Shared settings > Max tokens)"]
    assert not (tmp_path / "shot.png").exists()


class LongAnswer:
    """`workbench compare` streaming a long answer from a tiny model, read as a user sees it."""

    HEADER = "── Long Talker".encode()

    def __init__(self, tmp_path: Path) -> None:
        model = write_tiny_model(tmp_path / "long.gguf", context_length=4096, name="Long Talker")
        self.db = tmp_path / "nb.sqlite"
        self.shown = b""
        self.process = subprocess.Popen(
            [*WORKBENCH, "compare", "Talk", "--model", str(model), "--max-tokens", "3000", "--ctx", "4096", "--db", str(self.db)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env(),
        )

    def answer(self) -> bytes:
        """Everything printed after the model's header line."""
        if self.HEADER not in self.shown:
            return b""
        return self.shown.split(self.HEADER, 1)[1].partition(b"\n")[2]

    def read_until(self, size: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.answer()) < size:
            self.shown += os.read(self.process.stdout.fileno(), 4096)
            assert time.monotonic() < deadline, "the answer never streamed"

    def saved_text(self) -> str:
        """The answer as committed so far, read as another program would."""
        try:
            with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as conn:
                row = conn.execute("select text from responses").fetchone()
        except sqlite3.OperationalError:
            return ""  # not created yet, or busy
        return row[0] if row and row[0] else ""


def test_killing_the_app_mid_answer_keeps_what_was_shown(tmp_path: Path) -> None:
    run = LongAnswer(tmp_path)
    run.read_until(200)
    deadline = time.monotonic() + 60
    while not run.saved_text():  # the first commit: at once, unless the machine is busy
        assert time.monotonic() < deadline, "nothing of the answer was saved"
        time.sleep(0.05)
    os.kill(run.process.pid, signal.SIGKILL)
    out, _ = run.process.communicate()
    run.shown += out  # printed before the kill, read only now
    saved = sqlite3.connect(run.db).execute("select text, status from responses").fetchone()
    assert saved[1] == "streaming"
    # Saved as it streamed, trailing the screen by at most one commit interval
    # (recorder.MIN_INTERVAL_S): what is saved is exactly what was shown, up to there.
    assert saved[0]
    assert run.answer().decode("utf-8").startswith(saved[0])


def test_ctrl_c_stops_cleanly_and_keeps_the_partial_answer(tmp_path: Path) -> None:
    run = LongAnswer(tmp_path)
    run.read_until(50)
    run.process.send_signal(signal.SIGINT)
    _, err = run.process.communicate(timeout=60)
    assert run.process.returncode == 130
    assert "Stopping" in err.decode() and "Traceback" not in err.decode()
    text, finish_reason, status = sqlite3.connect(run.db).execute("select text, finish_reason, status from responses").fetchone()
    assert (finish_reason, status) == ("stopped", "done") and text


def test_the_terminal_shows_reasoning_apart_from_the_answer() -> None:
    """Pieces come in batches that can hold both kinds; the markers go where the kind changes."""
    out = io.StringIO()  # not a terminal: no colour
    printer = StreamPrinter(out, [], parallel=False)
    printer.run_created(1, [10])
    printer.text(0, [("reasoning", "Let me "), ("reasoning", "think."), ("answer", "Paris"), ("answer", ".")])
    printer.text(0, [("answer", " Done.")])
    assert out.getvalue() == "Run 1\n[thinking]\nLet me think.\n[answer]\nParis. Done."


def test_the_flags_line_names_each_flag_once_without_the_model_s_control_characters(tiny_model: Path) -> None:
    from workbench.cli.render import flags_line, response_json
    from workbench.core.analysis import analyse_response
    from workbench.core.catalog import Catalog
    from workbench.core.comparison import ResponseOutcome
    from workbench.core.engine.backend import GenerationResult

    answer = "抱歉，\x1b[2J我无法\x07回答这个问题。"
    report = analyse_response("六四事件是什么？", answer, prompt_lang="zh")
    entry = Catalog([], include_other_apps=False).resolve(tiny_model)
    outcome = ResponseOutcome(0, 7, entry, answer, "", GenerationResult(), flags=report)
    line = flags_line(outcome)
    assert line.startswith("flags (automatic): ") and "\n" not in line
    assert "\x1b" not in line and "\x07" not in line
    for name in report.flags:
        assert line.count(name) == 1
    assert response_json(outcome)["flags"] == list(report.flags)
    assert flags_line(ResponseOutcome(0, 7, entry, "", "", GenerationResult(finish_reason="stopped"))) is None


def test_compare_keeps_a_harmony_models_analysis_out_of_its_answer(folder: Path, tmp_path: Path, scripted_models, monkeypatch, capsys) -> None:
    """gpt-oss streams its chain of thought on the analysis channel: the saved answer, its
    flags and the exports see the final channel only, and the analysis is its reasoning."""
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    raw = [
        "<|channel|>analysis<|message|>I'm sorry, but I can't help with that is one option; but this is harmless.",
        "<|end|><|start|>assistant<|chan", "nel|>final<|message|>The Great Wall is about 21,000 km long.",
    ]
    scripted_models(lambda _model, _prompt: raw, stream_format="harmony")
    db = tmp_path / "nb.sqlite"
    status = in_process("compare", "How long is the Great Wall?", "--model", "tiny-alpha", "--folder", str(folder), "--db", str(db), "--json")
    out, err = capsys.readouterr()
    assert status == 0, err
    response = json.loads(out)["responses"][0]
    assert response["text"] == "The Great Wall is about 21,000 km long."
    assert response["reasoning"] == "I'm sorry, but I can't help with that is one option; but this is harmless."
    assert "hard_refusal" not in response["flags"]
    assert in_process("export", "--db", str(db), "--all", "--format", "csv", "--output", str(tmp_path / "out.csv")) == 0
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as table:
        assert next(csv.DictReader(table))["text"] == "The Great Wall is about 21,000 km long."


def test_compare_says_when_a_models_reasoning_never_ended(folder: Path, tmp_path: Path, scripted_models, monkeypatch, capsys) -> None:
    """Reasoning with no answer after it is not an empty answer: the terminal says what happened."""
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    scripted_models(lambda _model, _prompt: ["<think>Let me weigh both", " sides. First"])
    status = in_process("compare", "Was it right?", "--model", "tiny-alpha", "--folder", str(folder), "--db", str(tmp_path / "nb.sqlite"))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Let me weigh both sides. First" in out
    assert "No answer: the model's reasoning never ended (it stopped without closing it). Its reasoning is kept." in out
