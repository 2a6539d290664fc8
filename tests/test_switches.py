"""Thinking and reasoning-effort switches, passed to the model's own chat template as
variables (core/engine/switches.py), with the real templates in tests/templates/."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cli_process import in_process
from gguf_factory import write_tiny_model
from workbench.core import flagging
from workbench.core.engine.chat_render import ChatRenderer
from workbench.core.engine.formats import HARMONY, THINK, stream_format
from workbench.core.engine.params import GenerationParams
from workbench.core.engine.switches import no_effect_note, recorded_setting, template_variables, thinking_switched_off

TEMPLATES = Path(__file__).parent / "templates"
QUESTION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Is 221 prime?"}]


def template(name: str) -> str:
    return (TEMPLATES / f"{name}.jinja").read_text()


def prompt_for(name: str, **settings: str) -> tuple[str, list[str]]:
    """The prompt the model's process renders for these settings, and the settings ignored."""
    renderer = ChatRenderer(template(name), bos_token="<s>", eos_token="</s>")
    variables, ignored = template_variables(GenerationParams(**settings).to_dict(), renderer.reads)
    return renderer.render(QUESTION, variables=variables), ignored


def test_the_settings_are_checked_like_the_others() -> None:
    with pytest.raises(ValueError, match="thinking must be one of default, on, off"):
        GenerationParams(thinking="maybe")
    with pytest.raises(ValueError, match="reasoning effort must be one of default, low, medium, high"):
        GenerationParams(reasoning_effort="max")
    # Settings saved before the switches existed read as the template's own defaults.
    old = GenerationParams.from_dict({"temperature": 0.3})
    assert (old.thinking, old.reasoning_effort) == ("default", "default")
    with pytest.raises(ValueError, match="thinking must be one of"):
        GenerationParams.from_dict({"thinking": False})  # a notebook or demo file says anything
    assert {("thinking", "off"), ("reasoning_effort", "high")} <= GenerationParams(thinking="off", reasoning_effort="high").to_dict().items()


def test_gpt_oss_takes_the_reasoning_effort_in_its_system_message() -> None:
    high, ignored = prompt_for("gpt-oss", reasoning_effort="high")
    assert "Reasoning: high" in high and not ignored
    default, _ = prompt_for("gpt-oss")
    assert "Reasoning: medium" in default and "Reasoning: high" not in default
    assert stream_format(template("gpt-oss"), high) == HARMONY


def test_gpt_oss_has_no_thinking_switch() -> None:
    _, ignored = prompt_for("gpt-oss", thinking="off")
    assert ignored == ["thinking"]


def test_qwen3_with_thinking_off_gets_an_empty_closed_think_block() -> None:
    off, ignored = prompt_for("qwen3", thinking="off")
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n") and not ignored
    # The block is closed, so the stream starts in the answer: plain think, not opened.
    assert stream_format(template("qwen3"), off) == THINK
    for setting in ("on", "default"):
        prompt, _ = prompt_for("qwen3", thinking=setting)
        assert prompt.endswith("<|im_start|>assistant\n"), setting
        assert stream_format(template("qwen3"), prompt) == THINK
    _, ignored = prompt_for("qwen3", reasoning_effort="low")
    assert ignored == ["reasoning_effort"]


def test_the_user_s_text_is_never_edited() -> None:
    off, _ = prompt_for("qwen3", thinking="off")
    assert "/no_think" not in off and "Is 221 prime?<|im_end|>" in off


def test_a_deepseek_hybrid_reads_thinking() -> None:
    """DeepSeek-V3.1 reads `thinking` (its template's shape, shortened here)."""
    hybrid = "{{ messages[-1]['content'] }}<｜Assistant｜>{% if thinking %}<think>{% else %}</think>{% endif %}"
    renderer = ChatRenderer(hybrid, bos_token="", eos_token="")
    for setting, ending in (("on", "<think>"), ("off", "</think>")):
        variables, ignored = template_variables(GenerationParams(thinking=setting).to_dict(), renderer.reads)
        assert renderer.render(QUESTION, variables=variables).endswith(ending) and not ignored


@pytest.mark.parametrize("name, model", [("deepseek-r1-distill-qwen", "DeepSeek-R1-Distill-Qwen-1.5B"), ("llama-3.1", "Llama-3.1-8B")])
def test_a_template_without_the_switch_ignores_it_and_the_note_says_so(name: str, model: str) -> None:
    off, ignored = prompt_for(name, thinking="off")
    assert off == prompt_for(name)[0]
    assert ignored == ["thinking"]
    assert no_effect_note(model, ignored) == f"{model} has no thinking switch; the setting had no effect."


def test_default_passes_nothing_and_no_template_ignores_everything() -> None:
    assert template_variables(GenerationParams().to_dict(), frozenset()) == ({}, [])
    both = GenerationParams(thinking="on", reasoning_effort="low").to_dict()
    assert template_variables(both, None) == ({}, ["thinking", "reasoning_effort"])
    assert no_effect_note("Plain", ["thinking", "reasoning_effort"]) == "Plain has no thinking or reasoning-effort switch; the settings had no effect."
    assert no_effect_note("Plain", []) is None


