"""Answers in one llama.cpp context, one or several at once: the model process's
scheduler (LoadSettings.sequences is how many at once; 1 is one at a time).

Continuous batching, as llama.cpp's own server does it: up to N requests are active,
each in its own sequence (its seq id is its slot) with its own share of the KV cache.
A request that arrives is rendered and tokenized (worker.prepare) and takes the lowest
free slot; its prompt is decoded in chunks of the context's batch size, alone in its
decode, and its first token sampled. Every step after is one `llama_decode` of one
token per answering sequence, and each one's next token is sampled from its own row of
the logits by its own sampler chain, built from the request's own settings the way
llama-cpp-python builds its one (penalties over the last 64 tokens, then greedy at
temperature 0, else top-k, typical, top-p, min-p, temperature and a seeded draw).
Prompt chunks and steps take turns, so a long prompt holds up the answers already
running for one chunk at a time. A sequence ends at an end-of-generation or end-of-turn
token, a stop text, its token limit or a stop from the parent; its cells are removed
from the KV cache (`llama_memory_seq_rm`) and its slot goes to the next waiting request.

Nothing of an earlier answer is reused, though llama-cpp-python's completion loop and
llama-server keep a prompt's cached start, and no prompt is decoded beside another: how
a prompt is split into decodes, and what shares a decode with it, can change its logits
(Qwen2.5-Coder's first-token logits moved by up to 0.41 with its last prompt token
decoded apart, without flash attention, and by 0.28 decoded beside another prompt,
with it), so an answer would depend on what else the process was asked. Decoded whole
and alone, a prompt asked one at a time gets the same answer again for the same
settings and seed, whatever came before it.

Text is sent per request: pieces at most every SEND_INTERVAL_S, a stop text's possible
beginning held back until it is known not to be one, and the token count
(worker.completion_tokens).

Why answers at temperature 0 can differ between one at a time and several at once: the
matrix products of a step of several tokens are split and summed in another order than
for one, so logits differ in their last bits, and a near-tie between two tokens can go
the other way (docs/benchmarks.md measures how often).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .params import LoadSettings
from .worker import SEND_INTERVAL_S, Inbox, Prepared, TemplateFormatter, _Model, completion_tokens, prepare


@dataclass
class _Sequence:
    """One request being answered: its slot (its seq id), its prompt still to decode, its
    answer's tokens and text."""

    rid: int
    slot: int
    prepared: Prepared
    sampler: Any
    todo: list[int]  # the prompt's tokens not in the cache yet
    n_past: int  # the cells of this sequence in the KV cache
    tokens: list[int] = field(default_factory=list)
    next_token: int = -1  # sampled, to be decoded in the next step
    text: str = ""
    emitted: int = 0  # text[:emitted] is sent (or waiting in `unsent`)
    unsent: list[str] = field(default_factory=list)
    sent_at: float = 0.0
    newest_at: float = 0.0


