"""Hostile command lines: out-of-range settings, bytes that are not UTF-8, ids SQLite
can't hold, files nested past Python's parsers, a reader that closes the pipe,
repeated options. Each gets exit status 2 (a misused command line) or 1 (the
environment), one line saying what to do, and never a traceback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.core.catalog import Catalog
from workbench.core.comparison import load_model
from workbench.core.engine.params import GenerationParams
from workbench.core.engine.pool import ModelPool
from workbench.core.errors import ModelProcessProblem


def one_line(stderr: bytes | str) -> str:
    """The error line of a refusal (after argparse's usage lines), checking there is no traceback."""
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text and "Exception ignored" not in text, text
    lines = [line for line in text.splitlines() if line.startswith("workbench")]
    assert len(lines) == 1, text
    return lines[0]


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
        ({"top_k": True}, "top k must be a whole number"),
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
