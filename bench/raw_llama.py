"""Raw llama-cpp-python, the baseline every workbench figure is compared with.

Loads the model in this process and streams one chat completion, measuring
exactly what the workbench measures: time to first token from the request,
and decode speed as (tokens - 1) / (last token - first token), with tokens
counted by re-tokenizing the answer. Prints one JSON object.

With `--serve`, the model stays loaded: it prints {"ready": true}, then
answers every line read from stdin (the prompt, as a JSON string) with one JSON
object, so a bench can take turns with a window whose models are loaded too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import llama_cpp


def answer(llm: llama_cpp.Llama, prompt: str, seed: int, max_tokens: int) -> dict:
    sent = time.perf_counter()
    first = last = None
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
        seed=seed,
    ):
        text = chunk["choices"][0]["delta"].get("content")
        if text:
            last = time.perf_counter()
            first = first or last
            pieces.append(text)
    text = "".join(pieces)
    tokens = len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
    return {
        "ttft_s": first - sent if first else None,
        "tokens_per_s": (tokens - 1) / (last - first) if first and last and last > first else None,
        "completion_tokens": tokens,
        "text": text,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--prompt", help="answer this once (without --serve)")
    parser.add_argument("--serve", action="store_true", help="stay loaded; answer each JSON-string line of stdin")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=4096)
    args = parser.parse_args()
    if not args.serve and args.prompt is None:
        parser.error("give --prompt or --serve")

    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=args.model, n_ctx=args.ctx, n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    load_s = time.perf_counter() - started
    if not args.serve:
        print(json.dumps({"load_s": load_s} | answer(llm, args.prompt, args.seed, args.max_tokens)))
        return
    print(json.dumps({"ready": True, "load_s": load_s}), flush=True)
    for line in sys.stdin:
        print(json.dumps(answer(llm, json.loads(line), args.seed, args.max_tokens)), flush=True)


if __name__ == "__main__":
    main()
