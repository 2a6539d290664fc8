"""The local backend: a model in its own process, streaming, stopping, crashing."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from fake_model import FakeLoader
from gguf_factory import CHATML_TEMPLATE, HOSTILE_TEMPLATE, write_absurd_header, write_tiny_model, write_truncated
from thread_wakeups import needs_proc, settled_switches, voluntary_switches
from workbench.core.engine.backend import FINISH_CRASHED, FINISH_ERROR, FINISH_STOPPED, GenerationResult
from workbench.core.engine.cancel import Cancel
from workbench.core.engine import local, worker
from workbench.core.engine.local import LoadCancelled, LocalModel
from workbench.core.engine.params import GenerationParams, LoadSettings
from workbench.core.engine.pool import ModelPool
from workbench.core.errors import ModelProcessProblem

QUESTION = [{"role": "user", "content": "Say something."}]
FAST = GenerationParams(max_tokens=24, n_ctx=256, n_threads=1)


class Collect:
    """A StreamSink that keeps everything, and can act on the first batch of pieces or on each."""

    def __init__(self, on_first=None, on_each=None) -> None:
        self.chunks: list[str] = []
        self.batches: list[list[str]] = []
        self.started_with: tuple | None = None
        self._on_first = on_first
        self._on_each = on_each

    def started(self, prompt_tokens, stream_format) -> None:
        self.started_with = (prompt_tokens, stream_format)

    def text(self, chunks: list[str]) -> None:
        self.batches.append(list(chunks))
        self.chunks.extend(chunks)
        if self._on_each:
            self._on_each()
        if len(self.batches) == 1 and self._on_first:
            self._on_first()


@pytest.fixture
def loaded(tiny_model: Path):
    model = LocalModel(tiny_model, "Tiny", LoadSettings(256, 1))
    model.start()
    yield model
    model.close()


def test_streams_an_answer_with_measurements(loaded: LocalModel) -> None:
    sink = Collect()
    result = loaded.generate(QUESTION, FAST, sink, Cancel())
    assert result.error is None
    assert result.finish_reason in ("stop", "length")
    assert result.text == "".join(sink.chunks) and result.text
    assert sink.started_with is not None and sink.started_with[0] == result.prompt_tokens > 0
    assert 0 < result.completion_tokens <= FAST.max_tokens + 2
    assert result.ttft_s is not None and result.ttft_s > 0
    assert result.backend_info["chat_template"] == "gguf"
    assert len(result.backend_info["template_sha256"]) == 64
    assert result.backend_info["llama_cpp_version"].startswith("llama-cpp-python ")


def test_the_same_seed_gives_the_same_answer(loaded: LocalModel) -> None:
    sampled = FAST.replace(temperature=1.2, top_k=0, top_p=1.0, min_p=0.0, seed=7)
    first = loaded.generate(QUESTION, sampled, Collect(), Cancel()).text
    second = loaded.generate(QUESTION, sampled, Collect(), Cancel()).text
    other = loaded.generate(QUESTION, sampled.replace(seed=8), Collect(), Cancel()).text
    assert first == second
    assert first != other


def test_the_system_prompt_reaches_the_template(loaded: LocalModel) -> None:
    plain = loaded.generate(QUESTION, FAST, Collect(), Cancel())
    with_system = loaded.generate([{"role": "system", "content": "Be brief and kind."}] + QUESTION, FAST, Collect(), Cancel())
    assert with_system.prompt_tokens > plain.prompt_tokens


def test_a_file_without_template_uses_the_documented_fallback(tmp_path: Path) -> None:
    model = LocalModel(write_tiny_model(tmp_path / "plain.gguf", chat_template=None), "Plain", LoadSettings(256, 1))
    model.start()
    try:
        result = model.generate(QUESTION, FAST, Collect(), Cancel())
    finally:
        model.close()
    assert result.error is None
    assert result.backend_info["chat_template"] == "fallback:chatml"
    assert result.backend_info["template_sha256"] is None


def test_a_hostile_template_is_refused_per_model(tmp_path: Path) -> None:
    model = LocalModel(write_tiny_model(tmp_path / "hostile.gguf", chat_template=HOSTILE_TEMPLATE), "Hostile", LoadSettings(256, 1))
    try:
        model.start()
        result = model.generate(QUESTION, FAST, Collect(), Cancel())
        assert result.finish_reason == FINISH_ERROR
        assert "sandbox" in result.error
        assert model.alive  # Refusing a template is not a crash.
    except ModelProcessProblem as problem:  # Refused as early as the load: equally fine.
        assert "sandbox" in str(problem) or "template" in str(problem)
    finally:
        model.close()


def test_stop_keeps_the_partial_answer(tmp_path: Path) -> None:
    model = LocalModel(write_tiny_model(tmp_path / "long.gguf", context_length=2048), "Long", LoadSettings(2048, 1))
    model.start()
    cancel = Cancel()
    try:
        sink = Collect(on_first=cancel.set)
        result = model.generate(QUESTION, FAST.replace(max_tokens=1500, n_ctx=2048), sink, cancel)
    finally:
        model.close()
    assert result.finish_reason == FINISH_STOPPED
    assert result.text == "".join(sink.chunks)
    assert 1 <= len(sink.chunks) < 1000


def test_a_cancel_wakes_its_waiters_only_while_they_wait() -> None:
    calls: list[str] = []
    cancel = Cancel()
    with cancel.waking(lambda: calls.append("waiting")):
        assert calls == []
        cancel.set()
    cancel.set()
    assert calls == ["waiting"]
    with cancel.waking(lambda: calls.append("already set")):
        pass
    assert calls == ["waiting", "already set"] and cancel.is_set()


@needs_proc
@pytest.mark.parametrize("model_frozen", [False, True], ids=["stops-itself", "killed-after-grace"])
def test_a_stop_from_another_thread_wakes_the_reader_which_otherwise_sleeps(tmp_path: Path, model_frozen: bool) -> None:
    """The thread reading an answer waits on the model's pipe and on the Stop
    alone: it does not wake to look for a Stop (each wake-up on a small machine
    takes time from the model). The model process is frozen with SIGSTOP so no
    message arrives while the reader's wake-ups are counted."""
    model = LocalModel(write_tiny_model(tmp_path / "long.gguf", context_length=2048), "Long", LoadSettings(2048, 1))
    model.start()
    cancel = Cancel()
    reader: list[int] = []
    streaming = threading.Event()

    def first_piece() -> None:
        os.kill(model.pid, signal.SIGSTOP)
        reader.append(threading.get_native_id())
        streaming.set()

    sink = Collect(on_first=first_piece)
    results = []
    thread = threading.Thread(target=lambda: results.append(model.generate(QUESTION, FAST.replace(max_tokens=1500, n_ctx=2048), sink, cancel)))
    thread.start()
    try:
        assert streaming.wait(30)
        before = settled_switches(reader[0])  # the reader went back to waiting, however long it took
        time.sleep(0.5)  # a reader that looked for a Stop (say every 0.1 s) would wake here
        assert voluntary_switches(reader[0]) - before <= 1
        if not model_frozen:
            os.kill(model.pid, signal.SIGCONT)
        cancel.set()
        thread.join(30)
        assert not thread.is_alive()
        assert results[0].finish_reason == FINISH_STOPPED
        assert results[0].text == "".join(sink.chunks)
        assert model.alive is not model_frozen  # a frozen model is ended after STOP_GRACE_S
    finally:
        if model.alive:
            os.kill(model.pid, signal.SIGCONT)
        model.close()


