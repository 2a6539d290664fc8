"""Does an endpoint's model use the seed it is sent? Asked, not assumed (probe.py asks).

The OpenAI API has no field that says whether a server used `seed` (OpenAI calls it
best effort; some servers drop it), so an answer's provenance can't say so from the
answer alone. `workbench endpoint test` and the Endpoints dialog's Test ask the model
one short question three times at temperature 1: twice with one seed, once with
another. Two different answers with one seed: the seed is ignored (or the server is
not deterministic, which for a record of evidence is the same). The same answer twice
and a different one with the other seed: honoured. The same answer all three times
shows nothing (the model or server is deterministic whatever the seed). The finding is
kept in the listing cache with its date and goes into the provenance of every later
answer of that model (`seed_ignored` false only when the check found it honoured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HONOURED, IGNORED, INCONCLUSIVE = "honoured", "ignored", "inconclusive"
OUTCOMES = (HONOURED, IGNORED, INCONCLUSIVE)

_LINES = {
    HONOURED: "the seed is used (one seed gave the same answer twice, another seed a different one)",
    IGNORED: "the seed is ignored (one seed gave two different answers), so its answers can't be repeated exactly",
    INCONCLUSIVE: "the seed check shows nothing (every seed gave the same answer)",
}


@dataclass(frozen=True)
class SeedCheck:
    """What the check found for one model, and when (an ISO date)."""

    outcome: str
    checked: str

    @property
    def honoured(self) -> bool:
        return self.outcome == HONOURED

    def line(self) -> str:
        return _LINES[self.outcome]

    def to_json(self) -> dict[str, str]:
        return {"outcome": self.outcome, "checked": self.checked}

    @classmethod
    def from_json(cls, data: object) -> SeedCheck | None:
        """A saved finding, or None for anything a hand edit or another version left."""
        if not isinstance(data, dict):
            return None
        outcome, checked = data.get("outcome"), data.get("checked")
        return cls(outcome, checked) if outcome in OUTCOMES and isinstance(checked, str) else None

    @classmethod
    def from_answers(cls, first: str, again: str, other: str, checked: str) -> SeedCheck:
        """The finding from one seed's two answers (`first`, `again`) and another seed's."""
        if first != again:
            return cls(IGNORED, checked)
        return cls(HONOURED if first != other else INCONCLUSIVE, checked)


def provenance_of(check: SeedCheck | None) -> dict[str, Any]:
    """The keys an answer's provenance gets from its model's last check."""
    if check is None:
        return {"seed_ignored": True}
    return {"seed_ignored": not check.honoured, "seed_check": check.to_json()}
