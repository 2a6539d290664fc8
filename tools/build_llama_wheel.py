#!/usr/bin/env python3
"""Build llama-cpp-python once per machine, with flags that work here, and install it.

PyPI has only the source of llama-cpp-python, so pip compiles llama.cpp
(several minutes on 2 cores). A default build also crashes on CPUs that
report AMX (ggml-org/llama.cpp#20824): llama.cpp's AMX kernel faults at the
first decode. We build natively with AMX turned off and AVX-512 kept, cache
the wheel under the user's cache folder keyed by everything that changes
the result (version, flags, CPU features, Python), and reuse it: the second
`make test`, and every later venv on this machine, installs in seconds.

With a GPU toolkit (CUDA with its driver, Metal on Apple silicon, the Vulkan SDK) the
build adds that backend (`choose_backend`, or `--backend`), so models can be offloaded to
the GPU (the workbench's "GPU layers" setting); the CPU build's flags and cache key stay
as they were.

Standard library only: this runs before anything else is installed.
"""

from __future__ import annotations

import argparse
import ctypes.util
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

AMX_OFF = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
# The CPU build, which every other build adds its GPU backend to. Never changes: it is part
# of the cache key, and the wheels already built on x86 machines are keyed by it.
CMAKE_ARGS = f"-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='{AMX_OFF}' -DCMAKE_CXX_FLAGS='{AMX_OFF}'"
# The AMX flags are x86's (GCC and Clang refuse them for ARM), so other CPUs build without them.
CMAKE_ARGS_NOT_X86 = "-DGGML_NATIVE=ON"

BACKENDS = ("auto", "cpu", "cuda", "metal", "vulkan")
# Each GPU backend's switch in llama.cpp's CMake (ggml/CMakeLists.txt).
GPU_FLAGS = {"cuda": "-DGGML_CUDA=ON", "metal": "-DGGML_METAL=ON", "vulkan": "-DGGML_VULKAN=ON"}
# Where a driver's or loader's library may be when ldconfig does not list it (WSL's, for one).
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/lib/wsl/lib", "/usr/local/lib")
HEADER_DIRS = ("/usr/include", "/usr/local/include")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "model-values-workbench" / "wheels"


def cpu_features() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return platform.processor()


def is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def cmake_args(backend: str) -> str:
    """The CMake flags for `backend` ("cpu" or a GPU_FLAGS key): the CPU build's, plus the
    GPU backend's switch. A GPU build still runs on the CPU what the GPU does not take."""
    base = CMAKE_ARGS if is_x86() else CMAKE_ARGS_NOT_X86
    return base if backend == "cpu" else f"{base} {GPU_FLAGS[backend]}"


def _library(name: str) -> bool:
    """Whether lib`name` is installed: ldconfig's list, or one of LIBRARY_DIRS."""
    if ctypes.util.find_library(name):
        return True
    return any(any(Path(folder).glob(f"lib{name}.so*")) for folder in LIBRARY_DIRS)


def _vulkan_headers() -> bool:
    sdk = os.environ.get("VULKAN_SDK")
    folders = [str(Path(sdk) / "include"), *HEADER_DIRS] if sdk else list(HEADER_DIRS)
    return any((Path(folder) / "vulkan" / "vulkan.h").is_file() for folder in folders)


def choose_backend() -> tuple[str, str]:
    """The backend this machine can build and run, and why: CUDA when the toolkit (nvcc)
    and an NVIDIA driver (nvidia-smi or libcuda) are both here, Metal on Apple silicon,
    Vulkan when its SDK is (glslc, the headers and the loader), else the CPU. A toolkit
    without a driver builds for the CPU: a CUDA build would only fall back to it here."""
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return "metal", "Apple silicon: Metal"
    notes = []
    if shutil.which("nvcc"):
        if shutil.which("nvidia-smi") or _library("cuda"):
            return "cuda", "nvcc and an NVIDIA driver found: CUDA"
        notes.append("nvcc found but no NVIDIA driver (nvidia-smi or libcuda)")
    if shutil.which("glslc"):
        missing = [what for what, here in (("the Vulkan headers", _vulkan_headers()), ("the Vulkan loader (libvulkan)", _library("vulkan"))) if not here]
        if not missing:
            return "vulkan", "the Vulkan SDK found (glslc, headers, loader): Vulkan"
        notes.append(f"glslc found but not {' or '.join(missing)}")
    return "cpu", ("; ".join(notes) or "no GPU toolkit found") + ": CPU"


