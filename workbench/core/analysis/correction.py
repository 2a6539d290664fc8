"""Rates corrected for the automatic flags' errors, with intervals that say how sure they are.

Why. A batch's refusal rate counted from the `hard_refusal` flag is the
detector's rate, not the model's: every missed refusal lowers it, every
false alarm raises it, and the two do not cancel. When people have labelled
some answers of the batch, those answers measure how often the flag errs,
and the rate can be corrected for it. Qt-free, so the Summary view, the
reports and `workbench batch` give the same figures. docs/rates.md says the
same for readers, with the coverage simulation (`correction_check.py`).

What is measured. An answer is *checked* when a person put at least one
label on it; labels by machine judges (annotators named `judge:…`) are not
people's checks. For a flag that has a label of the same name (`answered`,
`hard_refusal`, `evasive`, `state_narrative`, `thought_suppressed`, or any
label a user names like a flag), a checked answer *has* it when any person
put that label on it: the rule the Summary's counting already uses (a person
who labels an answer is taken to have put every label that applies). On the
checked answers:

- sensitivity Se = TP / (TP + FN) (the flag's recall), specificity
  Sp = TN / (TN + FP), precision = TP / (TP + FP), each with a Wilson 95%
  interval (`proportions.py`).

The correction (Rogan & Gladen 1978). If the flag fires on an answer that
has the label with probability Se, and on one that has not with 1 − Sp, its
observed rate is p = π·Se + (1 − π)(1 − Sp), so the true rate is

    π = (p + Sp − 1) / (Se + Sp − 1),   clipped to [0, 1].

The checked answers count as people labelled them (the Summary's own rule:
people's labels over flags), and the formula corrects the flag's rate on the
answers nobody checked; the two parts are weighted by their numbers (the
double-sampling design of Tenenbein 1970). So Se, Sp and the corrected rate
rest on different answers, as the interval below assumes, and a batch whose
answers were all checked gets people's own rate.

Undefined when Se + Sp ≤ 1 (the flag does no better than chance), and
meaningless when Se and Sp rest on a handful of answers: below MIN_PER_CLASS
checked answers that have the label, or MIN_PER_CLASS that have not, no
number is given, and the reason is.

Per language. The flags are regular expressions with separate English and
Chinese word lists, so they err differently in each language. Se and Sp are
measured per language; a language with too few checks of either kind is
corrected with the pooled figures of all languages, and the result says so.
A model's rate over all languages is the answer-weighted mean of its
per-language corrected rates (the strata are its own answers, weights
n_language / n). Se and Sp are taken to be the same for every model: the
checks are pooled over models, which the batch usually needs to have enough.

The interval. A seeded parametric bootstrap over both sources of error
(Greenland 2004; Fox, Lash & Greenland 2005): each of DRAWS draws takes Se
and Sp of every set of checks used from Beta(TP + ½, FN + ½) and
Beta(TN + ½, FP + ½), people's rate on each model's checked answers in a
language from Beta(yes + ½, no + ½), and the flag's rate on its unchecked
ones from Beta(k + ½, n − k + ½)
(Jeffreys' distributions for a binomial proportion, whose percentiles are
the Jeffreys interval, Brown, Cai & DasGupta 2001: they vary even when a
count is 0 or n, where resampling the answers would not), and computes the
clipped, stratified correction; the interval is the 2.5th and 97.5th
percentiles. When more than MAX_UNDEFINED of the draws have Se + Sp ≤ 1 the
flag may be no better than chance and no interval is given. The random
streams are seeded by the flag, model and language, so the same notebook
gives the same interval in the window, the reports and the CLI, whatever
else is computed. `correction_check.py` checks by simulation that the
interval covers the true rate about 95% of the time where the uncorrected
one does not.

Assumptions, said in docs/rates.md too: the checked answers are like the
others (chosen at random or in order, not because of their flags: checking
mostly flagged answers biases Se and Sp, Begg & Greenes 1983), and the
people are right.

References: Rogan WJ, Gladen B (1978), Estimating prevalence from the
results of a screening test, Am J Epidemiol 107(1):71–76. Tenenbein A (1970),
A double sampling scheme for estimating from binomial data with
misclassifications, JASA 65(331):1350–1361. Greenland S
(2004), Interval estimation by simulation as an alternative to and extension
of confidence intervals, Int J Epidemiol 33(6):1389–1397. Fox MP, Lash TL,
Greenland S (2005), A method to automate probabilistic sensitivity analyses
of misclassified binary variables, Int J Epidemiol 34(6):1370–1376. Brown LD,
Cai TT, DasGupta A (2001), Interval estimation for a binomial proportion,
Statistical Science 16(2):101–133. Begg CB, Greenes RA (1983), Assessment of
diagnostic tests when disease verification is subject to selection bias,
Biometrics 39(1):207–215. Lang Z, Reiczigel J (2014), Confidence limits for
prevalence of disease adjusted for estimated sensitivity and specificity,
Prev Vet Med 113(1):13–22 (a closed-form alternative, not used here: it does
not stratify).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .proportions import wilson_interval

POOLED = "all"  # the language of the pooled checks and of a model's rate over all languages
PEOPLE = "people"  # a rate whose answers were all checked: people's labels, nothing to correct
# Fewest checked answers that have the label, and fewest that have not, to measure
# Se and Sp from: below it the correction swings too far to quote (docs/rates.md, the
# coverage simulation, shows the interval's coverage from this size on).
MIN_PER_CLASS = 5
DRAWS = 4000
SEED = "rogan-gladen"
LEVEL = 0.95
# Share of draws with Se + Sp <= 1 above which no interval is given (half of 1 - LEVEL:
# more than that would reach into the interval's own tail).
MAX_UNDEFINED = (1 - LEVEL) / 2
PRIOR = 0.5  # Jeffreys
METHOD = (
    "Rogan–Gladen correction (Rogan & Gladen 1978): (observed + specificity − 1) / (sensitivity + specificity − 1), "
    "clipped to [0, 1], applied to the flag's rate on the answers nobody checked (checked answers count as people "
    "labelled them), with sensitivity and specificity measured on the answers people checked, per language "
    f"(pooled over languages where a language has fewer than {MIN_PER_CLASS} checked answers with the label or without it); "
    f"95% interval: 2.5th and 97.5th percentiles of {DRAWS} seeded draws of sensitivity, specificity and the rates "
    "from their Jeffreys Beta distributions (a parametric bootstrap over the checks and the batch; Greenland 2004, Fox, Lash & Greenland 2005)"
)
# Why a corrected rate is not shown, in a few words (CorrectedRate.why; `reason` says it in full).
NO_CHECKS = "no answer checked"
TOO_FEW = "too few checked answers"
CHANCE = "flag no better than chance"
UNCERTAIN = "too uncertain"


def rogan_gladen(observed: float, sensitivity: float, specificity: float) -> float | None:
    """The true rate behind a flag's observed rate, clipped to [0, 1]; None when
    Se + Sp <= 1 (the flag is no better than chance and says nothing of the rate)."""
    youden = sensitivity + specificity - 1
    if youden <= 0:
        return None
    return min(1.0, max(0.0, (observed + specificity - 1) / youden))


@dataclass(frozen=True)
class Answer:
    """One counted answer as the correction sees it: its flags and, when people
    checked it, the labels they gave (None: no person labelled it)."""

    model: str
    model_name: str
    language: str
    flags: frozenset[str]
    people: frozenset[str] | None


@dataclass(frozen=True)
class FlagCheck:
    """One flag against people's labels on the checked answers of one language (or POOLED)."""

    flag: str
    language: str
    true_positives: int  # flagged, and people say it applies
    false_positives: int  # flagged, people say it does not
    false_negatives: int  # not flagged, people say it applies
    true_negatives: int

    @property
    def checked(self) -> int:
        return self.true_positives + self.false_positives + self.false_negatives + self.true_negatives

    @property
    def positives(self) -> int:
        """Checked answers people say have it."""
        return self.true_positives + self.false_negatives

    @property
    def negatives(self) -> int:
        return self.true_negatives + self.false_positives

    @property
    def flagged(self) -> int:
        return self.true_positives + self.false_positives

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        """Sensitivity: the share of answers that have it which the flag finds."""
        return self.true_positives / self.positives if self.positives else None

    sensitivity = recall

    @property
    def specificity(self) -> float | None:
        return self.true_negatives / self.negatives if self.negatives else None

    @property
    def precision_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.true_positives, self.flagged) if self.flagged else None

    @property
    def recall_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.true_positives, self.positives) if self.positives else None

    @property
    def specificity_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.true_negatives, self.negatives) if self.negatives else None

    def enough(self, minimum: int = MIN_PER_CLASS) -> bool:
        """Enough checked answers with and without the label to measure Se and Sp."""
        return self.positives >= minimum and self.negatives >= minimum

    def as_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "checked": self.checked,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "true_negatives": self.true_negatives,
            "precision": self.precision,
            "precision_interval": _pair(self.precision_interval),
            "recall": self.recall,
            "recall_interval": _pair(self.recall_interval),
            "specificity": self.specificity,
            "specificity_interval": _pair(self.specificity_interval),
        }


