"""Assembling and checking the starter models: never a half-written file used as a model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from workbench.core import starter
from workbench.core.starter import Part, StarterModel, StarterProblem


@pytest.fixture
def chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Three chunk files standing in for installed packages."""
    files = []
    for n in range(3):
        path = tmp_path / "site-packages" / f"part{n}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes([n]) * 1000 + b"GGUF-ish")
        files.append(path)
    by_name = {f"pkg-part{n}": path for n, path in enumerate(files)}

    def locate(part: Part) -> Path:
        path = by_name.get(part.distribution)
        if path is None or not path.exists():
            raise StarterProblem(f"The starter package {part.distribution} is not installed.")
        return path

    monkeypatch.setattr(starter, "locate_part", locate)
    return files


def model_for(chunks: list[Path], sha256: str | None = None) -> StarterModel:
    whole = b"".join(p.read_bytes() for p in chunks)
    return StarterModel(
        key="test",
        name="Test Model",
        filename="test.gguf",
        parts=tuple(Part(f"pkg-part{n}", f"x/part{n}.bin") for n in range(len(chunks))),
        size=len(whole),
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
    )


def test_chunks_are_joined_once_and_checked(chunks: list[Path]) -> None:
    model = model_for(chunks)
    path = starter.prepare(model)
    assert path == starter.starter_dir() / "test.gguf"
    assert path.read_bytes() == b"".join(p.read_bytes() for p in chunks)
    mtime = path.stat().st_mtime_ns
    assert starter.prepare(model) == path and path.stat().st_mtime_ns == mtime  # not joined again


def test_a_damaged_chunk_never_becomes_a_model(chunks: list[Path]) -> None:
    model = model_for(chunks)
    chunks[1].write_bytes(b"corrupted" * 100)
    with pytest.raises(StarterProblem, match="damaged.*pip install --force-reinstall pkg-part0 pkg-part1 pkg-part2"):
        starter.prepare(model)
    assert list(starter.starter_dir().iterdir()) == []  # no partial file left behind


def test_a_missing_chunk_names_the_package(chunks: list[Path]) -> None:
    model = model_for(chunks)
    chunks[2].unlink()
    with pytest.raises(StarterProblem, match="pkg-part2 is not installed"):
        starter.prepare(model)


def test_a_file_damaged_after_assembly_is_rebuilt(chunks: list[Path]) -> None:
    model = model_for(chunks)
    path = starter.prepare(model)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert starter.prepare(model).read_bytes() == b"".join(p.read_bytes() for p in chunks)


def test_a_known_hash_skips_rehashing(chunks: list[Path]) -> None:
    model = model_for(chunks)
    path = starter.prepare(model)
    seen = []
    assert starter.prepare(model, lambda p: seen.append(p) or model.sha256) == path
    assert seen == [path]


def test_a_missing_starter_package_is_a_clear_problem() -> None:
    with pytest.raises(StarterProblem, match="not installed.*make run"):
        starter.locate_part(Part("no-such-package-for-the-workbench", "x/y.bin"))


def test_the_installed_pair_is_listed_with_curated_names_and_origins(starter_paths: list[Path], tmp_path: Path) -> None:
    from workbench.core.workspace import Workspace

    workspace = Workspace(tmp_path / "nb.sqlite", include_other_apps=False, with_starter=True)
    try:
        workspace.prepare_starter()
        entries = workspace.starter_entries()
        assert [(e.name, e.origin.country, e.origin.maker, e.sha256) for e in entries] == [
            ("SmolLM2-135M-Instruct", "US", "Hugging Face", starter.STARTER_MODELS[0].sha256),
            ("Qwen2.5-Coder-0.5B-Instruct", "CN", "Alibaba (Qwen team)", starter.STARTER_MODELS[1].sha256),
        ]
        assert [e.id for e in entries] == ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]
    finally:
        workspace.close()
