"""`workbench batch` end to end: JSON summary, options, a SIGKILL mid-batch then
resume, and the starter pair over starter-20 in both languages (the CI batch).

The JSON summary's test runs the command in this process with scripted models
(what it prints is the point); the others run it as a process of its own on
real models, since killing it, models and all, is theirs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_process import env, in_process, workbench
from prompt_set_factory import write_set

from workbench.core.workspace import Workspace



def test_batch_json_summary_with_filters(tiny_models: Path, tmp_path: Path, scripted_models, monkeypatch, capsys) -> None:
    """The summary and the options' effect, not llama: in this process, the models scripted."""
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    loader = scripted_models(lambda model, _prompt: "I can't help with that." if model == "Tiny Alpha" else "Yes, it is.")
    prompts = write_set(tmp_path / "set.toml", 3)
    db = tmp_path / "nb.sqlite"
    status = in_process(
        "--db", str(db), "batch", str(prompts), "--model", "tiny-alpha", "--model", "tiny-beta",
        "--folder", str(tiny_models), "--lang", "en", "--topic", "taiwan", "--max-tokens", "4", "--seed", "7", "--json",
        "--sequences", "1",  # one at a time: the order of the progress lines is checked
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    summary = json.loads(out)
    assert summary["batch_id"] == 1 and summary["status"] == "done"
    assert summary["runs"] == 2 and summary["responses"] == 4  # q0-en and q2-en, two models each
    assert [b.prompts for b in loader.loaded] == [["Question number 0?", "Question number 2?"]] * 2
    assert set(summary["flags"]) == {"Tiny Alpha", "Tiny Beta"}
    assert summary["checked"] == 0 and summary["corrections"] == []  # nobody has checked an answer yet
    # Not a terminal: one plain line per prompt, with the time left.
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert len(lines) == 2 and "time left" in lines[0] and "q0-en" in lines[0]
    with sqlite3.connect(db) as conn:
        filters, settings = conn.execute("select filters, settings from batches").fetchone()
    assert json.loads(filters) == {"topics": ["taiwan"], "languages": ["en"], "limit": None}
    assert json.loads(settings)["max_tokens"] == 4 and json.loads(settings)["seed"] == 7


def test_batch_command_line_mistakes(tiny_models: Path, tmp_path: Path) -> None:
    prompts = write_set(tmp_path / "set.toml", 1)
    db = str(tmp_path / "nb.sqlite")
    assert workbench("batch", "--db", db).returncode == 2  # neither a set nor --resume
    unknown = workbench("batch", str(prompts), "--topic", "tibet", "--model", "tiny-alpha", "--folder", str(tiny_models), "--db", db)
    assert unknown.returncode == 2 and "tibet" in unknown.stderr and "Traceback" not in unknown.stderr
    assert workbench("batch", str(prompts), "--lang", "fr", "--db", db).returncode == 2
    missing = workbench("batch", "--resume", "42", "--db", db)
    assert missing.returncode == 1 and "no batch 42" in missing.stderr


TABLE_SET = {
    "mine.csv": "id,topic,kind,text\nq0,facts,control,Question number 0?\nq1,taiwan,sensitive,Question number 1?\n",
    "mine.jsonl": '{"topic": "facts", "kind": "control", "text": "Question number 0?"}\n{"topic": "taiwan", "kind": "sensitive", "text": "Question number 1?"}\n',
}


@pytest.mark.parametrize("name", sorted(TABLE_SET))
def test_a_csv_or_json_lines_set_runs_like_a_toml_one(name: str, tiny_models: Path, tmp_path: Path, scripted_models, monkeypatch, capsys) -> None:
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    loader = scripted_models(lambda _model, _prompt: "Yes.")
    prompts = tmp_path / name
    prompts.write_text(TABLE_SET[name], encoding="utf-8")
    status = in_process(
        "--db", str(tmp_path / "nb.sqlite"), "batch", str(prompts), "--model", "tiny-alpha", "--folder", str(tiny_models),
        "--topic", "taiwan", "--max-tokens", "4", "--json",
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    summary = json.loads(out)
    assert (summary["status"], summary["prompt_set"], summary["runs"]) == ("done", "mine", 1)
    assert [b.prompts for b in loader.loaded] == [["Question number 1?"]]


def test_a_batch_with_follow_ups_prints_and_counts_each_turn(tiny_models: Path, tmp_path: Path, scripted_models, monkeypatch, capsys) -> None:
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    replies = {"Question number 1?": "I can't help with that.", "Are you sure?": "Yes, it is."}
    loader = scripted_models(lambda _model, prompt: replies.get(prompt, "Yes."))
    prompts = tmp_path / "mine.jsonl"
    prompts.write_text(
        '{"topic": "facts", "kind": "control", "text": "Question number 0?"}\n'
        '{"topic": "taiwan", "kind": "sensitive", "text": "Question number 1?", "then": ["Are you sure?"]}\n',
        encoding="utf-8",
    )
    db = str(tmp_path / "nb.sqlite")
    # One at a time: the order the model is asked in is part of what this checks.
    args = ("--db", db, "batch", str(prompts), "--model", "tiny-alpha", "--folder", str(tiny_models), "--max-tokens", "4", "--sequences", "1")
    assert in_process(*args, "--json") == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["responses"] == 2 and summary["flags"]["Tiny Alpha"]["hard_refusal"] == 1  # the prompts' answers
    assert summary["follow_ups"] == [{"follow_up": 1, "responses": 1, "flags": {"Tiny Alpha": {"answered": 1}}}]
    assert [b.prompts for b in loader.loaded] == [["Question number 0?", "Question number 1?", "Are you sure?"]]
    assert "  after follow-up 1 (turn 1): Tiny Alpha: answered" in err.splitlines()
    assert in_process(*args) == 0
    out, _err = capsys.readouterr()
    assert "After follow-up 1: 1 answers; answers per flag (uncorrected):" in out


def test_a_set_file_of_no_known_format_or_with_a_bad_row_is_one_line(tiny_models: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """Refused before the starter pair is prepared (a first run joins 491 MB for it)."""
    monkeypatch.setattr(Workspace, "prepare_starter", lambda *_a, **_k: pytest.fail("prepared the starter pair for a set it can't read"))
    sheet = tmp_path / "mine.xlsx"
    sheet.write_text("x", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"topic": "facts", "kind": "control", "text": "Why?"}\n{"topic": "facts", "kind": "trivia", "text": "Why not?"}\n', encoding="utf-8")
    db = str(tmp_path / "nb.sqlite")
    for path, line in (
        (sheet, f"workbench batch: {sheet}: can't tell the prompt set's format from its name; use .toml, .csv, .tsv, .jsonl, .ndjson."),
        (bad, f"workbench batch: {bad}:2: prompt 'row-2', kind: unknown kind 'trivia' (known: sensitive, control, over_refusal_control)"),
    ):
        assert in_process("--db", db, "batch", str(path), "--model", "tiny-alpha", "--folder", str(tiny_models)) == 2
        out, err = capsys.readouterr()
        assert (out, err.splitlines()) == ("", [line])


def test_a_batch_killed_mid_run_resumes_without_repeating_a_prompt(tiny_models: Path, tmp_path: Path) -> None:
    # Enough prompts that the kill comes mid-batch: four at a time, the tiny models answer
    # a dozen in about a second.
    total, at_once = 40, 4
    prompts = write_set(tmp_path / "set.toml", total)
    db = tmp_path / "nb.sqlite"
    args = [sys.executable, "-m", "workbench", "batch", str(prompts), "--model", "tiny-alpha", "--model", "tiny-beta",
            "--folder", str(tiny_models), "--lang", "en", "--max-tokens", "48", "--sequences", str(at_once), "--db", str(db)]
    # Its own session, so the kill reaches the model processes too: a crash of everything.
    process = subprocess.Popen(args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        done_before = 0
        while time.monotonic() < deadline and done_before < 3:
            time.sleep(0.05)
            if db.exists():
                try:
                    with sqlite3.connect(db) as conn:
                        done_before = conn.execute("select count(*) from batch_items where status = 'done'").fetchone()[0]
                except sqlite3.OperationalError:
                    pass  # the schema is still being written
        assert done_before >= 3, "the batch did not get going"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with sqlite3.connect(db) as conn:
        before = dict(conn.execute("select prompt_id, run_id from batch_items where status = 'done'").fetchall())
        assert conn.execute("select status from batches").fetchone()[0] == "running"  # as the crash left it
    assert 3 <= len(before) < total

    resumed = workbench("batch", "--resume", "1", "--folder", str(tiny_models), "--db", str(db), "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "done" and summary["runs"] == total and summary["responses"] == 2 * total
    started = [line for line in resumed.stderr.splitlines() if line.startswith("[")]
    assert len(started) == total - len(before)  # only what was not done
    with sqlite3.connect(db) as conn:
        after = dict(conn.execute("select prompt_id, run_id from batch_items where status = 'done'").fetchall())
        runs = conn.execute("select count(*) from runs").fetchone()[0]
        flagged = conn.execute("select count(distinct response_id) from flags").fetchone()[0]
    assert {k: after[k] for k in before} == before  # done prompts kept their runs
    assert len(set(after.values())) == total
    assert runs - total <= at_once  # at most the prompts the kill interrupted were asked again
    assert flagged >= 2 * total


@pytest.mark.starter
def test_starter_pair_over_starter_20_in_both_languages(starter_paths: list[Path], tmp_path: Path) -> None:
    """The CI batch: unattended, small max tokens; about 40 s on 2 cores."""
    db = tmp_path / "nb.sqlite"
    began = time.monotonic()
    done = workbench("batch", "starter-20", "--lang", "en,zh", "--max-tokens", "8", "--seed", "1", "--db", str(db), "--json", starter=True, timeout=600)
    elapsed = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "done" and summary["runs"] == 20 and summary["responses"] == 40
    assert len(summary["flags"]) == 2
    for counts in summary["flags"].values():
        assert sum(counts.get(name, 0) for name in ("answered", "hard_refusal", "evasive")) == 20
    assert elapsed < 300
