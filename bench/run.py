"""`make bench`: the workbench measured side by side with raw llama-cpp-python.

Every comparison runs both sides in one session, interleaved round by round,
on the same model file, prompt, seed, sampler and thread count, so machine
noise hits both alike. Prints a Markdown report (pasted into
docs/benchmarks.md) and writes the raw figures to bench/results/latest.json.

Sections:
  startup   `workbench --help` (the installed script), and a one-token `workbench
            compare` beside raw llama-cpp-python loading the same file and
            answering one token (2 threads), each a whole process, taking turns
  engine    workbench compare (child process, IPC, notebook writes) vs raw
  stop      time from pressing Stop to the answer being closed
  schedule  the starter pair one after another vs at the same time
  window    the real window streaming the starter pair (bench/window_stream.py):
            event-loop stalls, and tokens/s as the window shows them vs raw,
            a fresh window and fresh raw processes each round
  pace      the same speeds with the models loaded on both sides, taking
            turns every few seconds (window_stream.py --pace): many rounds,
            so the host's drift averages out
  wakeups   how often each of the window's threads is woken while the pair
            streams, and how much CPU each takes (window_stream.py --wakeups;
            Linux)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
THREADS = os.cpu_count() or 1
MAX_TOKENS = 128
SEED = 1
LLAMA_CPP_VERSION = "0.3.36"  # the Makefile's; its llama.cpp is what llama-bench is built from
SECTIONS = ["startup", "engine", "stop", "schedule", "window", "pace", "wakeups"]  # in the order they run
STARTUP_THREADS = 2  # issue 20's yardstick: raw Llama(path, n_threads=2), one token
WINDOW_PROMPT = "What happened at Tiananmen Square in June 1989?"  # the window's sample prompt


def bench_env() -> dict[str, str]:
    """Everything the workbench writes goes under bench/results, never the user's folders."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_NO_STARTER="1")
    for var, sub in (("WORKBENCH_DATA_DIR", "data"), ("WORKBENCH_CONFIG_DIR", "config"), ("WORKBENCH_CACHE_DIR", "cache")):
        env[var] = str(RESULTS / sub)
    env["WORKBENCH_DB"] = str(RESULTS / "bench-notebook.sqlite")
    return env


def starter_files() -> list[tuple[str, Path]]:
    os.environ.update({k: v for k, v in bench_env().items() if k.startswith("WORKBENCH_")})
    sys.path.insert(0, str(ROOT))
    from workbench.core import starter

    return [(model.name, starter.prepare(model)) for model in starter.STARTER_MODELS]


