#!/usr/bin/env python3
"""Build llama-cpp-python once per machine, with flags that work here, and install it.

PyPI has only the source of llama-cpp-python, so pip compiles llama.cpp
(several minutes on 2 cores). A default build also crashes on CPUs that
report AMX (ggml-org/llama.cpp#20824): llama.cpp's AMX kernel faults at the
first decode. We build natively with AMX turned off and AVX-512 kept, cache
the wheel under the user's cache folder keyed by everything that changes
the result (version, flags, CPU features, Python), and reuse it: the second
`make test`, and every later venv on this machine, installs in seconds.

Standard library only: this runs before anything else is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

AMX_OFF = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
CMAKE_ARGS = f"-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='{AMX_OFF}' -DCMAKE_CXX_FLAGS='{AMX_OFF}'"


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


def build_key(version: str) -> str:
    parts = [version, CMAKE_ARGS, cpu_features(), platform.machine(), sys.version.split()[0]]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def find_wheel(folder: Path, version: str) -> Path | None:
    wheels = sorted(folder.glob(f"llama_cpp_python-{version}-*.whl"))
    return wheels[-1] if wheels else None


def build(version: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "build.log"
    env = dict(os.environ, CMAKE_ARGS=CMAKE_ARGS, FORCE_CMAKE="1")
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
    args = parser.parse_args()
    folder = cache_root() / f"llama-cpp-python-{args.version}-{build_key(args.version)}"
    wheel = find_wheel(folder, args.version)
    if wheel is None:
        wheel = build(args.version, folder)
    else:
        print(f"Using the llama.cpp build cached at {wheel}", flush=True)
    if args.install:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)], check=True)


if __name__ == "__main__":
    main()
