"""The six real chat templates (tests/templates/), each in a tiny GGUF with its family's
control tokens and end-of-text token: the catalog reads it, the sandbox renders one turn
and a follow-up conversation as the model was trained on, the reply's format and the
tokens that end the turn are the right ones, and the model's process answers through it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date
from pathlib import Path

import llama_cpp
import pytest

from cli_process import workbench
from real_templates import DEEPSEEK_R1, FAMILIES, GEMMA_3, GPT_OSS, LLAMA_3_1, QWEN3, YI_1_5, Family
from workbench.core.catalog.catalog import Catalog
from workbench.core.engine import worker
from workbench.core.flagging import expects_reasoning
from workbench.core.engine.formats import stream_format
from workbench.core.engine.stop_tokens import stop_token_ids

ONE_TURN = [{"role": "user", "content": "Is 221 a prime number?"}]
FOLLOW_UP = [
    {"role": "system", "content": "Answer briefly."},
    *ONE_TURN,
    {"role": "assistant", "content": "No: 221 = 13 × 17."},
    {"role": "user", "content": "Are you sure?"},
]
# Gemma 3's template takes a system message only as a list of parts (see test_template_bad_input.py).
GEMMA_FOLLOW_UP = [{"role": "system", "content": [{"type": "text", "text": "Answer briefly."}]}, *FOLLOW_UP[1:]]

GPT_OSS_SYSTEM = (
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\nCurrent date: {today}\n\nReasoning: medium\n\n"
    "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>"
)
LLAMA_SYSTEM = "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"

# The prompts each template must give: written out by hand from the families' published
# formats, so a renderer that drifts from the model's training shows here.
EXPECTED = {
    GPT_OSS.name: (
        GPT_OSS_SYSTEM + "<|start|>user<|message|>Is 221 a prime number?<|end|><|start|>assistant",
        GPT_OSS_SYSTEM + "<|start|>developer<|message|># Instructions\n\nAnswer briefly.\n\n<|end|>"
        "<|start|>user<|message|>Is 221 a prime number?<|end|>"
        "<|start|>assistant<|channel|>final<|message|>No: 221 = 13 × 17.<|end|>"
        "<|start|>user<|message|>Are you sure?<|end|><|start|>assistant",
    ),
    DEEPSEEK_R1.name: (
        "<｜begin▁of▁sentence｜><｜User｜>Is 221 a prime number?<｜Assistant｜><think>\n",
        (
            "<｜begin▁of▁sentence｜>Answer briefly.<｜User｜>Is 221 a prime number?"
            "<｜Assistant｜>No: 221 = 13 × 17.<｜end▁of▁sentence｜><｜User｜>Are you sure?<｜Assistant｜><think>\n"
        ),
    ),
    QWEN3.name: (
        "<|im_start|>user\nIs 221 a prime number?<|im_end|>\n<|im_start|>assistant\n",
        (
            "<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nIs 221 a prime number?<|im_end|>\n"
            "<|im_start|>assistant\nNo: 221 = 13 × 17.<|im_end|>\n<|im_start|>user\nAre you sure?<|im_end|>\n<|im_start|>assistant\n"
        ),
    ),
    LLAMA_3_1.name: (
        "<|begin_of_text|>" + LLAMA_SYSTEM + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nIs 221 a prime number?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "<|begin_of_text|>" + LLAMA_SYSTEM + "Answer briefly.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nIs 221 a prime number?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nNo: 221 = 13 × 17.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nAre you sure?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
    GEMMA_3.name: (
        "<bos><start_of_turn>user\nIs 221 a prime number?<end_of_turn>\n<start_of_turn>model\n",
        (
            "<bos><start_of_turn>user\nAnswer briefly.\n\nIs 221 a prime number?<end_of_turn>\n"
            "<start_of_turn>model\nNo: 221 = 13 × 17.<end_of_turn>\n<start_of_turn>user\nAre you sure?<end_of_turn>\n<start_of_turn>model\n"
        ),
    ),
    # Yi's template writes the system message bare, before the first turn, as published.
    YI_1_5.name: (
        "<|im_start|>user\nIs 221 a prime number?<|im_end|>\n<|im_start|>assistant\n",
        (
            "Answer briefly.<|im_start|>user\nIs 221 a prime number?<|im_end|>\n<|im_start|>assistant\n"
            "No: 221 = 13 × 17.<|im_end|>\n<|im_start|>user\nAre you sure?<|im_end|>\n<|im_start|>assistant\n"
        ),
    ),
}

BY_NAME = pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("real-templates")
    for family in FAMILIES:
        family.tiny_model(folder)
    return folder


def vocab_of(models: Path, family: Family) -> llama_cpp.Llama:
    return llama_cpp.Llama(model_path=str(models / f"{family.name}.gguf"), vocab_only=True, verbose=False)


def render(models: Path, family: Family, messages: list[dict]) -> str:
    """The prompt as the model's process builds it: the sandboxed formatter, given the
    BOS and EOS texts of the GGUF's own vocabulary."""
    llama = vocab_of(models, family)
    formatter = worker.template_formatter(llama, family.template, stop_token_ids(llama, family.template))
    prompt: str = formatter(messages=messages).prompt
    return prompt


