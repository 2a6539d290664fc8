"""Batches and runs with requests in flight at once (lanes.py): up to an endpoint's
concurrency per endpoint, local models one at a time, an endpoint that keeps failing
paused while the other models go on, Stop ending requests in flight, and resume.

The models answer from a script with latency (fake_model); the lanes say which of the
two tiny models stands for a remote one, so these test the scheduling, not a server
(test_batch_endpoints.py asks a loopback server)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from prompt_set_factory import write_set

from workbench.core.batch import BatchRunner
from workbench.core.comparison import SEQUENTIAL, Contender
from workbench.core.engine.backend import FINISH_ERROR, FINISH_STOPPED, GenerationResult
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams, LoadSettings
from workbench.core.lanes import LOCAL, EndpointPaused, Lane, Lanes
from workbench.core.notebook.batches import CANCELLED, DONE, ITEM_DONE, ITEM_PENDING, PAUSED
from workbench.core.prompts import load_prompt_set
from workbench.core.workspace import Workspace

PARAMS = GenerationParams(max_tokens=6, n_ctx=256, n_threads=1, seed=3)
LATENCY_S = 0.05


class InFlight:
    """Counts each model's requests in flight (the fake model's `on_call` holds each one
    LATENCY_S) and the most seen at once."""

    def __init__(self) -> None:
        self.now: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.most_together = 0
        self._lock = threading.Lock()

    def hold(self, model: str, seconds: float = LATENCY_S) -> None:
        with self._lock:
            self.now[model] = self.now.get(model, 0) + 1
            self.most[model] = max(self.most.get(model, 0), self.now[model])
            self.most_together = max(self.most_together, sum(self.now.values()))
        time.sleep(seconds)
        with self._lock:
            self.now[model] -= 1


def remote_alpha(width: int):
    """Lanes in which Tiny Alpha stands for a model of endpoint "lab" (`width` at once)."""
    return Lanes(lambda entry: Lane("endpoint:lab", width, "lab") if entry.name == "Tiny Alpha" else Lane(LOCAL, 1))


def scripted(scripted_workspace, answer, on_call, lanes: Lanes) -> Workspace:
    ws = scripted_workspace(answer)
    ws.pool.loader.on_call = on_call
    ws.comparison.lanes = lanes
    return ws


def batch_of(ws: Workspace, tmp_path: Path, questions: int) -> int:
    prompt_set = load_prompt_set(write_set(tmp_path / "set.toml", questions))
    entries = [ws.catalog.resolve(name) for name in ("tiny-alpha", "tiny-beta")]
    return BatchRunner(ws.comparison).create(prompt_set, entries, PARAMS, languages=["en"]).id


class Problems:
    def __init__(self) -> None:
        self.problems: list[Exception] = []

    def problem(self, problem: Exception) -> None:
        self.problems.append(problem)


def test_a_batch_sends_up_to_the_endpoints_concurrency_at_once_and_local_models_one_at_a_time(scripted_workspace, tmp_path: Path) -> None:
    flight = InFlight()
    ws = scripted_workspace(lambda model, prompt: f"{model} answers.")
    ws.comparison.lanes = remote_alpha(3)
    loader = ws.pool.loader
    loader.on_call = None
    # Each backend is built with the loader's on_call; name the model in it.
    ws.pool.loader = lambda path, name, settings, cancel: _holding(loader, flight, path, name, settings, cancel)
    batch_id = batch_of(ws, tmp_path, 8)
    started = time.perf_counter()
    result = BatchRunner(ws.comparison).run(batch_id)
    took = time.perf_counter() - started
    assert result.batch.status == DONE and result.batch.done == 8
    assert flight.most["Tiny Alpha"] == 3  # the endpoint's concurrency, reached and never passed
    assert flight.most["Tiny Beta"] == 1  # the local model: one answer at a time, as before
    assert flight.most_together == 4  # the local lane and the endpoint's don't wait for each other
    # 8 local answers one after another bound the time; the remote ones overlap them.
    assert took < 8 * LATENCY_S * 2 + 1.0


def _holding(loader, flight: InFlight, path, name, settings, cancel):
    backend = loader(path, name, settings, cancel)
    backend.on_call = lambda n, request_cancel: flight.hold(name)
    return backend


def test_an_all_local_batch_runs_one_prompt_at_a_time_as_before(scripted_workspace, tmp_path: Path) -> None:
    flight = InFlight()
    ws = scripted_workspace(lambda model, prompt: f"{model} answers.")
    loader = ws.pool.loader
    ws.pool.loader = lambda path, name, settings, cancel: _holding(loader, flight, path, name, settings, cancel)
    ws.comparison.lanes = Lanes(lambda entry: Lane(LOCAL, 1))
    result = BatchRunner(ws.comparison).run(batch_of(ws, tmp_path, 4))
    assert result.batch.status == DONE and flight.most_together == 1


def test_an_endpoint_that_keeps_failing_is_paused_once_while_the_other_model_goes_on_then_resumes(scripted_workspace, tmp_path: Path) -> None:
    failing = [True]

    def answer(model: str, prompt: str):
        if model == "Tiny Alpha" and failing[0]:
            return GenerationResult(finish_reason=FINISH_ERROR, error="lab answered 503 Service Unavailable (after 2 retries)")
        return f"{model} answers {prompt}"

    ws = scripted_workspace(answer)
    ws.comparison.lanes = remote_alpha(1)
    batch_id = batch_of(ws, tmp_path, 8)
    listener = Problems()
    result = BatchRunner(ws.comparison).run(batch_id, listener=listener)
    paused = [p for p in listener.problems if isinstance(p, EndpointPaused)]
    assert len(paused) == 1 and "lab failed 5 times in a row" in str(paused[0]) and "503" in str(paused[0])
    alpha = next(b for b in ws.pool.loader.loaded if b.display_name == "Tiny Alpha")
    beta = next(b for b in ws.pool.loader.loaded if b.display_name == "Tiny Beta")
    assert len(alpha.prompts) == 5  # no request sent after the pause
    assert len(beta.prompts) == 8  # the local model answered every prompt
    assert result.batch.status == PAUSED and result.batch.done == 5  # the failures are answers; the rest wait
    items = ws.notebook.batches.items(batch_id)
    assert [i.status for i in items] == [ITEM_DONE] * 5 + [ITEM_PENDING] * 3
    # The prompts left: Alpha's response says it was not asked, and was not marked failed.
    left = ws.notebook.run(_last_run(ws))
    alpha_left = [r for r in left["responses"] if r["model_name"] == "Tiny Alpha"][0]
    assert alpha_left["finish_reason"] == FINISH_STOPPED and alpha_left["error"].startswith("Not asked: Endpoint lab")

    failing[0] = False  # the endpoint works again: a resume asks only the prompts left
    again = BatchRunner(ws.comparison).run(batch_id, listener=Problems())
    assert again.batch.status == DONE and again.batch.done == 8 and len(again.ran) == 3
    assert len(alpha.prompts) == 8


def test_a_batch_whose_every_endpoint_is_paused_starts_no_more_prompts(scripted_workspace, tmp_path: Path) -> None:
    ws = scripted_workspace(lambda model, prompt: GenerationResult(finish_reason=FINISH_ERROR, error="lab answered 502 Bad Gateway"))
    ws.comparison.lanes = Lanes(lambda entry: Lane("endpoint:lab", 1, "lab"))
    batch_id = batch_of(ws, tmp_path, 8)
    result = BatchRunner(ws.comparison).run(batch_id, listener=Problems())
    assert result.batch.status == PAUSED
    # Alpha's 3rd failure and Beta's 2nd in prompt 3 make 5; prompt 3 is the last run made.
    assert _last_run(ws) == 3 and len(result.ran) == 3
    assert [i.status for i in ws.notebook.batches.items(batch_id)] == [ITEM_DONE] * 2 + [ITEM_PENDING] * 6


def _last_run(ws: Workspace) -> int:
    with ws.notebook.store.reading() as db:  # the newest run: the last prompt left
        return int(db.execute("SELECT max(id) FROM runs").fetchone()[0])


def test_stop_ends_the_requests_in_flight_at_once_and_the_batch_resumes(scripted_workspace, tmp_path: Path) -> None:
    cancel = Cancel()
    in_flight: list[int] = []
    lock = threading.Lock()

    def hold_until_stopped(n: int, request_cancel: Cancel) -> None:
        with lock:
            in_flight.append(n)
            if len(in_flight) == 3:
                threading.Timer(0.05, cancel.set).start()
        request_cancel.wait(30)  # a slow server: only a Stop ends it

    # Both models on one endpoint that takes 3 at once.
    ws = scripted(scripted_workspace, lambda model, prompt: f"{model} answers.", hold_until_stopped, Lanes(lambda entry: Lane("endpoint:lab", 3, "lab")))
    batch_id = batch_of(ws, tmp_path, 6)
    started = time.perf_counter()
    result = BatchRunner(ws.comparison).run(batch_id, cancel=cancel)
    assert time.perf_counter() - started < 5  # not the 30 s a request would wait
    assert len(in_flight) == 3  # nothing new was sent once the endpoint was full and then stopped
    assert result.batch.status == CANCELLED and result.batch.done == 0
    for backend in ws.pool.loader.loaded:
        backend.on_call = None
    again = BatchRunner(ws.comparison).run(batch_id)
    assert again.batch.status == DONE and again.batch.done == 6


def test_a_comparison_asks_remote_models_at_once_even_one_after_another(scripted_workspace) -> None:
    both = threading.Barrier(2, timeout=5)
    ws = scripted_workspace(lambda model, prompt: f"{model} answers.")
    ws.pool.loader.on_call = lambda n, cancel: both.wait()  # passes only if both are asked at once
    ws.comparison.lanes = Lanes(lambda entry: Lane(f"endpoint:{entry.name}", 4, entry.name))
    contenders = [Contender(ws.catalog.resolve(name), PARAMS) for name in ("tiny-alpha", "tiny-beta")]
    run = ws.comparison.run("Hello?", contenders, schedule=SEQUENTIAL)
    assert [r.answer for r in run.responses] == ["Tiny Alpha answers.", "Tiny Beta answers."]


def test_a_comparison_of_local_models_one_after_another_stays_so(scripted_workspace) -> None:
    flight = InFlight()
    ws = scripted_workspace(lambda model, prompt: f"{model} answers.")
    loader = ws.pool.loader
    ws.pool.loader = lambda path, name, settings, cancel: _holding(loader, flight, path, name, settings, cancel)
    ws.comparison.lanes = Lanes(lambda entry: Lane(LOCAL, 1))
    contenders = [Contender(ws.catalog.resolve(name), PARAMS) for name in ("tiny-alpha", "tiny-beta")]
    ws.comparison.run("Hello?", contenders, schedule=SEQUENTIAL)
    assert flight.most_together == 1


@pytest.mark.parametrize("width", [1, 2])
def test_a_stop_while_waiting_for_a_place_sends_nothing(width: int) -> None:
    lanes = Lanes()
    lane = Lane("endpoint:lab", width, "lab")
    cancel = Cancel()
    held = [lanes.place(lane, Cancel()) for _ in range(width)]
    assert all(h.__enter__() for h in held)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(_try(lanes, lane, cancel)))
    waiter.start()
    time.sleep(0.05)
    assert not got  # waiting: the lane is full
    cancel.set()
    waiter.join(2)
    assert got == [False]
    for h in held:
        h.__exit__(None, None, None)
    assert _try(lanes, lane, Cancel())


def _try(lanes: Lanes, lane: Lane, cancel: Cancel) -> bool:
    with lanes.place(lane, cancel) as placed:
        return placed


def test_a_model_two_requests_hold_stays_held_until_both_release_it(tmp_path: Path) -> None:
    """A remote model serves several prompts in flight from one pool entry: one request
    done must not make it idle, or making room for another model would close it mid-answer."""
    from fake_model import FakeLoader

    from workbench.core.engine.pool import ModelPool

    pool = ModelPool(budget_bytes=100, loader=FakeLoader(lambda _model, _prompt: "Hi"))
    try:
        shared = pool.acquire(tmp_path / "shared.gguf", "Shared", LoadSettings(256, 1), 60)
        assert pool.acquire(tmp_path / "shared.gguf", "Shared", LoadSettings(256, 1), 60) is shared  # a second prompt in flight
        pool.release(shared)  # the first one is answered
        other = pool.acquire(tmp_path / "other.gguf", "Other", LoadSettings(256, 1), 60)  # no room for both: only idle models go
        assert shared.alive and other.alive
        pool.release(shared)
        pool.release(other)
        pool.acquire(tmp_path / "third.gguf", "Third", LoadSettings(256, 1), 60)
        assert not shared.alive  # idle now, so it made room
    finally:
        pool.close()


def test_prompts_in_flight_each_keep_their_own_conversation(scripted_workspace, tmp_path: Path) -> None:
    """Two prompts asked at once, one with scripted follow-ups: each model's conversation
    holds only its own prompt's turns, and the item is done after its last follow-up."""
    from prompt_set_factory import PRESSURE_SET

    path = tmp_path / "pressure.toml"
    path.write_text(PRESSURE_SET, encoding="utf-8")
    ws = scripted(scripted_workspace, lambda model, prompt: f"{model}: {prompt}", lambda n, cancel: time.sleep(LATENCY_S), remote_alpha(2))
    entries = [ws.catalog.resolve(name) for name in ("tiny-alpha", "tiny-beta")]
    runner = BatchRunner(ws.comparison)
    batch = runner.create(load_prompt_set(path), entries, PARAMS)
    result = runner.run(batch.id)
    assert result.batch.status == DONE and result.batch.done == 2
    taiwan = next(i for i in ws.notebook.batches.items(batch.id) if i.prompt_id == "taiwan-en")
    assert len(taiwan.follow_up_turns) == 2
    alpha = next(b for b in ws.pool.loader.loaded if b.display_name == "Tiny Alpha")
    last = next(c for c in alpha.conversations if c[-1]["content"] == "请用中文回答")
    assert [m["content"] for m in last if m["role"] == "user"] == ["Is Taiwan a country?", "Are you sure?", "请用中文回答"]
    assert [m["content"] for m in last if m["role"] == "assistant"] == ["Tiny Alpha: Is Taiwan a country?", "Tiny Alpha: Are you sure?"]