def run_json(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, env=bench_env(), timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return json.loads(done.stdout)


def raw(model: Path, prompt: str = PROMPT) -> dict:
    return run_json([sys.executable, str(HERE / "raw_llama.py"), str(model), "--prompt", prompt, "--seed", str(SEED),
                     "--max-tokens", str(MAX_TOKENS), "--threads", str(THREADS)])


def workbench(model: Path) -> dict:
    out = run_json([sys.executable, "-m", "workbench", "compare", PROMPT, "--model", str(model), "--seed", str(SEED),
                    "--temperature", "0", "--max-tokens", str(MAX_TOKENS), "--threads", str(THREADS), "--json"])
    return out["responses"][0]


def llama_bench(model: Path) -> float | None:
    """llama.cpp's own `llama-bench`: decode tokens/s of MAX_TOKENS tokens (tg128), same
    threads, one repetition; None when tools/build_llama_server.py has not built it here."""
    sys.path.insert(0, str(ROOT / "tools"))
    from build_llama_server import cached_binaries, server_folder

    folder = server_folder(LLAMA_CPP_VERSION)
    if not cached_binaries(folder):
        return None
    done = subprocess.run(
        [str(folder / "bin" / "llama-bench"), "-m", str(model), "-p", "0", "-n", str(MAX_TOKENS), "-t", str(THREADS), "-r", "1", "-o", "json"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return float(json.loads(done.stdout)[0]["avg_ts"])


def median(values: list[float]) -> float:
    return statistics.median(values)


def section_engine(models: list[tuple[str, Path]], rounds: int) -> dict:
    """Per starter model, taking turns each round: raw llama-cpp-python, `workbench compare`
    and llama.cpp's own llama-bench, so all three see the same machine."""
    results = {}
    for name, path in models:
        raws, wbs, benches = [], [], []
        for _ in range(rounds):
            raws.append(raw(path))
            wbs.append(workbench(path))
            benches.append(llama_bench(path))
        measured = [b for b in benches if b is not None]
        results[name] = {
            "llama_bench_tokens_per_s": median(measured) if measured else None,
            "raw_tokens_per_s": median([r["tokens_per_s"] for r in raws]),
            "wb_tokens_per_s": median([w["tokens_per_s"] for w in wbs]),
            "raw_ttft_s": median([r["ttft_s"] for r in raws]),
            "wb_ttft_s": median([w["ttft_s"] for w in wbs]),
            "raw_tokens": raws[0]["completion_tokens"],
            "wb_tokens": wbs[0]["completion_tokens"],
            "same_text": all(r["text"] == w["text"] for r, w in zip(raws, wbs)),
            "rounds": rounds,
        }
        r = results[name]
        r["throughput_ratio"] = r["wb_tokens_per_s"] / r["raw_tokens_per_s"]
        r["llama_bench_ratio"] = r["wb_tokens_per_s"] / r["llama_bench_tokens_per_s"] if measured else None
        r["ttft_difference_ms"] = (r["wb_ttft_s"] - r["raw_ttft_s"]) * 1000
    return results


def timed(command: list[str]) -> float:
    """Seconds from starting `command` to its exit: the process's start-up included, as a user waits."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=bench_env(), timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return seconds


def installed_script() -> Path:
    """The `workbench` command pip installed beside this Python ([project.scripts]); with
    bench_env's PYTHONPATH it runs this checkout's code."""
    script = Path(sys.executable).with_name("workbench")
    if not script.exists():
        raise SystemExit(f"no {script}: install the workbench first (make install, or pip install -e .)")
    return script


def section_startup(models: list[tuple[str, Path]], rounds: int) -> dict:
    """Issue 20: `workbench --help` under 0.25 s, and a one-token compare within 0.4 s of raw
    llama-cpp-python on the same file. Both sides are whole processes timed from outside,
    taking turns (the order swapped every round, so drift hits both alike), after one
    untimed round that warms the page cache and the catalog's hash cache."""
    script = str(installed_script())
    bare = [sys.executable, "-c", "pass"]  # the interpreter's own start, the floor under --help
    helps, floors = [], []
    for round_ in range(rounds * 2 + 1):
        pair = [(helps, [script, "--help"]), (floors, bare)]
        for figures, command in pair if round_ % 2 == 0 else pair[::-1]:
            seconds = timed(command)
            if round_:
                figures.append(seconds)
    per_model = {}
    for name, path in models:
        compare = [script, "compare", PROMPT, "--model", str(path), "--max-tokens", "1", "--threads", str(STARTUP_THREADS),
                   "--ctx", "4096", "--seed", str(SEED), "--json"]
        raw_one = [sys.executable, str(HERE / "raw_llama.py"), str(path), "--prompt", PROMPT, "--max-tokens", "1",
                   "--threads", str(STARTUP_THREADS), "--ctx", "4096", "--seed", str(SEED)]
        wbs, raws = [], []
        for round_ in range(rounds + 1):
            pair = [(wbs, compare), (raws, raw_one)]
            for figures, command in pair if round_ % 2 == 0 else pair[::-1]:
                seconds = timed(command)
                if round_:
                    figures.append(seconds)
        per_model[name] = {"workbench_s": median(wbs), "raw_s": median(raws),
                           "paired_difference_s": median([w - r for w, r in zip(wbs, raws)]), "rounds": rounds}
    return {"script": script, "help_s": median(helps), "python_s": median(floors), "help_rounds": len(helps), "models": per_model}


def section_stop(models: list[tuple[str, Path]], repeats: int) -> dict:
    """Stop pressed from another thread (as the window's Stop is) one second into an answer."""
    from workbench.core.engine.cancel import Cancel
    from workbench.core.engine.local import LocalModel
    from workbench.core.engine.params import GenerationParams, LoadSettings

    name, path = models[-1]  # the slower model: the worst case for stopping
    model = LocalModel(path, name, LoadSettings(4096, THREADS))
    model.start()
    latencies = []

    class Sink:
        def started(self, *_: object) -> None:
            pass

        def text(self, _: list[str]) -> None:
            pass

    def press(pressed: list[float], cancel: Cancel) -> None:
        pressed.append(time.perf_counter())
        cancel.set()

    try:
        for _ in range(repeats):
            cancel = Cancel()
            pressed: list[float] = []
            timer = threading.Timer(1.0, press, args=(pressed, cancel))
            timer.start()
            model.generate([{"role": "user", "content": PROMPT}], GenerationParams(max_tokens=400, seed=SEED, n_threads=THREADS), Sink(), cancel)
            latencies.append((time.perf_counter() - pressed[0]) * 1000)
    finally:
        model.close()
    return {"model": name, "median_ms": median(latencies), "max_ms": max(latencies), "repeats": repeats}


def section_schedule(models: list[tuple[str, Path]], rounds: int) -> dict:
    from workbench.core.comparison import PARALLEL, SEQUENTIAL, Contender
    from workbench.core.engine.params import GenerationParams
    from workbench.core.workspace import Workspace

    figures: dict[str, list[float]] = {SEQUENTIAL: [], PARALLEL: []}
    workspace = Workspace(RESULTS / "schedule.sqlite", include_other_apps=False, with_starter=False)
    try:
        contenders = [Contender(workspace.catalog.resolve(str(path)), GenerationParams(max_tokens=MAX_TOKENS, seed=SEED)) for _, path in models]
        workspace.comparison.run("warm up", contenders)  # loads both; schedules then compare generation only
        for _ in range(rounds):
            for schedule in (SEQUENTIAL, PARALLEL):
                started = time.perf_counter()
                workspace.comparison.run(PROMPT, contenders, schedule=schedule)
                figures[schedule].append(time.perf_counter() - started)
    finally:
        workspace.close()
    return {schedule: median(times) for schedule, times in figures.items()} | {"rounds": rounds}


def window(*options: str) -> dict:
    env = bench_env() | {"QT_QPA_PLATFORM": "offscreen"}
    env.pop("WORKBENCH_NO_STARTER")  # the window opens on the starter pair
    done = subprocess.run([sys.executable, str(HERE / "window_stream.py"), "--prompt", WINDOW_PROMPT, "--seed", str(SEED), "--max-tokens", str(MAX_TOKENS),
                           "--threads", str(THREADS), *options], capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"failed: window_stream.py\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def ratios(shown: list[float], engine: list[float], raws: list[float]) -> dict:
    """Window over raw: of the medians, and round by round (each round's pair, then the median,
    and the mean with its 95% bootstrap interval), split by which side went first."""
    paired = [w / r for w, r in zip(shown, raws)]
    return {"window": shown, "engine_in_window": engine, "raw": raws,
            "ratio": median(shown) / median(raws), "engine_ratio": median(engine) / median(raws),
            "paired_ratio": median(paired), "paired_mean": statistics.fmean(paired), "paired_mean_interval": mean_interval(paired),
            "paired_window_first": median(paired[::2]), "paired_raw_first": median(paired[1::2]) if len(paired) > 1 else None}


def mean_interval(values: list[float], resamples: int = 5000) -> tuple[float, float]:
    """The 95% bootstrap interval of the mean, with a fixed seed so a report can be reproduced
    from its figures. It covers the drift within one run, not between runs, which on this
    host is often larger."""
    rng = random.Random(0)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def section_window(models: list[tuple[str, Path]], rounds: int) -> dict:
    """One run under a 5 ms heartbeat for stalls; then rounds of the window (1 s heartbeat,
    so the probe's own wake-ups stay out of the speed) interleaved with raw, per model.

    Even rounds run the window first, odd rounds raw first: with the order fixed, whatever
    drifts within a round (the host's load, the page cache) would count against one side."""
    stalls = window("--heartbeat-ms", "5")
    shown: dict[str, list[float]] = {name: [] for name, _ in models}
    engine: dict[str, list[float]] = {name: [] for name, _ in models}
    raws: dict[str, list[float]] = {name: [] for name, _ in models}
    app_cpu, gui_cpu = [], []

    def window_turn() -> None:
        run = window("--heartbeat-ms", "1000")
        app_cpu.append(run["app_cpu_ms"] / run["streaming_s"] / 10)  # per cent of one core
        gui_cpu.append(run["gui_cpu_ms"] / run["streaming_s"] / 10)
        for (name, _), pane in zip(models, run["panes"]):  # the window opens on the starter pair in this order
            assert name.split("-")[0].lower() in pane["model"].lower(), (name, pane["model"])
            shown[name].append(pane["window_tokens_per_s"])
            engine[name].append(pane["engine_tokens_per_s"])

    def raw_turn() -> None:
        for name, path in models:
            raws[name].append(raw(path, WINDOW_PROMPT)["tokens_per_s"])

    for round_ in range(rounds):
        for turn in (window_turn, raw_turn) if round_ % 2 == 0 else (raw_turn, window_turn):
            turn()
    return {
        "max_stall_ms": stalls["max_stall_ms"],
        "p99_stall_ms": stalls["p99_stall_ms"],
        "rounds": rounds,
        "app_cpu_percent": median(app_cpu),
        "gui_cpu_percent": median(gui_cpu),
        "models": {name: ratios(shown[name], engine[name], raws[name]) for name, _ in models},
    }


def section_pace(rounds: int) -> dict:
    """The window and raw llama-cpp-python with their models loaded, taking turns (window_stream.py --pace)."""
    run = window("--pace", str(rounds))
    return {"rounds": rounds, "models": {name: ratios(m["window"], m["engine_in_window"], m["raw"]) for name, m in run["models"].items()}}


def section_wakeups(rounds: int) -> dict:
    """Each thread's wake-ups and CPU per second in the window while the starter pair streams."""
    run = window("--wakeups", str(rounds))
    return {"rounds": rounds, "per_second": run["per_second"], "cpu_ms_per_s": run["cpu_ms_per_s"]}


def report(results: dict) -> str:
    lines = [f"Machine: {results['machine']}; {THREADS} threads; prompt: \"{PROMPT}\"; {MAX_TOKENS} tokens max, temperature 0, seed {SEED}.", ""]
    startup = results.get("startup")
    if startup:
        lines += startup_table(startup)
    if "engine" in results:
        lines += ["| model | llama-bench tg tokens/s | raw tokens/s | workbench tokens/s | ratio to raw | ratio to llama-bench | raw first token | workbench first token | difference | same text |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.get("engine", {}).items():
        bench = f"{r['llama_bench_tokens_per_s']:.1f}" if r["llama_bench_tokens_per_s"] is not None else "not built"
        bench_ratio = f"{r['llama_bench_ratio']:.3f}" if r["llama_bench_ratio"] is not None else "-"
        lines.append(f"| {name} | {bench} | {r['raw_tokens_per_s']:.1f} | {r['wb_tokens_per_s']:.1f} | {r['throughput_ratio']:.3f} | {bench_ratio} | "
                     f"{r['raw_ttft_s'] * 1000:.0f} ms | {r['wb_ttft_s'] * 1000:.0f} ms | {r['ttft_difference_ms']:+.0f} ms | {'yes' if r['same_text'] else 'no'} |")
    stop = results.get("stop")
    if stop:
        lines += ["", f"Stop ({stop['model']}, {stop['repeats']} times): median {stop['median_ms']:.0f} ms, worst {stop['max_ms']:.0f} ms from Stop to a closed answer."]
    schedule = results.get("schedule")
    if schedule:
        lines += ["", f"Both starter models answering (median of {schedule['rounds']}): one after another {schedule['sequential']:.2f} s, at the same time {schedule['parallel']:.2f} s."]
    window = results.get("window")
    if window:
        lines += ["", (f"Window (\"{WINDOW_PROMPT}\", {window['rounds']} rounds): longest event-loop stall {window['max_stall_ms']} ms, "
                       f"99th percentile {window['p99_stall_ms']} ms. The app's own CPU from the first text to the end "
                       f"(median): {window['app_cpu_percent']:.1f}% of a core, of which the GUI thread {window['gui_cpu_percent']:.1f}%."), ""]
        lines += window_table(window["models"])
    pace = results.get("pace")
    if pace:
        lines += ["", f"Window and raw with their models loaded, taking turns (\"{WINDOW_PROMPT}\", {pace['rounds']} rounds):", ""]
        lines += window_table(pace["models"])
    wakeups = results.get("wakeups")
    if wakeups:
        counts = ", ".join(f"{name} {rate:.1f}" for name, rate in wakeups["per_second"].items() if rate)
        cpu = ", ".join(f"{name} {ms:.1f}" for name, ms in wakeups["cpu_ms_per_s"].items() if ms >= 0.05)
        lines += ["", f"Wake-ups a second of the window's threads while the pair streams (median of {wakeups['rounds']} runs): {counts}.",
                  "", f"Their milliseconds of CPU a second: {cpu}."]
    return "\n".join(lines)


def startup_table(startup: dict) -> list[str]:
    lines = [(f"Start-up ({startup['script']}, whole processes, medians): `workbench --help` {startup['help_s'] * 1000:.0f} ms "
              f"(Python itself, `python -c pass`: {startup['python_s'] * 1000:.0f} ms; {startup['help_rounds']} runs each). "
              f"One token of the same prompt, {STARTUP_THREADS} threads, a 4096-token context on both sides:"), "",
             "| model | raw llama-cpp-python, load + 1 token | `workbench compare`, 1 token | difference | difference, round by round |",
             "|---|---|---|---|---|"]
    for name, m in startup["models"].items():
        lines.append(f"| {name} | {m['raw_s']:.2f} s | {m['workbench_s']:.2f} s | {(m['workbench_s'] - m['raw_s']) * 1000:+.0f} ms "
                     f"| {m['paired_difference_s'] * 1000:+.0f} ms ({m['rounds']} rounds) |")
    return lines + [""]


def window_table(models: dict) -> list[str]:
    lines = [("| model | shown in the window, tokens/s | engine in the window | raw | window/raw | engine/raw | window/raw, round by round "
              "| its mean (95% interval) | window first / raw first |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for name, w in models.items():
        low, high = w["paired_mean_interval"]
        lines.append(f"| {name} | {', '.join(f'{v:.1f}' for v in w['window'])} | {', '.join(f'{v:.1f}' for v in w['engine_in_window'])} | "
                     f"{', '.join(f'{v:.1f}' for v in w['raw'])} | {w['ratio']:.3f} | {w['engine_ratio']:.3f} | {w['paired_ratio']:.3f} "
                     f"| {w['paired_mean']:.3f} ({low:.3f}–{high:.3f}) | {w['paired_window_first']:.3f} / {w['paired_raw_first'] or float('nan'):.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pace-rounds", type=int, default=30, help="rounds of the pace section (short, so it can take many)")
    parser.add_argument("--startup-rounds", type=int, default=10, help="rounds of the startup section (each a few seconds)")
    parser.add_argument("--only", choices=SECTIONS, action="append")
    args = parser.parse_args()
    sections = args.only or SECTIONS
    RESULTS.mkdir(exist_ok=True)
    models = starter_files()
    import llama_cpp

    results: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, llama-cpp-python {llama_cpp.__version__}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    if "startup" in sections:
        results["startup"] = section_startup(models, args.startup_rounds)
    if "engine" in sections:
        results["engine"] = section_engine(models, args.rounds)
    if "stop" in sections:
        results["stop"] = section_stop(models, 5)
    if "schedule" in sections:
        results["schedule"] = section_schedule(models, args.rounds)
    if "window" in sections:
        results["window"] = section_window(models, args.rounds)
    if "pace" in sections:
        results["pace"] = section_pace(args.pace_rounds)
    if "wakeups" in sections:
        results["wakeups"] = section_wakeups(args.rounds)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(report(results))


if __name__ == "__main__":
    main()