def test_the_catalog_reads_each_with_its_template(models: Path, tmp_path: Path) -> None:
    entries = {e.name: e for e in Catalog([models], home=tmp_path / "home", include_other_apps=False).scan()}
    for family in FAMILIES:
        entry = entries[f"Tiny {family.name}"]
        assert entry.ok, entry.status
        assert entry.metadata is not None and entry.metadata.chat_template == family.template


@BY_NAME
def test_one_turn_renders_as_the_model_was_trained(models: Path, family: Family) -> None:
    one_turn, _ = EXPECTED[family.name]
    assert render(models, family, ONE_TURN) == one_turn.format(today=date.today().isoformat())


@BY_NAME
def test_a_follow_up_conversation_renders_as_the_model_was_trained(models: Path, family: Family) -> None:
    _, follow_up = EXPECTED[family.name]
    messages = GEMMA_FOLLOW_UP if family is GEMMA_3 else FOLLOW_UP
    assert render(models, family, messages) == follow_up.format(today=date.today().isoformat())


@BY_NAME
def test_the_reply_format_is_read_from_the_template(models: Path, family: Family) -> None:
    for messages in (ONE_TURN, FOLLOW_UP[1:]):
        assert stream_format(family.template, render(models, family, messages)) == family.stream_format


@BY_NAME
def test_the_turn_ends_at_the_familys_end_of_turn_tokens(models: Path, family: Family) -> None:
    llama = vocab_of(models, family)
    ids = stop_token_ids(llama, family.template)
    assert [llama.detokenize([i], special=True).decode() for i in ids] == sorted(family.stops, key=lambda t: ids_of(llama, t))
    if family is GPT_OSS:
        assert ids_of(llama, "<|end|>") not in ids


def ids_of(llama: llama_cpp.Llama, text: str) -> int:
    (token,) = llama.tokenize(text.encode(), add_bos=False, special=True)
    return token