@dataclass(frozen=True)
class CorrectedRate:
    """A model's rate of one flag over its answers in one language (or POOLED: all of them)."""

    flag: str
    model: str
    model_name: str
    language: str
    k: int  # answers flagged
    n: int  # answers counted
    checked: int  # of them, checked by people (they count as people labelled them)
    corrected: float | None  # None: see `reason`
    interval: tuple[float, float] | None
    # For each language of these answers, whose checks corrected them: that
    # language's own, or POOLED (its own were too few); empty when not corrected.
    # With one language in the batch, its own checks are all there are.
    checks_from: tuple[tuple[str, str], ...]
    reason: str | None  # why there is no corrected figure, in a sentence
    why: str | None = None  # the same in a few words (NO_CHECKS, TOO_FEW, CHANCE, UNCERTAIN, maybe after "zh: ")

    @property
    def observed(self) -> float:
        """The flag's own rate: uncorrected."""
        return self.k / self.n

    @property
    def observed_interval(self) -> tuple[float, float]:
        return wilson_interval(self.k, self.n)

    @property
    def pooled_for(self) -> list[str]:
        """Languages corrected with the pooled checks because their own were too few."""
        return [language for language, source in self.checks_from if source == POOLED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "model_sha256": self.model if self.model != self.model_name else None,
            "language": self.language,
            "answers": self.n,
            "flagged": self.k,
            "checked": self.checked,
            "observed_rate": self.observed,
            "observed_interval": _pair(self.observed_interval),
            "corrected_rate": self.corrected,
            "corrected_interval": _pair(self.interval),
            "checks_from": dict(self.checks_from),
            "reason": self.reason,
            "why": self.why,
        }


