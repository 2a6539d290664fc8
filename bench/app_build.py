"""The desktop app (issue 21): how long `build.spec` takes to build, how big the folder
is, and how fast the frozen executable starts against the source install.

Builds into bench/results/app/ (never dist/, which `make app` and the tests own) with the
same command as `make app`, then times whole processes, taking turns between the frozen
app and the source install (`workbench`, the script pip wrote beside this Python, with
this checkout on PYTHONPATH), the order swapped every round:

  --help         the command line's start: the frozen bootloader unpacks nothing (a
                 folder app) but imports from its archive
  models --json  a scan of one folder holding SmolLM2 (the catalog, the notebook's
                 last-ran-on), its hash cached by the untimed first round

"Cold" is each command's first run after the page cache is dropped (as root: sync,
then 3 into /proc/sys/vm/drop_caches), the wait after a reboot; without root it is not
measured and says so. "Warm" is the median of --rounds. Prints a Markdown table for
docs/benchmarks.md and writes bench/results/app_build.json.

    .venv/bin/python bench/app_build.py [--rounds 10] [--skip-build]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DIST = RESULTS / "app"
WORK = RESULTS / "app-build"
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def bench_env(source: bool) -> dict[str, str]:
    """Everything either side writes goes under bench/results; the frozen side gets no
    PYTHONPATH, so it runs only what it carries."""
    env = dict(os.environ, WORKBENCH_NO_STARTER="1")
    env.pop("PYTHONPATH", None)
    if source:
        env["PYTHONPATH"] = str(ROOT)
    for var, sub in (("WORKBENCH_DATA_DIR", "app-data"), ("WORKBENCH_CONFIG_DIR", "app-config"), ("WORKBENCH_CACHE_DIR", "app-cache")):
        env[var] = str(RESULTS / sub)
    env["WORKBENCH_DB"] = str(RESULTS / "app-notebook.sqlite")
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(var, None)
    return env


def build() -> float:
    """Seconds for `make app`'s PyInstaller command, from a clean work folder."""
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    if not pyinstaller.exists():
        raise SystemExit(f"no {pyinstaller}: install the app extra first (make app, or pip install -e '.[app]')")
    started = time.perf_counter()
    done = subprocess.run(
        [str(pyinstaller), "--noconfirm", "--clean", "--distpath", str(DIST), "--workpath", str(WORK), "build.spec"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the build failed:\n{done.stderr[-4000:]}")
    return seconds


def folder_size(folder: Path) -> tuple[int, int, list[tuple[str, int]]]:
    """Bytes and files in the folder, and its five biggest top-level parts of _internal/."""
    total = files = 0
    parts: dict[str, int] = {}
    internal = folder / "_internal"
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            total += size
            files += 1
            if internal in path.parents:
                top = path.relative_to(internal).parts[0]
                parts[top] = parts.get(top, 0) + size
    return total, files, sorted(parts.items(), key=lambda kv: -kv[1])[:5]


def can_drop_caches() -> bool:
    return os.access(DROP_CACHES, os.W_OK)


def drop_caches() -> None:
    os.sync()
    DROP_CACHES.write_text("3\n")


def timed(command: list[str], source: bool) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=bench_env(source), cwd=RESULTS, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return seconds


def smollm2() -> Path:
    """The starter SmolLM2 file, where pip put it (read, never imported)."""
    sys.path.insert(0, str(ROOT))
    from workbench.core import starter

    return starter.locate_part(starter.STARTER_MODELS[0].parts[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--skip-build", action="store_true", help=f"measure the app already in {DIST}")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    build_s = None if args.skip_build else build()
    app = DIST / "workbench" / "workbench"
    if not app.exists():
        raise SystemExit(f"no {app}: run without --skip-build")
    size, files, biggest = folder_size(app.parent)
    script = Path(sys.executable).with_name("workbench")
    if not script.exists():
        raise SystemExit(f"no {script}: install the workbench first (make run, or pip install -e .)")
    folder = str(smollm2().parent)
    commands = {
        "--help": ["--help"],
        "models --json": ["models", "--json", "--folder", folder],
    }
    sides = {"frozen app": (str(app), False), "source install": (str(script), True)}
    cold: dict[str, dict[str, float | None]] = {}
    warm: dict[str, dict[str, float]] = {}
    for name, arguments in commands.items():
        cold[name], warm[name] = {}, {}
        for side, (program, source) in sides.items():
            if can_drop_caches():
                drop_caches()
                cold[name][side] = timed([program, *arguments], source)
            else:
                cold[name][side] = None
        figures: dict[str, list[float]] = {side: [] for side in sides}
        for round_ in range(args.rounds + 1):
            order = list(sides.items()) if round_ % 2 == 0 else list(sides.items())[::-1]
            for side, (program, source) in order:
                seconds = timed([program, *arguments], source)
                if round_:  # the first round warms the page cache and the hash cache
                    figures[side].append(seconds)
        warm[name] = {side: statistics.median(values) for side, values in figures.items()}
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "build_s": build_s, "size_bytes": size, "files": files,
        "biggest": biggest, "cold_s": cold, "warm_median_s": warm, "rounds": args.rounds,
    }  # fmt: skip
    (RESULTS / "app_build.json").write_text(json.dumps(results, indent=2))
    print(report(results))


def report(results: dict) -> str:
    build_s = results["build_s"]
    lines = [
        f"Desktop app ({results['date']}, {results['cores']} cores): build "
        + (f"{build_s:.0f} s" if build_s is not None else "not timed (--skip-build)")
        + f", folder {results['size_bytes'] / 1e6:.0f} MB in {results['files']:,} files; biggest parts of _internal/: "
        + ", ".join(f"{name} {size / 1e6:.0f} MB" for name, size in results["biggest"])
        + ".",
        "",
        f"| command | frozen app, cold | source install, cold | frozen app, warm (median of {results['rounds']}) | source install, warm |",
        "|---|---|---|---|---|",
    ]
    for name, cold in results["cold_s"].items():
        warm = results["warm_median_s"][name]
        shown = [f"{cold[side]:.2f} s" if cold[side] is not None else "not measured (needs root)" for side in ("frozen app", "source install")]
        lines.append(f"| `{name}` | {shown[0]} | {shown[1]} | {warm['frozen app']:.2f} s | {warm['source install']:.2f} s |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
