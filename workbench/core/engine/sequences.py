"""Answers in one llama.cpp context, one or several at once: the model process's
scheduler (LoadSettings.sequences is how many at once; 1 is one at a time).

Continuous batching, as llama.cpp's own server does it: up to N requests are active,
each in its own sequence (its seq id is its slot), with its own cells in the one KV
cache of the context (worker.py: kv_unified).
A request that arrives is rendered and tokenized (worker.prepare) and takes the lowest
free slot. Every `llama_decode` holds the next token of each answering sequence and,
in the room left in the batch (the context's batch size), the tokens of the prompts still
to decode, lowest slot first: prompts that arrive together are decoded together, and a
prompt that arrives while others answer is decoded in their steps, so a long one slows
them (a token each per decode of up to a batch) but never stops them. Each answering sequence's
next token, and a prompt's first once its last token is in, is sampled from its own row
of the logits by its own sampler chain, built from the request's own settings the way
llama-cpp-python builds its one (penalties over the last 64 tokens, then greedy at
temperature 0, computed here as those two samplers compute it, else top-k, typical,
top-p, min-p, temperature and a seeded draw). A token's text is its piece added to the
answer's bytes, however long the piece (llama-cpp-python's detokenize drops pieces over
32 bytes, such as Qwen2.5-Coder's runs of up to 128 spaces). A sequence ends at an
end-of-generation or end-of-turn token, a stop text, its token limit or a stop from the
parent; its cells are removed from the KV cache (`llama_memory_seq_rm`) and its slot goes
to the next waiting request.

Nothing of an earlier answer is reused, though llama-cpp-python's completion loop and
llama-server keep a prompt's cached start: how a prompt is split into decodes can change
its logits (Qwen2.5-Coder's first-token logits moved by up to 0.41 with its last prompt
token decoded apart, without flash attention), so an answer would depend on what the
process was asked before. With one slot a prompt is decoded whole and alone, and an
answer asked one at a time is the same again for the same settings and seed, whatever
came before it.

Text is sent per request: pieces at most every SEND_INTERVAL_S, a stop text's possible
beginning held back until it is known not to be one, and the token count
(worker.completion_tokens).

Why answers at temperature 0 can differ between one at a time and several at once: the
matrix products of a decode of several sequences' tokens are split and summed in another
order than for one sequence's, so logits differ in their last bits (a prompt's first-token
logits by up to 0.28 on Qwen2.5-Coder decoded beside another prompt), and a near-tie
between two tokens can go the other way (docs/benchmarks.md measures how often).
"""

from __future__ import annotations

import ctypes
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
    sampler: Any  # llama.cpp's sampler chain; None at temperature 0 (Scheduler._greedy)
    todo: list[int]  # the prompt's tokens not in the cache yet
    n_past: int  # the cells of this sequence in the KV cache
    tokens: list[int] = field(default_factory=list)
    raw: bytes = b""  # the answer's tokens' pieces, joined
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
        self.n_vocab = self.llama.n_vocab()
        self._piece_buffer = ctypes.create_string_buffer(64)
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
            if self.active:
                self._decode()

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
        answer samples as llama-cpp-python's own completion loop would; None at temperature
        0, which `_greedy` computes as that chain does."""
        if params["temperature"] == 0.0:
            return None
        sampler = self._internals.LlamaSampler()
        sampler.add_penalties(
            n_vocab=self.llama.n_vocab(),
            penalty_last_n=self.llama.last_n_tokens_size,
            penalty_repeat=params["repeat_penalty"],
            penalty_freq=0.0,
            penalty_present=0.0,
        )
        sampler.add_top_k(params["top_k"])
        sampler.add_typical(1.0, 1)
        sampler.add_top_p(params["top_p"], 1)
        sampler.add_min_p(params["min_p"], 1)
        sampler.add_temp(params["temperature"])
        sampler.add_dist(params["seed"])
        return sampler

    def _sample(self, seq: _Sequence, row: int) -> int:
        """The next token of `seq` from row `row` of the last decode's logits."""
        if seq.sampler is None:
            return self._greedy(seq, row)
        return int(seq.sampler.sample(self.llama._ctx, row))

    def _greedy(self, seq: _Sequence, row: int) -> int:
        """Temperature 0: the chain's repeat penalty over the answer's last tokens, then the
        most likely token, as llama.cpp's penalties and greedy samplers compute them (the
        same float32 arithmetic; of equal logits, the first). Not through them because
        llama_sampler_sample copies every logit of the vocabulary into a new array and looks
        each one up in the penalty counts: 0.3 ms a token for SmolLM2's 49,152, a thirtieth
        of its decode; this takes 0.05."""
        import numpy as np

        pointer = self._native.llama_get_logits_ith(self.llama._ctx.ctx, row)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))
        window = self.llama.last_n_tokens_size
        recent = set(seq.tokens[-window:]) if window > 0 else set()
        penalty = np.float32(seq.prepared.params["repeat_penalty"])
        if not recent or penalty == 1.0:
            return int(np.argmax(logits))
        scores = logits.copy()
        ids = np.fromiter(recent, dtype=np.intp, count=len(recent))
        values = scores[ids]
        scores[ids] = np.where(values <= 0, values * penalty, values / penalty)
        return int(np.argmax(scores))

    # --- every step ------------------------------------------------------------

    def _decode(self) -> None:
        """One `llama_decode`: a token for every answering sequence, then what fits of the
        prompts still to decode (lowest slot first); then each answering sequence's next
        token, and the first token of each prompt decoded to its end. With one slot that is
        a step or a chunk of the prompt alone, split as it always is asked alone."""
        answering = sorted((s for s in self.active if not s.todo), key=lambda seq: seq.slot)
        rows = [(seq.next_token, seq.n_past, seq.slot, True) for seq in answering]
        prompts: list[tuple[_Sequence, int]] = []  # a prompt in this decode, and its tokens here
        for seq in sorted((s for s in self.active if s.todo), key=lambda seq: seq.slot):
            room = self.n_batch - len(rows)
            if room <= 0:
                break
            chunk = seq.todo[:room]
            last = len(chunk) == len(seq.todo)
            rows += [(token, seq.n_past + i, seq.slot, last and i == len(chunk) - 1) for i, token in enumerate(chunk)]
            prompts.append((seq, len(chunk)))
        self._fill(rows)
        try:
            self.llama._ctx.decode(self.batch)
        except RuntimeError as exc:  # llama_decode refused (no room in the cache): these requests fail
            for seq in [*answering, *(seq for seq, _ in prompts)]:
                self._fail(seq, exc)
            return
        for row, seq in enumerate(answering):
            seq.n_past += 1
            self._take(seq, self._sample(seq, row))
        row = len(answering)
        for seq, count in prompts:
            seq.n_past += count
            del seq.todo[:count]
            row += count
            if not seq.todo:
                self._take(seq, self._sample(seq, row - 1))

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
        # The pieces joined, as llama-cpp-python's detokenize joins them, once per token
        # instead of all again (0.2 ms a token at 64 tokens): a character split over tokens
        # appears once complete.
        seq.raw += self._piece(token)
        text = seq.raw.decode("utf-8", errors="ignore")
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

    def _piece(self, token: int) -> bytes:
        """A token's text as bytes (no special tokens' texts), however long its piece."""
        buffer = self._piece_buffer
        size = self._native.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
        if size < 0:  # longer than any piece before: llama.cpp says how long
            buffer = self._piece_buffer = ctypes.create_string_buffer(-size)
            size = self._native.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
        return buffer.raw[:size]

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
        if seq.sampler is not None:
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
