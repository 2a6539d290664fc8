"""What is wrong with a prompt set file, said so the user can fix it.

Every problem names the file and, where it can, the line ("prompts/x.toml:12:")
the way compilers do, so editors jump to it. All problems of a file are
reported at once: fixing a hand-written set one error per run is tedious.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import EnvironmentProblem


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class PromptSetProblem(EnvironmentProblem):
    """A prompt set can't be read, is invalid, or a selection from it names
    something it doesn't have. `problems` lists each one (may be empty for a
    plain message)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(message)

    @classmethod
    def listing(cls, file: str, problems: Sequence[Problem]) -> PromptSetProblem:
        if len(problems) == 1:
            return cls(str(problems[0]), problems)
        lines = "\n".join(f"  {p}" for p in problems)
        return cls(f"{file} has {len(problems)} problems:\n{lines}", problems)
