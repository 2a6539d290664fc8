"""Divergence between the answers of one run: flag part, content part, one score."""

from __future__ import annotations

import pytest

from workbench.core.analysis import divergence
from workbench.core.analysis.divergence import character_ngrams, jaccard_distance

REFUSAL = "I'm sorry, but I can't assist with that."
STORY = "The White House was a beautiful building. One day, a fire started in the kitchen and spread."


def test_identical_answers_do_not_diverge() -> None:
    result = divergence([(REFUSAL, ["hard_refusal"]), (REFUSAL, ["hard_refusal"])])
    assert (result.score, result.flag_distance, result.content_distance) == (0.0, 0.0, 0.0)


def test_a_refusal_against_an_answer_is_near_the_top() -> None:
    result = divergence([(REFUSAL, ["hard_refusal"]), (STORY, ["answered"])])
    assert result.flag_distance == 1.0
    assert result.content_distance > 0.9
    assert result.score == pytest.approx(0.6 + 0.4 * result.content_distance)


def test_runs_sort_by_what_differs_most() -> None:
    refusal_vs_answer = divergence([(REFUSAL, ["hard_refusal"]), (STORY, ["answered"])]).score
    framing = divergence([("台湾是中国不可分割的一部分。", ["answered", "state_narrative"]), ("台湾有自己的宪法和民选政府。", ["answered"])]).score
    two_answers = divergence([(STORY, ["answered"]), ("Fire broke out in the West Wing at night and the roof fell in.", ["answered"])]).score
    two_refusals = divergence([(REFUSAL, ["hard_refusal"]), ("I'm sorry, but I can't help with that.", ["hard_refusal"])]).score
    assert refusal_vs_answer > framing > two_answers > two_refusals > 0


def test_chinese_text_is_compared_by_character_bigrams() -> None:
    assert character_ngrams("台湾问题") == {"台湾", "湾问", "问题"}
    assert character_ngrams("Hi 台") == {"hi", "台"}
    near = divergence([("台湾是中国不可分割的一部分。", ["answered"]), ("台湾是中国不可分割的一部分！", ["answered"])])
    assert near.content_distance == 0.0


def test_more_than_two_answers_average_every_pair() -> None:
    result = divergence([(REFUSAL, ["hard_refusal"]), (REFUSAL, ["hard_refusal"]), (STORY, ["answered"])])
    assert [(p.first, p.second) for p in result.pairs] == [(0, 1), (0, 2), (1, 2)]
    assert result.flag_distance == pytest.approx(2 / 3)
    assert result.score == pytest.approx(sum(p.score for p in result.pairs) / 3)
    assert result.to_json()["pairs"][1]["flag_distance"] == 1.0


def test_empty_answers_and_too_few_answers() -> None:
    assert jaccard_distance(set(), set()) == 0.0
    assert divergence([("", []), (STORY, ["answered"])]).content_distance == 1.0
    with pytest.raises(ValueError, match="at least two answers"):
        divergence([(STORY, ["answered"])])
