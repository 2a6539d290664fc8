"""`workbench pull` against a fake hub on 127.0.0.1: the curated list, a download that
ends verified in the models folder and listed with its origin, a restart that resumes
what a killed run left, and the hub's refusals as one line each."""

from __future__ import annotations

import json
import signal
import time

import pytest

from cli_process import in_process, one_line_refusal, start, workbench
from fake_hub import FakeHub, tiny_gguf
from workbench.core.downloads.hub import partial_path, target_path

REPO, FILE = "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf"


def test_the_list_prints_pairs_and_models_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert in_process("pull", "--list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    names = {m["name"]: m for m in listed["models"]}
    assert {"llama-3.2-3b", "qwen2.5-3b", "gpt-oss-20b", "qwen3-30b-a3b"} <= set(names)
    lineage = next(p for p in listed["pairs"] if p["id"] == "lineage")
    assert {names[n]["country"] for n in lineage["models"]} == {"US", "CN"}
    assert set(names["qwen3-4b"]) >= {"repo", "file", "quant", "size_bytes", "memory_gb", "licence", "maker", "country", "note"}


def test_a_pull_is_verified_listed_with_its_origin_and_logs_progress_without_controls(fake_hub: FakeHub, tmp_path) -> None:
    fake_hub.add(REPO, FILE, tiny_gguf(tmp_path))

    done = workbench("pull", REPO, FILE, timeout=120)

    assert done.returncode == 0, done.stderr
    path = target_path(REPO, FILE)
    assert path.exists() and f"{REPO}/{FILE} downloaded, SHA-256 matches the hub's (159.9 KB): {path}" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("In the library as qwen2.5-0.5b-instruct-q4_k_m (CN · Alibaba (Qwen team))")
    assert f"{REPO}/{FILE} from {fake_hub.endpoint}:" in done.stderr and done.stderr.count("checking SHA-256: 100%") == 1
    assert "\x1b" not in done.stderr and "\r" not in done.stderr


def test_a_restart_resumes_what_a_killed_run_left(fake_hub: FakeHub, tmp_path) -> None:
    data = tiny_gguf(tmp_path)
    fake_hub.add(REPO, FILE, data)
    # What a run killed after 60 KB leaves: the part, and the SHA-256 it belongs to.
    part = partial_path(REPO, FILE)
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:60_000])
    part.with_suffix(".json").write_text(json.dumps({"sha256": fake_hub.repos[REPO].files[FILE].sha256}), encoding="utf-8")

    done = workbench("pull", REPO, FILE, "--json", timeout=120)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["resumed_from"] == 60_000 and result["country"] == "CN" and result["model_id"]
    assert fake_hub.gets()[-1].range == "bytes=60000-" and target_path(REPO, FILE).read_bytes() == data


def test_a_gated_repository_is_one_line_with_what_to_do(fake_hub: FakeHub, tmp_path) -> None:
    fake_hub.add("google/gemma-3-4b-it-qat-q4_0-gguf", "gemma-3-4b-it-q4_0.gguf", tiny_gguf(tmp_path), gated=True)
    line = one_line_refusal(workbench("pull", "google/gemma-3-4b-it-qat-q4_0-gguf", "gemma-3-4b-it-q4_0.gguf", timeout=120))
    assert line.startswith("workbench: google/gemma-3-4b-it-qat-q4_0-gguf is gated: accept its licence at ") and "HF_TOKEN" in line


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [
        (("pull",), 2, "name a model"),
        (("pull", REPO), 2, "give the file too"),
        (("pull", "llama-9000"), 1, "no curated model called 'llama-9000'"),
        (("pull", REPO, "missing.gguf"), 1, f"{REPO} has no file missing.gguf"),
        (("pull", REPO, FILE, "--mirror", "hf-mirror.com"), 1, "is not an http(s) URL"),
    ],
)
def test_misuse_and_refusals_are_one_line(fake_hub: FakeHub, tmp_path, args: tuple[str, ...], status: int, said: str) -> None:
    fake_hub.add(REPO, FILE, tiny_gguf(tmp_path))
    assert said in one_line_refusal(workbench(*args, timeout=120), status)


def test_ctrl_c_stops_the_download_with_status_130_and_the_same_command_finishes_it(fake_hub: FakeHub, tmp_path) -> None:
    data = tiny_gguf(tmp_path)
    fake_hub.add(REPO, FILE, data, trickle_s=0.1)  # two seconds of body: time to press Ctrl+C in
    process = start("pull", REPO, FILE)
    try:
        deadline = time.monotonic() + 60
        while not fake_hub.gets() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "workbench: interrupted: cancelled: " in err and "download it again to resume" in err and "Traceback" not in err
    assert out == "" and not target_path(REPO, FILE).exists()

    fake_hub.repos[REPO].files[FILE].trickle_s = 0
    done = workbench("pull", REPO, FILE, timeout=120)
    assert done.returncode == 0, done.stderr
    assert target_path(REPO, FILE).read_bytes() == data
