from __future__ import annotations

import pytest

from workbench.core.engine.reasoning import ANSWER, REASONING, ThinkSplitter, split_complete

TEXT = "<think>Is this sensitive?\nYes.</think>\n\nI can't discuss that."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 100])
def test_tags_split_across_chunks_are_found(size: int) -> None:
    splitter = ThinkSplitter()
    parts = []
    for i in range(0, len(TEXT), size):
        parts += splitter.feed(TEXT[i : i + size])
    parts += splitter.flush()
    answer = "".join(t for k, t in parts if k == ANSWER)
    reasoning = "".join(t for k, t in parts if k == REASONING)
    assert (answer, reasoning) == ("I can't discuss that.", "Is this sensitive?\nYes.")


def test_a_template_that_opens_the_block_starts_in_reasoning() -> None:
    assert split_complete("weighing it</think>Answer.", starts_in_reasoning=True) == ("Answer.", "weighing it")


def test_an_empty_think_block_leaves_empty_reasoning() -> None:
    assert split_complete("<think>\n\n</think>\n\nAnswer.") == ("Answer.", "\n\n")


def test_text_that_only_looks_like_a_tag_is_kept() -> None:
    assert split_complete("a < b and <thin ice>") == ("a < b and <thin ice>", "")


def test_an_unclosed_block_stays_reasoning() -> None:
    assert split_complete("<think>never finished") == ("", "never finished")