class Scheduler:
    """Answers the parent's requests, up to `settings.sequences` at once, until it closes."""

    def __init__(self, conn: Any, inbox: Inbox, model: _Model, settings: LoadSettings) -> None:
        import llama_cpp
        from llama_cpp import _internals

        self._native: Any = llama_cpp  # llama-cpp-python's own functions are untyped
        self._internals: Any = _internals
        self.conn, self.inbox, self.model = conn, inbox, model
        self.llama = model.llama
        self.n_ctx = settings.n_ctx  # each sequence's own share
        self.n_batch = self.llama.n_batch
        self.free = list(range(settings.sequences))  # slots (seq ids); the lowest is taken first
        self.active: list[_Sequence] = []
        self.batch = _internals.LlamaBatch(n_tokens=max(self.n_batch, settings.sequences), embd=0, n_seq_max=1, verbose=False)
        self.memory = llama_cpp.llama_get_memory(self.llama._ctx.ctx)
        self.vocab = self.llama._model.vocab
        formatter = model.formatter
        self.stop_ids = set(formatter.stops) if isinstance(formatter, TemplateFormatter) else set()

    def serve(self) -> None:
        inbox = self.inbox
        while True:
            inbox.take(block=not self.active and not inbox.waiting)  # once a step: one poll of the pipe
            if inbox.closed:
                return
            for seq in [s for s in self.active if inbox.stopped(s.rid, read=False)]:
                self._finish(seq, "stopped")
            while self.free and inbox.waiting:
                rid, request = inbox.waiting.popleft()
                if inbox.stopped(rid, read=False):
                    self.conn.send(("done", rid, {"finish_reason": "stopped", "completion_tokens": 0}))
                else:
                    self._admit(rid, request)
            if any(seq.todo for seq in self.active):
                self._prefill()
            if any(not seq.todo for seq in self.active):
                self._step()

    # --- a request's start ---------------------------------------------------

    def _admit(self, rid: int, request: dict[str, Any]) -> None:
        prepared = prepare(self.conn, self.model, rid, request, self.n_ctx)
        if prepared is None:
            return
        if not prepared.tokens:
            self.conn.send(("failed", rid, "llama.cpp failed while generating: the chat template rendered an empty prompt"))
            return
        slot = min(self.free)
        self.free.remove(slot)
        self.active.append(_Sequence(rid, slot, prepared, self._sampler(prepared.params), todo=list(prepared.tokens), n_past=0))

    def _sampler(self, params: dict[str, Any]) -> Any:
        """The chain llama-cpp-python's `Llama._init_sampler` builds for these settings, so an
        answer samples as llama-cpp-python's own completion loop would."""
        sampler = self._internals.LlamaSampler()
        sampler.add_penalties(
            n_vocab=self.llama.n_vocab(),
            penalty_last_n=self.llama.last_n_tokens_size,
            penalty_repeat=params["repeat_penalty"],
            penalty_freq=0.0,
            penalty_present=0.0,
        )
        if params["temperature"] == 0.0:
            sampler.add_greedy()
        else:
            sampler.add_top_k(params["top_k"])
            sampler.add_typical(1.0, 1)
            sampler.add_top_p(params["top_p"], 1)
            sampler.add_min_p(params["min_p"], 1)
            sampler.add_temp(params["temperature"])
            sampler.add_dist(params["seed"])
        return sampler

    # --- every step ------------------------------------------------------------

    def _prefill(self) -> None:
        """The next chunk of the prompt of the lowest slot still decoding one, alone in its
        decode (split as it would be asked alone); at its end, the answer's first token."""
        seq = min((s for s in self.active if s.todo), key=lambda s: s.slot)
        chunk = seq.todo[: self.n_batch]
        last = len(chunk) == len(seq.todo)
        self._fill([(token, seq.n_past + i, seq.slot, last and i == len(chunk) - 1) for i, token in enumerate(chunk)])
        try:
            self.llama._ctx.decode(self.batch)
        except RuntimeError as exc:  # llama_decode refused (no room in the cache): this request fails
            self._fail(seq, exc)
            return
        seq.n_past += len(chunk)
        del seq.todo[: len(chunk)]
        if not seq.todo:
            self._take(seq, seq.sampler.sample(self.llama._ctx, len(chunk) - 1))

    def _step(self) -> None:
        """One token for every answering sequence in one decode, then each one's next token.

        The rows go in the order of their seq ids: each sequence has its own part of the
        KV cache, and llama.cpp then computes a batch in one pass only over consecutive
        increasing seq ids (llama_batch_allocr::split_equal); while requests wait every
        slot is busy and a step is one pass. Once none wait, the slots freed between busy
        ones cost a pass more each step."""
        stepping = sorted((s for s in self.active if not s.todo), key=lambda seq: seq.slot)
        self._fill([(seq.next_token, seq.n_past, seq.slot, True) for seq in stepping])
        try:
            self.llama._ctx.decode(self.batch)
        except RuntimeError as exc:
            for seq in stepping:
                self._fail(seq, exc)
            return
        for row, seq in enumerate(stepping):
            seq.n_past += 1
            self._take(seq, seq.sampler.sample(self.llama._ctx, row))

    def _fill(self, rows: list[tuple[int, int, int, bool]]) -> None:
        """The batch holds `rows`: (token, position, seq id, whether its logits are wanted)."""
        batch = self.batch.batch
        batch.n_tokens = len(rows)
        for i, (token, pos, slot, logits) in enumerate(rows):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.seq_id[i][0] = slot
            batch.n_seq_id[i] = 1
            batch.logits[i] = logits

    def _take(self, seq: _Sequence, token: int) -> None:
        """A sampled token: the sequence's end, or more text (sent as it is safe to)."""
        if self._native.llama_vocab_is_eog(self.vocab, token) or token in self.stop_ids:
            self._finish(seq, "stop")
            return
        seq.tokens.append(token)
        # The whole answer detokenized again, as llama-cpp-python does: a character split
        # over tokens appears once complete, and spaces come out as its tokenizer joins them.
        text = self.llama.detokenize(seq.tokens).decode("utf-8", errors="ignore")
        stops = seq.prepared.stop_texts
        found = [text.find(stop) for stop in stops if stop and stop in text]
        if found:
            seq.text = text[: min(found)]
            self._emit(seq, len(seq.text))
            self._finish(seq, "stop")
            return
        seq.text = text
        if len(seq.tokens) >= seq.prepared.max_tokens:
            self._emit(seq, len(text))
            self._finish(seq, "length")
            return
        self._emit(seq, len(text) - _held_back(text, stops))
        seq.next_token = token

    def _emit(self, seq: _Sequence, upto: int) -> None:
        if upto <= seq.emitted:
            return
        seq.unsent.append(seq.text[seq.emitted : upto])
        seq.emitted = upto
        seq.newest_at = time.perf_counter()
        if seq.newest_at - seq.sent_at >= SEND_INTERVAL_S:
            self.conn.send(("text", seq.rid, seq.unsent, 0.0))
            seq.unsent, seq.sent_at = [], seq.newest_at

    # --- a request's end -------------------------------------------------------

    def _finish(self, seq: _Sequence, reason: str) -> None:
        self._flush(seq)
        count = completion_tokens(self.llama, seq.text[: seq.emitted], reason, seq.prepared)
        self.conn.send(("done", seq.rid, {"finish_reason": reason, "completion_tokens": count}))
        self._release(seq)

    def _fail(self, seq: _Sequence, exc: Exception) -> None:
        self._flush(seq)
        self.conn.send(("failed", seq.rid, f"llama.cpp failed while generating: {exc}"))
        self._release(seq)

    def _flush(self, seq: _Sequence) -> None:
        if seq.unsent:
            # Dated from when the newest piece was made, so the recorded speed is the model's.
            self.conn.send(("text", seq.rid, seq.unsent, time.perf_counter() - seq.newest_at))
            seq.unsent = []

    def _release(self, seq: _Sequence) -> None:
        """The sequence's cells leave the cache and its slot is free for the next request."""
        self._native.llama_memory_seq_rm(self.memory, seq.slot, -1, -1)
        seq.sampler.close()
        self.active.remove(seq)
        self.free.append(seq.slot)


def _held_back(text: str, stops: list[str]) -> int:
    """How many characters at the end of `text` could be the start of a stop text, and so
    wait for the next token before they are sent."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest
