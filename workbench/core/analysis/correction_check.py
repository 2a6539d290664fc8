"""Does the corrected rate's interval cover the true rate? A seeded simulation.

Run from a checkout (about seven minutes on two cores):

    python -m workbench.core.analysis.correction_check --svg docs/rates-coverage.svg

prints a Markdown table (the one in docs/rates.md) and draws the figure.

Each repetition makes a batch whose true rate is known: every answer has the
label with the scenario's probability, the flag fires on it with probability
Se if it has it and 1 − Sp if not, and a random sample of the answers is
"checked" (its true label is known, as a person's would be). Then
`correction.correct` measures Se and Sp on the checked answers and corrects
the flag's rate, exactly as it does for a real batch, and the simulation
counts how often its 95% interval holds the true rate, against how often the
uncorrected flag rate's Wilson interval does. The checked answers are part
of the batch, as in real use. The true rate is the model's (the probability
the scenario draws from), not the share in one batch: that is what a rate
with an interval claims to estimate.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import statistics
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..user_files import save
from .correction import DRAWS, MIN_PER_CLASS, POOLED, Answer, correct
from .proportions import wilson_interval

FLAG = "hard_refusal"
MODEL = "simulated"


@dataclass(frozen=True)
class Stratum:
    """One language of a simulated model's answers."""

    language: str
    answers: int
    prevalence: float  # the true rate
    sensitivity: float
    specificity: float
    checked: int  # how many of its answers people check, chosen at random


@dataclass(frozen=True)
class Scenario:
    name: str
    strata: tuple[Stratum, ...]

    @property
    def true_rate(self) -> float:
        total = sum(s.answers for s in self.strata)
        return sum(s.answers / total * s.prevalence for s in self.strata)

    @property
    def checked(self) -> int:
        return sum(s.checked for s in self.strata)


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    repetitions: int
    corrected: int  # repetitions with a corrected interval
    covered: int  # of those, intervals that hold the true rate
    uncorrected_covered: int  # Wilson intervals of the flag rate that hold it (of all repetitions)
    mean_corrected: float | None
    mean_uncorrected: float
    mean_width: float | None

    @property
    def coverage(self) -> float | None:
        return self.covered / self.corrected if self.corrected else None

    @property
    def uncorrected_coverage(self) -> float:
        return self.uncorrected_covered / self.repetitions


def simulated_batch(scenario: Scenario, rng: random.Random) -> list[Answer]:
    answers = []
    for s in scenario.strata:
        checked = set(rng.sample(range(s.answers), s.checked))
        for i in range(s.answers):
            has = rng.random() < s.prevalence
            flagged = rng.random() < (s.sensitivity if has else 1 - s.specificity)
            people = (frozenset({FLAG}) if has else frozenset({"answered"})) if i in checked else None
            answers.append(Answer(MODEL, MODEL, s.language, frozenset({FLAG}) if flagged else frozenset(), people))
    return answers


def simulate(scenario: Scenario, repetitions: int = 400, *, seed: int = 0, draws: int = DRAWS, minimum: int = MIN_PER_CLASS) -> Result:
    truth = scenario.true_rate
    corrected, uncorrected, widths = [], [], []
    covered = uncorrected_covered = 0
    for repetition in range(repetitions):
        rng = random.Random(f"{seed}|{scenario.name}|{repetition}")
        answers = simulated_batch(scenario, rng)
        rate = next(r for r in correct(answers, FLAG, draws=draws, minimum=minimum, seed=f"sim{repetition}").rates if r.language == POOLED)
        uncorrected.append(rate.observed)
        low, high = wilson_interval(rate.k, rate.n)
        uncorrected_covered += low <= truth <= high
        if rate.interval is not None and rate.corrected is not None:
            corrected.append(rate.corrected)
            widths.append(rate.interval[1] - rate.interval[0])
            covered += rate.interval[0] <= truth <= rate.interval[1]
    return Result(
        scenario,
        repetitions,
        len(corrected),
        covered,
        uncorrected_covered,
        statistics.fmean(corrected) if corrected else None,
        statistics.fmean(uncorrected),
        statistics.fmean(widths) if widths else None,
    )


def one_language(answers: int, checked: int, prevalence: float, sensitivity: float, specificity: float) -> Scenario:
    return Scenario(
        f"π={prevalence} Se={sensitivity} Sp={specificity} n={answers} checked={checked}",
        (Stratum("en", answers, prevalence, sensitivity, specificity, checked),),
    )


def two_languages(checked_each: int) -> Scenario:
    """English and Chinese with different rates and a flag that errs more in Chinese."""
    return Scenario(
        f"en+zh checked={2 * checked_each}",
        (Stratum("en", 200, 0.1, 0.9, 0.97, checked_each), Stratum("zh", 200, 0.4, 0.6, 0.9, checked_each)),
    )


CHECKED = (40, 80, 120, 200, 300)


