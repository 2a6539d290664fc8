"""What is wrong with a prompt set file, said so the user can fix it.

Every problem names the file and, where it can, the line ("prompts/x.toml:12:")
the way compilers do, so editors jump to it. All problems of a file are
reported at once: fixing a hand-written set one error per run is tedious.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import EnvironmentProblem
from ..nesting import NestedTooDeeply
from ..user_files import open_input


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


def too_deep(where: str, problem: NestedTooDeeply) -> PromptSetProblem:
    """For a file whose arrays or tables nest past what Python's parsers follow:
    no prompt set needs more than a few levels."""
    return PromptSetProblem(f"{where}: {problem}; a prompt set needs only a few levels.")


def unreadable(path: Path, what: str, problem: OSError) -> PromptSetProblem:
    """A set file that can't be opened: missing, a FIFO, a device, a folder (user_files.py says which)."""
    return PromptSetProblem(f"Can't read {what} {path}: {problem.strerror or problem}.")


def read_utf8(path: Path, *, what: str, hint: str = "") -> str:
    """The text of a set or table file, or a PromptSetProblem naming the line of
    the first byte that is not UTF-8 (a byte-order mark is accepted)."""
    file = str(path)
    try:
        with open_input(path) as stream:  # a FIFO or a device is refused, not read forever
            data = stream.read()
    except OSError as exc:
        raise unreadable(path, what, exc) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PromptSetProblem(f"{file}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save {what} as UTF-8{hint}.") from exc
