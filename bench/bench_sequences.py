"""Batched decoding (issue 20): prompts of one model one at a time vs several sequences at once.

Four tables, Qwen of the starter pair (Qwen2.5-Coder-0.5B-Instruct Q4_K_M), all cores:

1. The engine: PROMPTS prompts (starter-20, English then Chinese) sent to one model
   process (`LocalModel`) loaded for 1 sequence, then for each of SEQUENCES, that many
   requests in flight from that many threads, every answer to MAX_TOKENS tokens at most,
   temperature 0, the workbench's default sampler. Wall time from the first request to
   the last answer; tokens are the prompts' (as rendered by the chat template) and the
   answers' (the model tokenizer's count). "same text" counts the answers identical to
   the one-at-a-time answer of the same prompt.
2. llama.cpp's own `llama-batched-bench` (built from the same vendored llama.cpp by
   tools/build_llama_server.py; not built here) at the same sequence counts, the engine's
   mean prompt length and MAX_TOKENS: its total tokens/s (prompt and generated) beside the
   engine's. Target: the engine at least 0.9 of it.
3. llama.cpp's own continuous batching: the same prompts through `llama-server` (same
   build, `-np N -cb`, the same context per slot) with N requests in flight, for 1 and
   each of SEQUENCES: its speed-up from batching on these very prompts and answers, the
   reference for the engine's (its prompt cache off, as the engine keeps none).
4. The whole `workbench batch` command over WHOLE prompts (`--limit` of starter-20 in both
   languages, Qwen only) with `--sequences 8` vs `--sequences 1`, each in a fresh notebook
   and config folder: start-up, flags and notebook writes included. Target: 1.6x faster.

    QT_QPA_PLATFORM=offscreen python bench/bench_sequences.py [--prompts 32] [--sequences 4,8,16]
        [--max-tokens 64] [--rounds 3] [--whole 16] [--whole-sequences 8] [--no-server]

Tables 1, 2 and 4 run --rounds times, taking turns, and give medians; table 3 runs once.
A smoke run: `--prompts 4 --sequences 4 --rounds 1 --whole 0 --no-server`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from statistics import median

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from build_llama_server import cached_binaries, server_folder  # noqa: E402
from endpoint_batch import llama_server  # noqa: E402
from workbench.core import starter  # noqa: E402
from workbench.core.engine.cancel import Cancel  # noqa: E402
from workbench.core.engine.local import LocalModel  # noqa: E402
from workbench.core.engine.params import GenerationParams, LoadSettings  # noqa: E402
from workbench.core.prompts import find_prompt_set  # noqa: E402

THREADS = os.cpu_count() or 1
SEED = 1
PROMPT_SET = "starter-20"
# Each sequence's own context: a starter-20 prompt and 64 tokens fit with room to spare.
N_CTX = 512


@dataclass
class Pass:
    """One pass of every prompt through one model process."""

    sequences: int
    wall_s: float
    prompt_tokens: int
    answer_tokens: int
    texts: list[str]

    @property
    def answer_rate(self) -> float:
        return self.answer_tokens / self.wall_s

    @property
    def total_rate(self) -> float:
        return (self.prompt_tokens + self.answer_tokens) / self.wall_s


class _Quiet:
    """A sink that keeps nothing: the result holds the text."""

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        return None

    def text(self, chunks: list[str]) -> None:
        return None

    def reasoning(self, chunks: list[str]) -> None:
        return None


def qwen() -> Path:
    model = next(m for m in starter.STARTER_MODELS if "qwen" in m.key.lower() or "qwen" in m.name.lower())
    return starter.prepare(model)


def in_flight(ask: Callable[[str], Any], prompts: list[str], at_once: int) -> tuple[list[Any], float]:
    """Every prompt asked, `at_once` at a time from as many threads: the answers, in the
    prompts' order, and the wall seconds from the first request to the last answer."""
    results: list[Any] = [None] * len(prompts)
    todo = iter(range(len(prompts)))
    lock = threading.Lock()

    def work_through() -> None:
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            results[i] = ask(prompts[i])

    threads = [threading.Thread(target=work_through) for _ in range(at_once)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def one_pass(model_path: Path, prompts: list[str], sequences: int, max_tokens: int) -> Pass:
    """Every prompt through a process loaded for `sequences`, that many in flight."""
    params = GenerationParams(max_tokens=max_tokens, seed=SEED, n_ctx=N_CTX, n_threads=THREADS)
    model = LocalModel(model_path, "Qwen", LoadSettings(N_CTX, THREADS, sequences=sequences))
    model.start()

    def ask(prompt: str) -> Any:
        return model.generate([{"role": "user", "content": prompt}], params, _Quiet(), Cancel())

    try:
        model.generate([{"role": "user", "content": "Hi"}], params.replace(max_tokens=1), _Quiet(), Cancel())  # warm up
        results, wall = in_flight(ask, prompts, sequences)
    finally:
        model.close()
    failed = [r.error for r in results if r.error]
    if failed:
        raise SystemExit(f"an answer failed: {failed[0]}")
    return Pass(sequences, wall, sum(r.prompt_tokens or 0 for r in results), sum(r.completion_tokens or 0 for r in results), [r.text for r in results])


def server_pass(model_path: Path, prompts: list[str], slots: int, max_tokens: int) -> Pass | None:
    """Every prompt through llama-server with `slots` slots, that many requests in flight:
    the engine's sampler settings at temperature 0, no prompt cache. None when
    tools/build_llama_server.py has not built it on this machine."""
    folder = server_folder("0.3.36")
    if not cached_binaries(folder):
        return None
    defaults = GenerationParams()
    body = {"max_tokens": max_tokens, "temperature": 0.0, "seed": SEED, "top_k": defaults.top_k, "top_p": defaults.top_p,
            "min_p": defaults.min_p, "repeat_penalty": defaults.repeat_penalty, "repeat_last_n": 64, "cache_prompt": False}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="sequences-server-") as work, llama_server(
        folder / "bin" / "llama-server", model_path, Path(work) / "server.log", slots=slots, context_per_slot=N_CTX
    ) as server:

        def ask(prompt: str) -> dict:
            data = json.dumps({**body, "messages": [{"role": "user", "content": prompt}]}).encode()
            request = urllib.request.Request(server.url + "/chat/completions", data=data, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=600) as reply:
                return json.loads(reply.read())

        ask("Hi")  # warm up, as the engine's pass does
        results, wall = in_flight(ask, prompts, slots)
    usage = [r["usage"] for r in results]
    texts = [r["choices"][0]["message"]["content"] or "" for r in results]
    return Pass(slots, wall, sum(u["prompt_tokens"] for u in usage), sum(u["completion_tokens"] for u in usage), texts)


