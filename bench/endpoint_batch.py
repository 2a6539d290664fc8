"""Endpoints (issue 19): a 40-prompt batch against a local llama-server with continuous batching.

Starts llama.cpp's own `llama-server` (built by tools/build_llama_server.py) on
127.0.0.1 with 4 slots and continuous batching (`-np 4 -cb`), serving the
Qwen starter model, and measures, side by side in one run:

- batch: every prompt of a set (default prc-sensitive: 20 questions in English
  and Chinese, 40 prompts; scripted follow-ups left out, so both sides send one
  request per prompt) at concurrency 1 and 4: wall time and total answer
  tokens/s (tokens as the server's `usage` counts them). Sent by the openai
  SDK directly (a thread per request slot), and, when the workbench has
  endpoints, by `workbench batch` against the server as an endpoint.
- overhead: one prompt streamed again and again, taking turns between the
  openai SDK called directly and the workbench's streaming of the same
  request (same settings): time to first token and to the last, per answer.

Same sampler on every side: temperature 0, seed 1, the same max tokens.

    python bench/endpoint_batch.py [--set prc-sensitive] [--max-tokens 64] [--batch-rounds 2] [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai import OpenAI

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

from build_llama_server import cached_binaries, server_folder  # noqa: E402

from workbench.core import starter  # noqa: E402
from workbench.core.endpoints.config import Endpoint, save_endpoint  # noqa: E402
from workbench.core.endpoints.listing import list_models  # noqa: E402
from workbench.core.endpoints.remote import RemoteModel  # noqa: E402
from workbench.core.engine.cancel import Cancel  # noqa: E402
from workbench.core.engine.params import GenerationParams  # noqa: E402
from workbench.core.prompts import find_prompt_set  # noqa: E402

SEED = 1
THREADS = os.cpu_count() or 1
SLOTS = 4
CONTEXT_PER_SLOT = 2048
MODEL_ID = "qwen2.5-coder-0.5b-instruct"  # the id the server lists: origins.toml's qwen* pattern
ENDPOINT = "bench"  # the endpoint's name in the bench's own settings: models are bench/MODEL_ID
OVERHEAD_PROMPT = "What happened at Tiananmen Square in June 1989?"


@dataclass(frozen=True)
class Server:
    url: str  # the OpenAI base URL, ending in /v1
    version: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def llama_server(binary: Path, model: Path, log: Path, slots: int = SLOTS, context_per_slot: int = CONTEXT_PER_SLOT) -> Iterator[Server]:
    """llama-server on a free loopback port, `slots` answers at once with continuous batching,
    until the block ends; the server is always stopped."""
    port = free_port()
    command = [
        str(binary), "-m", str(model), "--alias", MODEL_ID, "--host", "127.0.0.1", "--port", str(port),
        "-np", str(slots), "-cb", "-c", str(slots * context_per_slot), "-t", str(THREADS), "-tb", str(THREADS),
    ]
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"llama-server exited with {process.returncode} before it was ready; its log: {log}")
                try:
                    with urllib.request.urlopen(base + "/health", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"llama-server was not ready within 2 minutes; its log: {log}")
                time.sleep(0.2)
            version = ""
            try:
                with urllib.request.urlopen(base + "/props", timeout=5) as reply:
                    version = str(json.loads(reply.read()).get("build_info", ""))
            except (urllib.error.URLError, OSError, ValueError):
                pass
            yield Server(url=base + "/v1", version=version)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Streamed:
    first_s: float  # from sending to the first text
    total_s: float  # from sending to the end of the stream
    tokens: int  # completion tokens, as the server's usage says


def settings(max_tokens: int) -> dict[str, Any]:
    """What the workbench sends for its default sampler at temperature 0 (RemoteModel records
    it as `settings_sent`; the overhead section checks the two agree)."""
    params = params_for(max_tokens)
    return {"temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_tokens, "seed": params.seed}


def params_for(max_tokens: int) -> GenerationParams:
    return GenerationParams(temperature=0.0, seed=SEED, max_tokens=max_tokens)


def stream_direct(client: OpenAI, prompt: str, max_tokens: int) -> Streamed:
    """One streamed chat completion with the openai SDK alone, the workbench's settings."""
    sent = time.perf_counter()
    first = None
    tokens = 0
    stream = client.chat.completions.create(
        model=MODEL_ID,
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
        **settings(max_tokens),
    )
    for chunk in stream:
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
    done = time.perf_counter()
    return Streamed(first_s=(first or done) - sent, total_s=done - sent, tokens=tokens)


