"""RemoteModel against a real loopback server: reasoning in its three forms, usage,
finish reasons, provenance, and a Stop that ends the request at once."""

from __future__ import annotations

import threading
import time

from endpoint_servers import StubServer
from workbench.core.endpoints.config import Endpoint
from workbench.core.endpoints.remote import RemoteModel
from workbench.core.engine.backend import FINISH_LENGTH, FINISH_STOP, FINISH_STOPPED
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams

MESSAGES = [{"role": "user", "content": "What happened in June 1989?"}]


class Sink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.format: str | None = None

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        self.format = stream_format

    def text(self, chunks: list[str]) -> None:
        self.calls.append(("text", chunks))

    def reasoning(self, chunks: list[str]) -> None:
        self.calls.append(("reasoning", chunks))

    def joined(self, kind: str) -> str:
        return "".join(piece for k, chunks in self.calls if k == kind for piece in chunks)


def ask(server: StubServer, reply: dict, params: GenerationParams | None = None, model: str = "m1") -> tuple[Sink, object]:
    server.script({"models": [model], "headers": {"x-server-version": "stub 1.0"}, "replies": {model: reply}})
    sink = Sink()
    remote = RemoteModel(Endpoint("lab", server.url), model, None)
    try:
        result = remote.generate(MESSAGES, params or GenerationParams(seed=7), sink, Cancel())
    finally:
        remote.close()
    return sink, result


def test_reasoning_content_field_is_reasoning_and_usage_comes_from_the_server(stub_server: StubServer) -> None:
    reply = {"chunks": [{"reasoning_content": "Let me "}, {"reasoning_content": "recall."}, {"content": "Protests "}, {"content": "ended."}],
             "finish_reason": "stop", "usage": {"prompt_tokens": 11, "completion_tokens": 4}, "fingerprint": "fp_abc", "served_as": "m1-2025-01"}  # fmt: skip
    sink, result = ask(stub_server, reply)
    assert sink.joined("reasoning") == "Let me recall."
    assert sink.joined("text") == "Protests ended."
    assert result.finish_reason == FINISH_STOP and result.error is None
    assert (result.prompt_tokens, result.completion_tokens) == (11, 4)
    assert result.ttft_s is not None and result.duration_s is not None


def test_reasoning_field_as_openrouter_and_ollama_send_it(stub_server: StubServer) -> None:
    sink, _ = ask(stub_server, {"chunks": [{"reasoning": "Thinking."}, {"content": "Answer."}], "finish_reason": "stop"})
    assert (sink.joined("reasoning"), sink.joined("text")) == ("Thinking.", "Answer.")


def test_think_tags_in_the_text_are_left_to_the_sinks_splitter(stub_server: StubServer) -> None:
    sink, result = ask(stub_server, {"chunks": [{"content": "<think>Hmm"}, {"content": "</think>Yes."}], "finish_reason": "stop"})
    assert sink.format == "think"
    assert sink.joined("text") == "<think>Hmm</think>Yes." and sink.joined("reasoning") == ""
    assert result.text == "<think>Hmm</think>Yes."


def test_length_finish_and_no_usage(stub_server: StubServer) -> None:
    _, result = ask(stub_server, {"chunks": [{"content": "Cut"}], "finish_reason": "length"})
    assert result.finish_reason == FINISH_LENGTH
    assert result.completion_tokens is None and result.tokens_per_s is None


def test_provenance_names_url_served_model_fingerprint_version_and_settings_sent(stub_server: StubServer) -> None:
    reply = {"chunks": [{"content": "Hi"}], "finish_reason": "stop", "fingerprint": "fp_abc", "served_as": "m1-2025-01"}
    _, result = ask(stub_server, reply, GenerationParams(seed=7, temperature=0.3, top_p=0.9, max_tokens=64, top_k=5))
    info = result.backend_info
    assert info["endpoint_url"] == stub_server.url and info["model_id"] == "m1"
    assert info["model_served"] == "m1-2025-01" and info["system_fingerprint"] == "fp_abc"
    assert info["server_version"] == "stub 1.0"
    assert info["settings_sent"] == {"temperature": 0.3, "top_p": 0.9, "max_tokens": 64, "seed": 7}
    assert "top_k" in info["settings_not_sent"] and info["seed_ignored"] is True
    sent = stub_server.requests()[-1]["body"]
    assert {k: sent[k] for k in info["settings_sent"]} == info["settings_sent"] and "top_k" not in sent
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_stop_ends_a_slow_stream_at_once_and_keeps_the_text(stub_server: StubServer) -> None:
    stub_server.script({"models": ["slow"], "replies": {"slow": {"chunks": [{"content": "word "}] * 100, "finish_reason": "stop", "pause_s": 0.2}}})
    remote = RemoteModel(Endpoint("lab", stub_server.url), "slow", None)
    cancel = Cancel()
    sink = Sink()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    started = time.monotonic()
    result = remote.generate(MESSAGES, GenerationParams(), sink, cancel)
    took = time.monotonic() - started
    remote.close()
    assert result.finish_reason == FINISH_STOPPED
    assert took < 1.0, f"the stop took {took:.2f} s"
    assert result.text.startswith("word ") and sink.joined("text") == result.text