def test_what_is_recorded_reads_back() -> None:
    assert recorded_setting({"thinking": "off", "no_effect": ["thinking"]}, "thinking") == "off (no effect)"
    assert recorded_setting({"reasoning_effort": "high"}, "reasoning_effort") == "high"
    assert recorded_setting({}, "thinking") == "default"
    assert thinking_switched_off({"thinking": "off"})
    assert not thinking_switched_off({"thinking": "off", "no_effect": ["thinking"]})
    assert not thinking_switched_off({"thinking": "on"}) and not thinking_switched_off(None)


def test_an_empty_think_block_asked_for_is_not_suppressed_thought() -> None:
    qwen3 = {"tokenizer.chat_template": template("qwen3")}
    assert flagging.expects_reasoning(qwen3)
    assert flagging.expects_reasoning(qwen3, {"thinking": "on"})
    assert not flagging.expects_reasoning(qwen3, {"thinking": "off"})
    # Switched off on a model whose template ignored it: the model reasons as ever.
    r1 = {"tokenizer.chat_template": template("deepseek-r1-distill-qwen")}
    assert flagging.expects_reasoning(r1, {"thinking": "off", "no_effect": ["thinking"]})


def test_gpt_oss_is_a_reasoning_model() -> None:
    """It always reasons in its analysis channel and has no switch to stop it: an answer
    without analysis is suppressed thought."""
    oss = {"tokenizer.chat_template": template("gpt-oss")}
    assert flagging.expects_reasoning(oss)
    assert flagging.expects_reasoning(oss, {"thinking": "off", "no_effect": ["thinking"]})
    assert not flagging.expects_reasoning({"tokenizer.chat_template": template("llama-3.1")})


def test_compare_json_records_the_switches_through_a_real_model(tmp_path: Path, capsys) -> None:
    """End to end: tiny GGUFs carrying Qwen3's and R1's real templates, `--thinking off`."""
    qwen = write_tiny_model(tmp_path / "qwen3.gguf", name="Tiny Qwen3", chat_template=template("qwen3"))
    r1 = write_tiny_model(tmp_path / "r1.gguf", name="Tiny R1", chat_template=template("deepseek-r1-distill-qwen"))
    db = tmp_path / "nb.sqlite"
    status = in_process(
        "compare", "Hi", "--model", str(qwen), "--model", str(r1), "--max-tokens", "4", "--ctx", "256",
        "--thinking", "off", "--reasoning-effort", "high", "--db", str(db), "--json",
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    qwen_said, r1_said = json.loads(out)["responses"]
    assert qwen_said["error"] is None and r1_said["error"] is None
    assert qwen_said["sampler"]["thinking"] == "off" and qwen_said["sampler"]["reasoning_effort"] == "high"
    assert qwen_said["sampler"]["no_effect"] == ["reasoning_effort"]
    assert qwen_said["note"] == "Tiny Qwen3 has no reasoning-effort switch; the setting had no effect."
    assert r1_said["sampler"]["no_effect"] == ["thinking", "reasoning_effort"]
    with sqlite3.connect(db) as conn:
        stored = [json.loads(s) for (s,) in conn.execute("select sampler from responses order by position")]
    assert stored == [qwen_said["sampler"], r1_said["sampler"]]


def test_compare_prints_the_note_under_the_answer(tmp_path: Path, capsys) -> None:
    model = write_tiny_model(tmp_path / "llama.gguf", name="Tiny Llama", chat_template=template("llama-3.1"))
    status = in_process("compare", "Hi", "--model", str(model), "--max-tokens", "4", "--ctx", "512", "--thinking", "on", "--db", str(tmp_path / "nb.sqlite"))
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "note: Tiny Llama has no thinking switch; the setting had no effect." in out


@pytest.mark.parametrize("argv, words", [(["--thinking", "maybe"], "argument --thinking: invalid choice: 'maybe'"), (["--reasoning-effort", "max"], "argument --reasoning-effort: invalid choice: 'max'")])
@pytest.mark.parametrize("command", [["compare", "Hi"], ["batch", "starter-20"], ["judge", "--run", "1", "--model", "x"]])
def test_a_bad_switch_is_refused_by_the_command_line(command: list[str], argv: list[str], words: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        in_process(*command, *argv)
    assert exit_.value.code == 2
    assert words in capsys.readouterr().err


def test_an_empty_think_block_from_thinking_switched_off_is_not_flagged_even_when_reflagged(tmp_path: Path, capsys) -> None:
    """A tiny GGUF with Qwen3's template writes no reasoning: suppressed thought when it was
    to think, by request when thinking was switched off; `reflag` reads the setting back."""
    qwen = write_tiny_model(tmp_path / "qwen3.gguf", name="Tiny Qwen3", chat_template=template("qwen3"))
    db = str(tmp_path / "nb.sqlite")
    flags, prompt_tokens = {}, {}
    for setting in ("default", "off"):
        status = in_process("compare", "Hi", "--model", str(qwen), "--max-tokens", "4", "--ctx", "256", "--thinking", setting, "--db", db, "--json")
        out, err = capsys.readouterr()
        assert status == 0, err
        (said,) = json.loads(out)["responses"]
        assert said["reasoning"] == ""
        flags[setting], prompt_tokens[setting] = said["flags"], said["prompt_tokens"]
    # The template's empty think block reached the model (the tiny vocabulary: a token a byte).
    assert prompt_tokens["off"] == prompt_tokens["default"] + len(b"<think>\n\n</think>\n\n")
    assert "thought_suppressed" in flags["default"] and "thought_suppressed" not in flags["off"]
    assert in_process("reflag", "--all", "--json", "--db", db) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == 0
