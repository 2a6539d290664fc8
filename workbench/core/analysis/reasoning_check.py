"""Thought suppression: a reasoning model that shows no reasoning.

Reasoning models (DeepSeek-R1, Qwen3) think in a `<think>…</think>` block
before answering. On sensitive prompts some emit an empty block and go
straight to a canned answer: the thinking was trained away for that topic.
The notebook keeps reasoning apart from the answer (engine/reasoning.py), but
answers piped into `workbench flag` may still carry the block, so it is split
here too.
"""

from __future__ import annotations

from .evidence import Evidence
from .flag_names import THOUGHT_SUPPRESSED

OPEN = "<think>"
CLOSE = "</think>"


def split_think(response: str) -> tuple[str, str | None]:
    """(answer, reasoning found in the text or None when the text has no block).

    Handles a complete block, a block whose opening tag the chat template put in
    the prompt ("…</think>answer"), and a block the model never closed.
    """
    if CLOSE in response:
        before, after = response.split(CLOSE, 1)
        return after.lstrip(), before.replace(OPEN, "", 1)
    if OPEN in response:
        before, after = response.split(OPEN, 1)
        return before, after
    return response, None


def find_thought_suppressed(reasoning: str | None, think_in_text: str | None, is_reasoning_model: bool) -> list[Evidence]:
    """Evidence that a reasoning model's reasoning is empty or missing.

    A model counts as a reasoning model when the caller says so or when its
    response carries a think block; an empty `reasoning` from any other model
    says nothing.
    """
    if not (is_reasoning_model or think_in_text is not None):
        return []
    if (reasoning or "").strip() or (think_in_text or "").strip():
        return []
    if think_in_text is not None or reasoning is not None:
        return [Evidence(THOUGHT_SUPPRESSED, "empty reasoning block", "<think></think>")]
    return [Evidence(THOUGHT_SUPPRESSED, "no reasoning block from a reasoning model", "")]