def batched_bench(model_path: Path, counts: list[int], prompt_len: int, max_tokens: int) -> dict[int, tuple[float, float]] | None:
    """llama-batched-bench's (generated tokens/s, total tokens/s) per sequence count, or None
    when tools/build_llama_server.py has not built it on this machine."""
    folder = server_folder("0.3.36")
    if not cached_binaries(folder):
        return None
    done = subprocess.run(
        [str(folder / "bin" / "llama-batched-bench"), "-m", str(model_path), "-c", str(N_CTX * max(counts)), "-b", "2048", "-ub", "512",
         "-npp", str(prompt_len), "-ntg", str(max_tokens), "-npl", ",".join(map(str, counts)), "-t", str(THREADS)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures: dict[int, tuple[float, float]] = {}
    for line in done.stdout.splitlines():
        # |    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and re.fullmatch(r"\d+", cells[2]):
            figures[int(cells[2])] = (float(cells[7]), float(cells[9]))
    return figures


def whole_batch(model_path: Path, limit: int, sequences: int, max_tokens: int) -> float:
    """Wall seconds of `workbench batch` over `limit` questions in both languages, Qwen only."""
    work = Path(tempfile.mkdtemp(prefix="sequences-bench-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORKBENCH_CONFIG_DIR=str(work / "config"), WORKBENCH_CACHE_DIR=str(work / "cache"))
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "workbench", "batch", PROMPT_SET, "--model", str(model_path), "--limit", str(limit), "--max-tokens", str(max_tokens),
         "--seed", str(SEED), "--threads", str(THREADS), "--sequences", str(sequences), "--db", str(work / "nb.sqlite"), "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return time.perf_counter() - began


def prompts_of(count: int) -> Iterator[str]:
    selected = find_prompt_set(PROMPT_SET).select()
    ordered = [p.text for p in selected if p.language == "en"] + [p.text for p in selected if p.language != "en"]
    for i in range(count):
        yield ordered[i % len(ordered)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--sequences", default="4,8,16", help="comma-separated sequence counts beside one at a time")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the engine and llama-batched-bench taking turns")
    parser.add_argument("--whole", type=int, default=16, help="prompts of the whole-command comparison (0: skip it)")
    parser.add_argument("--whole-sequences", type=int, default=8)
    parser.add_argument("--no-server", action="store_true", help="leave out the llama-server pass")
    args = parser.parse_args()
    counts = [1, *(int(n) for n in args.sequences.split(",") if n.strip())]
    model_path = qwen()
    prompts = list(prompts_of(args.prompts))

    # Rounds taking turns: every count through the engine, then llama-batched-bench at every
    # count; ratios are taken within a round (the machine's speed drifts by 10% and more).
    rounds: list[tuple[dict[int, Pass], dict[int, tuple[float, float]] | None]] = []
    prompt_len = 0
    for _ in range(max(1, args.rounds)):
        passes = {n: one_pass(model_path, prompts, n, args.max_tokens) for n in counts}
        prompt_len = prompt_len or round(passes[1].prompt_tokens / len(prompts))
        rounds.append((passes, batched_bench(model_path, counts, prompt_len, args.max_tokens)))
    alone = rounds[0][0][1]
    built = rounds[0][1] is not None

    print(f"{len(prompts)} prompts of {PROMPT_SET}, {model_path.name}, max tokens {args.max_tokens}, temperature 0, seed {SEED}, "
          f"{THREADS} threads, context {N_CTX} per sequence; mean prompt {prompt_len} tokens; medians of {len(rounds)} rounds\n")  # fmt: skip
    print("| sequences | wall s | answer tokens | answer tokens/s | total tokens/s | speed-up | same text | llama-batched-bench S_TG | its total S | engine / its S (range) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in counts:
        mine = [passes[n] for passes, _ in rounds]
        same = sum(a == b for a, b in zip(mine[0].texts, alone.texts, strict=True))
        speed_up = median(passes[1].wall_s / passes[n].wall_s for passes, _ in rounds)
        ref = "not built | | "
        if built:
            theirs = [reference[n] for _, reference in rounds if reference]
            ratios = sorted(passes[n].total_rate / reference[n][1] for passes, reference in rounds if reference)
            ref = f"{median(t[0] for t in theirs):.1f} | {median(t[1] for t in theirs):.1f} | {median(ratios):.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f})"
        print(
            f"| {n} | {median(p.wall_s for p in mine):.1f} | {mine[0].answer_tokens} | {median(p.answer_rate for p in mine):.1f} | "
            f"{median(p.total_rate for p in mine):.1f} | {speed_up:.2f}x | {same}/{len(prompts)} | {ref} |"
        )
    if not built:
        print("\nllama-batched-bench is not built on this machine: `python tools/build_llama_server.py` (about 15 minutes).")
    if not args.no_server:
        served = {n: server_pass(model_path, prompts, n, args.max_tokens) for n in counts}
        if served[1] is not None:
            print(f"\nThe same prompts through llama-server (`-np N -cb`, context {N_CTX} a slot, N requests in flight), one round, beside the engine's medians:\n")
            print("| sequences | its wall s | its answer tokens | its total tokens/s | its speed-up | engine's speed-up |")
            print("|---|---|---|---|---|---|")
            for n, theirs in served.items():
                assert theirs is not None and served[1] is not None
                mine_up = median(passes[1].wall_s / passes[n].wall_s for passes, _ in rounds)
                print(
                    f"| {n} | {theirs.wall_s:.1f} | {theirs.answer_tokens} | {theirs.total_rate:.1f} | "
                    f"{served[1].wall_s / theirs.wall_s:.2f}x | {mine_up:.2f}x |"
                )
    if args.whole:
        limit = max(1, args.whole // 2)  # each question in English and Chinese
        timings = [(whole_batch(model_path, limit, 1, args.max_tokens), whole_batch(model_path, limit, args.whole_sequences, args.max_tokens))
                   for _ in range(max(1, args.rounds))]  # fmt: skip
        print(f"\nWhole `workbench batch {PROMPT_SET} --limit {limit}` ({2 * limit} prompts, Qwen only), {len(timings)} rounds taking turns:\n")
        print("| sequences | wall s (median) | each round |")
        print("|---|---|---|")
        print(f"| 1 | {median(one for one, _ in timings):.1f} | {', '.join(f'{one:.1f}' for one, _ in timings)} |")
        print(f"| {args.whole_sequences} | {median(many for _, many in timings):.1f} | {', '.join(f'{many:.1f}' for _, many in timings)} |")
        ups = sorted(one / many for one, many in timings)
        print(f"\nSpeed-up at {args.whole_sequences}: {median(ups):.2f}x (rounds {', '.join(f'{u:.2f}' for u in ups)}).")


if __name__ == "__main__":
    main()
