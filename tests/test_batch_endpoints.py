"""Batches against a real OpenAI-compatible server: the loopback stub
(tests/openai_stub_server.py, its own process on 127.0.0.1) answers through the
openai SDK and logs every request with how many were in flight as it arrived.
The scheduling itself is tested with scripted models in test_batch_concurrency.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from endpoint_servers import StubServer
from prompt_set_factory import write_set

from workbench.core.analysis.summary import summarise
from workbench.core.batch import BatchRunner
from workbench.core.endpoints.config import Endpoint, save_endpoint
from workbench.core.endpoints.listing import list_models
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams
from workbench.core.lanes import EndpointPaused
from workbench.core.notebook.batches import CANCELLED, DONE, PAUSED
from workbench.core.prompts import load_prompt_set
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=16, n_ctx=256, n_threads=1, seed=3)


def chats(stub: StubServer) -> list[dict]:
    """The chat requests the stub received, in order (each with `in_flight`)."""
    return [r for r in stub.requests() if r["path"] == "/v1/chat/completions"]


def reply(text: str, pause_s: float = 0.0, pieces: int = 3) -> dict:
    size = -(-len(text) // pieces)
    return {"chunks": [{"content": text[i : i + size]} for i in range(0, len(text), size)], "finish_reason": "stop", "pause_s": pause_s}


def workspace_with(tmp_path: Path, *endpoints: Endpoint) -> Workspace:
    for endpoint in endpoints:
        save_endpoint(endpoint)
        list_models(endpoint, None)  # the listing the catalog's scan reads
    return Workspace(tmp_path / "nb.sqlite", [], include_other_apps=False, with_starter=False)


def batch_of(ws: Workspace, tmp_path: Path, questions: int, *model_ids: str) -> int:
    prompt_set = load_prompt_set(write_set(tmp_path / "set.toml", questions))
    entries = [ws.catalog.resolve(model_id) for model_id in model_ids]
    return BatchRunner(ws.comparison).create(prompt_set, entries, PARAMS, languages=["en"]).id


def test_the_server_sees_at_most_the_endpoints_concurrency_in_flight(stub_server: StubServer, tmp_path: Path) -> None:
    stub_server.script(dict(models=["m1"], replies={"m1": reply("A slow but steady answer.", pause_s=0.05)}))
    ws = workspace_with(tmp_path, Endpoint("lab", stub_server.url, concurrency=3))
    try:
        result = BatchRunner(ws.comparison).run(batch_of(ws, tmp_path, 9, "lab/m1"))
        assert result.batch.status == DONE and result.batch.done == 9
        assert max(r["in_flight"] for r in chats(stub_server)) == 3
        assert len(chats(stub_server)) == 9
        # Nine answers streamed at once, three at a time, each saved whole in its own run.
        rows = ws.notebook.batches.responses(result.batch.id)
        assert len({r["run_id"] for r in rows}) == 9 and {r["text"] for r in rows} == {"A slow but steady answer."}
        assert {r["finish_reason"] for r in rows} == {"stop"}
    finally:
        ws.close()


class Problems:
    def __init__(self) -> None:
        self.problems: list[Exception] = []

    def problem(self, problem: Exception) -> None:
        self.problems.append(problem)


def test_a_failing_endpoint_is_paused_while_another_goes_on_and_a_resume_asks_only_what_it_left(stub_server: StubServer, tmp_path: Path) -> None:
    # "ghost" is listed but every request for it gets a 404 (a server that lies in /v1/models).
    stub_server.script(dict(models=["m1"], missing=["ghost"], replies={"m1": reply("Steady.")}))
    ws = workspace_with(tmp_path, Endpoint("bad", stub_server.url, concurrency=1), Endpoint("good", stub_server.url, concurrency=2))
    try:
        batch_id = batch_of(ws, tmp_path, 8, "bad/ghost", "good/m1")
        listener = Problems()
        result = BatchRunner(ws.comparison).run(batch_id, listener=listener)
        asked = [r["body"]["model"] for r in chats(stub_server)]
        assert asked.count("ghost") == 5 and asked.count("m1") == 8
        paused = [p for p in listener.problems if isinstance(p, EndpointPaused)]
        assert len(paused) == 1 and str(paused[0]).startswith("Endpoint bad failed 5 times in a row")
        assert result.batch.status == PAUSED and result.batch.done == 5

        stub_server.script(dict(models=["m1", "ghost"], replies={"m1": reply("Steady."), "ghost": reply("Back again.")}))
        again = BatchRunner(ws.comparison).run(batch_id, listener=Problems())
        assert again.batch.status == DONE and again.batch.done == 8
        asked = [r["body"]["model"] for r in chats(stub_server)]
        # The three prompts left were asked of the paused endpoint's model only: m1 had
        # answered them, and is not asked (nor paid for) twice.
        assert asked.count("ghost") == 8 and asked.count("m1") == 8
        # ... in the runs that first asked them: every run holds one finished answer per model.
        assert len(ws.notebook.recent_runs()) == 8
        for item in ws.notebook.batches.items(batch_id):
            run = ws.notebook.run(item.run_id)
            assert run is not None and item.asking_run_id == item.run_id and len(run["turns"]) == 1
            assert [(r["model_name"], r["finish_reason"] is not None and r["finish_reason"] != "stopped") for r in run["responses"]] == [
                ("ghost", True), ("m1", True),
            ]  # fmt: skip
        # Scored over both answers, the one kept and the one asked now (five have one answer only).
        assert sum(item.divergence is not None for item in ws.notebook.batches.items(batch_id)) == 3
        summary = summarise(ws.notebook, [batch_id])
        assert sorted((r.model_name, r.n) for r in summary.overall) == [("ghost", 3), ("m1", 8)]  # five failed: no answer to rate
    finally:
        ws.close()


def test_stop_ends_the_requests_in_flight_at_once(stub_server: StubServer, tmp_path: Path) -> None:
    stub_server.script(dict(models=["m1"], replies={"m1": reply("An answer that takes twenty seconds to stream.", pause_s=4.0, pieces=5)}))
    ws = workspace_with(tmp_path, Endpoint("lab", stub_server.url, concurrency=3))
    cancel = Cancel()
    try:
        batch_id = batch_of(ws, tmp_path, 6, "lab/m1")
        stopper = threading.Thread(target=_stop_when(lambda: len(chats(stub_server)) == 3, cancel), daemon=True)
        stopper.start()
        started = time.perf_counter()
        result = BatchRunner(ws.comparison).run(batch_id, cancel=cancel)
        assert time.perf_counter() - started < 10  # not the 20 s each answer takes
        assert result.batch.status == CANCELLED and result.batch.done == 0
        assert len(chats(stub_server)) == 3  # nothing more was sent
    finally:
        ws.close()


def _stop_when(ready: Callable[[], bool], cancel: Cancel) -> Callable[[], None]:
    def wait_then_stop() -> None:
        deadline = time.monotonic() + 20
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the first pieces are streaming
        cancel.set()

    return wait_then_stop


def test_the_terminal_says_once_that_an_endpoint_is_paused_and_how_to_resume(stub_server: StubServer, tmp_path: Path, monkeypatch, capsys) -> None:
    from cli_process import in_process

    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    stub_server.script(dict(models=["m1"], missing=["ghost"], replies={"m1": reply("Steady.")}))
    workspace_with(tmp_path, Endpoint("bad", stub_server.url, concurrency=2), Endpoint("good", stub_server.url)).close()
    db = tmp_path / "nb.sqlite"
    prompts = write_set(tmp_path / "set.toml", 8)
    status = in_process("--db", str(db), "batch", str(prompts), "--model", "bad/ghost", "--model", "good/m1", "--lang", "en")
    _out, err = capsys.readouterr()
    assert status == 1
    notes = [line for line in err.splitlines() if "failed 5 times in a row" in line]
    assert len(notes) == 1 and notes[0].startswith("note: Endpoint bad failed 5 times in a row")
    assert "Resume with:" in err and f"workbench batch --resume 1 --db {db}" in err
    assert "Traceback" not in err
