"""Which organization made a model, and in which country, from a curated table.

The whole point of the workbench is comparing models by origin, so an origin
is only ever stated with evidence: an organization alias, a name pattern or a
distinctive architecture listed in `resources/origins.toml`. When nothing
matches, the maker stays unknown; it is never guessed. docs/origins.md
explains the rules and how to add a family.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..nesting import toml_loads
from ..paths import resources_dir
from .metadata import ModelMetadata

DEFAULT_TABLE = resources_dir() / "origins.toml"

# "DeepSeek-R1-Distill-Llama-8B", "DeepSeek R1 Distill Qwen 1.5B": the family
# after "distill" is the base the model was distilled into.
_DISTILL = re.compile(r"distill(?:ed)?[-_ .]*(?P<rest>.+)", re.IGNORECASE)
_COUNTRY = re.compile(r"[A-Z]{2}")

OriginSource = Literal["table", "override", "unknown"]


@dataclass(frozen=True)
class Origin:
    """Who made a model and what it was built on, with the evidence for it."""

    maker: str | None
    country: str | None
    family: str | None
    base_maker: str | None
    base_country: str | None
    base_family: str | None
    evidence: str
    source: OriginSource


@dataclass(frozen=True)
class Family:
    """One entry of origins.toml."""

    family: str
    maker: str
    country: str
    names: tuple[re.Pattern[str], ...]
    organizations: frozenset[str]  # lower-cased
    architectures: tuple[str, ...]  # lower-cased shell patterns
    shares_architectures: tuple[str, ...]
    source: str

    def name_match(self, text: str) -> re.Pattern[str] | None:
        """The pattern `text` starts with, if any."""
        return next((p for p in self.names if p.match(text)), None)

    def owns_architecture(self, arch: str) -> bool:
        return any(fnmatch.fnmatchcase(arch, pattern) for pattern in self.architectures)

    def borrows_architecture(self, arch: str) -> bool:
        return any(fnmatch.fnmatchcase(arch, pattern) for pattern in self.shares_architectures)


class OriginTableError(ValueError):
    """origins.toml is malformed; `str()` names the entry and the problem."""


@dataclass(frozen=True)
class _Match:
    family: Family
    evidence: str


class OriginTable:
    """The families of origins.toml, in order, and the rules that apply them."""

    def __init__(self, families: Sequence[Family]) -> None:
        self.families = tuple(families)

    @classmethod
    def load(cls, path: Path = DEFAULT_TABLE) -> OriginTable:
        try:
            data = toml_loads(Path(path).read_bytes().decode("utf-8"))
        except ValueError as exc:  # not UTF-8, not TOML, or nested too deeply
            raise OriginTableError(f"{path}: {exc}") from exc
        return cls([_parse_family(i, entry) for i, entry in enumerate(data.get("family", []))])

    def classify(
        self, metadata: ModelMetadata | None, file_name: str, *, file_label: str = "file name"
    ) -> Origin:
        """Maker and base of a model from its header and the name it is known by.

        `file_name` is the file's name without extension (or, for Ollama, the
        model:tag name, with `file_label` saying so).
        """
        names = _labelled_names(metadata, file_name, file_label)
        maker = self._maker(metadata, names)
        base = self._base(metadata, names, maker.family if maker else None)

        evidence = [maker.evidence if maker else _nothing_matched(metadata, file_name, file_label)]
        if base:
            evidence.append(f"base: {base.evidence}")
        return Origin(
            maker=maker.family.maker if maker else None,
            country=maker.family.country if maker else None,
            family=maker.family.family if maker else None,
            base_maker=base.family.maker if base else None,
            base_country=base.family.country if base else None,
            base_family=base.family.family if base else None,
            evidence="; ".join(evidence),
            source="table" if maker else "unknown",
        )

    # --- rules -----------------------------------------------------------

    def _by_organization(self, organization: str) -> Family | None:
        key = organization.strip().lower()
        return next((f for f in self.families if key in f.organizations), None)

    def _by_name(self, text: str) -> tuple[Family, re.Pattern[str]] | None:
        for family in self.families:
            if pattern := family.name_match(text):
                return family, pattern
        return None

    def _maker(self, metadata: ModelMetadata | None, names: list[tuple[str, str]]) -> _Match | None:
        organization = metadata.organization if metadata else None
        if organization and (family := self._by_organization(organization)):
            return _Match(family, f"organization {_quote(organization)} is listed in origins.toml")
        for label, text in names:
            if found := self._by_name(text):
                family, pattern = found
                return _Match(family, f"{label} matches '{pattern.pattern}' in origins.toml")
        return None

    def _base(
        self, metadata: ModelMetadata | None, names: list[tuple[str, str]], maker: Family | None
    ) -> _Match | None:
        for i, base in enumerate(metadata.base_models if metadata else ()):
            if (org := base.get("organization")) and (family := self._by_organization(org)):
                return _Match(family, f"base model {i} organization {_quote(org)}")
            if (name := base.get("name")) and (found := self._by_name(name)):
                return _Match(found[0], f"base model {i} name {_quote(name)}")
        for label, text in names:
            distill = _DISTILL.search(text)
            if distill and (found := self._by_name(distill.group("rest"))):
                return _Match(found[0], f"{label} says distilled into {found[0].family}")
        arch = (metadata.architecture or "").lower() if metadata else ""
        if arch and not (maker and maker.borrows_architecture(arch)):
            owner = next((f for f in self.families if f.owns_architecture(arch)), None)
            if owner and owner is not maker:
                return _Match(owner, f"architecture {arch} is {owner.family}'s")
        return None


@functools.cache
def default_table() -> OriginTable:
    """The table shipped with the workbench, loaded once."""
    return OriginTable.load()


def _labelled_names(metadata: ModelMetadata | None, file_name: str, file_label: str) -> list[tuple[str, str]]:
    names = []
    if metadata and metadata.name:
        names.append(("name", metadata.name))
    if metadata and metadata.basename:
        names.append(("basename", metadata.basename))
    if file_name:
        names.append((file_label, file_name))
    return names


def _nothing_matched(metadata: ModelMetadata | None, file_name: str, file_label: str) -> str:
    seen = [f"{file_label} {_quote(file_name)}"]
    if metadata:
        seen += [
            f"{label} {_quote(value)}"
            for label, value in (
                ("name", metadata.name),
                ("organization", metadata.organization),
                ("architecture", metadata.architecture),
            )
            if value
        ]
    return "nothing in origins.toml matches " + ", ".join(seen)


def _quote(text: str, limit: int = 80) -> str:
    """Header text, quoted for evidence: one line, and short (it is untrusted and may be huge)."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def _parse_family(index: int, entry: dict[str, Any]) -> Family:
    where = f"origins.toml family {index + 1} ({entry.get('family', '?')})"
    try:
        country = entry["country"]
        if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
            raise OriginTableError(f"{where}: country must be an ISO 3166 alpha-2 code like 'CN'")
        return Family(
            family=str(entry["family"]),
            maker=str(entry["maker"]),
            country=country,
            names=tuple(re.compile(p, re.IGNORECASE) for p in entry.get("names", [])),
            organizations=frozenset(o.strip().lower() for o in entry.get("organizations", [])),
            architectures=tuple(a.lower() for a in entry.get("architectures", [])),
            shares_architectures=tuple(a.lower() for a in entry.get("shares_architectures", [])),
            source=str(entry["source"]),
        )
    except KeyError as missing:
        raise OriginTableError(f"{where}: missing {missing}") from None
    except re.error as bad:
        raise OriginTableError(f"{where}: bad name pattern {bad.pattern!r}: {bad}") from None
