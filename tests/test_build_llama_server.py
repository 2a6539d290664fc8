"""tools/build_llama_server.py: a cached build is reused, never rebuilt; the key follows what changes the binaries."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import build_llama_server  # noqa: E402


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def test_cached_binaries_are_used_without_building(cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    folder = build_llama_server.server_folder("0.3.36")
    assert folder.is_relative_to(cache / "model-values-workbench")
    (folder / "bin").mkdir(parents=True)
    for name in build_llama_server.TARGETS:
        (folder / "bin" / name).write_bytes(b"")
    monkeypatch.setattr(build_llama_server, "build", lambda *args: pytest.fail("rebuilt a cached llama-server"))
    monkeypatch.setattr(sys, "argv", ["build_llama_server.py", "--version", "0.3.36"])
    build_llama_server.main()
    assert capsys.readouterr().out.splitlines()[-1] == str(folder / "bin")


def test_half_a_build_is_not_taken_for_a_cached_one(cache: Path) -> None:
    folder = build_llama_server.server_folder("0.3.36")
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "llama-server").write_bytes(b"")
    assert not build_llama_server.cached_binaries(folder)


def test_the_cache_key_follows_version_and_flags(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_llama_server.server_folder("0.3.36")
    assert build_llama_server.server_folder("0.3.37") != first
    monkeypatch.setattr(build_llama_server, "CMAKE_OPTIONS", (*build_llama_server.CMAKE_OPTIONS, "-DGGML_AVX512=OFF"))
    assert build_llama_server.server_folder("0.3.36") != first


def test_the_flags_keep_amx_off_and_fetch_nothing() -> None:
    flags = " ".join(build_llama_server.CMAKE_OPTIONS)
    assert "-mno-amx-tile" in flags and "-mno-amx-int8" in flags
    assert "-DLLAMA_CURL=OFF" in flags and "-DLLAMA_OPENSSL=OFF" in flags and "-DLLAMA_USE_PREBUILT_UI=OFF" in flags


def test_a_folder_that_is_no_sdist_is_refused_in_one_line(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["build_llama_server.py", "--source", str(tmp_path / "nothing")])
    with pytest.raises(SystemExit, match="is not an unpacked llama-cpp-python sdist"):
        build_llama_server.main()
