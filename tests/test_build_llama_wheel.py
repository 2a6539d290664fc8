"""tools/build_llama_wheel.py: which backend a machine builds, from a faked machine; never builds.

This machine (the CI's) has nvcc but no NVIDIA driver and no Vulkan SDK, so its wheel is a
CPU build, whose flags and cache key must stay what they were: the cached wheel is reused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import build_llama_wheel  # noqa: E402

# The CPU build's flags before GPU builds existed: the key of every wheel cached on x86.
CPU_FLAGS_BEFORE = "-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' -DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'"


class Machine:
    """A faked machine: programs on PATH, libraries, headers, the platform."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.bin = root / "bin"
        self.lib = root / "lib"
        self.include = root / "include"
        for folder in (self.bin, self.lib, self.include):
            folder.mkdir()
        monkeypatch.setenv("PATH", str(self.bin))
        monkeypatch.delenv("VULKAN_SDK", raising=False)
        monkeypatch.setattr(build_llama_wheel, "LIBRARY_DIRS", (str(self.lib),))
        monkeypatch.setattr(build_llama_wheel, "HEADER_DIRS", (str(self.include),))
        monkeypatch.setattr(build_llama_wheel.ctypes.util, "find_library", lambda name: None)  # ldconfig knows nothing either
        self.platform(monkeypatch, "Linux", "x86_64")

    def program(self, name: str) -> None:
        path = self.bin / name
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)

    def library(self, name: str) -> None:
        (self.lib / f"lib{name}.so.1").write_bytes(b"")

    def vulkan_headers(self) -> None:
        (self.include / "vulkan").mkdir()
        (self.include / "vulkan" / "vulkan.h").write_text("")

    @staticmethod
    def platform(monkeypatch: pytest.MonkeyPatch, system: str, machine: str) -> None:
        monkeypatch.setattr(build_llama_wheel.platform, "system", lambda: system)
        monkeypatch.setattr(build_llama_wheel.platform, "machine", lambda: machine)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    return Machine(tmp_path, monkeypatch)


def test_a_machine_without_a_gpu_toolkit_builds_for_the_cpu_with_the_flags_it_always_had(machine: Machine) -> None:
    assert build_llama_wheel.choose_backend() == ("cpu", "no GPU toolkit found: CPU")
    assert build_llama_wheel.cmake_args("cpu") == build_llama_wheel.CMAKE_ARGS == CPU_FLAGS_BEFORE


def test_the_cpu_builds_cache_key_is_the_one_it_had(machine: Machine) -> None:
    """The key as it was computed before GPU builds: version, flags, CPU, machine, Python."""
    import hashlib
    import platform

    before = hashlib.sha256("\n".join(["0.3.36", CPU_FLAGS_BEFORE, build_llama_wheel.cpu_features(), platform.machine(), sys.version.split()[0]]).encode()).hexdigest()[:16]
    assert build_llama_wheel.build_key("0.3.36") == build_llama_wheel.build_key("0.3.36", "cpu") == before


def test_cuda_needs_the_toolkit_and_a_driver(machine: Machine, monkeypatch: pytest.MonkeyPatch) -> None:
    machine.program("nvcc")  # this machine's case: a toolkit, no driver
    assert build_llama_wheel.choose_backend() == ("cpu", "nvcc found but no NVIDIA driver (nvidia-smi or libcuda): CPU")
    machine.library("cuda")
    assert build_llama_wheel.choose_backend()[0] == "cuda"
    (machine.lib / "libcuda.so.1").unlink()
    machine.program("nvidia-smi")
    assert build_llama_wheel.choose_backend()[0] == "cuda"
    assert build_llama_wheel.cmake_args("cuda") == CPU_FLAGS_BEFORE + " -DGGML_CUDA=ON"


def test_a_driver_without_the_toolkit_builds_for_the_cpu(machine: Machine) -> None:
    machine.program("nvidia-smi")
    machine.library("cuda")
    assert build_llama_wheel.choose_backend()[0] == "cpu"


