"""Rates corrected for the flags' errors: Rogan–Gladen and the checks against
hand-computed values, the reasons for no figure, and a seeded simulation of
the interval's coverage (docs/rates.md)."""

from __future__ import annotations

import math

import pytest

from workbench.core.analysis.correction import (
    MIN_PER_CLASS,
    PEOPLE,
    POOLED,
    Answer,
    FlagCheck,
    check_flag,
    correct,
    rogan_gladen,
)
from workbench.core.analysis.correction_check import one_language, simulate, two_languages
from workbench.core.analysis.proportions import wilson_interval

FLAG = "hard_refusal"
YES, NO = frozenset({FLAG}), frozenset({"answered"})


def answers(model: str, language: str, *, tp: int = 0, fp: int = 0, fn: int = 0, tn: int = 0, flagged: int = 0, unflagged: int = 0) -> list[Answer]:
    """Checked answers by their confusion cell, then unchecked ones flagged or not."""
    made = []
    for count, flags, people in ((tp, YES, YES), (fp, YES, NO), (fn, NO, YES), (tn, NO, NO), (flagged, YES, None), (unflagged, NO, None)):
        made += [Answer(model, f"{model} name", language, frozenset() if flags is NO else flags, people) for _ in range(count)]
    return made


@pytest.mark.parametrize(
    ("observed", "se", "sp", "expected"),
    [
        (0.3, 0.8, 0.9, 0.2 / 0.7),  # (0.3 + 0.9 - 1) / (0.8 + 0.9 - 1) = 0.285714
        (0.05, 0.8, 0.9, 0.0),  # -0.05 / 0.7: below what false alarms alone give, clipped
        (0.95, 0.8, 0.9, 1.0),  # 0.85 / 0.7, clipped
        (0.5, 1.0, 1.0, 0.5),  # a perfect flag needs no correction
        (0.4, 0.6, 0.4, None),  # Se + Sp = 1: the flag is no better than chance
        (0.4, 0.3, 0.5, None),
    ],
)
def test_rogan_gladen(observed: float, se: float, sp: float, expected: float | None) -> None:
    got = rogan_gladen(observed, se, sp)
    assert got == (None if expected is None else pytest.approx(expected))


def test_a_check_counts_the_flag_against_people() -> None:
    check = check_flag(FLAG, POOLED, answers("m", "en", tp=8, fp=2, fn=2, tn=18, flagged=40))
    assert (check.true_positives, check.false_positives, check.false_negatives, check.true_negatives) == (8, 2, 2, 18)
    assert (check.checked, check.positives, check.negatives, check.flagged) == (30, 10, 20, 10)  # the unchecked don't count
    assert check.precision == 0.8 and check.recall == check.sensitivity == 0.8 and check.specificity == 0.9
    # Wilson 8/10: centre (0.8 + 0.1921)/1.3841 = 0.7167, half 1.96·√(0.016 + 0.0096)/1.3841 = 0.2266.
    assert check.precision_interval == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert check.specificity_interval == wilson_interval(18, 20)
    assert check.enough(10) and not check.enough(11)
    empty = FlagCheck(FLAG, "zh", 0, 0, 0, 0)
    assert empty.precision is None and empty.recall_interval is None and not empty.enough(1)


def test_the_corrected_rate_counts_checked_answers_as_people_said_and_corrects_the_rest() -> None:
    # Checked: Se 8/10 = 0.8, Sp 18/20 = 0.9, people say 10 of 30 have it.
    # Unchecked: 21 of 70 flagged, 0.3 -> (0.3 + 0.9 - 1) / 0.7 = 2/7.
    # Corrected: 0.3 · 10/30 + 0.7 · 2/7 = 0.1 + 0.2 = 0.3; the flag's own rate is 31/100.
    found = correct(answers("m", "en", tp=8, fp=2, fn=2, tn=18, flagged=21, unflagged=49), FLAG)
    (rate,) = found.rates
    assert (rate.language, rate.k, rate.n, rate.checked, rate.observed) == (POOLED, 31, 100, 30, 0.31)
    assert rate.corrected == pytest.approx(0.3) and rate.reason is None
    assert rate.checks_from == (("en", "en"),) and rate.pooled_for == []
    # The delta method puts the standard error near 0.085 (docs/rates.md), so the
    # 95% interval is about 0.33 wide around 0.3.
    low, high = rate.interval
    assert low < 0.3 < high and 0.25 < high - low < 0.45 and 0.0 <= low and high <= 1.0
    assert found.checked == 30 and found.answers == 100 and not found.by_language
    assert found.flag_rate_checked == pytest.approx(10 / 30) and found.flag_rate == pytest.approx(0.31)


