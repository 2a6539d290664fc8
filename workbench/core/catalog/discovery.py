"""Find GGUF files: the user's folders, the workbench's own, and other apps'.

Users already have models from LM Studio, Ollama, the Hugging Face hub or
GPT4All; the workbench finds them where those apps keep them instead of
asking for copies. Walking is defensive: symlink loops are cut, depth is
limited, unreadable folders are skipped. Split models are grouped so a
shard is never listed on its own, and a file found twice (a symlink, two
Ollama tags sharing a blob) is listed once, under the first source.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..nesting import json_loads
from ..paths import models_dir
from ..user_files import open_input

MAX_DEPTH = 8
MAX_MANIFEST_BYTES = 1 << 20

# X-00001-of-00003.gguf, as written by llama.cpp's gguf-split
_SHARD = re.compile(r"^(?P<stem>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)
_OLLAMA_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
_OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_OLLAMA_DEFAULT_REGISTRY = "registry.ollama.ai"


@dataclass(frozen=True)
class FoundModel:
    """A model file (or the shards of one) and where it was found."""

    path: Path  # the first shard, even when that shard is missing
    files: tuple[Path, ...]  # the shards that exist, in order
    source: str
    stem: str  # file name without .gguf and shard suffix
    missing: str | None = None  # "missing shard 2 of 3 (X-00002-of-00003.gguf)"
    # A name given by where the model was found: Ollama's "qwen2.5:0.5b", or the
    # starter pair's curated names. Shown only when the header names nothing
    # (naming.py); always used for the id and as origin evidence.
    given_name: str | None = None
    given_name_label: str = "given name"  # says where `given_name` came from, for origin evidence
    sha256: str | None = None  # known without hashing (Ollama's blob digest)


def split_stem(name: str) -> tuple[str, int, int] | None:
    """("X", 2, 3) for "X-00002-of-00003.gguf"; None if not a shard name."""
    m = _SHARD.match(name)
    if not m:
        return None
    return m["stem"], int(m["no"]), int(m["count"])


def model_stem(path: Path) -> str:
    """The file name without .gguf and without a shard suffix."""
    shard = split_stem(path.name)
    if shard:
        return shard[0]
    return path.name[:-5] if path.name.lower().endswith(".gguf") else path.name


def shard_name(stem: str, number: int, count: int) -> str:
    return f"{stem}-{number:05d}-of-{count:05d}.gguf"


def discover(
    folders: Sequence[Path],
    extra_files: Sequence[tuple[Path, str] | tuple[Path, str, str]],
    home: Path | None,
    include_other_apps: bool,
) -> tuple[list[FoundModel], list[str]]:
    """Every model found, in source order and without duplicates, and folder problems.

    Sources, in order: the user's folders ("folder"), the workbench's models
    folder ("workbench"), explicit files (their own source), then other apps.
    Problems are plain sentences about folders the user named that can't be
    scanned; other apps' folders that don't exist are simply skipped.
    """
    found: list[FoundModel] = []
    problems: list[str] = []
    for folder in folders:
        problem = _folder_problem(Path(folder))
        if problem:
            problems.append(problem)
        else:
            found += group_shards(walk_gguf(Path(folder)), "folder")
    found += group_shards(walk_gguf(models_dir()), "workbench")
    for path, source, *name in extra_files:
        model = found_file(Path(path), source)
        if name:
            model = dataclasses.replace(model, given_name=name[0], given_name_label=f"{source} name")
        found.append(model)
    if include_other_apps:
        found += other_apps(home)
    return _dedupe(found), problems


def other_apps(home: Path | None) -> list[FoundModel]:
    """Models kept by LM Studio, Ollama, the Hugging Face hub and GPT4All."""
    real_home = home is None or _same_dir(home, Path.home())
    home = Path.home() if home is None else Path(home)
    found: list[FoundModel] = []
    for folder in (home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"):
        found += group_shards(walk_gguf(folder), "lmstudio")
    for folder in ollama_folders(home, real_home):
        found += ollama_models(folder)
    for snapshots in sorted(hf_hub_cache(home).glob("models--*/snapshots")):
        found += group_shards(walk_gguf(snapshots), "huggingface")
    for folder in gpt4all_folders(home):
        found += group_shards(walk_gguf(folder), "gpt4all")
    return found


# --- other apps' folders -------------------------------------------------


def ollama_folders(home: Path, real_home: bool) -> list[Path]:
    custom = os.environ.get("OLLAMA_MODELS")
    folders = [Path(custom).expanduser() if custom else home / ".ollama" / "models"]
    if real_home:  # the Linux service's own store
        folders.append(Path("/usr/share/ollama/.ollama/models"))
    return folders


def hf_hub_cache(home: Path) -> Path:
    if value := os.environ.get("HF_HUB_CACHE"):
        return Path(value).expanduser()
    if value := os.environ.get("HF_HOME"):
        return Path(value).expanduser() / "hub"
    return home / ".cache" / "huggingface" / "hub"


def gpt4all_folders(home: Path) -> list[Path]:
    """GPT4All keeps models in Qt's app data folder, which differs per system."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else home / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = Path(xdg).expanduser() if xdg else home / ".local" / "share"
    return [base / "nomic.ai" / "GPT4All"]