def test_each_answers_through_its_template_in_the_models_process(models: Path, tmp_path: Path) -> None:
    """`workbench compare --json` on all six: every reply ends without error, stopped by
    the token limit (the tiny models never write an end-of-turn token), each formatted
    by its own template (the run records its hash)."""
    names = [f"Tiny {f.name}" for f in FAMILIES]
    args = [arg for family in FAMILIES for arg in ("--model", str(models / f"{family.name}.gguf"))]
    done = workbench(
        "compare", "Is 221 a prime number?", *args, "--folder", str(models), "--db", str(tmp_path / "nb.sqlite"),
        "--max-tokens", "6", "--seed", "1", "--threads", "1", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    responses = json.loads(done.stdout)["responses"]
    assert [r["model_name"] for r in responses] == names
    for response in responses:
        assert response["error"] is None and response["finish_reason"] == "length", response
        assert response["completion_tokens"] == 6
    with sqlite3.connect(tmp_path / "nb.sqlite") as db:
        rows = db.execute("select chat_template, template_sha256 from responses order by position").fetchall()
    assert rows == [("gguf", hashlib.sha256(family.template.encode()).hexdigest()) for family in FAMILIES]


def test_workbench_models_shows_each_templates_hash_and_format(models: Path) -> None:
    """What a researcher checks first for a new model (docs/models.md): the hash tells
    whether its template is one of these, byte for byte; the format, how it will be split."""
    done = workbench("models", "--json", "--folder", str(models))
    assert done.returncode == 0, done.stderr
    listed = {m["name"]: m for m in json.loads(done.stdout)}
    for family in FAMILIES:
        model = listed[f"Tiny {family.name}"]
        assert model["chat_template_sha256"] == hashlib.sha256(family.template.encode()).hexdigest()
        assert model["reasoning_format"] == family.stream_format.removesuffix("+opened")


def test_the_docs_list_each_checked_template_by_its_hash() -> None:
    """docs/models.md's "Families known to work" names each template these tests check by
    the hash `workbench models --json` shows, so a GGUF can be matched against it."""
    docs = (Path(__file__).parents[1] / "docs" / "models.md").read_text(encoding="utf-8")
    table = docs.split("## Families known to work", 1)[1].split("\n## ", 1)[0]
    for family in FAMILIES:
        assert hashlib.sha256(family.template.encode()).hexdigest()[:16] in table, family.name


@BY_NAME
def test_the_prompt_reads_each_control_token_as_one_token(models: Path, family: Family) -> None:
    """The markers the template writes reach the model as its control tokens, never spelt
    out of bytes, which a real model would read as ordinary text."""
    llama = vocab_of(models, family)
    prompt = render(models, family, FOLLOW_UP[1:])
    tokens = llama.tokenize(prompt.encode(), add_bos=False, special=True)
    for control in (family.bos, family.eos, *family.controls):
        assert tokens.count(ids_of(llama, control)) == prompt.count(control), control


@BY_NAME
def test_a_reasoning_family_is_expected_to_reason(family: Family) -> None:
    """Which models an empty reasoning is `thought_suppressed` for: the ones whose template
    writes a reasoning format (<think>, or harmony's analysis channel), not the others."""
    assert expects_reasoning({"tokenizer.chat_template": family.template}) == (family in (GPT_OSS, DEEPSEEK_R1, QWEN3))


@pytest.mark.parametrize(
    ("family", "variables", "prompt_end", "expected_format"),
    [
        (QWEN3, {"enable_thinking": False}, "<|im_start|>assistant\n<think>\n\n</think>\n\n", "think"),
        (QWEN3, {"enable_thinking": True}, "<|im_start|>assistant\n", "think"),
        (GPT_OSS, {"reasoning_effort": "high"}, "<|start|>assistant", "harmony"),
        (DEEPSEEK_R1, {"enable_thinking": False}, "<｜Assistant｜><think>\n", "think+opened"),  # no switch: always opened
    ],
    ids=["qwen3-off", "qwen3-on", "gpt-oss-high", "r1-has-none"],
)
def test_the_switches_in_the_docs_table_reach_the_template(
    models: Path, family: Family, variables: dict, prompt_end: str, expected_format: str
) -> None:
    llama = vocab_of(models, family)
    formatter = worker.template_formatter(llama, family.template, stop_token_ids(llama, family.template))
    prompt: str = formatter(messages=ONE_TURN, variables=variables).prompt
    assert prompt.endswith(prompt_end)
    assert stream_format(family.template, prompt) == expected_format
    if family is GPT_OSS:
        assert "Reasoning: high" in prompt
