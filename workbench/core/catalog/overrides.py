"""The user's own corrections to a model's origin, kept in the config folder.

The curated table can't know every fine-tune, so the user may say "this
file is made by X in country Y". The correction is keyed by the file's
SHA-256 when known (it survives moving or renaming the file), else by its
resolved path, and it always wins over the table.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from pathlib import Path

from ..errors import EnvironmentProblem
from ..nesting import json_loads
from ..paths import config_dir
from .origins import Origin

FILE_NAME = "origin_overrides.json"
_COUNTRY = re.compile(r"[A-Z]{2}")


def override_key(sha256: str | None, path: Path) -> str:
    """The key an override for this file is stored under."""
    return sha256 if sha256 else str(Path(path).resolve())


class OriginOverrides:
    """`{key: {"maker": ..., "country": ...}}` in `config_dir()/origin_overrides.json`."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file if file is not None else config_dir() / FILE_NAME

    def _load(self) -> dict[str, dict[str, str | None]]:
        """The stored overrides; a missing or damaged file reads as none."""
        try:
            data = json_loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            key: {"maker": value["maker"], "country": value.get("country")}
            for key, value in data.items()
            if isinstance(value, dict) and isinstance(value.get("maker"), str)
        }

    def get(self, sha256: str | None, path: Path) -> dict[str, str | None] | None:
        """The override for a file: by hash first, then by path."""
        stored = self._load()
        if sha256 and sha256 in stored:
            return stored[sha256]
        return stored.get(str(Path(path).resolve()))

    def apply(self, origin: Origin, sha256: str | None, path: Path) -> Origin:
        """`origin` with the user's maker and country, if the user set them."""
        override = self.get(sha256, path)
        if override is None:
            return origin
        return dataclasses.replace(
            origin,
            maker=override["maker"],
            country=override["country"],
            family=None,
            evidence=f"set by you in {FILE_NAME}; the table said: {origin.evidence}",
            source="override",
        )

    def set(self, key: str, maker: str, country: str | None) -> None:
        """Store an override; `country` is an ISO 3166 alpha-2 code or None."""
        maker = maker.strip()
        if not maker:
            raise ValueError("maker must not be empty")
        if country is not None:
            country = country.strip().upper()
            if not _COUNTRY.fullmatch(country):
                raise ValueError(f"country must be a two-letter ISO 3166 code like 'CN', not {country!r}")
        stored = self._load_for_update()
        stored[key] = {"maker": maker, "country": country}
        self._write(stored)

    def remove(self, key: str) -> None:
        stored = self._load_for_update()
        if stored.pop(key, None) is not None:
            self._write(stored)

    def _load_for_update(self) -> dict[str, dict[str, str | None]]:
        """Like `_load`, but refuses to overwrite a file it can't read: it is the user's."""
        if self.file.exists():
            try:
                data = json_loads(self.file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise EnvironmentProblem(
                    f"Can't read {self.file} ({e}). Fix or delete it, then set the origin again."
                ) from e
            if not isinstance(data, dict):
                raise EnvironmentProblem(f"{self.file} is not a JSON object. Fix or delete it.")
        return self._load()

    def _write(self, stored: dict[str, dict[str, str | None]]) -> None:
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".origin_overrides.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(stored, f, indent=2, ensure_ascii=False, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.file)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as e:
            raise EnvironmentProblem(f"Can't save origin overrides to {self.file}: {e}") from e
