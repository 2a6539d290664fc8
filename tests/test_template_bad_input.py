"""What the real templates and formats do with input they don't expect: each gets one clear
message where the answer would be, the model stays loaded, and nothing said is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_process import in_process, workbench
from real_templates import GEMMA_3, GPT_OSS, QWEN3
from workbench.core.comparison import Contender
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.local import LocalModel
from workbench.core.engine.params import GenerationParams, LoadSettings
from workbench.core.engine.worker import NO_SYSTEM_PROMPT
from workbench.core.workspace import Workspace

SYSTEM = [{"role": "system", "content": "Answer briefly."}]
QUESTION = [{"role": "user", "content": "Is 221 a prime number?"}]


class Sink:
    def started(self, prompt_tokens: int, stream_format: str) -> None:
        pass

    def text(self, chunks: list[str]) -> None:
        pass


def test_gemma_3_given_a_plain_system_prompt_says_to_run_without_one_and_stays_loaded(tmp_path: Path) -> None:
    """Gemma 3's template reads a system message as a list of parts (`content[0]['text']`);
    the app's system prompt is a string, so the template fails. Since the same conversation
    without it renders, the message says what to do."""
    model = LocalModel(GEMMA_3.tiny_model(tmp_path), "Gemma", LoadSettings(256, 1))
    model.start()
    params = GenerationParams(max_tokens=4, n_ctx=256, n_threads=1, seed=1)
    try:
        failed = model.generate(SYSTEM + QUESTION, params, Sink(), Cancel())
        assert failed.finish_reason == "error" and failed.text == ""
        assert failed.error is not None and failed.error.endswith(f"{NO_SYSTEM_PROMPT}: run this model without one (it is still loaded).")
        assert "'text'" in failed.error  # the template's own complaint, for whoever reads the template
        assert model.alive
        answered = model.generate(QUESTION, params, Sink(), Cancel())
        assert answered.error is None and answered.finish_reason == "length"
    finally:
        model.close()


def test_a_conversation_that_fails_without_the_system_prompt_too_is_not_blamed_on_it(tmp_path: Path) -> None:
    """Two user turns in a row break Gemma 3's rule that roles alternate, with or without
    the system prompt: no advice about the system prompt, the template's complaint as it is."""
    model = LocalModel(GEMMA_3.tiny_model(tmp_path), "Gemma", LoadSettings(256, 1))
    model.start()
    try:
        failed = model.generate(SYSTEM + QUESTION + QUESTION, GenerationParams(max_tokens=4, n_ctx=256, n_threads=1), Sink(), Cancel())
    finally:
        model.close()
    assert failed.error == (
        "Gemma: The model's chat template needs something this conversation does not have ('str object' has no attribute 'text'), "
        "so it could not format this conversation. The model is still loaded: try another model, or a fixed copy of this one."
    )


def test_compare_with_a_system_prompt_answers_from_the_others_and_says_why_gemma_did_not(tmp_path: Path) -> None:
    GEMMA_3.tiny_model(tmp_path)
    QWEN3.tiny_model(tmp_path)
    done = workbench(
        "compare", "Is 221 a prime number?", "--system", "Answer briefly.",
        "--model", str(tmp_path / "gemma-3.gguf"), "--model", str(tmp_path / "qwen3.gguf"),
        "--db", str(tmp_path / "nb.sqlite"), "--max-tokens", "4", "--threads", "1", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    gemma, qwen = json.loads(done.stdout)["responses"]
    assert gemma["finish_reason"] == "error" and NO_SYSTEM_PROMPT in gemma["error"]
    assert qwen["error"] is None and qwen["finish_reason"] == "length"


@pytest.fixture
def gpt_oss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A gpt-oss GGUF for `workbench compare` in this process, whose replies the test
    scripts (as its process would stream them) with `scripted_models`."""
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    return GPT_OSS.tiny_model(tmp_path)


def test_an_unknown_harmony_channel_is_kept_as_reasoning_under_its_name(gpt_oss: Path, tmp_path: Path, scripted_models, capsys) -> None:
    reply = ["<|channel|>scratch", "pad<|message|>13 × 17 = 221.<|end|><|start|>assistant<|channel|>final<|message|>No: 221 = 13 × 17."]
    scripted_models(lambda _model, _prompt: reply, stream_format="harmony")
    status = in_process("compare", "Is 221 a prime number?", "--model", str(gpt_oss), "--db", str(tmp_path / "nb.sqlite"), "--json")
    out, err = capsys.readouterr()
    assert status == 0, err
    (response,) = json.loads(out)["responses"]
    assert response["text"] == "No: 221 = 13 × 17."
    assert response["reasoning"] == "[scratchpad]\n13 × 17 = 221."


def test_harmony_reasoning_that_never_reaches_the_final_channel_is_said(gpt_oss: Path, tmp_path: Path, scripted_models, capsys) -> None:
    """gpt-oss stopped inside its analysis (llama.cpp's case harmony-analysis-cut-off): no
    answer, the terminal says why, and the reasoning is kept."""
    scripted_models(lambda _model, _prompt: ["<|channel|>analysis<|message|>I'm\n", "thinking"], stream_format="harmony")
    status = in_process("compare", "Is 221 a prime number?", "--model", str(gpt_oss), "--db", str(tmp_path / "nb.sqlite"))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "I'm\nthinking" in out and "<|channel|>" not in out
    assert "No answer: the model's reasoning never ended (it stopped without closing it). Its reasoning is kept." in out


def test_after_gemma_refuses_the_system_prompt_the_app_answers_with_the_same_loaded_model(tmp_path: Path) -> None:
    """As the window runs a comparison: the failed answer is recorded with its message, and
    the next run uses the model process already loaded, not a new one."""
    folder = tmp_path / "models"
    folder.mkdir()
    GEMMA_3.tiny_model(folder)
    workspace = Workspace(tmp_path / "nb.sqlite", [folder], include_other_apps=False, with_starter=False)
    try:
        contender = Contender(workspace.catalog.resolve("gemma"), GenerationParams(max_tokens=4, n_ctx=256, n_threads=1, seed=1))
        refused = workspace.comparison.run("Is 221 a prime number?", [contender], system_prompt="Answer briefly.")
        (response,) = workspace.notebook.run(refused.run_id)["responses"]
        assert response["finish_reason"] == "error" and NO_SYSTEM_PROMPT in response["error"]
        (model,) = workspace.pool.loaded()
        answered = workspace.comparison.run("Is 221 a prime number?", [contender])
        (response,) = workspace.notebook.run(answered.run_id)["responses"]
        assert response["error"] is None and response["finish_reason"] == "length"
        assert workspace.pool.loaded() == [model] and model.alive
    finally:
        workspace.close()
