"""Assembling and checking the starter models: never a half-written file used as a model."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest

from cli_process import in_process
from workbench.cli import render
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


def test_the_desktop_app_says_how_to_get_models_without_make_or_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing can be pip-installed into the frozen app: its advice is the downloads and folders."""
    monkeypatch.setattr("sys.frozen", True, raising=False)
    with pytest.raises(StarterProblem) as raised:
        starter.locate_part(Part("no-such-package-for-the-workbench", "x/y.bin"))
    message = str(raised.value)
    assert message.startswith("The starter package no-such-package-for-the-workbench is not part of the desktop app. ")
    assert message.endswith(starter.APP_HINT) and "File > Get models…" in message and "`workbench pull NAME`" in message
    no_models = render.models_table([])
    assert "`workbench pull --list`" in no_models
    for text in (message, no_models):
        assert not re.search(r"\bmake\b|\bpip\b|\[starter\]", text), text


@pytest.mark.parametrize("frozen", [False, True])
def test_a_plain_compare_with_half_the_pair_says_which_is_missing(
    frozen: bool, starter_paths: list[Path], scripted_models, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not one model passed off as the pair: a note names the missing one and how to get it."""
    us, cn = starter.STARTER_MODELS
    gone = dataclasses.replace(us, parts=(Part("no-such-package-for-the-workbench", "x/y.gguf"),))
    monkeypatch.setattr(starter, "STARTER_MODELS", (gone, cn))
    if frozen:
        monkeypatch.setattr("sys.frozen", True, raising=False)
    scripted_models(lambda model, prompt: "Hello.")

    assert in_process("compare", "Hi", "--json") == 0

    captured = capsys.readouterr()
    assert [r["model_name"] for r in json.loads(captured.out)["responses"]] == ["Qwen2.5-Coder-0.5B-Instruct"]
    notes = [line for line in captured.err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1, captured.err
    missing = "is not part of the desktop app. " + starter.APP_HINT if frozen else "is not installed. " + starter.SOURCE_HINT
    assert notes[0] == (
        "note: Only Qwen2.5-Coder-0.5B-Instruct of the starter pair is ready; SmolLM2-135M-Instruct is missing. "
        f"The starter package no-such-package-for-the-workbench {missing}"
    )


def test_the_whole_pair_asks_both_without_a_note(starter_paths: list[Path], scripted_models, capsys: pytest.CaptureFixture[str]) -> None:
    scripted_models(lambda model, prompt: "Hello.")

    assert in_process("compare", "Hi", "--json") == 0

    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["responses"]) == 2 and "note:" not in captured.err


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