def build_key(version: str, backend: str = "cpu") -> str:
    """The cache key: everything that changes the wheel. A CPU build's key on x86 is the one
    it had before GPU builds existed, so its cached wheel is used, never rebuilt."""
    parts = [version, cmake_args(backend), cpu_features(), platform.machine(), sys.version.split()[0]]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def wheel_folder(version: str, backend: str) -> Path:
    return cache_root() / f"llama-cpp-python-{version}-{build_key(version, backend)}"


def find_wheel(folder: Path, version: str) -> Path | None:
    wheels = sorted(folder.glob(f"llama_cpp_python-{version}-*.whl"))
    return wheels[-1] if wheels else None


def build(version: str, folder: Path, backend: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "build.log"
    env = dict(os.environ, CMAKE_ARGS=cmake_args(backend), FORCE_CMAKE="1")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(folder), f"llama-cpp-python=={version}"]
    print(f"Building llama.cpp {version} for this machine (first time only; about 4 to 15 minutes on 2 cores).", flush=True)
    print(f"Log: {log_path}", flush=True)
    started = time.monotonic()
    progress = re.compile(r"^\[(\d+)/(\d+)\]")
    shown = ""
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        assert process.stdout is not None
        last_print = 0.0
        for line in process.stdout:
            log.write(line)
            match = progress.match(line.strip())
            if match:
                shown = f"{int(match[1]) * 100 // int(match[2])}% ({match[1]}/{match[2]} files)"
            now = time.monotonic()
            if now - last_print >= 5:
                last_print = now
                elapsed = int(now - started)
                _status(f"  compiling llama.cpp: {shown or 'preparing'}, {elapsed // 60}:{elapsed % 60:02d} elapsed")
        code = process.wait()
    elapsed = int(time.monotonic() - started)
    _status(f"  compiling llama.cpp: done in {elapsed // 60}:{elapsed % 60:02d}\n")
    wheel = find_wheel(folder, version)
    if code != 0 or wheel is None:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        sys.stderr.write("\n".join(tail) + f"\n\nBuilding llama-cpp-python failed (exit {code}). Full log: {log_path}\n")
        sys.stderr.write("A C/C++ compiler and cmake are needed: on Debian or Ubuntu, `sudo apt install build-essential cmake`.\n")
        if backend != "cpu":
            sys.stderr.write(f"This was a {backend} build: `--backend cpu` builds without the GPU.\n")
        sys.exit(1)
    return wheel


def _status(text: str) -> None:
    if sys.stdout.isatty():
        sys.stdout.write("\r" + text.ljust(78))
    else:
        sys.stdout.write(text.strip() + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", required=True)
    parser.add_argument("--install", action="store_true", help="pip install the wheel into this Python")
    parser.add_argument(
        "--backend", choices=BACKENDS, default=os.environ.get("WORKBENCH_LLAMA_BACKEND", "auto"),
        help="what llama.cpp runs models on: auto (the GPU toolkit this machine has, else the CPU) or one of them; "
        "default: $WORKBENCH_LLAMA_BACKEND or auto",
    )  # fmt: skip
    args = parser.parse_args()
    if args.backend == "auto":
        backend, why = choose_backend()
    else:
        backend, why = args.backend, f"--backend {args.backend}"
    if backend == "metal" and platform.system() != "Darwin":
        parser.error("--backend metal builds only on macOS; use cuda, vulkan or cpu here")
    print(f"llama.cpp backend: {why}", flush=True)
    folder = wheel_folder(args.version, backend)
    wheel = find_wheel(folder, args.version)
    if wheel is None:
        wheel = build(args.version, folder, backend)
    else:
        print(f"Using the llama.cpp build cached at {wheel}", flush=True)
    if args.install:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)], check=True)


if __name__ == "__main__":
    main()
