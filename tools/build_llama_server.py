#!/usr/bin/env python3
"""Build llama.cpp's `llama-server`, `llama-batched-bench` and `llama-bench` once per machine, and cache them.

Tests and benchmarks of OpenAI-compatible endpoints want a real server with
continuous batching on 127.0.0.1. llama-cpp-python's source distribution
vendors the very llama.cpp that `build_llama_wheel.py` compiles, so we build
its server from there: same version, same AMX-off flags (the AMX kernel
crashes on these CPUs, ggml-org/llama.cpp#20824), no curl or OpenSSL (the
server only serves loopback and must never fetch anything), statically
linked so the two binaries can live in the cache on their own.

The build takes about 15 minutes on 2 cores, so the binaries are cached
under the user's cache folder beside the wheels, keyed like the wheel by
everything that changes the result (version, flags, CPU features). The
cmake build folder stays there too: an interrupted build resumes.

Prints the folder holding the binaries as its last line. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from build_llama_wheel import AMX_OFF, cache_root, cpu_features

TARGETS = ("llama-server", "llama-batched-bench", "llama-bench")
CMAKE_OPTIONS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=ON",
    f"-DCMAKE_C_FLAGS={AMX_OFF}",
    f"-DCMAKE_CXX_FLAGS={AMX_OFF}",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
)


def server_folder(version: str) -> Path:
    """The cache folder for this version, these flags and this CPU."""
    parts = [version, *CMAKE_OPTIONS, cpu_features(), platform.machine()]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return cache_root().parent / "llama-server" / f"llama.cpp-{version}-{key}"


def cached_binaries(folder: Path) -> bool:
    return all((folder / "bin" / name).is_file() for name in TARGETS)


def fetch_source(version: str, work: Path) -> Path:
    """Download llama-cpp-python's sdist with pip and unpack it; return its vendored llama.cpp."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(work), f"llama-cpp-python=={version}"],
        check=True,
    )
    archives = sorted(work.glob(f"llama_cpp_python-{version}.tar.gz"))
    if not archives:
        sys.exit(f"pip downloaded no llama_cpp_python-{version}.tar.gz into {work}.")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(work, filter="data")
    return work / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"


def build(source: Path, folder: Path, jobs: int) -> None:
    build_dir = folder / "build"
    configured = build_dir / "CMakeCache.txt"
    if configured.exists() and f"CMAKE_HOME_DIRECTORY:INTERNAL={source}\n" not in configured.read_text(encoding="utf-8", errors="replace"):
        # Configured from an earlier unpacked source (a temporary folder, since gone):
        # cmake refuses to reuse it, so this build starts afresh (a new target, say).
        shutil.rmtree(build_dir)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "build.log"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    print(f"Building {', '.join(TARGETS)} for this machine (first time only; 5 to 15 minutes on 2 cores).", flush=True)
    print(f"Log: {log_path}", flush=True)
    started = time.monotonic()
    with open(log_path, "a", encoding="utf-8") as log:
        steps = [
            ["cmake", "-S", str(source), "-B", str(build_dir), *generator, *CMAKE_OPTIONS],
            ["cmake", "--build", str(build_dir), "-j", str(jobs), "--target", *TARGETS],
        ]
        for command in steps:
            log.write("$ " + " ".join(command) + "\n")
            log.flush()
            code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode
            if code != 0:
                tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
                sys.stderr.write("\n".join(tail) + f"\n\nBuilding llama-server failed (exit {code}). Full log: {log_path}\n")
                sys.stderr.write("A C/C++ compiler and cmake are needed: on Debian or Ubuntu, `sudo apt install build-essential cmake`.\n")
                sys.exit(1)
    (folder / "bin").mkdir(exist_ok=True)
    for name in TARGETS:
        shutil.copy2(build_dir / "bin" / name, folder / "bin" / name)
    elapsed = int(time.monotonic() - started)
    print(f"Built in {elapsed // 60}:{elapsed % 60:02d}.", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default="0.3.36", help="llama-cpp-python version whose llama.cpp to build")
    parser.add_argument("--source", type=Path, help="an unpacked llama-cpp-python sdist to build from instead of `pip download`")
    parser.add_argument("--jobs", type=int, default=2, help="parallel compile jobs (default 2)")
    args = parser.parse_args()
    folder = server_folder(args.version)
    if cached_binaries(folder):
        print(f"Using the llama-server build cached at {folder / 'bin'}", flush=True)
    elif args.source is not None:
        llama_cpp = args.source / "vendor" / "llama.cpp"
        if not (llama_cpp / "CMakeLists.txt").is_file():
            sys.exit(f"{args.source} is not an unpacked llama-cpp-python sdist (no vendor/llama.cpp/CMakeLists.txt).")
        build(llama_cpp, folder, args.jobs)
    else:
        with tempfile.TemporaryDirectory(prefix="llama-sdist-") as work:
            build(fetch_source(args.version, Path(work)), folder, args.jobs)
    print(folder / "bin", flush=True)


if __name__ == "__main__":
    main()