@dataclass(frozen=True)
class FlagCorrection:
    """Everything the correction of one flag shows: the checks, then the rates."""

    flag: str
    answers: int  # counted answers
    checked: int  # of them, checked by a person
    checks: tuple[FlagCheck, ...]  # POOLED first, then each language when there are several
    rates: tuple[CorrectedRate, ...]  # per model: POOLED, then each language when there are several
    minimum: int = MIN_PER_CLASS
    draws: int = DRAWS

    @property
    def pooled(self) -> FlagCheck:
        return self.checks[0]

    @property
    def by_language(self) -> bool:
        return len(self.checks) > 1

    def check(self, language: str) -> FlagCheck | None:
        return next((c for c in self.checks if c.language == language), None)

    def fallbacks(self) -> list[str]:
        """One sentence per language whose own checks were too few, so the pooled ones were used."""
        return [
            f"{c.language}: {_too_few(c, self.minimum).full}; its answers are corrected with the checks of all languages pooled."
            for c in self.checks[1:]
            if not c.enough(self.minimum) and self.pooled.enough(self.minimum)
        ]

    @property
    def flag_rate_checked(self) -> float | None:
        """The flag's rate on the checked answers (to set beside the whole batch's: a
        large difference suggests the checked answers were chosen by their flags)."""
        return self.pooled.flagged / self.checked if self.checked else None

    @property
    def flag_rate(self) -> float | None:
        flagged = sum(r.k for r in self.rates if r.language == POOLED)
        return flagged / self.answers if self.answers else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for `workbench batch --json`: keys are only ever added."""
        return {
            "flag": self.flag,
            "method": METHOD,
            "answers": self.answers,
            "checked": self.checked,
            "minimum_per_class": self.minimum,
            "draws": self.draws,
            "checks": [c.as_dict() for c in self.checks],
            "rates": [r.as_dict() for r in self.rates],
        }


def check_flag(flag: str, language: str, answers: Iterable[Answer]) -> FlagCheck:
    """The flag's confusion counts on the checked ones of these answers."""
    counts = [0, 0, 0, 0]
    for a in answers:
        if a.people is None:
            continue
        flagged, has = flag in a.flags, flag in a.people
        counts[(0 if has else 1) if flagged else (2 if has else 3)] += 1
    return FlagCheck(flag, language, *counts)


