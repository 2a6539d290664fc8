"""How far apart several models' answers to one prompt are, as one number.

Two parts, both in [0, 1]:

- flag distance: Jaccard distance between two answers' flag sets. {answered}
  against {hard_refusal} is 1; {answered} against {answered,
  state_narrative} is 0.5; identical flags are 0.
- content distance: Jaccard distance between the answers' sets of character
  n-grams: bigrams over runs of Chinese characters, trigrams over the rest
  (lower-cased, punctuation and extra spaces removed). Cheap, needs no word
  segmentation, and works for Chinese and English alike. Two answers in
  different languages share almost nothing, which is right: they say different
  things to different readers.

score = 0.6 × flag distance + 0.4 × content distance. Flags weigh more because
they are the behaviour being compared; the content part mostly orders runs
whose flags agree (two honest answers that differ in what they say rank above
two copies of one canned refusal). With more than two answers, each part is
the mean over all pairs; `pairs` keeps every pair for a view that wants the
most divergent one.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

FLAG_WEIGHT = 0.6
CONTENT_WEIGHT = 0.4

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class PairDivergence:
    """Divergence between answers `first` and `second` (positions in the input)."""

    first: int
    second: int
    flag_distance: float
    content_distance: float

    @property
    def score(self) -> float:
        return FLAG_WEIGHT * self.flag_distance + CONTENT_WEIGHT * self.content_distance


@dataclass(frozen=True)
class Divergence:
    score: float
    flag_distance: float
    content_distance: float
    pairs: tuple[PairDivergence, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "score": round(self.score, 4),
            "flag_distance": round(self.flag_distance, 4),
            "content_distance": round(self.content_distance, 4),
            "pairs": [
                {
                    "first": p.first,
                    "second": p.second,
                    "score": round(p.score, 4),
                    "flag_distance": round(p.flag_distance, 4),
                    "content_distance": round(p.content_distance, 4),
                }
                for p in self.pairs
            ],
        }


def divergence(answers: Sequence[tuple[str, Collection[str]]]) -> Divergence:
    """Divergence of two or more (answer text, flag names) pairs, for one run.

    Pass the answers without their `<think>` blocks (FlagReport.answer). Fewer
    than two answers have no divergence: ValueError.
    """
    if len(answers) < 2:
        raise ValueError(f"divergence needs at least two answers, got {len(answers)}")
    grams = [character_ngrams(text) for text, _ in answers]
    flags = [frozenset(f) for _, f in answers]
    pairs = tuple(
        PairDivergence(i, j, jaccard_distance(flags[i], flags[j]), jaccard_distance(grams[i], grams[j]))
        for i, j in itertools.combinations(range(len(answers)), 2)
    )
    flag_distance = sum(p.flag_distance for p in pairs) / len(pairs)
    content_distance = sum(p.content_distance for p in pairs) / len(pairs)
    return Divergence(
        FLAG_WEIGHT * flag_distance + CONTENT_WEIGHT * content_distance, flag_distance, content_distance, pairs
    )


def character_ngrams(text: str) -> frozenset[str]:
    """Bigrams of each run of Chinese characters, trigrams of the other text."""
    normal = unicodedata.normalize("NFKC", text).lower()
    grams: set[str] = set()
    for run in _HAN_RUN.findall(normal):
        grams.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    rest = " ".join(_NOT_WORD.sub(" ", _HAN_RUN.sub(" ", normal)).split())
    if rest:
        grams.update(rest[i : i + 3] for i in range(max(1, len(rest) - 2)))
    return frozenset(grams)


def jaccard_distance(a: Collection[str], b: Collection[str]) -> float:
    """1 − |a ∩ b| / |a ∪ b|; two empty sets are identical (0)."""
    union = len(set(a) | set(b))
    return 1 - len(set(a) & set(b)) / union if union else 0.0