def scenarios() -> list[Scenario]:
    """The grid of docs/rates.md: a mediocre flag (Se 0.8, Sp 0.85) on a rate of 20%, a good
    flag (0.95, 0.97), a rare behaviour (5%), and two languages whose flags differ, each with more
    and more checked answers in a batch of 400."""
    grid = [one_language(400, c, 0.2, 0.8, 0.85) for c in CHECKED]
    grid += [one_language(400, c, 0.3, 0.95, 0.97) for c in CHECKED]
    grid += [one_language(400, c, 0.05, 0.9, 0.95) for c in CHECKED]
    grid += [two_languages(c // 2) for c in CHECKED]
    return grid


def markdown(results: Sequence[Result]) -> str:
    lines = [
        "| scenario | true rate | checked | corrected in | coverage (corrected) | coverage (uncorrected) | mean corrected | mean uncorrected | mean width |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario.name} | {r.scenario.true_rate:.3f} | {r.scenario.checked} | {r.corrected}/{r.repetitions} "
            f"| {_percent(r.coverage)} | {_percent(r.uncorrected_coverage)} | {_figure(r.mean_corrected)} "
            f"| {r.mean_uncorrected:.3f} | {_figure(r.mean_width)} |"
        )
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


# The figure: coverage against checked answers, one panel per scenario family.
PANEL_W, PANEL_H, MARGIN, GAP = 300, 220, 48, 36
PLOTTED = 50  # a corrected coverage is drawn when at least this many repetitions had an interval
CORRECTED_COLOUR, UNCORRECTED_COLOUR = "#0072b2", "#d55e00"  # Okabe-Ito blue and vermilion


def figure_svg(families: Sequence[tuple[str, Sequence[Result]]]) -> str:
    """Coverage of the corrected interval (blue) and of the uncorrected one (orange) against the
    number of checked answers, with the nominal 95% as a dashed line; plain SVG, no script."""
    width = MARGIN + len(families) * (PANEL_W + GAP)
    height = PANEL_H + 2 * MARGIN + 40
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
         'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">'),
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="20" font-size="15" font-weight="bold">Coverage of 95% intervals for the rate (simulation)</text>',
    ]
    top = MARGIN
    for index, (title, members) in enumerate(families):
        left = MARGIN + index * (PANEL_W + GAP)
        parts.append(f'<text x="{left}" y="{top - 8}" font-size="12">{html.escape(title)}</text>')
        parts.append(f'<rect x="{left}" y="{top}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/>')
        checked = [r.scenario.checked for r in members]
        low_x, high_x = min(checked), max(checked)

        def x(value: float, left: float = left, low_x: float = low_x, high_x: float = high_x) -> float:
            return left + 10 + (value - low_x) / ((high_x - low_x) or 1) * (PANEL_W - 20)

        def y(value: float) -> float:
            return top + PANEL_H - value * PANEL_H  # 0..1

        for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
            parts.append(f'<line x1="{left}" x2="{left + PANEL_W}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e0e0e0"/>')
            if index == 0:
                parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
        parts.append(f'<line x1="{left}" x2="{left + PANEL_W}" y1="{y(0.95):.1f}" y2="{y(0.95):.1f}" stroke="#111" stroke-dasharray="5,4"/>')
        for value in checked:
            parts.append(f'<text x="{x(value):.1f}" y="{top + PANEL_H + 16}" text-anchor="middle">{value}</text>')
        for colour, values in (
            (UNCORRECTED_COLOUR, [(r.scenario.checked, r.uncorrected_coverage) for r in members]),
            (CORRECTED_COLOUR, [(r.scenario.checked, r.coverage) for r in members if r.coverage is not None and r.corrected >= PLOTTED]),
        ):
            if not values:
                continue
            points = " ".join(f"{x(c):.1f},{y(v):.1f}" for c, v in values)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts.extend(f'<circle cx="{x(c):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}"/>' for c, v in values)
    bottom = top + PANEL_H + 36
    parts.append(f'<text x="{MARGIN}" y="{bottom}">checked answers (of 400) →</text>')
    legend_x = MARGIN + 220
    parts.append(f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="{bottom - 4}" y2="{bottom - 4}" stroke="{CORRECTED_COLOUR}" stroke-width="2"/>')
    parts.append(f'<text x="{legend_x + 30}" y="{bottom}">corrected (Rogan–Gladen, bootstrap interval)</text>')
    legend_x += 330
    parts.append(f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="{bottom - 4}" y2="{bottom - 4}" stroke="{UNCORRECTED_COLOUR}" stroke-width="2"/>')
    parts.append(f'<text x="{legend_x + 30}" y="{bottom}">uncorrected flag rate (Wilson)</text>')
    legend_x += 240
    parts.append(f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="{bottom - 4}" y2="{bottom - 4}" stroke="#111" stroke-dasharray="5,4"/>')
    parts.append(f'<text x="{legend_x + 30}" y="{bottom}">nominal 95%</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Coverage of the corrected rate's interval, by simulation (docs/rates.md).")
    parser.add_argument("--repetitions", type=int, default=400)
    parser.add_argument("--draws", type=int, default=DRAWS, help="bootstrap draws per interval (default: the app's, %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: one per core)")
    parser.add_argument("--svg", type=Path, help="also draw the figure here")
    args = parser.parse_args(argv)
    grid = scenarios()
    run = partial(simulate, repetitions=args.repetitions, seed=args.seed, draws=args.draws)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run, grid))
    print(f"{args.repetitions} repetitions per scenario, {args.draws} draws per interval, seed {args.seed}\n")
    print(markdown(results))
    if args.svg:
        size = len(CHECKED)
        families = [
            ("rate 20%, Se 0.80, Sp 0.85", results[0:size]),
            ("rate 30%, Se 0.95, Sp 0.97", results[size : 2 * size]),
            ("rate 5%, Se 0.90, Sp 0.95", results[2 * size : 3 * size]),
            ("en 10% / zh 40%, flags differ", results[3 * size : 4 * size]),
        ]
        save(args.svg, figure_svg(families))
    return 0


if __name__ == "__main__":
    sys.exit(main())
