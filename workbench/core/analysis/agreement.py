"""Agreement between annotators: Cohen's kappa per label.

For two annotators and one label, each answer both of them labelled (put
at least one label on) is a pair of yes/no decisions: did each use this
label? Kappa is (observed agreement - chance agreement) / (1 - chance
agreement), chance agreement from each annotator's own rate of using the
label. Answers only one person labelled say nothing about agreement, so they
are left out. Kappa is undefined (None) when chance agreement is 1: both
used the label on every shared answer, or on none.

Raters are people, machine annotators (a model judge, `judge:<model>`) and
the automatic flags, which rate as `AUTOMATIC_FLAGS`: an answer the
detectors flagged is one that rater labelled, with the flags that a label of
the same name expresses (`lang_mismatch` has no label and is left out).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from .flag_names import ANSWERED, EVASIVE, HARD_REFUSAL, STATE_NARRATIVE, THOUGHT_SUPPRESSED

# The automatic flags as a rater beside the annotators (no annotator can be named so:
# names are whatever people type, but this one is reserved by its brackets).
AUTOMATIC_FLAGS = "[automatic flags]"
# Flags stored under the name of the built-in label that says the same (migration m002).
LABEL_FLAGS = frozenset({ANSWERED, HARD_REFUSAL, EVASIVE, STATE_NARRATIVE, THOUGHT_SUPPRESSED})


@dataclass(frozen=True)
class Agreement:
    label: str
    annotator_a: str
    annotator_b: str
    responses: int  # answers both labelled
    observed: float  # share of those answers where they agree on this label
    kappa: float | None  # None: undefined (see the module docstring)


def cohen_kappa(pairs: Iterable[tuple[bool, bool]]) -> float | None:
    """Kappa for paired yes/no decisions; None when there are none or it is undefined."""
    pairs = list(pairs)
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    yes_a = sum(a for a, _ in pairs) / n
    yes_b = sum(b for _, b in pairs) / n
    chance = yes_a * yes_b + (1 - yes_a) * (1 - yes_b)
    if chance >= 1:
        return None
    return (observed - chance) / (1 - chance)


def label_agreement(labelled: Mapping[str, Mapping[Hashable, set[str]]]) -> list[Agreement]:
    """Per label, per pair of annotators: `labelled[annotator][response]` is the set of
    labels that annotator put on that answer (only answers they labelled)."""
    results = []
    for a, b in combinations(sorted(labelled), 2):
        shared = sorted(set(labelled[a]) & set(labelled[b]), key=repr)
        if not shared:
            continue
        used = sorted(set().union(*(labelled[a][r] | labelled[b][r] for r in shared)))
        for label in used:
            pairs = [(label in labelled[a][r], label in labelled[b][r]) for r in shared]
            observed = sum(x == y for x, y in pairs) / len(pairs)
            results.append(Agreement(label, a, b, len(pairs), observed, cohen_kappa(pairs)))
    return results


def responses_labelled(responses: Iterable[Mapping[str, Any]], *, with_flags: bool = True) -> dict[str, dict[Hashable, set[str]]]:
    """`label_agreement`'s input from exported response records: their `labels` lists, and
    (`with_flags`) their automatic flags as the rater AUTOMATIC_FLAGS."""
    labelled: dict[str, dict[Hashable, set[str]]] = {}
    for response in responses:
        for item in response["labels"]:
            labelled.setdefault(item["annotator"], {}).setdefault(response["uid"], set()).add(item["label"])
        flagged = {f["name"] for f in response.get("flags", ()) if f.get("source") == "auto" and f["name"] in LABEL_FLAGS}
        if with_flags and flagged:
            labelled.setdefault(AUTOMATIC_FLAGS, {})[response["uid"]] = flagged
    return labelled