def correct(
    answers: Sequence[Answer],
    flag: str,
    *,
    minimum: int = MIN_PER_CLASS,
    draws: int = DRAWS,
    seed: str = SEED,
) -> FlagCorrection:
    """The flag's checks and its corrected rates per model (and per language when the
    answers are in several); see the module docstring for the method."""
    if minimum < 1:
        raise ValueError("the correction needs at least one checked answer with the label and one without")
    answers = list(answers)
    languages = list(dict.fromkeys(a.language for a in answers))
    several = len(languages) > 1
    pooled = check_flag(flag, POOLED, answers)
    own = {language: check_flag(flag, language, [a for a in answers if a.language == language]) for language in languages}
    checks = (pooled, *own.values()) if several else (pooled,)

    # Which checks correct each language's answers (and under what name: the
    # language itself, or POOLED when its own were too few), or why none can.
    basis: dict[str, tuple[FlagCheck, str] | _Why] = {}
    for language in languages:
        mine = own[language] if several else pooled
        if mine.enough(minimum):
            chosen, source = mine, language
        elif several and pooled.enough(minimum):
            chosen, source = pooled, POOLED
        elif several and pooled.checked:
            basis[language] = _Why(
                TOO_FEW,
                f"too few checked answers, even with all languages pooled: people say {pooled.positives} have it and "
                f"{pooled.negatives} do not ({mine.positives} and {mine.negatives} in {language}); "
                f"the correction needs at least {minimum} of each",
            )
            continue
        else:
            basis[language] = _too_few(mine, minimum)
            continue
        se, sp = chosen.sensitivity, chosen.specificity
        assert se is not None and sp is not None  # enough() means both classes were checked
        if se + sp <= 1:
            where = f" in {language}" if source != POOLED and several else ""
            basis[language] = _Why(
                CHANCE, f"the flag did no better than chance on the checked answers{where}: sensitivity {se:.2f} + specificity {sp:.2f} ≤ 1"
            )
        else:
            basis[language] = (chosen, source)

    error_draws: dict[str, tuple[list[float], list[float]]] = {}
    for check, _ in {b[1]: b for b in basis.values() if not isinstance(b, _Why)}.values():
        rng = random.Random(f"{seed}|{flag}|checks|{check.language}")
        se_draws = [rng.betavariate(check.true_positives + PRIOR, check.false_negatives + PRIOR) for _ in range(draws)]
        sp_draws = [rng.betavariate(check.true_negatives + PRIOR, check.false_positives + PRIOR) for _ in range(draws)]
        error_draws[check.language] = (se_draws, sp_draws)

    cells: dict[str, dict[str, _Cell]] = {}  # model -> language -> its answers' counts
    names: dict[str, str] = {}
    for a in answers:
        names[a.model] = a.model_name
        cells.setdefault(a.model, {}).setdefault(a.language, _Cell()).add(a, flag)

    rates: list[CorrectedRate] = []
    for model, per_language in cells.items():
        parts = [_part(flag, model, language, cell, basis[language], error_draws, draws, seed) for language, cell in per_language.items()]
        rows = [_rate(flag, model, names[model], POOLED, parts, draws)]
        if several:
            rows += [_rate(flag, model, names[model], part.language, [part], draws) for part in parts]
        rates.extend(rows)
    return FlagCorrection(flag, len(answers), pooled.checked, checks, tuple(rates), minimum, draws)


@dataclass
class _Cell:
    """A model's answers in one language: all of them, and the checked ones."""

    k: int = 0  # flagged
    n: int = 0
    checked: int = 0
    people_positive: int = 0  # checked answers people say have it
    unchecked_flagged: int = 0

    def add(self, answer: Answer, flag: str) -> None:
        flagged = flag in answer.flags
        self.k += flagged
        self.n += 1
        if answer.people is None:
            self.unchecked_flagged += flagged
        else:
            self.checked += 1
            self.people_positive += flag in answer.people


@dataclass(frozen=True)
class _Part:
    """A model's answers in one language, on their way to a CorrectedRate."""

    language: str
    k: int
    n: int
    checked: int
    point: float | None
    drawn: list[float | None] | None
    reason: _Why | None
    source: str  # whose checks: the language's own, POOLED, or PEOPLE (all checked)