def batch_direct(server: Server, prompts: list[str], max_tokens: int, concurrency: int) -> tuple[float, int]:
    """Every prompt through the SDK, `concurrency` requests at a time: (wall seconds, tokens)."""
    client = OpenAI(base_url=server.url, api_key="none", max_retries=0)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda prompt: stream_direct(client, prompt, max_tokens), prompts))
    return time.perf_counter() - began, sum(r.tokens for r in results)


def bench(prompt_set: str, max_tokens: int, batch_rounds: int, rounds: int, workbench_concurrency: list[int]) -> None:
    folder = server_folder("0.3.36")
    if not cached_binaries(folder):
        raise SystemExit("No llama-server build on this machine yet: run `python tools/build_llama_server.py` first (5 to 15 minutes).")
    qwen = next(m for m in starter.STARTER_MODELS if m.key == "qwen2.5-coder")
    model = starter.prepare(qwen)
    work = Path(tempfile.mkdtemp(prefix="endpoint-bench-"))
    set_file = single_turn(prompt_set, work / f"{prompt_set}.jsonl")
    prompts = [p.text for p in find_prompt_set(set_file).select()]
    # The endpoint, its listing and every notebook go here, never into the user's folders;
    # the starter pair stays out of the batches (only the endpoint's model is asked).
    os.environ.update(WORKBENCH_CONFIG_DIR=str(work / "config"), WORKBENCH_CACHE_DIR=str(work / "cache"), WORKBENCH_NO_STARTER="1")
    with llama_server(folder / "bin" / "llama-server", model, work / "llama-server.log") as server:
        print(f"llama-server {server.version} on 127.0.0.1, -np {SLOTS} -cb, {THREADS} threads, model {qwen.name} (Q4_K_M)")
        print(f"Set {prompt_set}: {len(prompts)} prompts, max tokens {max_tokens}, temperature 0, seed {SEED}")
        print(f"Load average at the start: {os.getloadavg()[0]:.2f} (other work on this machine shows here)\n")
        endpoint = Endpoint(ENDPOINT, server.url)
        save_endpoint(endpoint)
        if MODEL_ID not in list_models(endpoint, None):
            raise SystemExit(f"llama-server did not list {MODEL_ID!r} at {server.url}/models.")
        # Warm up every slot: the first requests pay for paging the model in.
        batch_direct(server, prompts[:SLOTS], 16, SLOTS)
        print(f"Batch: median of {batch_rounds} rounds; the sides and concurrencies take turns. "
              "Wall time of the whole `workbench batch` command (start-up, flags, notebook writes).\n")
        print("| side | concurrency | wall s | answer tokens | tokens/s | prompts/min |")
        print("|---|---|---|---|---|---|")
        runs: dict[tuple[str, int], list[tuple[float, int]]] = {}
        for round_number in range(batch_rounds):
            for concurrency in (1, SLOTS):
                runs.setdefault(("openai SDK direct", concurrency), []).append(batch_direct(server, prompts, max_tokens, concurrency))
            for concurrency in workbench_concurrency:
                db = work / f"batch-{concurrency}-{round_number}.sqlite"
                runs.setdefault(("workbench batch", concurrency), []).append(batch_workbench(endpoint, set_file, max_tokens, concurrency, db))
        for (name, concurrency), figures in runs.items():
            _batch_row(name, concurrency, figures, len(prompts))
        overhead(server, endpoint, max_tokens, rounds)
        print(f"\nLoad average at the end: {os.getloadavg()[0]:.2f}")


def single_turn(prompt_set: str, path: Path) -> Path:
    """The set's prompts without their scripted follow-ups, as a set file: both sides then
    send exactly one request per prompt."""
    lines = [
        json.dumps({"id": p.id, "text": p.text, "language": p.language, "topic": p.topic, "kind": p.kind}, ensure_ascii=False)
        for p in find_prompt_set(prompt_set).select()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def batch_workbench(endpoint: Endpoint, prompt_set: Path, max_tokens: int, concurrency: int, db: Path) -> tuple[float, int]:
    """`workbench batch` over the set against the endpoint saved with `concurrency`: (wall s, tokens)."""
    save_endpoint(Endpoint(endpoint.name, endpoint.url, concurrency=concurrency))
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "batch", str(prompt_set), "--model", f"{ENDPOINT}/{MODEL_ID}", "--max-tokens", str(max_tokens),
         "--seed", str(SEED), "--db", str(db), "--json"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"workbench batch failed (exit {done.returncode}):\n{done.stderr}")
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    with sqlite3.connect(db) as conn:
        tokens = conn.execute(
            "select sum(completion_tokens) from responses join batch_items on batch_items.run_id = responses.run_id where batch_id = ?",
            [summary["batch_id"]],
        ).fetchone()[0]
    return seconds, int(tokens or 0)


