"""A model on an OpenAI-compatible server, as a `Backend` like a local GGUF.

The openai SDK sends the request (retrying 429 and 5xx, honouring Retry-After) and
decodes the server-sent events; a pump thread reads them into a queue, so the thread
that called `generate` waits on that queue alone and a Stop (the run's `Cancel`,
which puts a wake-up in the same queue) returns at once, closing the HTTP stream.

Reasoning arrives three ways: `reasoning_content` (DeepSeek, vLLM, llama.cpp's
server) or `reasoning` (OpenRouter, Ollama) delta fields go to `sink.reasoning`;
`<think>` tags in the text are split by the sink, as for local models (stream
format "think"). Provenance goes into `info` per answer: the endpoint's URL (never
the key), the model id as served, `system_fingerprint`, the server's version when a
header gives it, the settings sent, and whether the seed is known to be used (only a
test's seed check can say so: seed_check.py).
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import openai

from ..engine.backend import FINISH_ERROR, FINISH_LENGTH, FINISH_STOP, FINISH_STOPPED, Backend, GenerationResult, StreamSink, decode_rate
from ..engine.cancel import Cancel
from ..engine.formats import THINK
from ..engine.params import DEFAULT_SWITCH, GenerationParams, LoadSettings
from .client import MAX_RETRIES, STALL_TIMEOUT_S, WebPage, client_for, describe_failure, is_html
from .config import Endpoint, find_endpoint
from .listing import seed_check_for
from .model_path import parse_remote_path
from .secrets import get_key
from .seed_check import SeedCheck, provenance_of

# The settings every OpenAI-compatible server takes; top-k, min-p and repeat penalty are
# not in the API (OpenAI itself refuses them), so they are recorded as not sent.
NOT_SENT = ("top_k", "min_p", "repeat_penalty", "n_ctx", "n_threads", "gpu_layers")
# Headers that name the server's software and version, most specific first.
VERSION_HEADERS = ("x-server-version", "x-vllm-version", "x-sglang-version", "openai-version", "server")
REASONING_FIELDS = ("reasoning_content", "reasoning")
_FINISHES = {"stop": FINISH_STOP, "length": FINISH_LENGTH, "eos": FINISH_STOP, "tool_calls": FINISH_STOP, "content_filter": FINISH_STOP, "function_call": FINISH_STOP}

_TEXT, _REASONING = "text", "reasoning"
_END = object()
_CANCELLED = object()


class RemoteModel(Backend):
    """One model id on one endpoint. Thread-safe: a batch may run several answers at once
    (each `generate` has its own stream over the shared connection pool)."""

    def __init__(
        self,
        endpoint: Endpoint,
        model_id: str,
        key: str | None,
        display_name: str | None = None,
        *,
        max_retries: int = MAX_RETRIES,
        stall_s: float = STALL_TIMEOUT_S,
        seed_check: SeedCheck | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.seed_check = seed_check
        self.model_id = model_id
        self.display_name = display_name or f"{endpoint.name}/{model_id}"
        self._key = key
        self._stall_s = stall_s
        self._client = client_for(endpoint, key, max_retries=max_retries, stall_s=stall_s)
        self._closed = False

    @property
    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint.name, "endpoint_url": self.endpoint.url, "model_id": self.model_id}

    @property
    def alive(self) -> bool:
        return not self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()

    def generate(self, messages: list[dict[str, str]], params: GenerationParams, sink: StreamSink, cancel: Cancel) -> GenerationResult:
        request, sent = _request(self.model_id, messages, params)
        provenance: dict[str, Any] = self.info | {"settings_sent": sent, "settings_not_sent": list(NOT_SENT)} | provenance_of(self.seed_check)
        result = GenerationResult(backend_info=provenance)
        if params.thinking != DEFAULT_SWITCH:
            result.no_effect = ["thinking"]  # no OpenAI-compatible field for it
        if self._closed:
            result.finish_reason, result.error = FINISH_ERROR, f"{self.display_name} is closed."
            return result
        events: queue.Queue[Any] = queue.Queue()
        pump = _Pump(self._client, request, events)
        sink.started(None, THINK)
        sent_at = time.perf_counter()
        first_at = last_at = None
        text: list[str] = []
        received = 0
        failure: BaseException | None = None
        finish: str | None = None
        with cancel.waking(lambda: events.put(_CANCELLED)):
            pump.start()
            while True:
                batch = _drain(events)
                kinds = _Kinds()
                ended = False
                for event in batch:
                    if event is _CANCELLED:
                        pump.close()
                        result.finish_reason = FINISH_STOPPED
                        ended = True
                        break
                    if event is _END:
                        ended = True
                        break
                    if isinstance(event, BaseException):
                        failure, ended = event, True
                        break
                    finish = _read_chunk(event, kinds, result, provenance, pump) or finish
                if kinds.pieces:
                    last_at = time.perf_counter()
                    first_at = first_at or last_at
                    received += sum(len(p) for _, p in kinds.pieces)
                    text.extend(p for kind, p in kinds.pieces if kind == _TEXT)
                    kinds.deliver(sink)
                if ended:
                    break
        result.text = "".join(text)
        if result.finish_reason != FINISH_STOPPED:
            _finish(result, finish, failure, received, self, cancel)
        result.duration_s = (last_at or time.perf_counter()) - sent_at
        result.ttft_s = first_at - sent_at if first_at is not None else None
        result.tokens_per_s = decode_rate(result.completion_tokens, first_at, last_at)
        return result

    def describe(self, error: BaseException) -> str:
        """`error` as one line for the user, naming this model, never holding the key."""
        return describe_failure(error, self.endpoint, self._key, self.model_id, self._stall_s)


def _finish(result: GenerationResult, finish: str | None, failure: BaseException | None, received: int, model: RemoteModel, cancel: Cancel) -> None:
    """The answer's end: the server's finish reason, or why there is none."""
    if failure is None and finish is not None:
        result.finish_reason = _FINISHES.get(finish, FINISH_STOP)
        if finish not in ("stop", "length", "eos"):
            result.backend_info["finish_reason_served"] = finish
        return
    result.finish_reason = FINISH_ERROR
    if received and (failure is None or isinstance(failure, (httpx2.HTTPError, openai.APIConnectionError, ValueError))):
        why = f" ({model.describe(failure)})" if failure is not None else ""
        result.error = f"{model.display_name}: the connection was cut after {received:,} characters; the text received is kept{why}."
    elif failure is not None:
        result.error = model.describe(failure)
    else:
        result.error = f"{model.display_name}: the server ended the stream without an answer or a reason."


def _request(model_id: str, messages: list[dict[str, str]], params: GenerationParams) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SDK call's arguments, and the sampling settings among them (recorded as sent)."""
    sent: dict[str, Any] = {"temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_tokens, "seed": params.seed}
    if params.reasoning_effort != DEFAULT_SWITCH:
        sent["reasoning_effort"] = params.reasoning_effort
    request = {"model": model_id, "messages": messages, "stream": True, "stream_options": {"include_usage": True}} | sent
    return request, dict(sent)


class _Kinds:
    """One batch of pieces in arrival order, handed to the sink as runs of one kind."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, str]] = []

    def add(self, kind: str, piece: object) -> None:
        if isinstance(piece, str) and piece:
            self.pieces.append((kind, piece))

    def deliver(self, sink: StreamSink) -> None:
        run: list[str] = []
        kind = self.pieces[0][0]
        for piece_kind, piece in self.pieces:
            if piece_kind != kind:
                _send(sink, kind, run)
                run, kind = [], piece_kind
            run.append(piece)
        _send(sink, kind, run)


def _send(sink: StreamSink, kind: str, run: list[str]) -> None:
    if kind == _REASONING:
        sink.reasoning(run)
    else:
        sink.text(run)


def _read_chunk(chunk: Any, kinds: _Kinds, result: GenerationResult, provenance: dict[str, Any], pump: _Pump) -> str | None:
    """Take one `ChatCompletionChunk`'s pieces, usage and provenance; its finish reason."""
    if pump.headers is not None and "server_version" not in provenance:
        provenance["server_version"] = next((pump.headers[h] for h in VERSION_HEADERS if h in pump.headers), None)
    fingerprint = getattr(chunk, "system_fingerprint", None)
    if isinstance(fingerprint, str):
        provenance["system_fingerprint"] = fingerprint
    served = getattr(chunk, "model", None)
    if isinstance(served, str) and served:
        provenance["model_served"] = served
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        result.prompt_tokens = _count(getattr(usage, "prompt_tokens", None))
        result.completion_tokens = _count(getattr(usage, "completion_tokens", None))
    finish = None
    for choice in getattr(chunk, "choices", None) or []:
        delta = getattr(choice, "delta", None)
        if delta is not None:
            for name in REASONING_FIELDS:
                kinds.add(_REASONING, getattr(delta, name, None))
            kinds.add(_TEXT, getattr(delta, "content", None))
        reason = getattr(choice, "finish_reason", None)
        if isinstance(reason, str):
            finish = reason
    return finish


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _drain(events: queue.Queue[Any]) -> list[Any]:
    """The next event (waiting for it) and every one already behind it."""
    batch = [events.get()]
    while True:
        try:
            batch.append(events.get_nowait())
        except queue.Empty:
            return batch


class _Pump(threading.Thread):
    """Sends the request and reads the stream into `events`; ends with _END or the exception.
    A daemon: after a Stop it lives only until its socket is closed."""

    def __init__(self, client: openai.OpenAI, request: dict[str, Any], events: queue.Queue[Any]) -> None:
        super().__init__(name="remote-stream", daemon=True)
        self._client = client
        self._request = request
        self._events = events
        self._stream: Any = None
        self._closed = threading.Event()
        self.headers: httpx2.Headers | None = None

    def run(self) -> None:
        try:
            stream = self._client.chat.completions.create(**self._request)
            self._stream = stream
            self.headers = stream.response.headers
            if is_html(stream.response):
                raise WebPage(stream.response.status_code)
            if self._closed.is_set():
                stream.close()
                return
            for chunk in stream:
                if self._closed.is_set():
                    break
                self._events.put(chunk)
            self._events.put(_END)
        except Exception as error:  # noqa: BLE001 - every failure goes to the reader, which words it
            if not self._closed.is_set():
                self._events.put(error)
        finally:
            if self._stream is not None:
                self._close_quietly()

    def close(self) -> None:
        """Stop reading and close the HTTP stream (a Stop)."""
        self._closed.set()
        if self._stream is not None:
            self._close_quietly()

    def _close_quietly(self) -> None:
        try:
            self._stream.close()
        except (httpx2.HTTPError, OSError, RuntimeError):
            pass


def start_remote_model(path: Path, display_name: str, settings: LoadSettings, cancel: Cancel | None) -> Backend:
    """The pool's loader for a remote entry's pseudo path (`endpoint:NAME/MODEL_ID`): the
    saved endpoint, its key and its last seed check; nothing loads, so `settings` and
    `cancel` go unused. EndpointConfigProblem when the endpoint was removed since the scan."""
    name, model_id = parse_remote_path(path)
    endpoint = find_endpoint(name)
    seed_check = SeedCheck.from_json(seed_check_for(endpoint, model_id))
    return RemoteModel(endpoint, model_id, get_key(endpoint), display_name, seed_check=seed_check)