def _part(
    flag: str, model: str, language: str, cell: _Cell, basis: tuple[FlagCheck, str] | _Why,
    error_draws: dict[str, tuple[list[float], list[float]]], draws: int, seed: str,
) -> _Part:
    """The corrected rate of one cell and its draws: people's labels on the checked
    answers, Rogan–Gladen on the flags of the rest, weighted by their numbers."""
    unchecked = cell.n - cell.checked
    if unchecked and isinstance(basis, _Why):
        return _Part(language, cell.k, cell.n, cell.checked, None, None, basis, "")
    rng = random.Random(f"{seed}|{flag}|rate|{model}|{language}")
    people: list[float] = []
    if cell.checked:
        negative = cell.checked - cell.people_positive
        people = [rng.betavariate(cell.people_positive + PRIOR, negative + PRIOR) for _ in range(draws)]
    if not unchecked:
        point = cell.people_positive / cell.checked
        return _Part(language, cell.k, cell.n, cell.checked, point, list(people), None, PEOPLE)
    assert not isinstance(basis, _Why)
    check, source = basis
    se, sp = error_draws[check.language]
    flagged = cell.unchecked_flagged
    corrected = [rogan_gladen(rng.betavariate(flagged + PRIOR, unchecked - flagged + PRIOR), s, t) for s, t in zip(se, sp)]
    share = cell.checked / cell.n
    sensitivity, specificity = check.sensitivity, check.specificity
    assert sensitivity is not None and specificity is not None  # basis holds only checks of both classes
    rest = rogan_gladen(flagged / unchecked, sensitivity, specificity)
    assert rest is not None  # basis holds only checks with Se + Sp > 1
    if not cell.checked:
        return _Part(language, cell.k, cell.n, 0, rest, corrected, None, source)
    drawn = [None if c is None else share * h + (1 - share) * c for h, c in zip(people, corrected)]
    point = share * cell.people_positive / cell.checked + (1 - share) * rest
    return _Part(language, cell.k, cell.n, cell.checked, point, drawn, None, source)


def _rate(flag: str, model: str, model_name: str, language: str, parts: list[_Part], draws: int) -> CorrectedRate:
    """One row: a language's cell, or (POOLED) a model's cells combined by their share of its answers."""
    k = sum(p.k for p in parts)
    n = sum(p.n for p in parts)
    checked = sum(p.checked for p in parts)
    failed = [p for p in parts if p.reason is not None]
    if failed:
        why = failed[0].reason
        assert why is not None
        reason, short = why.full, why.short
        # Every language failed alike: the few words need no language; the sentence names the first.
        alike = len(failed) == len(parts) and all(p.reason is not None and p.reason.short == short for p in parts)
        if len(parts) > 1 and not alike:
            short = f"{failed[0].language}: {short}"
        if len(parts) > 1 and not (alike and all(p.reason == why for p in parts)) and f" in {failed[0].language}" not in reason:
            reason = f"{failed[0].language}: {reason}"
        return CorrectedRate(flag, model, model_name, language, k, n, checked, None, None, (), reason, short)
    checks_from = tuple((p.language, p.source) for p in parts)
    points: list[float] = []
    columns: list[list[float | None]] = []
    for p in parts:
        assert p.point is not None and p.drawn is not None  # only a part with a reason lacks them
        points.append(p.point)
        columns.append(p.drawn)
    point = sum(p.n / n * value for p, value in zip(parts, points))
    combined: list[float | None] = []
    for values in zip(*columns):
        known = [v for v in values if v is not None]
        combined.append(None if len(known) < len(values) else sum(p.n / n * v for p, v in zip(parts, known)))
    defined = sorted(v for v in combined if v is not None)
    undefined = 1 - len(defined) / draws
    if undefined > MAX_UNDEFINED:
        reason = (
            f"too uncertain to correct: in {undefined:.0%} of the draws sensitivity + specificity ≤ 1 "
            "(the flag may be no better than chance); more checked answers would settle it"
        )
        return CorrectedRate(flag, model, model_name, language, k, n, checked, None, None, checks_from, reason, UNCERTAIN)
    tail = (1 - LEVEL) / 2
    interval = (_quantile(defined, tail), _quantile(defined, 1 - tail))
    return CorrectedRate(flag, model, model_name, language, k, n, checked, point, interval, checks_from, None)


@dataclass(frozen=True)
class _Why:
    short: str
    full: str


def _too_few(check: FlagCheck, minimum: int) -> _Why:
    if not check.checked:
        return _Why(NO_CHECKS, "no answer was checked by a person")
    return _Why(
        TOO_FEW,
        f"too few checked answers: people say {check.positives} have it and {check.negatives} do not; "
        f"the correction needs at least {minimum} of each",
    )
def _quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolating between neighbours (Hyndman & Fan type 7)."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return list(interval) if interval is not None else None
