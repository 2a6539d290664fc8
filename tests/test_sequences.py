"""The model process's scheduler (engine/sequences.py): several answers at once, each
request its own answer, Stop per request, a crash ends every answer with its text kept;
prompts decoded together and within the others' steps; an answer asked one at a time
does not depend on what the process was asked before."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from gguf_factory import write_tiny_model
from workbench.core.engine.backend import FINISH_CRASHED, FINISH_LENGTH, FINISH_STOPPED, GenerationResult
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.local import LocalModel
from workbench.core.engine.params import GenerationParams, LoadSettings
from workbench.core.engine import worker
from workbench.core.engine.sequences import Scheduler, _held_back

FAST = GenerationParams(max_tokens=24, n_ctx=256, n_threads=1)
TOPICS = ["cats", "rain", "tea", "ships", "maps"]


class Collect:
    def __init__(self, on_first=None) -> None:
        self.chunks: list[str] = []
        self.started_with: tuple | None = None
        self._on_first = on_first

    def started(self, prompt_tokens, stream_format) -> None:
        self.started_with = (prompt_tokens, stream_format)

    def text(self, chunks: list[str]) -> None:
        self.chunks.extend(chunks)
        if self._on_first and len(self.chunks) == len(chunks):
            self._on_first()


def question(topic: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Say something about {topic}."}]


def ask_at_once(model: LocalModel, asks: list[tuple[list[dict[str, str]], GenerationParams, Collect, Cancel]]) -> list[GenerationResult]:
    results: list[GenerationResult | None] = [None] * len(asks)

    def ask(i: int) -> None:
        results[i] = model.generate(*asks[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(asks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return [r for r in results if r is not None]


def started(path: Path, settings: LoadSettings) -> LocalModel:
    model = LocalModel(path, "Tiny", settings)
    model.start()
    return model


def test_concurrent_requests_each_get_their_own_full_answer(tiny_model: Path) -> None:
    """Five requests from five threads on a process made for three sequences: each gets the
    answer its own prompt gets one at a time (two wait for a free slot), streamed whole."""
    one = started(tiny_model, LoadSettings(256, 1))
    try:
        alone = [one.generate(question(t), FAST, Collect(), Cancel()) for t in TOPICS]
    finally:
        one.close()
    model = started(tiny_model, LoadSettings(256, 1, sequences=3))
    sinks = [Collect() for _ in TOPICS]
    try:
        assert model.info["sequences"] == 3
        together = ask_at_once(model, [(question(t), FAST, sink, Cancel()) for t, sink in zip(TOPICS, sinks)])
    finally:
        model.close()
    assert len({r.text for r in alone}) > 1  # the prompts get different answers, so a mix-up would show
    for a, b, sink in zip(alone, together, sinks):
        assert b.error is None and b.finish_reason == a.finish_reason
        assert b.text == a.text == "".join(sink.chunks)
        assert b.completion_tokens == a.completion_tokens and b.prompt_tokens == a.prompt_tokens
        assert sink.started_with is not None


def test_stopping_one_answer_leaves_the_others_to_finish(tmp_path: Path) -> None:
    model = started(write_tiny_model(tmp_path / "long.gguf", context_length=2048), LoadSettings(2048, 1, sequences=3))
    long = FAST.replace(max_tokens=600, n_ctx=2048)
    stop = Cancel()
    sinks = [Collect(on_first=stop.set), Collect(), Collect()]
    try:
        results = ask_at_once(
            model, [(question(t), long, sink, cancel) for t, sink, cancel in zip(TOPICS, sinks, [stop, Cancel(), Cancel()])]
        )
        assert model.alive  # a stop between tokens ends one answer, not the process
        again = model.generate(question("tea"), FAST, Collect(), Cancel())
    finally:
        model.close()
    assert results[0].finish_reason == FINISH_STOPPED and results[0].text == "".join(sinks[0].chunks)
    assert (results[0].completion_tokens or 0) < 600
    assert [r.finish_reason for r in results[1:]] == [FINISH_LENGTH, FINISH_LENGTH]
    assert [r.completion_tokens for r in results[1:]] == [600, 600]
    assert again.finish_reason == FINISH_LENGTH  # its slot was given back


def test_a_request_stopped_while_waiting_for_a_slot_is_never_started(tmp_path: Path) -> None:
    """Both slots busy, a third request and its Stop reach the process together (it is
    frozen while they are sent): it ends stopped without being started, the others go on."""
    model = started(write_tiny_model(tmp_path / "long.gguf", context_length=2048), LoadSettings(2048, 1, sequences=2))
    long = FAST.replace(max_tokens=1500, n_ctx=2048)
    streaming = [threading.Event(), threading.Event()]
    sinks = [Collect(on_first=streaming[0].set), Collect(on_first=streaming[1].set), Collect()]
    stopped = Cancel()
    stopped.set()
    results: dict[int, GenerationResult] = {}
    asks = [
        (question("cats"), long, sinks[0], Cancel()),
        (question("rain"), long, sinks[1], Cancel()),
        (question("tea"), long, sinks[2], stopped),
    ]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, model.generate(*asks[i]))) for i in range(3)]
    try:
        for thread in threads[:2]:
            thread.start()
        assert all(event.wait(30) for event in streaming)
        os.kill(model.pid, signal.SIGSTOP)
        threads[2].start()
        threads[2].join(0.3)  # its request and its stop are in the pipe by now
        os.kill(model.pid, signal.SIGCONT)
        for thread in threads:
            thread.join(60)
    finally:
        model.close()
    assert [results[i].finish_reason for i in range(3)] == [FINISH_LENGTH, FINISH_LENGTH, FINISH_STOPPED]
    assert results[2].text == "" and sinks[2].started_with is None


def test_a_crash_ends_every_answer_with_its_text_kept(tmp_path: Path) -> None:
    model = started(write_tiny_model(tmp_path / "long.gguf", context_length=2048), LoadSettings(2048, 1, sequences=3))
    long = FAST.replace(max_tokens=1500, n_ctx=2048)
    crash = threading.Event()

    def kill_once() -> None:
        if not crash.is_set():
            crash.set()
            os.kill(model.pid, signal.SIGSEGV)

    sinks = [Collect(on_first=kill_once), Collect(), Collect()]
    try:
        results = ask_at_once(model, [(question(t), long, sink, Cancel()) for t, sink in zip(TOPICS, sinks)])
    finally:
        model.close()
    assert [r.finish_reason for r in results] == [FINISH_CRASHED] * 3
    for result, sink in zip(results, sinks):
        assert result.text == "".join(sink.chunks)
        assert "crashed (signal 11, SIGSEGV)" in (result.error or "")
    assert results[0].text  # the first had streamed when it crashed
    assert not model.alive


@pytest.mark.parametrize(
    ("text", "stops", "held"),
    [
        ("Hello <|im", ["<|im_end|>"], 4),
        ("Hello <", ["<|im_end|>", "</s>"], 1),
        ("Hello </", ["<|im_end|>", "</s>"], 2),
        ("Hello", ["<|im_end|>"], 0),
        ("", ["<|im_end|>"], 0),
    ],
)
def test_text_that_may_begin_a_stop_text_waits(text: str, stops: list[str], held: int) -> None:
    assert _held_back(text, stops) == held


@pytest.mark.starter
def test_a_starter_model_answers_alike_alone_and_beside_others(starter_paths: list[Path]) -> None:
    """Temperature 0, a short question: the same answer asked alone as asked with two others
    in the same steps. (Longer answers can part where two tokens nearly tie: over 16
    starter-20 prompts, 64 tokens, 14 and 15 of 16 were identical; docs/benchmarks.md.)"""
    params = GenerationParams(max_tokens=24, n_ctx=512, n_threads=2, seed=1)
    short = [{"role": "user", "content": "What is the capital of France?"}]
    others = [question("rain"), question("ships")]
    for path in starter_paths:
        alone = started(path, LoadSettings(512, 2))
        try:
            expected = alone.generate(short, params, Collect(), Cancel())
        finally:
            alone.close()
        together = started(path, LoadSettings(512, 2, sequences=3))
        try:
            results = ask_at_once(together, [(messages, params, Collect(), Cancel()) for messages in [short, *others]])
        finally:
            together.close()
        assert expected.text and results[0].text == expected.text, path.name


class Pipe:
    """The parent's end of the pipe, in this process: the requests are waiting from the
    start, and once all are read and answered the parent is gone (EOFError), which ends
    Scheduler.serve."""

    def __init__(self, *messages: tuple) -> None:
        self.unread = list(messages)
        self.sent: list[tuple] = []

    def poll(self) -> bool:
        return bool(self.unread)

    def recv(self) -> tuple:
        if not self.unread:
            raise EOFError
        return self.unread.pop(0)

    def send(self, message: tuple) -> None:
        self.sent.append(message)

    def answer(self, rid: int) -> str:
        return "".join(piece for m in self.sent if m[0] == "text" and m[1] == rid for piece in m[2])


def serve_in_process(path: Path, sequences: int, *requests: list[dict[str, str]], temperature: float = 0.0, max_tokens: int = 8) -> Pipe:
    params = GenerationParams(max_tokens=max_tokens, n_ctx=256, n_threads=2, seed=1, temperature=temperature).to_dict()
    pipe = Pipe(*[("generate", rid, {"messages": messages, "params": params}) for rid, messages in enumerate(requests, 1)])
    settings = LoadSettings(256, 2, sequences=sequences)  # two threads, as on a laptop
    model, _ = worker.load_model(str(path), settings)
    try:
        Scheduler(pipe, worker.Inbox(pipe), model, settings).serve()
    finally:
        model.llama.close()
    return pipe


@pytest.mark.starter
def test_an_answer_does_not_depend_on_what_the_process_answered_before(starter_paths: list[Path]) -> None:
    """The same prompt and seed at temperature 1, asked in a fresh process and after others
    (the same prompt, another sharing its start, a follow-up of it): the same answer each
    time. Reusing the cache's start of a prompt broke this for both starter models."""
    for path in starter_paths:
        first = question("cats")
        alone = serve_in_process(path, 1, first, temperature=1.0, max_tokens=24)
        follow_up = [*first, {"role": "assistant", "content": alone.answer(1)}, {"role": "user", "content": "And dogs?"}]

        fresh = serve_in_process(path, 1, follow_up, temperature=1.0, max_tokens=24)
        after = serve_in_process(path, 1, first, question("rain"), follow_up, first, temperature=1.0, max_tokens=24)

        assert alone.answer(1) and fresh.answer(1), path.name
        assert (after.answer(1), after.answer(3), after.answer(4)) == (alone.answer(1), fresh.answer(1), alone.answer(1)), path.name


