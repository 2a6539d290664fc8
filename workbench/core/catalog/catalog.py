"""The list of models the workbench can offer, and how a name resolves to one.

A scan turns every file discovery finds into a `ModelEntry` with a plain
status. One bad file never stops a scan: header errors and OS errors become
the entry's status ("truncated at byte …", "can't read: permission denied").
Header facts and hashes come from the cache when the file hasn't changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..endpoints.config import Endpoint, load_endpoints
from ..endpoints.listing import cached_models
from ..endpoints.model_path import REMOTE_PATH_PREFIX
from ..engine.formats import template_format
from ..errors import ModelFileProblem
from ..user_files import check_input, open_input
from .cache import CatalogCache, FileKey
from .discovery import FoundModel, discover, found_file
from .metadata import HeaderFacts, ModelMetadata
from .naming import display_name, may_be_curated
from .origins import Origin, OriginTable, default_table
from .overrides import OriginOverrides

OK = "ok"
VOCAB_ONLY = "no weights (vocabulary-only file)"


class ModelNotFound(ModelFileProblem):
    """No model matches what the user asked for."""


class AmbiguousModel(ModelFileProblem):
    """Several models match what the user asked for."""


@dataclass(frozen=True)
class ModelEntry:
    """One model the workbench knows about, loadable or not (see `status`)."""

    id: str
    name: str
    path: Path
    files: tuple[Path, ...]
    source: str
    status: str
    metadata: ModelMetadata | None
    origin: Origin
    sha256: str | None
    # A model on an OpenAI-compatible endpoint (core/endpoints): id ENDPOINT/MODEL_ID, path
    # the pseudo path endpoint:ENDPOINT/MODEL_ID, no file, no metadata.
    remote: bool = False
    endpoint: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def model_id(self) -> str | None:
        """A remote model's id as its endpoint serves it; None for a file."""
        return self.id.split("/", 1)[1] if self.remote else None

    def to_json(self) -> dict[str, Any]:
        m = self.metadata
        return {
            "id": self.id,
            "name": self.name,
            "path": str(self.path),
            "origin_country": self.origin.country,
            "organization": self.origin.maker or (m.organization if m else None),
            "architecture": m.architecture if m else None,
            "parameters": m.parameters if m else None,
            "quantization": m.quantization if m else None,
            "context_length": m.context_length if m else None,
            "chat_template": bool(m and m.chat_template),
            "chat_template_sha256": m.chat_template_sha256 if m else None,
            "reasoning_format": template_format(m.chat_template) if m else None,
            "sha256": self.sha256,
            "status": self.status,
            "source": self.source,
            "files": [str(f) for f in self.files],
            "maker": self.origin.maker,
            "base_maker": self.origin.base_maker,
            "base_country": self.origin.base_country,
            "origin_source": self.origin.source,
            "origin_evidence": self.origin.evidence,
            "license": m.license if m else None,
            "file_size": m.file_size if m else None,
            "size_label": m.size_label if m else None,
            "remote": self.remote,
            "endpoint": self.endpoint,
        }


