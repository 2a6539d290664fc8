"""Raw llama-cpp-python, the baseline every workbench figure is compared with.

Loads the model in this process and streams one chat completion, measuring
exactly what the workbench measures: time to first token from the request,
and decode speed as (tokens - 1) / (last token - first token), with tokens
counted by re-tokenizing the answer. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import llama_cpp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=4096)
    args = parser.parse_args()

    started = time.perf_counter()
    llm = llama_cpp.Llama(model_path=args.model, n_ctx=args.ctx, n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    load_s = time.perf_counter() - started
    sent = time.perf_counter()
    first = last = None
    pieces = []
    for chunk in llm.create_chat_completion(
        messages=[{"role": "user", "content": args.prompt}],
        stream=True,
        max_tokens=args.max_tokens,
        temperature=0.0,
        top_p=0.95,
        top_k=40,
        min_p=0.05,
        repeat_penalty=1.1,
        seed=args.seed,
    ):
        text = chunk["choices"][0]["delta"].get("content")
        if text:
            last = time.perf_counter()
            first = first or last
            pieces.append(text)
    answer = "".join(pieces)
    tokens = len(llm.tokenize(answer.encode("utf-8"), add_bos=False, special=True))
    print(json.dumps({
        "load_s": load_s,
        "ttft_s": first - sent if first else None,
        "tokens_per_s": (tokens - 1) / (last - first) if first and last and last > first else None,
        "completion_tokens": tokens,
        "text": answer,
    }))


if __name__ == "__main__":
    main()
