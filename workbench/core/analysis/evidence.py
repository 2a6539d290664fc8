"""What a flag rests on: the rule that fired and the words it matched.

Every automatic flag carries its evidence so that a person can see, next to
the answer, why the workbench suggested it, and disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """One reason for one flag.

    `start`/`end` are offsets into the analysed answer (the response without any
    `<think>` block) when the evidence is a phrase in it, else None (for example
    an empty reasoning block, or a language judged over the whole answer).
    """

    flag: str
    rule: str
    text: str
    start: int | None = None
    end: int | None = None

    def to_json(self) -> dict[str, object]:
        return {"flag": self.flag, "rule": self.rule, "text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Rule:
    """A named pattern. The name is what evidence shows; keep it readable."""

    name: str
    pattern: re.Pattern[str]

    def find(self, flag: str, text: str, offset: int = 0) -> list[Evidence]:
        return [
            Evidence(flag, self.name, m.group(0), offset + m.start(), offset + m.end())
            for m in self.pattern.finditer(text)
        ]


def rule(name: str, pattern: str) -> Rule:
    """A case-insensitive Rule."""
    return Rule(name, re.compile(pattern, re.IGNORECASE))