class Catalog:
    """Scans for models and answers "which model do you mean?".

    `folders` are the user's model folders; `extra_files` are (path, source)
    or (path, source, name) entries named explicitly (the starter models come
    in as source "starter", with their curated names; which name an entry is
    shown under is decided by naming.display_name, the same however found);
    `home` is where other apps' folders are looked for (tests point it at a
    temporary folder). `endpoints`: the OpenAI-compatible endpoints whose last listing
    (endpoints/listing.py, the cache, never the network) joins the scan; None: the saved ones.
    """

    def __init__(
        self,
        folders: Sequence[Path] = (),
        extra_files: Sequence[tuple[Path, str] | tuple[Path, str, str]] = (),
        home: Path | None = None,
        include_other_apps: bool = True,
        *,
        cache: CatalogCache | None = None,
        overrides: OriginOverrides | None = None,
        table: OriginTable | None = None,
        endpoints: Sequence[Endpoint] | None = None,
    ) -> None:
        self.folders = [Path(f) for f in folders]
        self.extra_files = [_with_path(extra) for extra in extra_files]
        self.home = home
        self.include_other_apps = include_other_apps
        self.cache = cache if cache is not None else CatalogCache()
        self.overrides = overrides if overrides is not None else OriginOverrides()
        self.table = table if table is not None else default_table()
        self.endpoints = endpoints
        self.problems: tuple[str, ...] = ()
        self._entries: list[ModelEntry] | None = None

    # --- scanning --------------------------------------------------------

    def scan(self) -> list[ModelEntry]:
        """Every model found: loadable ones first, then by origin country and name."""
        found, problems = discover(self.folders, self.extra_files, self.home, self.include_other_apps)
        self.problems = tuple(problems)
        entries: list[ModelEntry] = []
        taken: set[str] = set()
        for model in found:
            entry = self._entry(model, taken)
            taken.add(entry.id)
            entries.append(entry)
        entries += self._remote_entries(taken)
        entries.sort(key=_display_order)
        self._entries = entries
        return list(entries)

    def _entry(self, model: FoundModel, taken: set[str]) -> ModelEntry:
        metadata = None
        status = model.missing or OK
        if not model.missing:
            metadata, status = self._read(model.files)
        sha256 = model.sha256 or self._cached_sha256(model) or self._hash_if_curated(model)
        if model.sha256 and model.files:
            self._remember(model.files[0], model.sha256)
        return ModelEntry(
            id=_unique_id(_slug(model.given_name or model.stem), model.path, taken),
            name=display_name(sha256=sha256, metadata=metadata, given_name=model.given_name, stem=model.stem),
            path=model.path,
            files=model.files,
            source=model.source,
            status=status,
            metadata=metadata,
            origin=self._origin(metadata, model, sha256),
            sha256=sha256,
        )

    def _remote_entries(self, taken: set[str]) -> list[ModelEntry]:
        endpoints = self.endpoints if self.endpoints is not None else load_endpoints()
        entries = []
        for endpoint in endpoints:
            for model_id in cached_models(endpoint):
                entry = remote_entry(endpoint, model_id, self.table, self.overrides)
                if entry is not None and entry.id not in taken:
                    taken.add(entry.id)
                    entries.append(entry)
        return entries

    def _read(self, files: Sequence[Path]) -> tuple[ModelMetadata | None, str]:
        shards = []
        for number, path in enumerate(files, start=1):
            facts, problem = self._facts(path)
            if problem:
                where = f"shard {number} of {len(files)}: " if len(files) > 1 else ""
                return None, where + problem
            assert facts is not None  # _facts gives the facts or a problem
            shards.append(facts)
        metadata = ModelMetadata.from_facts(shards)
        return metadata, OK if metadata.tensor_count else VOCAB_ONLY

    def _facts(self, path: Path) -> tuple[HeaderFacts | None, str | None]:
        """The header facts of one file from the cache or the file, or why there are none."""
        try:
            key = FileKey.of(path)
        except OSError as e:
            return None, _os_problem(e)
        cached = self.cache.get(key)
        if cached and (cached.facts or cached.problem):
            return cached.facts, cached.problem
        # Only now: the reader needs the gguf package (numpy, its writer and vocabularies,
        # a tenth of a second), which a scan served from the cache never does.
        from .gguf_header import GGUFHeaderError, read_header

        try:
            facts, problem = HeaderFacts.from_header(read_header(path)), None
        except GGUFHeaderError as e:
            facts, problem = None, str(e)
        except OSError as e:
            return None, _os_problem(e)  # may be passing: not cached
        self.cache.put_header(key, facts, problem)
        return facts, problem

    def _cached_sha256(self, model: FoundModel) -> str | None:
        if not model.files:
            return None
        try:
            cached = self.cache.get(FileKey.of(model.files[0]))
        except OSError:
            return None
        return cached.sha256 if cached else None

    def _hash_if_curated(self, model: FoundModel) -> str | None:
        """The hash of a one-file model whose size is that of a file with a curated name
        (naming.py), so the same bytes get that name however they were found; None for
        any other file, or one that can't be read (the entry's status says why)."""
        if len(model.files) != 1:
            return None
        try:
            if not may_be_curated(FileKey.of(model.files[0]).size):
                return None
            return self._hash(model.files[0])
        except OSError:
            return None

    def _hash(self, path: Path) -> str:
        """SHA-256 of the file, from the cache or computed and cached; OSError if unreadable."""
        key = FileKey.of(path)
        cached = self.cache.get(key)
        if cached and cached.sha256:
            return cached.sha256
        with open_input(path) as f:  # /dev/zero or a FIFO would never end
            sha256 = hashlib.file_digest(f, "sha256").hexdigest()
        self.cache.remember_sha256(key, sha256)
        return sha256

    def _remember(self, path: Path, sha256: str) -> None:
        with contextlib.suppress(OSError):  # the blob vanished: the scan already says so
            self.cache.remember_sha256(path, sha256)

    def _origin(self, metadata: ModelMetadata | None, model: FoundModel, sha256: str | None) -> Origin:
        if model.given_name:
            origin = self.table.classify(metadata, model.given_name, file_label=model.given_name_label)
        else:
            origin = self.table.classify(metadata, model.stem)
        return self.overrides.apply(origin, sha256, model.path)

    # --- lookup ----------------------------------------------------------

    def entries(self) -> list[ModelEntry]:
        """The last scan's entries (scanning first if there was none)."""
        return list(self._entries) if self._entries is not None else self.scan()

    def resolve(self, id_or_path: str | Path) -> ModelEntry:
        """The model meant by an id, a path to a file, or a unique part of an id or name."""
        entries = self.entries()
        text = str(id_or_path).strip()
        for entry in entries:
            if entry.id == text:
                return entry
        lowered = text.lower()
        # An id is the slug of the name the place gave (an Ollama model:tag) or of the file
        # name, so "qwen2.5:0.5b" still finds a model shown under its header's name.
        same = [e for e in entries if e.id.lower() in (lowered, _slug(text)) or e.name.lower() == lowered]
        if len(same) == 1:
            return same[0]
        path = Path(text).expanduser()
        if os.path.lexists(path):
            return self._entry_for_path(path, entries)
        if isinstance(id_or_path, Path) or "/" in text or "\\" in text or lowered.endswith(".gguf"):
            raise ModelNotFound(f"No such file: {text}")
        matches = [e for e in entries if lowered in e.id.lower() or lowered in e.name.lower()]
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(e.id for e in matches[:10])
            raise AmbiguousModel(f"'{text}' matches {len(matches)} models: {listed}. Use a full id.")
        close = difflib.get_close_matches(lowered, [e.id for e in entries], n=5, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ModelNotFound(f"No model matches '{text}'.{hint}")

    def _entry_for_path(self, path: Path, entries: list[ModelEntry]) -> ModelEntry:
        """The entry of a file named by path; ModelFileProblem (one line, as for a missing
        file) for a folder, a FIFO, a device, a socket or a dangling link: nothing to load,
        and hashing or reading one would fail late or never end."""
        try:
            check_input(path)
        except IsADirectoryError:
            raise ModelFileProblem(f"{path} is a folder, not a model file. To use the models in it, add the folder (--folder).") from None
        except OSError as e:
            raise ModelFileProblem(f"Can't use {path} as a model: {e.strerror or e}. Give the path of a GGUF file, or a model id (`workbench models`).") from e
        resolved = path.resolve()
        for entry in entries:
            if any(f.resolve() == resolved for f in entry.files):
                return entry
        return self._entry(found_file(path, "file"), {e.id for e in entries})

    # --- hashing ---------------------------------------------------------

    def ensure_sha256(self, entry: ModelEntry) -> ModelEntry:
        """`entry` with its SHA-256 (of the first shard), computed at most once per file."""
        if entry.sha256:
            return entry
        if not entry.files:
            raise ModelFileProblem(f"Can't hash {entry.name}: {entry.status}")
        path = entry.files[0]
        try:
            sha256 = self._hash(path)
        except OSError as e:
            raise ModelFileProblem(f"Can't read {path}: {e.strerror or e}") from e
        # The table's verdict does not depend on the hash; an override may.
        origin = entry.origin if entry.origin.source == "override" else self.overrides.apply(entry.origin, sha256, entry.path)
        updated = dataclasses.replace(entry, sha256=sha256, origin=origin)
        if self._entries is not None:
            self._entries = [updated if e.id == entry.id else e for e in self._entries]
        return updated


REMOTE_SOURCE = "endpoint"


def remote_path(endpoint_name: str, model_id: str) -> Path:
    return Path(f"{REMOTE_PATH_PREFIX}{endpoint_name}/{model_id}")


def remote_entry(endpoint: Endpoint, model_id: str, table: OriginTable, overrides: OriginOverrides) -> ModelEntry | None:
    """The catalog entry of a model an endpoint serves; None for an id a pseudo path can't
    hold unchanged ("a//b", "./x"): it could not be found again by its id."""
    path = remote_path(endpoint.name, model_id)
    if str(path) != f"{REMOTE_PATH_PREFIX}{endpoint.name}/{model_id}":
        return None
    sha256 = hashlib.sha256(f"remote\0{endpoint.url}\0{model_id}".encode()).hexdigest()
    # "meta-llama/Llama-3.1-70B-Instruct", "openai/gpt-4o": the family's name starts the last part.
    origin = table.classify(None, model_id.rsplit("/", 1)[-1], file_label="model id")
    if origin.source == "unknown" and "/" in model_id:
        origin = table.classify(None, model_id, file_label="model id")
    return ModelEntry(
        id=f"{endpoint.name}/{model_id}",
        name=model_id,
        path=path,
        files=(),
        source=REMOTE_SOURCE,
        status=OK,
        metadata=None,
        origin=overrides.apply(origin, sha256, path),
        sha256=sha256,
        remote=True,
        endpoint=endpoint.name,
    )


def _with_path(extra: tuple[Path, str] | tuple[Path, str, str]) -> tuple[Path, str] | tuple[Path, str, str]:
    """An extra file's entry with its path a Path (callers may give a str)."""
    if len(extra) == 2:
        return (Path(extra[0]), extra[1])
    return (Path(extra[0]), extra[1], extra[2])


def _display_order(entry: ModelEntry) -> tuple[Any, ...]:
    return (
        not entry.ok,
        entry.origin.country is None,
        entry.origin.country or "",
        entry.name.lower(),
        entry.id,
    )


_SLUG_JUNK = re.compile(r"[^a-z0-9._-]+")


def _slug(text: str) -> str:
    slug = _SLUG_JUNK.sub("-", text.lower()).strip("-.")
    return re.sub(r"-{2,}", "-", slug) or "model"


def _unique_id(slug: str, path: Path, taken: set[str]) -> str:
    if slug not in taken:
        return slug
    try:
        resolved = str(path.resolve())
    except OSError:
        resolved = str(path)
    return f"{slug}-{hashlib.sha256(resolved.encode()).hexdigest()[:6]}"


def _os_problem(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, PermissionError):
        return "can't read: permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a folder, not a GGUF file"
    return f"can't read: {error.strerror or error}"