def test_prompts_share_decodes_with_each_other_and_with_answers(tiny_model: Path) -> None:
    """Two slots, three requests waiting at the start: the first two prompts go in one
    decode; when the shorter answer ends, the third prompt goes in with the other answer's
    next token, in one decode, instead of holding it up."""
    lengths = {1: 2, 2: 8, 3: 4}  # max tokens per request
    pipe = Pipe(*[
        ("generate", rid, {"messages": question(topic), "params": FAST.replace(max_tokens=lengths[rid], seed=1).to_dict()})
        for rid, topic in zip(lengths, ("cats", "rain", "tea"), strict=True)
    ])  # fmt: skip
    settings = LoadSettings(256, 1, sequences=2)
    model, _ = worker.load_model(str(tiny_model), settings)
    sizes: list[int] = []
    decode = model.llama._ctx.decode

    def counting(batch) -> None:
        sizes.append(batch.batch.n_tokens)
        decode(batch)

    model.llama._ctx.decode = counting
    try:
        Scheduler(pipe, worker.Inbox(pipe), model, settings).serve()
        prompt = {rid: len(prepared_tokens(model, question(topic))) for rid, topic in zip(lengths, ("cats", "rain", "tea"), strict=True)}
    finally:
        model.llama.close()
    done = {m[1]: m[2] for m in pipe.sent if m[0] == "done"}
    assert [done[rid]["finish_reason"] for rid in (1, 2, 3)] == ["length"] * 3  # the tiny model never ends early here
    # Both prompts at once; one step of both (request 1 has its 2 tokens); request 2's
    # next token beside request 3's whole prompt; then steps of both, then request 2 alone.
    assert sizes[:3] == [prompt[1] + prompt[2], 2, 1 + prompt[3]]
    assert sizes[3:] == [2, 2, 2, 1, 1]


