"""`workbench endpoint …` and remote models through `models` and `compare`, in their own
processes against a real loopback server: the key never reaches any file or output."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cli_process import one_line_refusal, workbench
from endpoint_servers import StubServer
from workbench.core.notebook import open_notebook

KEY = "sk-test-4f9c2e7a1b3d5f6e8a0c"
SCRIPT = {
    "models": ["Qwen/Qwen2.5-72B-Instruct", "deepseek-chat"],
    "missing": ["ghost"],
    "key": KEY,
    "headers": {"x-server-version": "stub 1.0"},
    "replies": {
        "Qwen/Qwen2.5-72B-Instruct": {"chunks": [{"reasoning_content": "Recall."}, {"content": "In June 1989 "}, {"content": "troops cleared the square."}],
                                      "finish_reason": "stop", "usage": {"prompt_tokens": 12, "completion_tokens": 7}, "fingerprint": "fp_q1", "served_as": "qwen2.5-72b"},
        "deepseek-chat": {"chunks": [{"content": "I can't discuss that."}], "finish_reason": "stop"},
    },
}  # fmt: skip
# No subprocess may reach a real keychain: keyring's fail backend, as on CI.
NO_KEYCHAIN = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def run(*args: str, key: bool = True, **extra: str) -> object:
    return workbench(*args, env_extra=NO_KEYCHAIN | ({"LAB_KEY": KEY} if key else {}) | extra, timeout=120)


def test_add_list_compare_export_and_remove_never_show_the_key(stub_server: StubServer, tmp_path: Path) -> None:
    stub_server.script(SCRIPT)
    outputs = []
    for args in (
        ("endpoint", "add", "lab", stub_server.url, "--key-env", "LAB_KEY"),
        ("endpoint", "list"),
        ("endpoint", "list", "--json"),
        ("endpoint", "test", "lab"),
        ("models", "--json"),
        ("compare", "What happened at Tiananmen Square in June 1989?", "--model", "lab/Qwen/Qwen2.5-72B-Instruct", "--model", "lab/deepseek-chat", "--json"),
        ("export", "--all", "--format", "jsonl", "-o", str(tmp_path / "out.jsonl")),
        ("export", "--all", "--format", "md", "-o", str(tmp_path / "out.md")),
    ):
        done = run(*args)
        assert done.returncode == 0, (args, done.stderr)
        outputs.append(done)
    listing = json.loads(outputs[2].stdout)
    assert listing[0]["key"] == "$LAB_KEY" and listing[0]["models"] == ["Qwen/Qwen2.5-72B-Instruct", "deepseek-chat", "ghost"]
    models = {m["id"]: m for m in json.loads(outputs[4].stdout)}
    qwen = models["lab/Qwen/Qwen2.5-72B-Instruct"]
    assert (qwen["remote"], qwen["endpoint"], qwen["origin_country"], qwen["status"]) == (True, "lab", "CN", "ok")
    compared = json.loads(outputs[5].stdout)
    answers = compared["responses"] if "responses" in compared else compared["turns"][0]["responses"]
    assert [a["finish_reason"] for a in answers] == ["stop", "stop"]

    db = Path(tmp_path / "notebook.sqlite")
    samplers = [json.loads(s) for (s,) in sqlite3.connect(db).execute("select sampler from responses order by id")]
    provenance = samplers[0]["endpoint"]
    assert provenance["endpoint_url"] == stub_server.url and provenance["model_id"] == "Qwen/Qwen2.5-72B-Instruct"
    assert provenance["model_served"] == "qwen2.5-72b" and provenance["system_fingerprint"] == "fp_q1"
    assert provenance["server_version"] == "stub 1.0" and provenance["seed_ignored"] is True
    # The stub answers alike whatever the seed: the test's check could show nothing.
    assert provenance["seed_check"]["outcome"] == "inconclusive" and "seed_check" not in samplers[1]["endpoint"]
    assert "Seed: the seed check shows nothing" in outputs[3].stdout
    assert provenance["settings_sent"]["seed"] == samplers[0]["seed"]
    assert "lab/Qwen/Qwen2.5-72B-Instruct" in (tmp_path / "out.md").read_text(encoding="utf-8") or "Qwen2.5-72B-Instruct" in (tmp_path / "out.md").read_text(encoding="utf-8")
    assert "qwen2.5-72b" in (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert all(r["key_ok"] for r in stub_server.requests())

    removed = run("endpoint", "remove", "lab")
    assert removed.returncode == 0
    for done in [*outputs, removed]:
        assert KEY not in done.stdout and KEY not in done.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"


def test_the_seed_check_of_a_test_goes_into_later_answers(stub_server: StubServer, tmp_path: Path) -> None:
    script = {"models": ["seeded", "random"], "replies": {"seeded": {"chunks": [{"content": "Words:"}], "finish_reason": "stop", "vary": "seed"},
                                                         "random": {"chunks": [{"content": "Words:"}], "finish_reason": "stop", "vary": "always"}}}
    stub_server.script(script)
    assert run("endpoint", "add", "lab", stub_server.url).returncode == 0
    tested = {model: run("endpoint", "test", "lab", "--model", model) for model in ("seeded", "random")}
    assert "Seed: the seed is used (one seed gave the same answer twice" in tested["seeded"].stdout
    assert "Seed: the seed is ignored (one seed gave two different answers)" in tested["random"].stdout
    chats = [r["body"] for r in stub_server.requests() if r["path"].endswith("/chat/completions")]
    seeds = [(b["model"], b["seed"], b["temperature"]) for b in chats if b["max_tokens"] == 24]
    assert seeds == [("seeded", 1234, 1.0), ("seeded", 1234, 1.0), ("seeded", 98765, 1.0), ("random", 1234, 1.0), ("random", 1234, 1.0), ("random", 98765, 1.0)]

    assert run("compare", "Hello", "--model", "lab/seeded", "--model", "lab/random", "--json").returncode == 0
    samplers = [json.loads(s)["endpoint"] for (s,) in sqlite3.connect(tmp_path / "notebook.sqlite").execute("select sampler from responses order by id")]
    assert [(p["model_id"], p["seed_ignored"], p["seed_check"]["outcome"]) for p in samplers] == [("seeded", False, "honoured"), ("random", True, "ignored")]

    # A new URL may be another server: what was found at the old one no longer holds.
    assert run("endpoint", "add", "lab", stub_server.url + "/").returncode == 0
    assert run("compare", "Hello", "--model", "lab/seeded", "--json").returncode == 0
    (last,) = sqlite3.connect(tmp_path / "notebook.sqlite").execute("select sampler from responses order by id desc limit 1").fetchone()
    assert json.loads(last)["endpoint"]["seed_ignored"] is True and "seed_check" not in json.loads(last)["endpoint"]


def test_a_wrong_key_is_one_line_without_the_key(stub_server: StubServer) -> None:
    stub_server.script(SCRIPT)
    assert run("endpoint", "add", "lab", stub_server.url, "--key-env", "LAB_KEY", key=False, LAB_KEY="sk-wrong-123456").returncode == 0
    line = one_line_refusal(run("endpoint", "test", "lab", key=False, LAB_KEY="sk-wrong-123456"))
    assert "refused the key (HTTP 401)" in line and "sk-wrong" not in line


def test_a_model_the_listing_lies_about_is_one_line(stub_server: StubServer) -> None:
    stub_server.script(SCRIPT)
    run("endpoint", "add", "lab", stub_server.url, "--key-env", "LAB_KEY")
    done = run("endpoint", "test", "lab", "--model", "ghost")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "has no model 'ghost' (HTTP 404)" in done.stderr
    compared = run("compare", "Hello?", "--model", "lab/ghost")
    assert compared.returncode == 1 and "has no model 'ghost'" in compared.stderr and "Traceback" not in compared.stderr


def test_odd_model_ids_are_left_out_or_shown_inert(stub_server: StubServer) -> None:
    odd = ["evil\x1b]0;owned\x07model", "bell\x07", "x" * 500, "  padded", "a//b", "名字-模型", "ok\u202emodel"]
    stub_server.script(SCRIPT | {"models": odd})
    done = run("endpoint", "add", "lab", stub_server.url, "--key-env", "LAB_KEY")
    listed = run("endpoint", "list")
    for text in (done.stdout + done.stderr, listed.stdout):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "lab/名字-模型" in listed.stdout and "x" * 500 not in listed.stdout
    ids = [m["id"] for m in json.loads(run("models", "--json").stdout)]
    assert "lab/名字-模型" in ids and "lab/a//b" not in ids and not any("\x1b" in i or "\x07" in i for i in ids)


def test_bad_urls_and_servers_are_one_line(stub_server: StubServer) -> None:
    cases = {
        "ftp://127.0.0.1/v1": "starts with http:// or https://",
        "http://user:pw@127.0.0.1:1/v1": "not in the URL",
    }
    for url, said in cases.items():
        assert said in one_line_refusal(run("endpoint", "add", "bad", url))
    assert "1 to 40 letters" in one_line_refusal(run("endpoint", "add", "bad name", "http://127.0.0.1:1"))
    # Saved, though nothing answers: the note says why its models could not be listed.
    nothing = run("endpoint", "add", "nothing", "http://127.0.0.1:1/v1")
    assert nothing.returncode == 0 and "Can't reach nothing" in nothing.stderr and "Traceback" not in nothing.stderr
    assert "Can't reach nothing" in one_line_refusal(run("endpoint", "test", "nothing"))
    # A web server that is not an API: the stub's pages outside /v1.
    stub_server.script(SCRIPT | {"key": None})
    run("endpoint", "add", "notapi", stub_server.url.removesuffix("/v1") + "/site/")
    assert "no OpenAI-compatible API there (HTTP 404)" in one_line_refusal(run("endpoint", "test", "notapi"))
    # https:// to a plain-HTTP server: a TLS failure.
    run("endpoint", "add", "tls", stub_server.url.replace("http://", "https://"))
    assert "secure (TLS) connection failed" in one_line_refusal(run("endpoint", "test", "tls"))
    assert "No endpoint named 'gone'" in one_line_refusal(run("endpoint", "remove", "gone"))


def test_a_remote_model_judges_like_a_local_one(stub_server: StubServer, tmp_path: Path) -> None:
    stub_server.script({"models": ["judge-70b"], "replies": {"judge-70b": {"chunks": [{"content": "REASON: it declines.\nCOMPLIANCE: DENIAL"}], "finish_reason": "stop"}}})
    db = tmp_path / "notebook.sqlite"
    notebook = open_notebook(db)
    run_id = notebook.create_run("What happened at Tiananmen Square in June 1989?")
    answer = notebook.add_response(run_id, 0, model_name="Someone", model_sha256=None, origin_country=None, seed=1, sampler={})
    notebook.finish_response(answer, text="I can't discuss that.", finish_reason="stop")
    notebook.close()
    assert run("endpoint", "add", "lab", stub_server.url).returncode == 0
    done = run("judge", "--run", str(run_id), "--model", "lab/judge-70b", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["judge"], summary["judged"], summary["verdicts"]["DENIAL"]) == ("judge:judge-70b", 1, 1)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select label from response_labels").fetchall() == [("hard_refusal",)]
