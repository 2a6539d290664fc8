"""SIGKILL at random moments, again and again: the notebook stays whole, and
nothing a command reported as saved is lost.

Each command runs in a session of its own and the whole session is killed, so
the model processes die with it, as in a crash or a pulled plug. The moments
come from a seeded generator: a failure names its round and can be replayed.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from commands import env, kill_after, start
from prompt_set_factory import write_set

def assert_whole(db: Path, round_: str) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok", round_
        assert conn.execute("pragma foreign_key_check").fetchall() == [], round_


def rows(db: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_compare_killed_at_random_moments(tiny_model: Path, tmp_path: Path) -> None:
    rng = random.Random(1501)
    db = tmp_path / "nb.sqlite"
    claimed: dict[int, list[dict]] = {}
    killed_mid_answer = 0
    for round_ in range(10):
        process = start("compare", f"Question {round_}", "--model", str(tiny_model), "--db", str(db), "--max-tokens", "120", "--seed", str(round_), "--json")
        status, out, _ = kill_after(process, rng.uniform(0.3, 5.0))
        if db.exists():
            assert_whole(db, f"round {round_}")
        if status == 0:
            result = json.loads(out)
            assert all(r["saved"] for r in result["responses"])
            claimed[result["run_id"]] = result["responses"]
        else:
            assert status == -signal.SIGKILL, f"round {round_}: exit {status}"
            killed_mid_answer += bool(rows(db, "select 1 from responses where status != 'done'")) if db.exists() else 0
    assert claimed, "no compare finished: the kills came too early to test the claims"
    assert killed_mid_answer, "no compare was killed while answering"
    for run_id, responses in claimed.items():
        for response in responses:
            [(status, text)] = rows(db, "select status, text from responses where id = ?", response["response_id"])
            assert (status, text) == ("done", response["text"]), f"run {run_id}"


def test_batch_killed_again_and_again_then_resumed_asks_every_prompt_once(tiny_models: Path, tmp_path: Path) -> None:
    rng = random.Random(1502)
    db = tmp_path / "nb.sqlite"
    prompts = write_set(tmp_path / "set.toml", 6)
    common = ["--folder", str(tiny_models), "--db", str(db), "--json"]
    first = start("batch", str(prompts), "--model", "tiny-alpha", "--model", "tiny-beta", "--lang", "en", "--max-tokens", "24", *common)
    kill_after(first, rng.uniform(1.5, 4.0))
    for round_ in range(4):
        kill_after(start("batch", "--resume", "1", *common), rng.uniform(0.5, 4.0))
        assert_whole(db, f"resume {round_}")
    done = subprocess.run([sys.executable, "-m", "workbench", "batch", "--resume", "1", *common], env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["status"], summary["runs"], summary["total"]) == ("done", 6, 6)
    assert_whole(db, "the end")
    items = rows(db, "select prompt_id, run_id from batch_items where status = 'done'")
    assert len(items) == 6 and len({run for _, run in items}) == 6
    for prompt_id, run_id in items:
        statuses = [s for (s,) in rows(db, "select status from responses where run_id = ? order by position", run_id)]
        assert statuses == ["done", "done"], prompt_id


def test_annotate_killed_at_random_moments_loses_no_label_it_reported(tiny_model: Path, tmp_path: Path) -> None:
    rng = random.Random(1503)
    db = tmp_path / "nb.sqlite"
    made = subprocess.run(
        [sys.executable, "-m", "workbench", "compare", "Hi", "--model", str(tiny_model), "--db", str(db), "--max-tokens", "4", "--json"],
        env=env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    response_id = json.loads(made.stdout)["responses"][0]["response_id"]
    labels = [name for (name,) in rows(db, "select name from labels order by name")]
    reported: list[tuple[str, str]] = []
    killed = 0
    for round_ in range(30):
        label, note = rng.choice(labels), f"note {round_}"
        process = start("annotate", "--response", str(response_id), "--label", label, "--note", note, "--db", str(db))
        status, _, err = kill_after(process, rng.uniform(0.2, 1.2))
        assert_whole(db, f"round {round_}")
        if status == 0:
            reported.append((label, note))
        else:
            assert status == -signal.SIGKILL, f"round {round_}: exit {status}: {err}"
            killed += 1
    assert reported and killed, (len(reported), killed)
    have = {name for (name,) in rows(db, "select label from response_labels where response_id = ?", response_id)}
    assert {label for label, _ in reported} <= have
    [(body,)] = rows(db, "select body from notes where response_id = ? and annotator = 'killer'", response_id)
    # The note is replaced each time: the last one reported, or a later one whose command was killed after saving.
    assert int(body.split()[1]) >= int(reported[-1][1].split()[1])