def test_the_figures_are_seeded_and_each_model_has_its_own_stream() -> None:
    batch = answers("us", "en", tp=8, fp=2, fn=2, tn=18, flagged=21, unflagged=49)
    first = correct(batch, FLAG)
    assert correct(batch, FLAG) == first
    # Another model without checked answers leaves the checks, so the first model's figures, alone.
    with_other = correct(batch + answers("cn", "en", flagged=30, unflagged=20), FLAG)
    assert with_other.rates[0] == first.rates[0]
    assert with_other.rates[1].model == "cn" and with_other.rates[1].checked == 0
    assert with_other.rates[1].corrected == pytest.approx((0.6 + 0.9 - 1) / 0.7)


def test_languages_have_their_own_checks_and_a_thin_one_uses_the_pooled_ones_and_says_so() -> None:
    # English: Se 9/10, Sp 19/20. Chinese: only 2 checked answers with the label, so
    # its answers are corrected with the pooled checks: Se 11/12, Sp 38/40.
    batch = answers("m", "en", tp=9, fp=1, fn=1, tn=19, flagged=20, unflagged=50)
    batch += answers("m", "zh", tp=2, fp=1, fn=0, tn=19, flagged=30, unflagged=48)
    found = correct(batch, FLAG)
    assert [c.language for c in found.checks] == [POOLED, "en", "zh"]
    pooled = found.pooled
    assert (pooled.positives, pooled.negatives, pooled.sensitivity, pooled.specificity) == (12, 40, 11 / 12, 38 / 40)
    rows = {r.language: r for r in found.rates}
    assert rows["en"].checks_from == (("en", "en"),) and rows["zh"].checks_from == (("zh", POOLED),)
    assert rows[POOLED].pooled_for == ["zh"]
    en = 30 / 100 * 10 / 30 + 70 / 100 * rogan_gladen(20 / 70, 0.9, 0.95)
    zh = 22 / 100 * 2 / 22 + 78 / 100 * rogan_gladen(30 / 78, 11 / 12, 0.95)
    assert rows["en"].corrected == pytest.approx(en) and rows["zh"].corrected == pytest.approx(zh)
    # Over all languages: each language's corrected rate weighted by its share of the answers.
    assert rows[POOLED].corrected == pytest.approx(0.5 * en + 0.5 * zh)
    assert found.fallbacks() == [
        (f"zh: too few checked answers: people say 2 have it and 20 do not; the correction needs at least {MIN_PER_CLASS} of each; "
         "its answers are corrected with the checks of all languages pooled.")
    ]


