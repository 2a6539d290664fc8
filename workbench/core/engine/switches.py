"""A chat template's own switches: thinking on or off, and reasoning effort.

Reasoning models take these as variables of their chat template, never as words in
the user's text: Qwen3 and the hybrids read `enable_thinking`, DeepSeek-V3.1-style
hybrids `thinking`, gpt-oss `reasoning_effort`. The model's process passes the
settings (GenerationParams.thinking, .reasoning_effort) to the template as these
variables; a setting left at "default" passes nothing, so the template decides.

A template that reads none of a switch's variables ignores it. The model's process
says which settings had no effect (`template_variables`); the comparison records
them with the response's settings under NO_EFFECT, and the pane and the command
line say so in one line (`no_effect_note`) rather than let the setting pretend.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .params import DEFAULT_SWITCH

# Each setting (a GenerationParams field) -> the template variables it sets.
VARIABLES: dict[str, tuple[str, ...]] = {
    "thinking": ("enable_thinking", "thinking"),
    "reasoning_effort": ("reasoning_effort",),
}
# How a note names each setting.
WORDS = {"thinking": "thinking", "reasoning_effort": "reasoning-effort"}
# The key of a response's recorded settings (its `sampler` JSON) listing the
# settings its model's template ignored; absent when none was.
NO_EFFECT = "no_effect"


def template_variables(params: Mapping[str, Any], reads: Collection[str] | None) -> tuple[dict[str, object], list[str]]:
    """The variables to render a template with for these settings, and the settings
    set (not "default") that it ignores. `reads`: the names the template reads;
    None for a model without a template, which ignores them all."""
    variables: dict[str, object] = {}
    ignored: list[str] = []
    for setting, names in VARIABLES.items():
        value = params.get(setting, DEFAULT_SWITCH)
        if value == DEFAULT_SWITCH:
            continue
        if reads is None or not any(name in reads for name in names):
            ignored.append(setting)
            continue
        # "on"/"off" as booleans; an effort as its word.
        variables.update({name: value == "on" if setting == "thinking" else value for name in names})
    return variables, ignored


def no_effect_note(model_name: str, settings: Iterable[str]) -> str | None:
    """"Llama-3.1 has no thinking switch; the setting had no effect", or None."""
    words = [WORDS.get(s, s) for s in settings]
    if not words:
        return None
    if len(words) == 1:
        return f"{model_name} has no {words[0]} switch; the setting had no effect."
    return f"{model_name} has no {' or '.join(words)} switch; the settings had no effect."


def recorded_no_effect(sampler: Mapping[str, Any] | None) -> list[str]:
    """The settings a saved response's template ignored, from its recorded settings."""
    value = (sampler or {}).get(NO_EFFECT)
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def recorded_setting(sampler: Mapping[str, Any], setting: str) -> str:
    """A saved response's switch as set: "off", "off (no effect)" when its template
    ignored it, "default" (also for answers saved before the switches)."""
    value = str(sampler.get(setting, DEFAULT_SWITCH))
    return value + (" (no effect)" if setting in recorded_no_effect(sampler) else "")


def thinking_switched_off(sampler: Mapping[str, Any] | None) -> bool:
    """The user switched thinking off and the template took it: an empty reasoning
    block is then by request."""
    return (sampler or {}).get("thinking") == "off" and "thinking" not in recorded_no_effect(sampler)
