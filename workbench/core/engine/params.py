"""Generation settings, shared by a run and overridable per model.

Stored with every response (as JSON), so these names are part of the notebook
format: never rename a field, add new ones with a default.
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass, field
from typing import Any

# Deterministic by default: a teacher's demo shows what was prepared, and a
# researcher's rerun reproduces. Repeat penalty 1.1 because SmolLM2 loops
# without one (NOTES.md).
DEFAULT_TEMPERATURE = 0.0
DEFAULT_CONTEXT = 4096


def all_cores() -> int:
    """llama-cpp-python defaults to half the cores, which halves speed on a
    2-core laptop (26.0 vs 14.6 tokens/s for Qwen-0.5B, NOTES.md)."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class GenerationParams:
    system_prompt: str = ""
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    seed: int = 0
    n_ctx: int = DEFAULT_CONTEXT
    n_threads: int = field(default_factory=all_cores)

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.temperature <= 5.0:
            problems.append("temperature must be between 0 and 5")
        if not 0.0 < self.top_p <= 1.0:
            problems.append("top-p must be above 0 and at most 1")
        if self.top_k < 0:
            problems.append("top-k must be 0 (off) or more")
        if not 0.0 <= self.min_p <= 1.0:
            problems.append("min-p must be between 0 and 1")
        if not 0.5 <= self.repeat_penalty <= 3.0:
            problems.append("repeat penalty must be between 0.5 and 3")
        if self.max_tokens < 1:
            problems.append("max tokens must be at least 1")
        if not 0 <= self.seed < 2**32:
            problems.append("seed must be between 0 and 4294967295")
        if self.n_ctx < 64:
            problems.append("context size must be at least 64")
        if self.n_threads < 1:
            problems.append("threads must be at least 1")
        if problems:
            raise ValueError("; ".join(problems))

    def replace(self, **changes: Any) -> "GenerationParams":
        """A copy with `changes` applied; unknown names raise TypeError."""
        return dataclasses.replace(self, **changes)

    def load_key(self) -> tuple[int, int]:
        """The settings that need the model reloaded when they change."""
        return (self.n_ctx, self.n_threads)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GenerationParams":
        """Tolerates keys from newer versions, so old apps read new notebooks' settings."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def random_seed() -> int:
    """A fresh seed for a run that did not name one; it is recorded, so the run can be repeated."""
    return random.randrange(2**31)