def test_vulkan_needs_glslc_the_headers_and_the_loader(machine: Machine, monkeypatch: pytest.MonkeyPatch) -> None:
    machine.program("glslc")
    assert build_llama_wheel.choose_backend() == ("cpu", "glslc found but not the Vulkan headers or the Vulkan loader (libvulkan): CPU")
    machine.library("vulkan")
    assert build_llama_wheel.choose_backend()[1] == "glslc found but not the Vulkan headers: CPU"
    sdk = machine.root / "sdk"
    (sdk / "include" / "vulkan").mkdir(parents=True)
    (sdk / "include" / "vulkan" / "vulkan.h").write_text("")
    monkeypatch.setenv("VULKAN_SDK", str(sdk))
    assert build_llama_wheel.choose_backend()[0] == "vulkan"
    assert build_llama_wheel.cmake_args("vulkan").endswith(" -DGGML_VULKAN=ON")


def test_cuda_comes_before_vulkan(machine: Machine) -> None:
    for name in ("nvcc", "nvidia-smi", "glslc"):
        machine.program(name)
    machine.library("vulkan")
    machine.vulkan_headers()
    assert build_llama_wheel.choose_backend()[0] == "cuda"


def test_apple_silicon_builds_metal_without_the_x86_flags(machine: Machine, monkeypatch: pytest.MonkeyPatch) -> None:
    machine.platform(monkeypatch, "Darwin", "arm64")
    assert build_llama_wheel.choose_backend()[0] == "metal"
    assert build_llama_wheel.cmake_args("metal") == "-DGGML_NATIVE=ON -DGGML_METAL=ON"
    machine.platform(monkeypatch, "Darwin", "x86_64")  # an Intel Mac has no Metal backend worth building
    assert build_llama_wheel.choose_backend()[0] == "cpu"


def test_each_backend_has_a_cache_folder_of_its_own(machine: Machine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folders = {backend: build_llama_wheel.wheel_folder("0.3.36", backend) for backend in ("cpu", "cuda", "vulkan")}
    assert len(set(folders.values())) == 3
    assert folders["cpu"].name == f"llama-cpp-python-0.3.36-{build_llama_wheel.build_key('0.3.36')}"


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[tuple[str, str]]:
    """main() with `args`, the build replaced by a record of what it would have built."""
    built: list[tuple[str, str]] = []

    def fake_build(version: str, folder: Path, backend: str) -> Path:
        built.append((backend, folder.name))
        return folder / "llama_cpp_python-0.3.36-py3-none-any.whl"

    monkeypatch.setattr(build_llama_wheel, "build", fake_build)
    monkeypatch.setattr(sys, "argv", ["build_llama_wheel.py", "--version", "0.3.36", *args])
    build_llama_wheel.main()
    return built


def test_backend_option_and_cached_wheels(machine: Machine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("WORKBENCH_LLAMA_BACKEND", raising=False)
    machine.program("nvcc")
    machine.program("nvidia-smi")
    assert run_main(monkeypatch) == [("cuda", build_llama_wheel.wheel_folder("0.3.36", "cuda").name)]
    assert "llama.cpp backend: nvcc and an NVIDIA driver found: CUDA" in capsys.readouterr().out
    assert run_main(monkeypatch, "--backend", "cpu")[0][0] == "cpu"
    monkeypatch.setenv("WORKBENCH_LLAMA_BACKEND", "vulkan")
    assert run_main(monkeypatch)[0][0] == "vulkan"
    cpu = build_llama_wheel.wheel_folder("0.3.36", "cpu")
    cpu.mkdir(parents=True)
    (cpu / "llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl").write_bytes(b"")
    assert run_main(monkeypatch, "--backend", "cpu") == []  # cached: used, not rebuilt
    assert "Using the llama.cpp build cached at" in capsys.readouterr().out


def test_metal_is_refused_off_macos_in_one_line(machine: Machine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_main(monkeypatch, "--backend", "metal")
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("--backend metal builds only on macOS; use cuda, vulkan or cpu here")
