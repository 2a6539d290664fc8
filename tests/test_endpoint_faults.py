"""Faults between the workbench and an endpoint, injected by a real proxy process in
front of the scripted server: each ends in one clear line, the text received kept."""

from __future__ import annotations

import time

import pytest
from endpoint_servers import FaultProxy, StubServer
from workbench.core.endpoints.config import Endpoint
from workbench.core.endpoints.client import EndpointProblem
from workbench.core.endpoints.listing import list_models
from workbench.core.endpoints.remote import RemoteModel
from workbench.core.engine.backend import FINISH_ERROR, FINISH_STOP, GenerationResult
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams

ANSWER = "The army cleared the square on the night of 3 to 4 June. " * 20
REPLY = {"chunks": [{"content": word + " "} for word in ANSWER.split()], "finish_reason": "stop", "usage": {"prompt_tokens": 9, "completion_tokens": 240}}


class Sink:
    def __init__(self) -> None:
        self.text_received = ""

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        pass

    def text(self, chunks: list[str]) -> None:
        self.text_received += "".join(chunks)

    def reasoning(self, chunks: list[str]) -> None:
        pass


def ask(proxy: FaultProxy, stub: StubServer, faults: list[dict], *, max_retries: int = 2, stall_s: float = 120.0) -> tuple[GenerationResult, Sink, float]:
    stub.script({"models": ["m1"], "replies": {"m1": REPLY}})
    proxy.faults(faults)
    remote = RemoteModel(Endpoint("lab", proxy.url), "m1", None, max_retries=max_retries, stall_s=stall_s)
    sink = Sink()
    started = time.monotonic()
    try:
        result = remote.generate([{"role": "user", "content": "June 1989?"}], GenerationParams(), sink, Cancel())
    finally:
        remote.close()
    return result, sink, time.monotonic() - started


def one_line(message: str | None) -> str:
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_429_is_retried_after_the_servers_retry_after(fault_proxy: FaultProxy, stub_server: StubServer) -> None:
    result, _, _ = ask(fault_proxy, stub_server, [{"kind": "status", "status": 429, "retry_after": "1"}])
    assert result.finish_reason == FINISH_STOP and result.text == ANSWER.replace("  ", " ")[: len(result.text)]
    first, second = fault_proxy.arrivals()[:2]
    assert second - first >= 0.95, "the retry came before the server's Retry-After"


def test_500_is_retried_then_answered(fault_proxy: FaultProxy, stub_server: StubServer) -> None:
    result, _, _ = ask(fault_proxy, stub_server, [{"kind": "status", "status": 500}])
    assert result.finish_reason == FINISH_STOP
    assert len(fault_proxy.arrivals()) == 2


def test_500_that_keeps_coming_ends_in_a_clear_message(fault_proxy: FaultProxy, stub_server: StubServer) -> None:
    result, _, _ = ask(fault_proxy, stub_server, [{"kind": "status", "status": 500}] * 5, max_retries=1)
    assert result.finish_reason == FINISH_ERROR
    assert "server error (HTTP 500)" in one_line(result.error)
    assert len(fault_proxy.arrivals()) == 2


def test_a_stream_cut_mid_answer_keeps_the_text_and_says_it_was_cut(fault_proxy: FaultProxy, stub_server: StubServer) -> None:
    result, sink, _ = ask(fault_proxy, stub_server, [{"kind": "cut", "after_bytes": 3000}])
    assert result.finish_reason == FINISH_ERROR
    assert result.text and sink.text_received == result.text and ANSWER.startswith(result.text.rstrip()[:20])
    assert f"the connection was cut after {len(result.text):,} characters" in one_line(result.error)


def test_a_stall_ends_in_a_timeout_message_with_the_text_kept(fault_proxy: FaultProxy, stub_server: StubServer) -> None:
    result, _, took = ask(fault_proxy, stub_server, [{"kind": "stall", "after_bytes": 3000, "seconds": 4}], stall_s=1.0)
    assert result.finish_reason == FINISH_ERROR and result.text
    assert "stopped answering (nothing for 1 s)" in one_line(result.error)
    assert took < 3.5


def test_malformed_events_end_in_a_clear_message(fault_proxy: FaultProxy, stub_server: StubServer) -> None:
    result, _, _ = ask(fault_proxy, stub_server, [{"kind": "malformed"}])
    assert result.finish_reason == FINISH_ERROR
    assert "not valid server-sent JSON events" in one_line(result.error)


def test_a_10_mb_line_ends_in_a_clear_message(fault_proxy: FaultProxy, stub_server: StubServer) -> None:
    result, _, took = ask(fault_proxy, stub_server, [{"kind": "bigline", "bytes": 10_000_000}])
    assert result.finish_reason == FINISH_ERROR
    assert "not valid server-sent JSON events" in one_line(result.error)
    assert took < 10


@pytest.mark.parametrize("status", [200, 502])
def test_an_html_page_from_a_proxy_is_named_as_such(fault_proxy: FaultProxy, stub_server: StubServer, status: int) -> None:
    result, _, _ = ask(fault_proxy, stub_server, [{"kind": "html", "status": status}] * 4, max_retries=0)
    assert result.finish_reason == FINISH_ERROR
    message = one_line(result.error)
    assert "web page" in message and "<" not in message


def test_a_server_that_quotes_the_key_back_never_gets_it_into_the_message(stub_server: StubServer) -> None:
    key = "sk-secret-7d1e9a2b4c6f8e0a"
    stub_server.script({"models": ["m1"], "echo_auth": True})
    remote = RemoteModel(Endpoint("lab", stub_server.url), "m1", key, max_retries=0)
    try:
        result = remote.generate([{"role": "user", "content": "Hi"}], GenerationParams(), Sink(), Cancel())
    finally:
        remote.close()
    message = one_line(result.error)
    assert "refused the request (HTTP 400)" in message and "[key]" in message and key not in message


def test_an_html_page_at_v1_models_is_named_as_such(fault_proxy: FaultProxy) -> None:
    fault_proxy.faults([{"kind": "html", "status": 200}])
    with pytest.raises(EndpointProblem, match="answered with a web page") as raised:
        list_models(Endpoint("lab", fault_proxy.url), None)
    one_line(str(raised.value))