def test_a_native_crash_ends_only_that_model_and_keeps_the_text(tmp_path: Path) -> None:
    model = LocalModel(write_tiny_model(tmp_path / "doomed.gguf", context_length=2048), "Doomed", LoadSettings(2048, 1))
    model.start()
    sink = Collect(on_first=lambda: os.kill(model.pid, signal.SIGSEGV))
    result = model.generate(QUESTION, FAST.replace(max_tokens=1500, n_ctx=2048), sink, Cancel())
    assert result.finish_reason == FINISH_CRASHED
    assert "Doomed crashed (signal 11, SIGSEGV) while generating" in result.error
    assert result.text == "".join(sink.chunks) and result.text
    assert not model.alive
    model.close()  # Closing a dead model is harmless.


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: write_truncated(d / "half.gguf", write_tiny_model(d / "whole.gguf"), 0.5), "could not load"),
        (lambda d: write_tiny_model(d / "alien.gguf", architecture="nonexistent"), "could not load"),
        (lambda d: write_absurd_header(d / "absurd.gguf"), "could not load"),
    ],
)
def test_files_llama_cpp_refuses_fail_to_load_with_a_plain_reason(tmp_path: Path, make, expected: str) -> None:
    model = LocalModel(make(tmp_path), "Broken", LoadSettings(256, 1))
    with pytest.raises(ModelProcessProblem, match=expected):
        model.start()
    assert not model.alive


