"""Which reasoning format a model writes, read from its chat template.

The model's process names the format when an answer starts (`stream_format`,
sent with "started"), and whoever reads the stream builds the matching
splitter (`splitter_for`). A name, not a splitter, crosses the pipe, so the
scripted test models can say theirs as the real ones do.

Formats (docs/models.md):
  think          `<think>…</think>` (Qwen3, QwQ, DeepSeek-R1, most others); also the default,
                 since distilled models think in these tags whatever their template says
  seed-think     `<seed:think>…</seed:think>` (ByteDance Seed-OSS)
  mistral-think  `[THINK]…[/THINK]` (Mistral's Magistral)
  harmony        OpenAI's channels (gpt-oss), with or without the markers
A tag format followed by OPENED: the prompt ends with the open tag (DeepSeek-R1's and
Qwen3's templates), so the stream starts inside the reasoning.
"""

from __future__ import annotations

from .backend import FINISH_LENGTH, FINISH_STOP
from .harmony import HarmonySplitter, speaks_harmony
from .reasoning import CLOSE, OPEN, Splitter, ThinkSplitter

THINK = "think"
HARMONY = "harmony"
OPENED = "+opened"

TAGS = {
    THINK: (OPEN, CLOSE),
    "seed-think": ("<seed:think>", "</seed:think>"),
    "mistral-think": ("[THINK]", "[/THINK]"),
}


def stream_format(template: str | None, rendered_prompt: str) -> str:
    """The format a model with chat `template` answers `rendered_prompt` in."""
    template = template or ""
    if speaks_harmony(template):
        return HARMONY
    name = next((n for n, (open_tag, _) in TAGS.items() if n != THINK and open_tag in template), THINK)
    return name + OPENED if rendered_prompt.rstrip().endswith(TAGS[name][0]) else name


def template_format(template: str | None) -> str:
    """The format a model with chat `template` writes, as far as the template alone says
    (whether its prompt opens the block is known only once a prompt is rendered)."""
    return stream_format(template, "")


def splitter_for(stream_format: str) -> Splitter:
    """A fresh splitter for one answer in `stream_format` (an unknown name: `<think>`)."""
    if stream_format == HARMONY:
        return HarmonySplitter()
    name = stream_format.removesuffix(OPENED)
    return ThinkSplitter(starts_in_reasoning=stream_format.endswith(OPENED), tags=TAGS.get(name, TAGS[THINK]))


def reasoning_never_ended(answer: str, reasoning: str, finish_reason: str | None) -> str | None:
    """What to tell the user when a model reasoned but gave no answer after it (its
    reasoning never closed, or no final channel came), else None."""
    if answer.strip() or not reasoning.strip() or finish_reason not in (FINISH_STOP, FINISH_LENGTH):
        return None
    why = "it ran out of tokens while reasoning" if finish_reason == FINISH_LENGTH else "it stopped without closing it"
    return f"No answer: the model's reasoning never ended ({why}). Its reasoning is kept."

