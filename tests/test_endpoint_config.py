"""Endpoints as saved settings, keys as secrets, and remote models in the catalog and pool."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from cli_process import in_process
from endpoint_servers import MemoryKeyring, StubServer
from workbench.core import paths
from workbench.core.catalog import Catalog
from workbench.core.catalog.catalog import remote_entry
from workbench.core.catalog.origins import default_table
from workbench.core.catalog.overrides import OriginOverrides
from workbench.core.comparison import load_model
from workbench.core.endpoints.config import Endpoint, EndpointConfigProblem, load_endpoints, remove_endpoint, save_endpoint
from workbench.core.endpoints.listing import cached_models, list_models, remember_seed_check, seed_check_for
from workbench.core.endpoints.remote import RemoteModel, start_remote_model
from workbench.core.endpoints.seed_check import HONOURED, SeedCheck, provenance_of
from workbench.core.endpoints.secrets import SERVICE, KeyProblem, get_key, redact, set_key
from workbench.core.engine.params import GenerationParams, LoadSettings
from workbench.core.engine.pool import ModelPool
from workbench.core.settings import Settings

KEY = "sk-live-0123456789abcdef"


def test_endpoints_survive_the_settings_other_writers() -> None:
    save_endpoint(Endpoint("lab", "http://127.0.0.1:8080/v1", key_env="LAB_KEY", concurrency=2))
    Settings.load().add_folder(Path("/tmp"))  # the library's writer, which once dropped unknown keys
    assert load_endpoints() == [Endpoint("lab", "http://127.0.0.1:8080/v1", "LAB_KEY", 2)]
    saved = json.loads((paths.config_dir() / "settings.json").read_text(encoding="utf-8"))
    assert saved["model_folders"] and saved["endpoints"][0]["name"] == "lab"
    save_endpoint(Endpoint("lab", "http://10.0.0.2:8000"))
    assert [e.url for e in load_endpoints()] == ["http://10.0.0.2:8000"]
    assert remove_endpoint("lab") and not remove_endpoint("lab") and load_endpoints() == []


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"name": "a/b", "url": "http://x"}, "1 to 40 letters"),
        ({"name": "lab", "url": "file:///etc/passwd"}, "http:// or https://"),
        ({"name": "lab", "url": "http://"}, "http:// or https://"),
        ({"name": "lab", "url": "http://x\n.example"}, "http:// or https://"),
        ({"name": "lab", "url": f"https://u:{KEY}@api.example"}, "not in the URL"),
        ({"name": "lab", "url": "http://x", "key_env": "A-B"}, "environment variable name"),
        ({"name": "lab", "url": "http://x", "concurrency": 0}, "from 1 to"),
    ],
)
def test_bad_endpoints_are_refused_with_a_reason(kwargs: dict, said: str) -> None:
    with pytest.raises(EndpointConfigProblem, match=said) as raised:
        Endpoint(**kwargs)
    assert KEY not in str(raised.value)


def test_a_hand_broken_entry_is_skipped() -> None:
    Settings(others={"endpoints": [{"name": "ok", "url": "http://x"}, {"name": "bad name", "url": "http://x"}, "junk", {"url": 3}]}).save()
    assert [e.name for e in load_endpoints()] == ["ok"]


def test_keys_live_in_the_keychain_then_the_environment(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = Endpoint("lab", "http://x", key_env="LAB_KEY")
    assert get_key(endpoint) is None
    monkeypatch.setenv("LAB_KEY", "sk-from-env")
    assert get_key(endpoint) == "sk-from-env"
    set_key("lab", KEY)
    assert memory_keyring.passwords[(SERVICE, "lab")] == KEY and get_key(endpoint) == KEY


@pytest.mark.parametrize("bad", [KEY + "\n", "sk-a\nb", "sk-\x1b[31m", "", "sk-ключ"])
def test_keys_with_newlines_or_controls_are_refused(memory_keyring: MemoryKeyring, bad: str) -> None:
    with pytest.raises(KeyProblem) as raised:
        set_key("lab", bad)
    assert bad not in str(raised.value) or bad == ""
    assert memory_keyring.passwords == {}


def test_without_a_keychain_the_message_says_to_use_an_environment_variable(no_keychain: None) -> None:
    with pytest.raises(KeyProblem, match="--key-env") as raised:
        set_key("lab", KEY)
    assert KEY not in str(raised.value)


def test_redact_takes_the_key_out() -> None:
    assert redact(f"bad key {KEY}!", KEY) == "bad key [key]!" and redact("text", None) == "text"


def test_key_stdin_keeps_it_in_the_keychain_and_nowhere_else(stub_server: StubServer, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stub_server.script({"models": ["m1"], "key": KEY, "replies": {"m1": {"chunks": [{"content": "OK"}], "finish_reason": "stop"}}})
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    assert in_process("endpoint", "add", "lab", stub_server.url, "--key-stdin") == 0
    assert in_process("endpoint", "test", "lab") == 0
    assert in_process("endpoint", "list") == 0
    out = capsys.readouterr()
    assert "lab/m1 answered" in out.out and "key: keychain" in out.out
    assert KEY not in out.out + out.err
    assert all(KEY.encode() not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    monkeypatch.setattr(sys, "stdin", io.StringIO("sk-two\nlines\n"))
    assert in_process("endpoint", "add", "lab2", stub_server.url, "--key-stdin") == 1
    assert "newline" in capsys.readouterr().err and [e.name for e in load_endpoints()] == ["lab"]
    assert in_process("endpoint", "remove", "lab") == 0 and memory_keyring.passwords == {}


def test_remote_entries_come_from_the_cache_with_origin_and_a_stable_identity(stub_server: StubServer) -> None:
    stub_server.script({"models": ["meta-llama/Llama-3.1-70B-Instruct", "deepseek-chat", "mystery"]})
    endpoint = Endpoint("lab", stub_server.url)
    save_endpoint(endpoint)
    list_models(endpoint, None)
    catalog = Catalog(include_other_apps=False)
    llama = catalog.resolve("lab/meta-llama/Llama-3.1-70B-Instruct")
    assert (llama.remote, llama.endpoint, llama.ok, llama.metadata, llama.files) == (True, "lab", True, None, ())
    assert (llama.origin.maker, llama.origin.country) == ("Meta", "US")
    assert catalog.resolve("lab/deepseek-chat").origin.country == "CN"
    assert catalog.resolve("lab/mystery").origin.country is None
    again = Catalog(include_other_apps=False).resolve("lab/meta-llama/Llama-3.1-70B-Instruct")
    assert again.sha256 == llama.sha256 and str(again.path) == "endpoint:lab/meta-llama/Llama-3.1-70B-Instruct"
    # The same id at another URL is another model; a listing made at the old URL is not used.
    save_endpoint(Endpoint("lab", stub_server.url + "/"))
    assert cached_models(load_endpoints()[0]) == []
    assert not any(e.remote for e in Catalog(include_other_apps=False).entries())


def test_a_seed_finding_outlives_a_new_listing_but_not_a_hand_edit(stub_server: StubServer) -> None:
    stub_server.script({"models": ["m1"]})
    endpoint = Endpoint("lab", stub_server.url)
    save_endpoint(endpoint)
    remember_seed_check(endpoint, "m1", {"outcome": HONOURED, "checked": "2026-12-02"})
    list_models(endpoint, None)
    loaded = start_remote_model(Path("endpoint:lab/m1"), "lab/m1", LoadSettings(0, 0), None)
    assert isinstance(loaded, RemoteModel) and loaded.seed_check == SeedCheck(HONOURED, "2026-12-02")
    assert provenance_of(loaded.seed_check) == {"seed_ignored": False, "seed_check": {"outcome": HONOURED, "checked": "2026-12-02"}}
    for broken in ({"outcome": "maybe", "checked": "2026-12-02"}, {"outcome": HONOURED}, "honoured", None):
        remember_seed_check(endpoint, "m1", broken)  # type: ignore[arg-type]  # what a hand edit could leave
        assert SeedCheck.from_json(seed_check_for(endpoint, "m1")) is None
    assert provenance_of(None) == {"seed_ignored": True}


def test_the_pool_gives_a_remote_entry_a_remote_model_without_a_process(stub_server: StubServer) -> None:
    stub_server.script({"models": ["m1"]})
    endpoint = Endpoint("lab", stub_server.url)
    save_endpoint(endpoint)
    list_models(endpoint, None)
    entry = Catalog(include_other_apps=False).resolve("lab/m1")
    pool = ModelPool(budget_bytes=1)  # no room for any local model
    model = load_model(pool, entry, GenerationParams(n_ctx=1_000_000), None)
    assert isinstance(model, RemoteModel) and model.model_id == "m1" and model.endpoint == endpoint
    assert load_model(pool, entry, GenerationParams(n_ctx=1_000_000), None) is model
    pool.close()
    assert not model.alive


def test_the_models_table_marks_remote_models(stub_server: StubServer, capsys: pytest.CaptureFixture[str]) -> None:
    stub_server.script({"models": ["deepseek-chat"]})
    endpoint = Endpoint("lab", stub_server.url)
    save_endpoint(endpoint)
    list_models(endpoint, None)
    assert in_process("models") == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("lab/")]
    assert row.split()[:2] == ["lab/deepseek-chat", "CN"] and "remote" in row and row.endswith("ok (endpoint lab)")


def test_a_key_with_a_newline_in_the_environment_is_refused_in_one_line(stub_server: StubServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_keychain: None) -> None:
    stub_server.script({"models": ["m1"]})
    save_endpoint(Endpoint("lab", stub_server.url, key_env="LAB_KEY"))
    monkeypatch.setenv("LAB_KEY", KEY + "\nX-Injected: 1")
    assert in_process("endpoint", "test", "lab") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "newline" in err and KEY not in err
    assert stub_server.requests() == []  # refused before anything was sent


# Model ids as hosted APIs and servers list them (OpenAI, DeepSeek, DashScope, Moonshot,
# Zhipu, Volcano Engine, MiniMax, StepFun, OpenRouter, vLLM, Ollama), and who made each.
API_MODEL_IDS = [
    ("deepseek-chat", "DeepSeek", "CN"), ("deepseek-reasoner", "DeepSeek", "CN"), ("qwen-max", "Alibaba (Qwen team)", "CN"),
    ("qwen-plus-2025-07-28", "Alibaba (Qwen team)", "CN"), ("gpt-4o-2024-11-20", "OpenAI", "US"), ("o3-mini", "OpenAI", "US"),
    ("meta-llama/Llama-3.1-70B-Instruct", "Meta", "US"), ("Qwen/Qwen2.5-72B-Instruct", "Alibaba (Qwen team)", "CN"),
    ("openai/gpt-oss-120b", "OpenAI", "US"), ("gpt-oss:20b", "OpenAI", "US"), ("moonshot-v1-8k", "Moonshot AI", "CN"),
    ("kimi-k2-0711-preview", "Moonshot AI", "CN"), ("glm-4-plus", "Zhipu AI (Z.ai)", "CN"), ("doubao-seed-1.6", "ByteDance", "CN"),
    ("abab6.5s-chat", "MiniMax", "CN"), ("step-2-16k", "StepFun", "CN"), ("deepseek/deepseek-chat-v3-0324", "DeepSeek", "CN"),
    ("mistralai/mistral-large", "Mistral AI", "FR"), ("claude-3-5-sonnet-latest", "Anthropic", "US"), ("llama3.1:70b", "Meta", "US"),
]  # fmt: skip


@pytest.mark.parametrize(("model_id", "maker", "country"), API_MODEL_IDS)
def test_hosted_model_ids_get_their_maker_and_country(model_id: str, maker: str, country: str) -> None:
    entry = remote_entry(Endpoint("api", "https://api.example.test/v1"), model_id, default_table(), OriginOverrides())
    assert entry is not None and (entry.origin.maker, entry.origin.country) == (maker, country)