def prepared_tokens(model, messages: list[dict[str, str]]) -> list[int]:
    """The prompt's tokens as the scheduler decodes them."""
    pipe = Pipe()
    prepared = worker.prepare(pipe, model, 1, {"messages": messages, "params": FAST.to_dict()}, 256)
    assert prepared is not None
    return prepared.tokens


@pytest.mark.starter
def test_a_token_longer_than_llama_cpp_pythons_buffer_keeps_its_text(starter_paths: list[Path]) -> None:
    """Qwen2.5-Coder has tokens of up to 128 spaces (code's indentation); llama-cpp-python's
    detokenize reads pieces into 32 bytes and gave nothing for them."""
    settings = LoadSettings(256, 1)
    model, _ = worker.load_model(str(starter_paths[1]), settings)
    try:
        scheduler = Scheduler(Pipe(), worker.Inbox(Pipe()), model, settings)
        indented = b" " * 128 + b"return x"
        tokens = model.llama.tokenize(indented, add_bos=False, special=False)
        assert len(tokens) < 8  # long runs of spaces are a token each
        assert b"".join(scheduler._piece(token) for token in tokens) == indented
    finally:
        model.llama.close()


@pytest.mark.starter
def test_greedy_picks_what_llama_cpps_penalties_and_greedy_samplers_pick(starter_paths: list[Path]) -> None:
    """Temperature 0 skips llama.cpp's sampler chain for speed (Scheduler._greedy); at every
    token of two starter models' answers, in English and Chinese with the repeat penalty
    at work, the chain, run beside it, picks the same token."""
    picks: list[tuple[int, int]] = []

    class Checked(Scheduler):
        def _admit(self, rid: int, request: dict) -> None:
            super()._admit(rid, request)
            chain = self._internals.LlamaSampler()
            chain.add_penalties(n_vocab=self.n_vocab, penalty_last_n=self.llama.last_n_tokens_size, penalty_repeat=1.3, penalty_freq=0.0, penalty_present=0.0)
            chain.add_greedy()
            self.active[-1].chain = chain  # type: ignore[attr-defined]

        def _greedy(self, seq, row: int) -> int:
            picks.append((super()._greedy(seq, row), seq.chain.sample(self.llama._ctx, row)))
            return picks[-1][0]

    params = GenerationParams(max_tokens=96, n_ctx=512, n_threads=2, repeat_penalty=1.3).to_dict()
    prompts = ["List ten fruits, one per line, then list them again.", "用三句话介绍长城。"]
    for path in starter_paths:
        pipe = Pipe(*[("generate", rid, {"messages": [{"role": "user", "content": p}], "params": params}) for rid, p in enumerate(prompts, 1)])
        settings = LoadSettings(512, 2, sequences=2)
        model, _ = worker.load_model(str(path), settings)
        try:
            Checked(pipe, worker.Inbox(pipe), model, settings).serve()
        finally:
            model.llama.close()
    assert len(picks) > 100 and all(ours == theirs for ours, theirs in picks)
