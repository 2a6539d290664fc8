"""RemoteModel against a real OpenAI-compatible server: llama-cpp-python's own
(`python -m llama_cpp.server`) serving a tiny GGUF on 127.0.0.1, directly and through
the fault proxy; and `workbench compare` recording its answer like a local model's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cli_process import workbench
from endpoint_servers import FaultProxy
from workbench.core.endpoints.config import Endpoint
from workbench.core.endpoints.listing import list_models
from workbench.core.endpoints.probe import probe
from workbench.core.endpoints.remote import RemoteModel
from workbench.core.endpoints.seed_check import HONOURED
from workbench.core.engine.backend import FINISH_ERROR, FINISH_LENGTH, FINISH_STOP
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.params import GenerationParams

MESSAGES = [{"role": "user", "content": "Hello"}]


class Sink:
    def __init__(self) -> None:
        self.calls = 0
        self.text_received = ""

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        pass

    def text(self, chunks: list[str]) -> None:
        self.calls += 1
        self.text_received += "".join(chunks)

    def reasoning(self, chunks: list[str]) -> None:
        pass


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}/v1"


def test_lists_and_streams_with_usage_and_finish_reason(llama_server: int) -> None:
    endpoint = Endpoint("llama", url(llama_server))
    assert list_models(endpoint, None) == ["tiny"]
    model = RemoteModel(endpoint, "tiny", None)
    sink = Sink()
    try:
        result = model.generate(MESSAGES, GenerationParams(max_tokens=24, seed=3), sink, Cancel())
    finally:
        model.close()
    assert result.finish_reason in (FINISH_STOP, FINISH_LENGTH) and result.error is None
    assert sink.text_received == result.text and sink.calls >= 1
    # llama-cpp-python 0.3.36's server ignores stream_options and sends no usage in a
    # stream: the counts stay unknown rather than guessed (the stub tests cover usage).
    assert (result.prompt_tokens, result.completion_tokens) == (None, None)
    assert result.ttft_s is not None and result.backend_info["model_served"] == "tiny"
    assert result.backend_info["endpoint_url"] == url(llama_server) and result.backend_info["settings_sent"]["seed"] == 3


def test_a_cut_through_the_proxy_keeps_what_llama_sent(llama_proxy: FaultProxy) -> None:
    llama_proxy.faults([{"kind": "cut", "after_bytes": 600}])
    model = RemoteModel(Endpoint("llama", llama_proxy.url), "tiny", None)
    sink = Sink()
    try:
        result = model.generate(MESSAGES, GenerationParams(max_tokens=64, temperature=1.0), sink, Cancel())
    finally:
        model.close()
    assert result.finish_reason == FINISH_ERROR
    assert result.text == sink.text_received
    assert result.text and f"the connection was cut after {len(result.text):,} characters" in (result.error or "")


def test_compare_records_a_llama_server_answer(llama_server: int, tmp_path: Path) -> None:
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    assert workbench("endpoint", "add", "llama", url(llama_server), env_extra=env).returncode == 0
    done = workbench("compare", "Hello", "--model", "llama/tiny", "--max-tokens", "16", "--json", env_extra=env, timeout=120)
    assert done.returncode == 0, done.stderr
    (sampler,) = sqlite3.connect(tmp_path / "notebook.sqlite").execute("select sampler from responses").fetchone()
    provenance = json.loads(sampler)["endpoint"]
    assert provenance["model_id"] == "tiny" and provenance["settings_sent"]["max_tokens"] == 16


def test_llama_cpp_pythons_server_is_found_to_use_the_seed(llama_server: int) -> None:
    # Its server seeds each request's sampler from the request (llama.py, set_seed): the
    # check must find that, through the same requests any endpoint gets.
    found = probe(Endpoint("llama", url(llama_server)), None)
    assert found.models == ("tiny",) and found.model_id == "tiny"
    assert found.seed.outcome == HONOURED
