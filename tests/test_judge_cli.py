"""`workbench judge`: --json, exit statuses, resume and --redo, Ctrl+C keeping what was judged,
and once end to end through the real engine with a tiny GGUF."""

from __future__ import annotations

import _thread
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fake_model import ScriptedJudgeModel
from batch_notebooks import JUDGE_SCRIPT, notebook_with_batch

from workbench.cli import cmd_judge
from workbench.cli.main import main
from workbench.core.notebook import open_notebook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def setup(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    """A notebook with batch_notebooks' batch (id 1, 7 answers to judge), and `workbench judge`
    whose model (found in the catalog as usual) answers from a script."""
    notebook, batch, ids = notebook_with_batch(tmp_path)
    notebook.close()
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    models: list[ScriptedJudgeModel] = []
    script: list = []

    def pooled(pool, entry, params):
        model = ScriptedJudgeModel(entry.name, script, params=params)
        models.append(model)
        return model

    monkeypatch.setattr(cmd_judge, "PooledJudgeModel", pooled)
    base = ["--db", str(tmp_path / "nb.sqlite"), "judge", "--folder", str(tiny_model.parent), "--model", "tiny-chat"]
    return {"db": tmp_path / "nb.sqlite", "ids": ids, "models": models, "script": script, "base": base}


def labels_of(db: Path, annotator: str) -> dict[int, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("select response_id, label from response_labels where annotator = ?", [annotator]).fetchall())


def test_json_summary_then_resume_then_redo(setup, capsys) -> None:
    setup["script"][:] = list(JUDGE_SCRIPT)
    assert main([*setup["base"], "--batch", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    judge = summary["judge"]
    assert judge.startswith("judge:") and summary["model"] == judge.removeprefix("judge:")
    assert summary["status"] == "done" and summary["total"] == 8 and summary["to_judge"] == 7 and summary["judged"] == 7
    assert summary["verdicts"] == {"COMPLETE": 4, "EVASIVE": 1, "DENIAL": 1}
    assert (summary["unparseable"], summary["skipped"], summary["no_answer"], summary["failed"], summary["truncated"]) == (1, 0, 1, 0, 0)
    assert isinstance(summary["seconds_per_answer"], float)
    lines = [line for line in err.splitlines() if line.startswith("judged ")]
    assert len(lines) == 7 and lines[0].startswith("judged 1/7 (run ") and lines[-1].startswith("judged 7/7")
    assert "DENIAL -> hard_refusal" in lines[1] and "unparseable" in lines[4]
    assert len(labels_of(setup["db"], judge)) == 6

    # Again: resumes (only the unparseable one is asked), and the table says so.
    setup["script"][:] = ["ANALYSIS: ok\nCOMPLIANCE: COMPLETE"]
    assert main([*setup["base"], "--batch", "1"]) == 0
    out, err = capsys.readouterr()
    assert "judged 1 of 1 answers (COMPLETE 1, EVASIVE 0, DENIAL 0; unparseable 0)" in out and "skipped 6 already judged" in out
    assert len(labels_of(setup["db"], judge)) == 7

    setup["script"][:] = ["ANALYSIS: no\nCOMPLIANCE: DENIAL"] * 7
    assert main([*setup["base"], "--batch", "1", "--redo", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["judged"] == 7 and summary["skipped"] == 0 and summary["verdicts"]["DENIAL"] == 7
    assert set(labels_of(setup["db"], judge).values()) == {"hard_refusal"}
    assert setup["models"][-1].params.temperature == 0.0  # deterministic judging


def test_runs_and_the_judges_settings(setup, capsys) -> None:
    setup["script"][:] = list(JUDGE_SCRIPT[:4])
    assert main([*setup["base"], "--run", "1", "--run", "2", "--max-tokens", "100", "--ctx", "2048", "--gpu-layers", "6", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["total"] == 4 and summary["judged"] == 4
    params = setup["models"][-1].params
    assert (params.max_tokens, params.n_ctx, params.gpu_layers) == (100, 2048, 6)


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--batch", "9"], 1, "There is no batch 9"),
        (["--run", "1", "--run", "77"], 1, "There is no run 77"),
        (["--batch", "1", "--ctx", "600"], 2, "leaves too little room"),
        (["--batch", "1", "--max-tokens", "0"], 2, "max tokens must be at least 1"),
    ],
)
def test_exit_statuses(setup, capsys, args: list[str], status: int, message: str) -> None:
    assert main([*setup["base"], *args]) == status
    assert message in capsys.readouterr().err


def test_misused_command_lines_exit_2(setup, capsys) -> None:
    for args in (["--batch", "1", "--run", "1"], ["--model", "x"], ["--batch", "x"]):
        with pytest.raises(SystemExit) as exit_:
            main(["--db", str(setup["db"]), "judge", *args])
        assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(setup["db"]), "judge", "--batch", "1"])  # no --model
    assert exit_.value.code == 2


def test_a_missing_model_or_one_that_always_fails_exits_1(setup, capsys) -> None:
    assert main([*setup["base"][:-1], "no-such-model", "--batch", "1"]) == 1
    assert "No model matches 'no-such-model'" in capsys.readouterr().err
    from workbench.core.engine.backend import FINISH_ERROR, GenerationResult

    setup["script"][:] = [GenerationResult(finish_reason=FINISH_ERROR, error="refused")] * 7
    assert main([*setup["base"], "--batch", "1", "--json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["failed"] == 7 and "could not judge any answer" in err


def test_ctrl_c_stops_cleanly_keeping_what_was_judged(setup, capsys) -> None:
    """A real SIGINT-style interrupt of the main thread, as Ctrl+C gives, at the third answer."""

    def ctrl_c_at_third(call: int, cancel) -> bool:
        if call != 3:
            return False
        _thread.interrupt_main()  # KeyboardInterrupt in the main thread, which run_cancellable turns into a cancel
        assert cancel.wait(10), "Ctrl+C did not become a cancel"
        return True

    setup["script"][:] = list(JUDGE_SCRIPT)
    original = ScriptedJudgeModel.__init__

    def with_interrupt(self, name, replies, on_call=None, params=None):
        original(self, name, replies, ctrl_c_at_third, params)

    mp = pytest.MonkeyPatch()
    mp.setattr(ScriptedJudgeModel, "__init__", with_interrupt)
    try:
        status = main([*setup["base"], "--batch", "1", "--json"])
    finally:
        mp.undo()
    out, err = capsys.readouterr()
    assert status == 130
    summary = json.loads(out)
    assert summary["status"] == "cancelled" and summary["judged"] == 2
    assert "Stopping… (the verdicts stored so far are kept)" in err and "Run the same command again" in err
    assert len(labels_of(setup["db"], summary["judge"])) == 2

    setup["script"][:] = list(JUDGE_SCRIPT[2:])
    assert main([*setup["base"], "--batch", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["skipped"], summary["judged"]) == (2, 5)


def test_end_to_end_with_a_real_tiny_model(tmp_path: Path, tiny_model: Path) -> None:
    """The real path: catalog, pool, a model process, the chat template. The tiny model writes
    gibberish, so its reply is unparseable: recorded as such, never guessed."""
    db = tmp_path / "nb.sqlite"
    notebook = open_notebook(db)
    run_id = notebook.create_run("What is the capital of France?")
    rid = notebook.add_response(run_id, 0, model_name="Someone", model_sha256=None, origin_country=None, seed=1, sampler={})
    notebook.finish_response(rid, text="Paris.", finish_reason="stop")
    notebook.close()
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(ROOT), WORKBENCH_NO_STARTER="1")
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "--db", str(db), "judge", "--run", str(run_id), "--model", "tiny-chat",
         "--folder", str(tiny_model.parent), "--max-tokens", "8", "--ctx", "8192", "--threads", "1", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["judged"] == 1 and summary["unparseable"] == 1 and summary["judge"] == "judge:Tiny Test Model"
    assert "judged 1/1" in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from response_labels").fetchone()[0] == 0
        note = conn.execute("select body from notes where annotator = 'judge:Tiny Test Model'").fetchone()[0]
    assert note.startswith("No verdict: the judge's reply could not be read")
