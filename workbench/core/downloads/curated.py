"""The curated models in resources/models.toml: US and Chinese chat models in pairs of
about the same size, with what each pair shows in a class.

Teachers need comparable models bigger than the starter pair and no time to work out
which of a repository's dozen files to take; this list is that choice, made once. Its
sizes are only for choosing: a download checks the hub's own size and SHA-256.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EnvironmentProblem
from ..nesting import toml_loads
from ..paths import resources_dir

CURATED_FILE = "models.toml"
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
_COUNTRY = re.compile(r"[A-Z]{2}")


class CuratedListError(ValueError):
    """models.toml is malformed (a bug in the shipped file); `str()` names the entry."""


class UnknownModelName(EnvironmentProblem):
    """`workbench pull NAME` with a NAME the list doesn't have."""


@dataclass(frozen=True)
class Pair:
    id: str
    title: str
    demo: str


@dataclass(frozen=True)
class CuratedModel:
    name: str
    pairs: tuple[str, ...]
    repo: str
    file: str
    quant: str
    size_bytes: int
    approximate: bool
    memory_gb: float
    licence: str
    maker: str
    country: str
    base: str | None
    note: str

    def to_json(self) -> dict[str, Any]:
        """The row `workbench pull --list --json` prints (keys only ever added)."""
        return {
            "name": self.name,
            "pairs": list(self.pairs),
            "repo": self.repo,
            "file": self.file,
            "quant": self.quant,
            "size_bytes": self.size_bytes,
            "size_approximate": self.approximate,
            "memory_gb": self.memory_gb,
            "licence": self.licence,
            "maker": self.maker,
            "country": self.country,
            "base": self.base,
            "note": self.note,
        }


@dataclass(frozen=True)
class CuratedList:
    pairs: tuple[Pair, ...]
    models: tuple[CuratedModel, ...]

    def find(self, name: str) -> CuratedModel:
        """The model called `name` (any case); UnknownModelName says what to type instead."""
        wanted = name.strip().lower()
        for model in self.models:
            if model.name == wanted:
                return model
        raise UnknownModelName(
            f"no curated model called {name!r}: `workbench pull --list` shows the names, or give a repository and a file "
            "(`workbench pull OWNER/REPO FILE.gguf`)"
        )

    def in_pair(self, pair_id: str) -> list[CuratedModel]:
        return [m for m in self.models if pair_id in m.pairs]


@functools.cache
def curated_models() -> CuratedList:
    """The shipped list, read once."""
    return load_curated(resources_dir() / CURATED_FILE)


def load_curated(path: Path) -> CuratedList:
    """Read and check a models.toml; CuratedListError names what is wrong."""
    try:
        data = toml_loads(Path(path).read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise CuratedListError(f"{path}: {exc}") from exc
    pairs = tuple(_pair(i, entry) for i, entry in enumerate(data.get("pair", [])))
    known = {p.id for p in pairs}
    models = tuple(_model(i, entry, known) for i, entry in enumerate(data.get("model", [])))
    names = [m.name for m in models]
    if duplicate := next((n for n in names if names.count(n) > 1), None):
        raise CuratedListError(f"{path}: the name {duplicate!r} is used twice")
    return CuratedList(pairs, models)


def _text(where: str, entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CuratedListError(f"{where}: {key} must be a non-empty string")
    return value


def _pair(index: int, entry: Any) -> Pair:
    where = f"pair {index + 1}"
    if not isinstance(entry, dict):
        raise CuratedListError(f"{where}: not a table")
    return Pair(_text(where, entry, "id"), _text(where, entry, "title"), _text(where, entry, "demo"))


def _model(index: int, entry: Any, pairs: set[str]) -> CuratedModel:
    where = f"model {index + 1}"
    if not isinstance(entry, dict):
        raise CuratedListError(f"{where}: not a table")
    name = _text(where, entry, "name")
    where = f"model {name!r}"
    if not _NAME.fullmatch(name):
        raise CuratedListError(f"{where}: names are lower-case letters, digits, . and -")
    member_of = entry.get("pairs")
    if not isinstance(member_of, list) or not member_of or any(p not in pairs for p in member_of):
        raise CuratedListError(f"{where}: pairs must list ids of [[pair]] entries")
    repo, file = _text(where, entry, "repo"), _text(where, entry, "file")
    if repo.count("/") != 1 or not file.lower().endswith(".gguf"):
        raise CuratedListError(f"{where}: repo is OWNER/NAME and file a .gguf file")
    size, memory = entry.get("size_bytes"), entry.get("memory_gb")
    if not isinstance(size, int) or size <= 0 or not isinstance(memory, int | float) or memory <= 0:
        raise CuratedListError(f"{where}: size_bytes and memory_gb must be positive numbers")
    country = _text(where, entry, "country")
    if not _COUNTRY.fullmatch(country):
        raise CuratedListError(f"{where}: country is a two-letter ISO code, such as US or CN")
    base = entry.get("base")
    if base is not None and not isinstance(base, str):
        raise CuratedListError(f"{where}: base must be a string")
    return CuratedModel(
        name=name,
        pairs=tuple(member_of),
        repo=repo,
        file=file,
        quant=_text(where, entry, "quant"),
        size_bytes=size,
        approximate=bool(entry.get("approximate", False)),
        memory_gb=float(memory),
        licence=_text(where, entry, "licence"),
        maker=_text(where, entry, "maker"),
        country=country,
        base=base,
        note=_text(where, entry, "note"),
    )
