"""Hostile command lines: out-of-range settings, bytes that are not UTF-8, ids SQLite
can't hold, files nested past Python's parsers, a reader that closes the pipe,
repeated options. Each gets exit status 2 (a misused command line) or 1 (the
environment), one line saying what to do, and never a traceback."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from cli_process import WORKBENCH, env
from gguf_factory import write_bytes, write_tiny_model
from notebooks import one_answer
from workbench.cli.main import main
from workbench.core.catalog import Catalog
from workbench.core.comparison import load_model
from workbench.core.engine.params import GenerationParams
from workbench.core.engine.pool import ModelPool
from workbench.core.errors import ModelProcessProblem
from workbench.core.notebook import open_notebook

DEEP = 3000  # levels of nesting: past Python's recursion limit (1000)


def workbench(*args: str | bytes, stdin: bytes | None = None, close_stdout: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real CLI in a process of its own; argv may hold raw bytes. With `close_stdout`,
    stdout is a pipe whose reader has gone before the command writes a byte (`| head -0`)."""
    command = [*map(os.fsencode, WORKBENCH), *(a if isinstance(a, bytes) else a.encode() for a in args)]
    if not close_stdout:
        return subprocess.run(command, input=stdin, capture_output=True, env=env(), timeout=timeout)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    process.stdout.close()
    _, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(command, process.returncode, b"", stderr)


def one_line(stderr: bytes | str) -> str:
    """The error line of a refusal (after argparse's usage lines), checking there is no traceback."""
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text and "Exception ignored" not in text, text
    lines = [line for line in text.splitlines() if line.startswith("workbench")]
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture
def notebook_with_answer(tmp_path: Path) -> Path:
    db = tmp_path / "nb.sqlite"
    one_answer(db, "What happened in 1989?", "Many things.")
    return db


# --- item 4: bounded settings -----------------------------------------------------


SETTINGS = [
    (["--threads", "0"], "threads must be at least 1"),
    (["--threads", "100000"], "threads must be at least 1, at most 512"),
    (["--threads", "-3"], "threads must be at least 1"),
    (["--ctx", "1000000000"], "context size must be at least 64, at most 1048576"),
    (["--ctx", "8"], "context size must be at least 64"),
    (["--max-tokens", "0"], "max tokens must be at least 1"),
    (["--max-tokens", "99999999999999999999"], "max tokens must be at least 1, at most 1048576"),
    (["--top-k", "-1"], "top-k must be 0 (off) or more"),
    (["--top-k", "99999999999"], "top-k must be 0 (off) or more, at most 2147483647"),
    (["--temperature", "nan"], "temperature must be between 0 and 5"),
    (["--temperature", "inf"], "temperature must be between 0 and 5"),
    (["--temperature", "-1"], "temperature must be between 0 and 5"),
    (["--top-p", "nan"], "top-p must be above 0 and at most 1"),
    (["--min-p=-inf"], "min-p must be between 0 and 1"),
    (["--seed", "-1"], "seed must be between 0 and 4294967295"),
    (["--seed", str(2**32)], "seed must be between 0 and 4294967295"),
    (["--repeat-penalty", "0"], "repeat penalty must be between 0.5 and 3"),
    (["--repeat-penalty", "nan"], "repeat penalty must be between 0.5 and 3"),
]


@pytest.mark.parametrize(("options", "said"), SETTINGS)
def test_compare_refuses_a_setting_out_of_range_as_a_usage_error(options: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["compare", "Hi", "--db", str(tmp_path / "nb.sqlite"), *options]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("workbench compare: ") and said in line
    assert not (tmp_path / "nb.sqlite").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    ("command", "options", "said"),
    [
        (["batch", "starter-20"], ["--threads", "0"], "threads must be at least 1"),
        (["batch", "starter-20"], ["--threads", "100000"], "at most 512"),
        (["batch", "starter-20"], ["--seed", "-5"], "seed must be between 0 and 4294967295"),
        (["batch", "starter-20"], ["--max-tokens", "0"], "max tokens must be at least 1"),
        (["judge", "--run", "1", "--model", "x"], ["--threads", "0"], "threads must be at least 1"),
        (["judge", "--run", "1", "--model", "x"], ["--ctx", "1000000000"], "at most 1048576"),
        (["judge", "--run", "1", "--model", "x"], ["--max-tokens", "-1"], "max tokens must be at least 1"),
    ],
)
def test_batch_and_judge_refuse_the_same_settings_the_same_way(command: list[str], options: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    assert main([*command, "--db", str(tmp_path / "nb.sqlite"), *options]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"workbench {command[0]}: ") and said in line


@pytest.mark.parametrize(
    ("stored", "said"),
    [
        ({"temperature": "hot"}, "temperature must be a number"),
        ({"n_ctx": -1}, "context size must be at least 64"),
        ({"n_threads": 100000}, "threads must be at least 1, at most 512"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"top_k": True}, "top-k must be a whole number"),
        ({"n_ctx": "4096"}, "context size must be a whole number"),
    ],
)
def test_settings_from_a_file_are_checked_like_the_command_line_s(stored: dict, said: str) -> None:
    """A demo file's or a notebook's settings go through the same class, so a hostile
    file gets a ValueError saying what is wrong, not a TypeError or a crashed model."""
    with pytest.raises(ValueError, match=said):
        GenerationParams.from_dict(stored)