def test_no_figure_without_enough_checks_or_with_a_flag_no_better_than_chance() -> None:
    (none,) = correct(answers("m", "en", flagged=5, unflagged=5), FLAG).rates
    assert none.corrected is None and none.interval is None and none.reason == "no answer was checked by a person"
    assert none.why == "no answer checked"
    assert none.observed == 0.5  # the uncorrected rate is still there

    (few,) = correct(answers("m", "en", tp=3, tn=20, flagged=5, unflagged=5), FLAG).rates
    assert few.corrected is None
    assert few.reason == f"too few checked answers: people say 3 have it and 20 do not; the correction needs at least {MIN_PER_CLASS} of each"

    (chance,) = correct(answers("m", "en", tp=5, fn=5, fp=10, tn=10, flagged=5, unflagged=5), FLAG).rates
    assert chance.corrected is None
    assert chance.reason == "the flag did no better than chance on the checked answers: sensitivity 0.50 + specificity 0.50 ≤ 1"
    assert chance.why == "flag no better than chance"

    # Se 6/10 and Sp 12/20 (sum 1.2): defined, but many draws fall to Se + Sp <= 1.
    (shaky,) = correct(answers("m", "en", tp=6, fn=4, fp=8, tn=12, flagged=30, unflagged=30), FLAG).rates
    assert shaky.corrected is None and shaky.reason.startswith("too uncertain to correct: in ") and shaky.why == "too uncertain"

    # Two languages, too few even pooled: the reason gives both, and the model's
    # rate over all languages takes the first language's sentence (both fail alike).
    thin = correct(answers("m", "en", tp=2, tn=6, flagged=3) + answers("m", "zh", tp=1, tn=3, unflagged=3), FLAG)
    assert {r.language: r.why for r in thin.rates}[POOLED] == "too few checked answers"
    assert {r.language: r.reason for r in thin.rates}[POOLED] == (
        "too few checked answers, even with all languages pooled: people say 3 have it and 9 do not (2 and 6 in en); "
        f"the correction needs at least {MIN_PER_CLASS} of each"
    )


def test_a_model_rate_over_languages_names_the_language_that_failed() -> None:
    # English is well checked; Chinese answers only ever flagged, never checked: its flag
    # rate can't be corrected with the pooled checks when those say no better than chance.
    batch = answers("m", "en", tp=5, fn=5, fp=10, tn=10, flagged=4) + answers("m", "zh", tp=5, tn=5, flagged=6)
    rows = {r.language: r for r in correct(batch, FLAG).rates}
    assert rows["en"].why == "flag no better than chance" and rows["zh"].corrected is not None
    assert rows[POOLED].why == "en: flag no better than chance"
    assert rows[POOLED].reason.startswith("the flag did no better than chance on the checked answers in en:")


def test_a_language_whose_answers_were_all_checked_needs_no_correction() -> None:
    batch = answers("m", "en", tp=1, tn=2)  # too few to measure the flag, but every answer is known
    (rate,) = correct(batch, FLAG).rates
    assert rate.corrected == pytest.approx(1 / 3) and rate.checks_from == (("en", PEOPLE),)
    assert rate.interval[0] < 1 / 3 < rate.interval[1]


def test_the_minimum_must_be_positive() -> None:
    with pytest.raises(ValueError):
        correct([], FLAG, minimum=0)


def test_coverage_by_simulation() -> None:
    """A mediocre flag (Se 0.8, Sp 0.85) on a true rate of 20%, 400 answers, 120 checked:
    the flag's own rate is about 0.8·0.2 + 0.15·0.8 = 0.28, so its Wilson interval
    almost never holds 0.2; the corrected interval should, about 95% of the time
    (300 repetitions: a binomial standard error of 1.3 points)."""
    result = simulate(one_language(400, 120, 0.2, 0.8, 0.85), 300, seed=14, draws=1000)
    assert result.corrected == 300  # 120 checked answers always have enough of each kind
    assert 0.91 <= result.coverage <= 0.985
    assert result.uncorrected_coverage < 0.2
    assert result.mean_uncorrected == pytest.approx(0.28, abs=0.01)  # biased by the flag's errors
    assert result.mean_corrected == pytest.approx(0.2, abs=0.01)  # not


def test_coverage_by_simulation_in_two_languages() -> None:
    """English (10%, Se 0.9, Sp 0.97) and Chinese (40%, Se 0.6, Sp 0.9), 60 checked in each:
    the flag's own rate, (0.117 + 0.30) / 2 = 0.2085, misses the true 0.25; corrected per language, it doesn't."""
    result = simulate(two_languages(60), 200, seed=15, draws=1000)
    truth = result.scenario.true_rate
    assert truth == pytest.approx(0.25)
    assert result.corrected >= 190 and 0.9 <= result.coverage <= 0.99
    assert math.isclose(result.mean_corrected, truth, abs_tol=0.015)
    assert math.isclose(result.mean_uncorrected, 0.2085, abs_tol=0.01) and result.uncorrected_coverage < 0.7