def test_a_load_can_be_cancelled(tiny_model: Path) -> None:
    cancel = Cancel()
    cancel.set()
    model = LocalModel(tiny_model, "Tiny", LoadSettings(256, 1))
    with pytest.raises(LoadCancelled):
        model.start(cancel)
    assert not model.alive


def test_the_pool_keeps_models_loaded_and_evicts_the_oldest(tmp_path: Path) -> None:
    """Pooling, not llama: scripted backends (a dead llama process is test_a_native_crash_...'s)."""
    loader = FakeLoader(lambda _model, _prompt: GenerationResult(finish_reason=FINISH_CRASHED))
    alpha, beta = tmp_path / "alpha.gguf", tmp_path / "beta.gguf"  # never opened
    size = 100
    pool = ModelPool(budget_bytes=int(size * 1.5), loader=loader)
    try:
        first = pool.acquire(alpha, "Alpha", LoadSettings(256, 1), size)
        pool.release(first)
        again = pool.acquire(alpha, "Alpha", LoadSettings(256, 1), size)
        assert again is first and len(loader.loaded) == 1
        pool.release(again)
        other = pool.acquire(beta, "Beta", LoadSettings(256, 1), size)
        pool.release(other)
        assert [m.display_name for m in pool.loaded()] == ["Beta"]
        assert not first.alive  # closed to make room
        assert other.generate(QUESTION, FAST, Collect(), Cancel()).finish_reason == FINISH_CRASHED  # and so dead
        replacement = pool.acquire(beta, "Beta", LoadSettings(256, 1), size)
        assert replacement is not other and replacement.alive
        pool.release(replacement)
        assert [m.display_name for m in loader.loaded] == ["Alpha", "Beta", "Beta"]
    finally:
        pool.close()
    assert pool.loaded() == [] and not replacement.alive


def test_the_pool_holds_any_backend_its_loader_builds(tmp_path: Path) -> None:
    """The seam the fake model uses: no GGUF process, the same pooling and streaming."""
    replies = {"Hi": "Hello there", "Stop": ["Stopped ", "here", " never"], "Crash": GenerationResult(text="Cr", finish_reason=FINISH_CRASHED)}
    loader = FakeLoader(lambda _model, prompt: replies[prompt])
    pool = ModelPool(budget_bytes=100, loader=loader)
    path = tmp_path / "fake.gguf"  # never opened
    try:
        model = pool.acquire(path, "Fake", LoadSettings(256, 1), 10)
        sink = Collect()
        result = model.generate([{"role": "user", "content": "Hi"}], FAST, sink, Cancel())
        assert (result.text, result.finish_reason, sink.chunks, sink.started_with) == ("Hello there", "stop", ["Hello", " there"], (10, "think"))
        cancel = Cancel()
        sink = Collect(on_first=cancel.set)  # Stop after the first piece
        result = model.generate([{"role": "user", "content": "Stop"}], FAST, sink, cancel)
        assert (result.text, result.finish_reason, sink.chunks) == ("Stopped ", FINISH_STOPPED, ["Stopped "])
        pool.release(model)
        assert pool.acquire(path, "Fake", LoadSettings(256, 1), 10) is model and len(loader.loaded) == 1
        assert model.generate([{"role": "user", "content": "Crash"}], FAST, Collect(), Cancel()).finish_reason == FINISH_CRASHED
        pool.release(model)
        assert pool.loaded() == [] and pool.acquire(path, "Fake", LoadSettings(256, 1), 10) is not model  # loaded again
        stopped = Cancel()
        stopped.set()
        with pytest.raises(LoadCancelled):
            pool.acquire(path, "Fake", LoadSettings(512, 1), 10, stopped)
    finally:
        pool.close()


def test_requests_for_a_model_being_loaded_wait_and_share_it(tmp_path: Path) -> None:
    """A batch's prompts in flight ask for one model at once: one load, one process."""
    loader = FakeLoader(lambda _model, _prompt: "Hi")
    first_load_began, go_on = threading.Event(), threading.Event()

    def slow(*args):
        first_load_began.set()
        go_on.wait(5)  # the others ask while this load is under way
        return loader(*args)

    pool = ModelPool(budget_bytes=100, loader=slow)
    path = tmp_path / "fake.gguf"
    got: list = []
    try:
        threads = [threading.Thread(target=lambda: got.append(pool.acquire(path, "Fake", LoadSettings(256, 1), 10))) for _ in range(4)]
        threads[0].start()
        assert first_load_began.wait(5)
        for thread in threads[1:]:
            thread.start()
        stopped = Cancel()
        stopped.set()
        with pytest.raises(LoadCancelled):  # a Stop while waiting for another's load
            pool.acquire(path, "Fake", LoadSettings(256, 1), 10, stopped)
        go_on.set()
        for thread in threads:
            thread.join(5)
        assert len(loader.loaded) == 1 and len(got) == 4 and all(model is got[0] for model in got)
    finally:
        go_on.set()
        pool.close()