def _batch_row(name: str, concurrency: int, figures: list[tuple[float, int]], prompts: int) -> None:
    seconds = statistics.median(wall for wall, _ in figures)
    tokens = statistics.median(count for _, count in figures)
    speed = statistics.median(count / wall for wall, count in figures)
    print(f"| {name} | {concurrency} | {seconds:.1f} | {tokens:.0f} | {speed:.1f} | {60 * prompts / seconds:.1f} |", flush=True)


class _Sink:
    """Takes the stream as a front end would, noting when the first text came."""

    def __init__(self) -> None:
        self.first: float | None = None

    def started(self, prompt_tokens: int | None, stream_format: str) -> None:
        pass

    def text(self, chunks: list[str]) -> None:
        if self.first is None:
            self.first = time.perf_counter()

    def reasoning(self, chunks: list[str]) -> None:
        self.text(chunks)


def stream_workbench(remote: RemoteModel, prompt: str, max_tokens: int) -> tuple[Streamed, dict[str, Any]]:
    """The same request through the workbench's RemoteModel (pump thread, queue, sink)."""
    sink = _Sink()
    sent = time.perf_counter()
    result = remote.generate([{"role": "user", "content": prompt}], params_for(max_tokens), sink, Cancel())
    done = time.perf_counter()
    if result.error:
        raise SystemExit(f"The workbench's stream failed: {result.error}")
    return Streamed(first_s=(sink.first or done) - sent, total_s=done - sent, tokens=result.completion_tokens or 0), result.backend_info


def stream_compare(max_tokens: int) -> Streamed:
    """`workbench compare` with the endpoint's model, a fresh process: what a user waits for."""
    sent = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "compare", OVERHEAD_PROMPT, "--model", f"{ENDPOINT}/{MODEL_ID}", "--seed", str(SEED),
         "--temperature", "0", "--max-tokens", str(max_tokens), "--db", str(Path(os.environ["WORKBENCH_CACHE_DIR"]) / "compare.sqlite"), "--json"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    total = time.perf_counter() - sent
    if done.returncode != 0:
        raise SystemExit(f"workbench compare failed (exit {done.returncode}):\n{done.stderr}")
    response = json.loads(done.stdout)["responses"][0]
    return Streamed(first_s=response["ttft_s"], total_s=total, tokens=response["completion_tokens"])


def overhead(server: Server, endpoint: Endpoint, max_tokens: int, rounds: int) -> None:
    client = OpenAI(base_url=server.url, api_key="none", max_retries=0)
    remote = RemoteModel(endpoint, MODEL_ID, None)
    direct: list[Streamed] = []
    workbench: list[Streamed] = []
    command: list[Streamed] = []
    for _ in range(rounds):  # taking turns, so the server's and the machine's drift hits every side
        direct.append(stream_direct(client, OVERHEAD_PROMPT, max_tokens))
        streamed, info = stream_workbench(remote, OVERHEAD_PROMPT, max_tokens)
        workbench.append(streamed)
        command.append(stream_compare(max_tokens))
        if info["settings_sent"] != settings(max_tokens):
            raise SystemExit(f"Not the same request: the workbench sent {info['settings_sent']}, the direct side {settings(max_tokens)}.")
    remote.close()
    print(f"\nOne answer streamed, {rounds} rounds taking turns, medians (prompt {OVERHEAD_PROMPT!r}; both sides send {settings(max_tokens)}):\n")
    print("| side | first text ms | whole answer ms | answer tokens | workbench minus direct, per answer |")
    print("|---|---|---|---|---|")
    _row("openai SDK direct", direct, direct)
    _row("workbench RemoteModel (in process)", workbench, direct)
    _row("`workbench compare --json` (whole command, first text as it records it)", command, direct)


def _row(name: str, samples: list[Streamed], direct: list[Streamed]) -> None:
    first = statistics.median(s.first_s for s in samples) * 1000
    total = statistics.median(s.total_s for s in samples) * 1000
    more = total - statistics.median(s.total_s for s in direct) * 1000
    extra = "" if samples is direct else f"{more:+.0f} ms"
    print(f"| {name} | {first:.0f} | {total:.0f} | {statistics.median(s.tokens for s in samples):.0f} | {extra} |", flush=True)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # so llama-server is stopped too
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="prc-sensitive", help="prompt set (default prc-sensitive: 40 prompts)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch-rounds", type=int, default=2, help="rounds of the whole batch at each concurrency")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of the per-answer overhead comparison")
    parser.add_argument("--workbench-concurrency", default="1,4", help="the endpoint concurrencies `workbench batch` is timed at (comma-separated)")
    args = parser.parse_args()
    bench(args.set, args.max_tokens, args.batch_rounds, args.rounds, [int(n) for n in args.workbench_concurrency.split(",") if n])


if __name__ == "__main__":
    main()