def test_a_context_too_big_for_memory_is_refused_before_the_model_process_starts(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The tiny model's KV cache takes 256 bytes a token: a context of a million tokens
    would need 0.27 GB; with 50 MB to give a model, it is refused saying what fits."""
    started = []
    monkeypatch.setattr("workbench.core.engine.pool.default_budget_bytes", lambda: 50_000_000)
    monkeypatch.setattr("workbench.core.engine.pool.LocalModel.start", lambda self, cancel=None: started.append(self))
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    status = main(["compare", "Hi", "--model", str(tiny_model), "--ctx", "1048576", "--db", str(tmp_path / "nb.sqlite"), "--json"])
    assert status == 1 and started == []
    line = one_line(capsys.readouterr().err)
    assert "would need about 0.3 GB of memory with a context of 1,048,576 tokens, more than the 0.1 GB" in line
    assert "Use a context of 256 tokens or less (it was trained on 256)" in line


def test_the_refusal_names_the_largest_context_that_fits(tiny_model: Path) -> None:
    entry = Catalog([tiny_model.parent]).resolve(str(tiny_model))
    entry = dataclasses.replace(entry, metadata=dataclasses.replace(entry.metadata, context_length=10**9))
    pool = ModelPool(budget_bytes=entry.metadata.file_size + 256 * 5000)
    with pytest.raises(ModelProcessProblem, match=r"Use a context of 4,096 tokens or less \(it was trained on 1,000,000,000\)\.$"):
        load_model(pool, entry, GenerationParams(n_ctx=1_000_000, n_threads=1), None)
    assert pool.loaded() == []


# --- item 6: text that is not UTF-8 -----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "argument"),
    [
        ([b"compare", b"\xff\xfeHi"], "argument prompt"),
        ([b"compare", b"Hi", b"--system", b"be \xc3"], "argument --system"),
        ([b"search", b"Tai\xffwan"], "argument query"),
        ([b"search", b"x", b"--model", b"\xff"], "argument --model"),
        ([b"annotate", b"--response", b"1", b"--label", b"evasive", b"--note", b"n\xffte"], "argument --note"),
        ([b"annotate", b"--response", b"1", b"--label", b"eva\xffsive"], "argument --label"),
        ([b"annotate", b"--response", b"1", b"--label", b"evasive", b"--annotator", b"\xe4na"], "argument --annotator"),
    ],
)
def test_text_that_is_not_utf8_is_refused_with_the_byte_and_where(argv: list[bytes], argument: str, notebook_with_answer: Path) -> None:
    done = workbench(*argv, b"--db", str(notebook_with_answer).encode())
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert f"error: {argument}: not valid UTF-8 (byte 0x" in line and "write it in UTF-8" in line


def test_the_refusal_says_which_byte_and_at_which_character() -> None:
    done = workbench(b"compare", b"ab\xfecd")
    assert "not valid UTF-8 (byte 0xfe at character 3)" in one_line(done.stderr)


def test_paths_may_be_any_bytes_the_file_system_allows(notebook_with_answer: Path, tmp_path: Path) -> None:
    """Only text is checked: a notebook in a folder whose name is not UTF-8 still works."""
    folder = os.fsencode(tmp_path) + b"/caf\xe9"
    os.mkdir(folder)
    db = folder + b"/nb.sqlite"
    Path(os.fsdecode(db)).write_bytes(notebook_with_answer.read_bytes())
    done = workbench(b"search", b"things", b"--db", db, b"--json")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert [hit["response_id"] for hit in json.loads(done.stdout)] == [1]


# --- item 6: ids SQLite can't hold ---------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["annotate", "--response", "1180591620717411303424", "--label", "evasive"],
        ["annotate", "--response", "0", "--label", "evasive"],
        ["export", "--run", str(2**63), "--format", "md", "-o", "out.md"],
        ["export", "--batch", "-1", "--format", "md", "-o", "out.md"],
        ["reflag", "--run", str(2**64)],
        ["reflag", "--batch", "1e3"],
        ["judge", "--run", str(2**63), "--model", "x"],
        ["judge", "--batch", str(2**70), "--model", "x"],
        ["batch", "--resume", str(2**63)],
    ],
)
def test_an_id_beyond_sqlite_s_integers_is_a_usage_error(argv: list[str], notebook_with_answer: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--db", str(notebook_with_answer)])
    assert exit_.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert "is not an id" in line


def test_the_largest_id_is_looked_up_and_not_found(notebook_with_answer: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["annotate", "--response", str(2**63 - 1), "--label", "evasive", "--db", str(notebook_with_answer)]) == 1
    assert f"There is no response {2**63 - 1}" in one_line(capsys.readouterr().err)


# --- item 6: files nested past Python's parsers ----------------------------------------


def test_a_deeply_nested_toml_prompt_set_is_one_line(tmp_path: Path, notebook_with_answer: Path) -> None:
    prompt_set = tmp_path / "deep.toml"
    prompt_set.write_text('format = 1\nid = "deep"\nbad = ' + "[" * DEEP + "]" * DEEP + "\n", encoding="utf-8")
    done = workbench("batch", str(prompt_set), "--db", str(notebook_with_answer))
    assert done.returncode == 2
    assert one_line(done.stderr) == f"workbench batch: {prompt_set}: nested too deeply (arrays or tables inside each other); a prompt set needs only a few levels."


def test_a_deeply_nested_json_lines_table_names_its_line(tmp_path: Path) -> None:
    from workbench.core.prompts import PromptSetProblem
    from workbench.core.prompts.tables import import_table

    table = tmp_path / "deep.jsonl"
    table.write_text('{"text": "fine"}\n{"text": ' + "[" * DEEP + "]" * DEEP + "}\n", encoding="utf-8")
    with pytest.raises(PromptSetProblem, match=r"deep\.jsonl:2: nested too deeply"):
        import_table(table, {"text": "text"}, defaults={"language": "en"}, set_id="deep", title="Deep")


def test_flag_reports_a_deeply_nested_line_and_flags_the_rest() -> None:
    good = json.dumps({"id": 1, "prompt": "Hi", "response": "Hello"})
    done = workbench("flag", stdin=("[" * DEEP + "]" * DEEP + "\n" + good + "\n").encode())
    assert done.returncode == 1
    assert one_line(done.stderr).startswith("workbench flag: line 1: nested too deeply")
    assert [json.loads(line)["id"] for line in done.stdout.decode().splitlines()] == [1]


# --- item 6: a reader that closes the pipe ---------------------------------------------


@pytest.fixture
def many_models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    for index in range(3):
        write_bytes(folder / f"broken-{index}.gguf", b"GGUF\x03\x00")
    return folder


@pytest.mark.parametrize("argv", [["models", "--json"], ["models"], ["search", "things", "--json"], ["search", "things"]])
def test_a_closed_pipe_stops_the_output_quietly_with_status_141(argv: list[str], many_models: Path, notebook_with_answer: Path) -> None:
    """As `workbench models | head -0`: no traceback, no 'Exception ignored', and the
    status a shell gives a program SIGPIPE stopped, so `set -o pipefail` sees it."""
    done = workbench("--folder", str(many_models), *argv, "--db", str(notebook_with_answer), close_stdout=True)
    assert done.returncode == 141
    assert done.stderr.decode().strip() == ""


def test_compare_goes_on_and_saves_when_its_reader_has_gone(tiny_model: Path, tmp_path: Path) -> None:
    db = tmp_path / "nb.sqlite"
    done = workbench("compare", "Hello", "--model", str(tiny_model), "--max-tokens", "16", "--ctx", "256", "--threads", "1", "--seed", "1", "--db", str(db), close_stdout=True)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr.decode() and "Exception ignored" not in done.stderr.decode()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select finish_reason, length(text) from responses").fetchall()
    assert len(rows) == 1 and rows[0][0] == "length" and rows[0][1] > 0


# --- item 11: repeated options add up -----------------------------------------------------


def test_export_with_run_repeated_exports_every_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "nb.sqlite"
    notebook = open_notebook(db)
    for prompt in ("first", "second", "third", "fourth"):
        notebook.create_run(prompt)
    notebook.close()
    out = tmp_path / "out.jsonl"
    assert main(["export", "--run", "2", "--run", "3", "4", "--format", "jsonl", "-o", str(out), "--db", str(db)]) == 0
    assert "Wrote 3 run(s)" in capsys.readouterr().err
    prompts = [record["prompt"] for record in map(json.loads, out.read_text(encoding="utf-8").splitlines()) if record.get("type") == "run"]
    assert prompts == ["second", "third", "fourth"]


def test_folders_given_before_and_after_the_subcommand_are_all_searched(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write_tiny_model(first / "one.gguf", name="One")
    write_tiny_model(second / "two.gguf", name="Two")
    assert main(["--folder", str(first), "models", "--json", "--folder", str(second)]) == 0
    assert {"one", "two"} <= {model["id"] for model in json.loads(capsys.readouterr().out)}