def test_a_template_that_opens_a_think_block_is_reported(tmp_path: Path) -> None:
    """Like DeepSeek-R1's and Qwen3's templates: the prompt ends inside <think>."""
    template = CHATML_TEMPLATE.replace("assistant\n' }}", "assistant\n<think>\n' }}")
    assert template != CHATML_TEMPLATE
    model = LocalModel(write_tiny_model(tmp_path / "thinker.gguf", chat_template=template), "Thinker", LoadSettings(256, 1))
    model.start()
    try:
        sink = Collect()
        model.generate(QUESTION, FAST, sink, Cancel())
    finally:
        model.close()
    assert sink.started_with[1] == "think+opened"


def test_text_reaches_the_parent_in_batches_with_the_first_piece_at_once(tmp_path: Path) -> None:
    """One message per token would wake the app for every token, taking time from the model's
    threads (docs/benchmarks.md); the worker sends the pieces at most every SEND_INTERVAL_S
    instead, and the sink gets each message's pieces in one call, for its front end to take
    in one go."""
    model = LocalModel(write_tiny_model(tmp_path / "long.gguf", context_length=2048), "Long", LoadSettings(2048, 1))
    model.start()
    arrivals: list[float] = []
    try:
        sink = Collect(on_each=lambda: arrivals.append(time.perf_counter()))
        result = model.generate(QUESTION, FAST.replace(max_tokens=1500, n_ctx=2048), sink, Cancel())
    finally:
        model.close()
    assert result.text == "".join(sink.chunks)
    assert result.completion_tokens == 1500 and len(sink.chunks) > 1000  # a piece per token, nearly
    # At most one message a send interval (besides the first piece, sent at once, and the
    # last): however fast or slow the machine, the bound follows how long the text took.
    # The span is measured as messages arrive here, so it gets 50 ms for the arrivals'
    # own delays (CI once measured 0.599 s for five messages sent 0.2 s apart).
    streamed_s = arrivals[-1] - arrivals[0]
    assert len(sink.batches) <= (streamed_s + 0.05) / worker.SEND_INTERVAL_S + 2
    assert len(sink.batches[0]) == 1 and len(sink.batches) > 1  # the first piece came alone, at once


class ScriptedPipe:
    """The parent's end of a model process's pipe with every message of `script` already
    in it. Receiving a message moves `clock` to the time it is scripted to arrive (seconds
    after the request), so the reader's timings are the script's, however busy the machine."""

    def __init__(self, script: list[tuple[float, tuple]], clock: SimpleNamespace) -> None:
        self._parent, self._child = multiprocessing.Pipe()
        for _, message in script:
            self._child.send(message)
        self._arrivals = [at for at, _ in script]
        self._clock = clock

    def fileno(self) -> int:
        return self._parent.fileno()

    def send(self, request) -> None:
        pass  # the request to answer: the script is the answer

    def recv(self):
        message = self._parent.recv()
        self._clock.now = self._arrivals.pop(0)
        return message

    def close(self) -> None:
        self._parent.close()
        self._child.close()


def test_held_text_is_dated_from_when_the_model_made_it(tmp_path: Path, monkeypatch) -> None:
    """The last batch can wait through the step that finds the answer's end; the recorded speed
    must be the model's, not the batching's."""
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(local, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    model = LocalModel(tmp_path / "scripted.gguf", "Scripted", LoadSettings(256, 1))
    model._conn = ScriptedPipe([
        (0.0, ("started", 1, {"prompt_tokens": 5, "stream_format": "think"})),
        (0.1, ("text", 1, ["a"], 0.0)),
        (0.6, ("text", 1, ["b", "c"], 0.4)),  # made at 0.2 s, held 0.4 s
        (0.6, ("done", 1, {"finish_reason": "stop", "completion_tokens": 3})),
    ], clock)
    monkeypatch.setattr(LocalModel, "alive", property(lambda self: True))
    result = model.generate(QUESTION, FAST, Collect(), Cancel())
    model._conn.close()
    assert result.text == "abc"
    assert result.ttft_s == pytest.approx(0.1) and result.duration_s == pytest.approx(0.2)  # not 0.6
    assert result.tokens_per_s == pytest.approx(20)  # 2 tokens in 0.1 s, not in 0.5 s