def ollama_models(models: Path) -> list[FoundModel]:
    """Models in an Ollama store: manifests name them, blobs hold the GGUF files.

    manifests/<registry>/<namespace>/<model>/<tag> is JSON whose layer of
    type application/vnd.ollama.image.model has digest "sha256:<hex>", stored
    as blobs/sha256-<hex>. The digest is the blob's SHA-256, so it is kept.
    """
    found = []
    for manifest in _children(models / "manifests", depth=4, files=True):
        registry, namespace, model, tag = manifest.relative_to(models / "manifests").parts
        digest = _ollama_model_digest(manifest)
        if digest is None:
            continue
        name = f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
        if registry != _OLLAMA_DEFAULT_REGISTRY:
            name = f"{registry}/{name}"
        blob = models / "blobs" / f"sha256-{digest}"
        missing = None if blob.is_file() else f"missing Ollama blob sha256-{digest[:12]}…"
        found.append(
            FoundModel(
                path=blob,
                files=(blob,) if missing is None else (),
                source="ollama",
                stem=name,
                missing=missing,
                given_name=name,
                given_name_label="Ollama name",
                sha256=digest,
            )
        )
    return found


def _ollama_model_digest(manifest: Path) -> str | None:
    try:
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        with open_input(manifest) as stream:
            data = json_loads(stream.read(MAX_MANIFEST_BYTES + 1))
    except (OSError, ValueError):  # unreadable, not JSON, or nested too deeply: not a model
        return None
    layers = data.get("layers") if isinstance(data, dict) else None
    for layer in layers if isinstance(layers, list) else ():
        if isinstance(layer, dict) and layer.get("mediaType") == _OLLAMA_MODEL_LAYER:
            m = _OLLAMA_DIGEST.fullmatch(str(layer.get("digest", "")))
            return m[1] if m else None
    return None


def _children(folder: Path, depth: int, files: bool) -> Iterator[Path]:
    """Entries exactly `depth` levels below `folder` (files or folders), sorted."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        try:
            if depth == 1:
                if entry.is_file() if files else entry.is_dir():
                    yield Path(entry.path)
            elif entry.is_dir():
                yield from _children(Path(entry.path), depth - 1, files)
        except OSError:
            continue


# --- walking and grouping ------------------------------------------------


def walk_gguf(root: Path, max_depth: int = MAX_DEPTH) -> Iterator[Path]:
    """Every *.gguf file under `root`, following folder symlinks at most once each.

    Hidden folders are skipped, and so is anything unreadable: a scan of other
    people's folders must not fail because of one of them.
    """
    seen: set[tuple[int, int]] = set()
    stack = [(Path(root), 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir():
                    if depth < max_depth and not entry.name.startswith("."):
                        subfolders.append((Path(entry.path), depth + 1))
                elif entry.name.lower().endswith(".gguf") and _exists(entry):
                    # FIFOs, devices and sockets too: the scan lists them with what
                    # they are (the header reader refuses them), as other bad files.
                    yield Path(entry.path)
            except OSError:
                continue
        stack.extend(reversed(subfolders))


def group_shards(paths: Iterable[Path], source: str) -> list[FoundModel]:
    """One FoundModel per single file or per split model, in the order first seen."""
    paths = list(paths)
    present = {str(p) for p in paths}
    groups: dict[tuple[str, str, int], None] = {}
    found = []
    for path in paths:
        shard = split_stem(path.name)
        if shard is None:
            found.append(FoundModel(path, (path,), source, model_stem(path)))
            continue
        stem, _, count = shard
        key = (str(path.parent), stem.lower(), count)
        if key in groups:
            continue
        groups[key] = None
        found.append(_split_model(path.parent, stem, count, source, lambda p: str(p) in present))
    return found


def found_file(path: Path, source: str) -> FoundModel:
    """A file named explicitly; a shard brings its siblings from the same folder."""
    shard = split_stem(path.name)
    if shard is None:
        return FoundModel(path, (path,), source, model_stem(path))
    stem, _, count = shard
    return _split_model(path.parent, stem, count, source, lambda p: p.is_file())


def _split_model(folder: Path, stem: str, count: int, source: str, exists: Callable[[Path], bool]) -> FoundModel:
    files = []
    missing = None
    for number in range(1, count + 1):
        shard = folder / shard_name(stem, number, count)
        if not exists(shard):
            missing = f"missing shard {number} of {count} ({shard.name})"
            break
        files.append(shard)
    return FoundModel(folder / shard_name(stem, 1, count), tuple(files), source, stem, missing)


def _dedupe(found: list[FoundModel]) -> list[FoundModel]:
    seen: set[str] = set()
    unique = []
    for model in found:
        key = _resolved(model.files[0] if model.files else model.path)
        if key in seen:
            continue
        seen.add(key)
        unique.append(model)
    return unique


def _exists(entry: os.DirEntry[str]) -> bool:
    """Whatever the entry is (a link: what it points to), without opening it."""
    try:
        entry.stat()
    except OSError:
        return False
    return True


def _folder_problem(folder: Path) -> str | None:
    try:
        if not folder.exists():
            return f"folder not found: {folder}"
        if not folder.is_dir():
            return f"not a folder: {folder}"
        with os.scandir(folder):
            pass
    except PermissionError:
        return f"can't read folder {folder}: permission denied"
    except OSError as e:
        return f"can't read folder {folder}: {e.strerror or e}"
    return None


def _resolved(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path.absolute())


def _same_dir(a: Path, b: Path) -> bool:
    return _resolved(Path(a)) == _resolved(Path(b))
