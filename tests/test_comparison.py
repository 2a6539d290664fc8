"""Comparisons: streaming, saving, crashes, stopping.

What a comparison records, its Stop and its pool answer from a script (fake_model):
they test the comparison, not llama. The tiny GGUF models answer where llama is
the point: a model process killed mid-answer, a file llama can't load, the same
seeded answers however the threads are shared."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from comparison_listener import Listener
from gguf_factory import write_tiny_model
from workbench.core.comparison import PARALLEL, Contender
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams
from workbench.core.errors import NotebookProblem
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=32, n_ctx=256, n_threads=1, seed=11)
REPLIES = {"Tiny Alpha": "Hello from alpha, 你好。", "Tiny Beta": ["Beta ", "says ", "hello."]}


@pytest.fixture
def scripted(scripted_workspace) -> Workspace:
    """The two tiny models answering REPLIES, whatever they are asked."""
    return scripted_workspace(lambda model, _prompt: REPLIES[model])


@pytest.fixture
def workspace(tiny_models: Path, tmp_path: Path):
    ws = Workspace(tmp_path / "nb.sqlite", [tiny_models], include_other_apps=False, with_starter=False)
    yield ws
    ws.close()


def contenders(ws: Workspace, params: GenerationParams = PARAMS) -> list[Contender]:
    return [Contender(ws.catalog.resolve(name), params) for name in ("tiny-alpha", "tiny-beta")]


def test_every_answer_is_streamed_and_saved(scripted: Workspace) -> None:
    workspace = scripted
    listener = Listener()
    outcome = workspace.comparison.run("Hello 你好", contenders(workspace), listener=listener)
    assert outcome.any_answered and len(listener.finished) == 2
    run = workspace.notebook.run(outcome.run_id)
    assert run["prompt"] == "Hello 你好"
    assert [r["model_name"] for r in run["responses"]] == ["Tiny Alpha", "Tiny Beta"]
    assert [r["text"] for r in run["responses"]] == ["Hello from alpha, 你好。", "Beta says hello."]
    assert listener.texts[1] == ["Beta ", "says ", "hello."]  # each piece as it came
    for position, response in enumerate(run["responses"]):
        assert response["text"] == "".join(listener.texts[position]) == outcome.responses[position].answer
        assert response["status"] == "done"
        assert response["finish_reason"] == "stop"
        assert response["model_sha256"] and len(response["model_sha256"]) == 64
        assert response["seed"] == 11 and response["sampler"]["max_tokens"] == 32
        assert sum(n for _, _, n in response["timeline"]) == len(response["text"]) + len(response["reasoning"])
    models = list(workspace.notebook.store.db.query("select name, file_size from models order by name"))
    assert [m["name"] for m in models] == ["Tiny Alpha", "Tiny Beta"]


def test_parallel_runs_give_the_same_answers_as_sequential(workspace: Workspace) -> None:
    sequential = workspace.comparison.run("Same seed", contenders(workspace))
    parallel = workspace.comparison.run("Same seed", contenders(workspace), schedule=PARALLEL)
    assert [r.answer for r in parallel.responses] == [r.answer for r in sequential.responses]
    assert workspace.notebook.run(parallel.run_id)["schedule"] == "parallel"


def test_a_model_killed_mid_answer_keeps_its_text_and_the_others_go_on(workspace: Workspace) -> None:
    listener = Listener()
    killed = []

    def kill_first_model(position: int) -> None:
        if position == 0 and not killed:
            (model,) = workspace.pool.loaded()
            killed.append(model.pid)
            os.kill(model.pid, signal.SIGKILL)

    listener.on_text = kill_first_model
    params = PARAMS.replace(max_tokens=200)
    outcome = workspace.comparison.run("Keep going", contenders(workspace, params), listener=listener)
    crashed, survivor = outcome.responses
    assert crashed.result.finish_reason == "crashed"
    assert "Tiny Alpha crashed (signal 9, SIGKILL) while generating" in crashed.result.error
    assert survivor.answered and survivor.answer
    rows = workspace.notebook.run(outcome.run_id)["responses"]
    assert rows[0]["finish_reason"] == "crashed" and rows[0]["text"] == crashed.answer and rows[0]["text"]
    assert rows[0]["error"] == crashed.result.error
    assert rows[1]["text"] == survivor.answer


def test_stopping_marks_every_model_and_keeps_what_was_written(scripted: Workspace) -> None:
    workspace = scripted
    cancel = Cancel()
    listener = Listener()
    listener.on_text = lambda position: cancel.set()  # Stop as the first piece arrives
    outcome = workspace.comparison.run("Stop me", contenders(workspace), listener=listener, cancel=cancel)
    first, second = outcome.responses
    assert first.result.finish_reason == "stopped" and first.answer == "Hello from"  # the first of its two pieces
    assert second.result.finish_reason == "stopped" and second.answer == ""
    assert not outcome.any_answered
    rows = workspace.notebook.run(outcome.run_id)["responses"]
    assert [r["finish_reason"] for r in rows] == ["stopped", "stopped"]
    assert rows[0]["text"] == first.answer


def test_a_model_that_cannot_load_fails_alone(workspace: Workspace, tmp_path: Path) -> None:
    broken = write_tiny_model(tmp_path / "alien.gguf", architecture="nonexistent", name="Alien")
    good = workspace.catalog.resolve("tiny-alpha")
    outcome = workspace.comparison.run("Hi", [Contender(workspace.catalog.resolve(str(broken)), PARAMS), Contender(good, PARAMS)])
    failed, answered = outcome.responses
    assert failed.result.finish_reason == "error" and "could not load alien.gguf" in failed.result.error
    assert answered.answered


def test_a_full_disk_while_streaming_is_reported_and_the_answer_survives(scripted: Workspace, monkeypatch) -> None:
    workspace = scripted
    notebook = workspace.notebook

    def full(partials):
        raise NotebookProblem("The disk holding the notebook is full.")

    monkeypatch.setattr(notebook, "save_partials", full)
    listener = Listener()
    outcome = workspace.comparison.run("Hi", contenders(workspace), listener=listener)
    assert outcome.any_answered
    assert listener.problems and "full" in str(listener.problems[0])
    # The final save went through (space came back), so nothing was lost.
    rows = notebook.run(outcome.run_id)["responses"]
    assert [r["text"] for r in rows] == [r.answer for r in outcome.responses] == ["Hello from alpha, 你好。", "Beta says hello."]


def test_models_stay_loaded_between_prompts(scripted: Workspace) -> None:
    workspace = scripted
    workspace.comparison.run("One", contenders(workspace))
    loaded = workspace.pool.loaded()
    workspace.comparison.run("Two", contenders(workspace))
    assert workspace.pool.loaded() == loaded and len(loaded) == 2
    assert [(b.display_name, b.prompts) for b in workspace.pool.loader.loaded] == [("Tiny Alpha", ["One", "Two"]), ("Tiny Beta", ["One", "Two"])]


@pytest.mark.starter
def test_the_starter_pair_answers_side_by_side(starter_paths: list[Path], tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "nb.sqlite", include_other_apps=False)
    try:
        ws.prepare_starter()
        entries = ws.starter_entries()
        assert [e.origin.country for e in entries] == ["US", "CN"]
        params = GenerationParams(max_tokens=24, seed=1)
        outcome = ws.comparison.run("What happened at Tiananmen Square in June 1989?", [Contender(e, params) for e in entries])
        for response in outcome.responses:
            assert response.answered, response.result.error
            assert response.answer.strip()
            assert response.result.tokens_per_s and response.result.tokens_per_s > 0  # recorded; its speed is for the benchmarks
        rows = ws.notebook.run(outcome.run_id)["responses"]
        assert [r["model_sha256"] for r in rows] == [e.sha256 for e in entries]
        assert [r["origin_country"] for r in rows] == ["US", "CN"]
    finally:
        ws.close()
