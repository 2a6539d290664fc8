"""Batch throughput: `workbench batch` against raw sequential llama-cpp-python.

The starter pair over a prompt set (default starter-20, both languages), the
same prompts, seed, sampler, threads and max tokens on both sides:

- workbench: `workbench batch SET --json` in a fresh process (child process per
  model, notebook writes, flags, divergence). Timed twice: the whole command
  (imports, hashing check, loads) and the batch's own items (sum of
  batch_items.duration_s, i.e. the prompts alone).
- raw: one process per model (as bench/raw_llama.py does), loading the model
  once and streaming every prompt in order with create_chat_completion.

Tokens are answer tokens as each side counts them (the workbench stores the
model tokenizer's count; raw re-tokenizes the answer). Prints a Markdown table.

    QT_QPA_PLATFORM=offscreen python bench/batch_throughput.py [--set starter-20] [--max-tokens 32]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
THREADS = os.cpu_count() or 1
SEED = 1


def raw(model: str, prompts_file: str, max_tokens: int) -> None:
    """In its own process: one model, every prompt, one JSON line of totals."""
    import llama_cpp

    prompts = json.loads(Path(prompts_file).read_text(encoding="utf-8"))
    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=model, n_ctx=4096, n_threads=THREADS, n_threads_batch=THREADS, verbose=False)
    load_s = time.perf_counter() - started
    tokens = 0
    for prompt in prompts:
        pieces = []
        for chunk in llm.create_chat_completion(
            messages=[{"role": "user", "content": prompt}],
            stream=True,
            max_tokens=max_tokens,
            temperature=0.0,
            top_p=0.95,
            top_k=40,
            min_p=0.05,
            repeat_penalty=1.1,
            seed=SEED,
        ):
            text = chunk["choices"][0]["delta"].get("content")
            if text:
                pieces.append(text)
        tokens += len(llm.tokenize("".join(pieces).encode("utf-8"), add_bos=False, special=True))
    print(json.dumps({"load_s": load_s, "total_s": time.perf_counter() - started, "tokens": tokens}))


def bench(prompt_set: str, max_tokens: int) -> None:
    sys.path.insert(0, str(ROOT))
    from workbench.core import starter
    from workbench.core.prompts import find_prompt_set

    work = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var, sub in (("WORKBENCH_CONFIG_DIR", "config"), ("WORKBENCH_CACHE_DIR", "cache")):
        env[var] = str(work / sub)
    models = [starter.prepare(m) for m in starter.STARTER_MODELS]
    prompts = [p.text for p in find_prompt_set(prompt_set).select()]
    prompts_file = work / "prompts.json"
    prompts_file.write_text(json.dumps(prompts, ensure_ascii=False), encoding="utf-8")

    db = work / "nb.sqlite"
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "batch", prompt_set, "--max-tokens", str(max_tokens), "--seed", str(SEED),
         "--threads", str(THREADS), "--db", str(db), "--json"],
        env=env, capture_output=True, text=True, check=True,
    )
    command_s = time.perf_counter() - began
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    with sqlite3.connect(db) as conn:
        items_s = conn.execute("select sum(duration_s) from batch_items where batch_id = ?", [summary["batch_id"]]).fetchone()[0]
        wb_tokens = conn.execute(
            "select sum(completion_tokens) from responses join batch_items on batch_items.run_id = responses.run_id where batch_id = ?",
            [summary["batch_id"]],
        ).fetchone()[0]

    raw_s = raw_tokens = 0.0
    for model in models:
        out = subprocess.run(
            [sys.executable, __file__, "--raw", str(model), "--prompts", str(prompts_file), "--max-tokens", str(max_tokens)],
            capture_output=True, text=True, check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        raw_s += figures["total_s"]
        raw_tokens += figures["tokens"]

    n = len(prompts)
    rows = [
        ("workbench batch, whole command", command_s, wb_tokens),
        ("workbench batch, prompts only (batch_items.duration_s)", items_s, wb_tokens),
        ("raw llama-cpp-python, sequential (incl. loads)", raw_s, raw_tokens),
    ]
    print(f"{n} prompts × 2 models (starter pair), set {prompt_set}, max tokens {max_tokens}, seed {SEED}, {THREADS} threads\n")
    print("| side | seconds | answer tokens | tokens/s overall | prompts/min |")
    print("|---|---|---|---|---|")
    for name, seconds, tokens in rows:
        print(f"| {name} | {seconds:.1f} | {int(tokens)} | {tokens / seconds:.1f} | {60 * n / seconds:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="starter-20")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--raw", help=argparse.SUPPRESS)
    parser.add_argument("--prompts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw:
        raw(args.raw, args.prompts, args.max_tokens)
    else:
        bench(args.set, args.max_tokens)


if __name__ == "__main__":
    main()
