"""Precision and recall of the automatic flags on a labelled set.

Run from a checkout:

    python -m workbench.core.analysis.evaluate tests/data/flags/tuning.jsonl tests/data/flags/heldout.jsonl

prints one Markdown table per file (the tables in docs/flags.md) and, with
`--errors`, every item whose flags differ from its labels. The labelled files
are JSON Lines: `id`, `prompt`, `response`, `lang`, `expected` (a list of flag
names), optional `reasoning`, `reasoning_model` and `note`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .flag_names import FLAG_NAMES
from .flags import flag_response


@dataclass(frozen=True)
class LabelledItem:
    id: str
    prompt: str
    response: str
    lang: str
    expected: frozenset[str]
    reasoning: str | None
    reasoning_model: bool

    def flags(self) -> frozenset[str]:
        return frozenset(
            flag_response(self.prompt, self.response, prompt_lang=self.lang, reasoning=self.reasoning, is_reasoning_model=self.reasoning_model)
        )


@dataclass(frozen=True)
class FlagScore:
    flag: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def support(self) -> int:
        """How many items carry the flag in their labels."""
        return self.true_positives + self.false_negatives

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.support if self.support else None


def load_labelled(path: Path) -> list[LabelledItem]:
    """The items of a labelled file; a malformed line raises ValueError naming it."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            unknown = set(row["expected"]) - set(FLAG_NAMES)
            if unknown:
                raise ValueError(f"unknown flags {sorted(unknown)}")
            items.append(
                LabelledItem(
                    id=row["id"],
                    prompt=row["prompt"],
                    response=row["response"],
                    lang=row["lang"],
                    expected=frozenset(row["expected"]),
                    reasoning=row.get("reasoning"),
                    reasoning_model=bool(row.get("reasoning_model", False)),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return items


def score(items: Iterable[LabelledItem]) -> tuple[list[FlagScore], list[tuple[LabelledItem, frozenset[str]]]]:
    """Per-flag counts, and the items whose flags differ from their labels."""
    counts = {flag: [0, 0, 0] for flag in FLAG_NAMES}
    errors = []
    for item in items:
        got = item.flags()
        if got != item.expected:
            errors.append((item, got))
        for flag in FLAG_NAMES:
            if flag in got and flag in item.expected:
                counts[flag][0] += 1
            elif flag in got:
                counts[flag][1] += 1
            elif flag in item.expected:
                counts[flag][2] += 1
    return [FlagScore(flag, *counts[flag]) for flag in FLAG_NAMES], errors


def markdown_table(scores: Sequence[FlagScore]) -> str:
    """The table docs/flags.md shows: precision, recall, and the counts behind them."""
    lines = ["| flag | precision | recall | labelled | TP | FP | FN |", "|---|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(f"| `{s.flag}` | {_figure(s.precision)} | {_figure(s.recall)} | {s.support} | {s.true_positives} | {s.false_positives} | {s.false_negatives} |")
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Precision and recall of the automatic flags on labelled JSON Lines files.")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--errors", action="store_true", help="also list every item whose flags differ from its labels")
    args = parser.parse_args(argv)
    for path in args.files:
        items = load_labelled(path)
        scores, errors = score(items)
        print(f"{path.name}: {len(items)} items, {len(items) - len(errors)} flagged exactly as labelled\n")
        print(markdown_table(scores))
        print()
        if args.errors:
            for item, got in errors:
                print(f"- {item.id}: expected {sorted(item.expected)}, got {sorted(got)}")
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
