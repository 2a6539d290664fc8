"""What rendering a chat template costs: the workbench's renderer against llama-cpp-python's.

    python bench/template_render.py [--rounds 200]

Issue 18 replaced llama-cpp-python's `Jinja2ChatFormatter` with the app's own sandboxed
renderer (core/engine/chat_render.py) so a template's switches can be passed. Both render
in the model's process before every answer, so their cost adds to the time to the first
token. For each real template in tests/templates/ (gpt-oss, DeepSeek-R1 distill, Qwen3,
Llama 3.1, Gemma 3, Yi-1.5 Chat), this times, side by side in one run: compiling the
template (once per model load), and rendering a one-turn and a five-turn conversation
(each turn about 300 characters of English and Chinese). One JSON object on stdout,
medians in microseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_cpp import llama_chat_format

from workbench.core.engine.chat_render import ChatRenderer

TEMPLATES = Path(__file__).resolve().parents[1] / "tests" / "templates"
# The BOS and EOS texts each family's GGUFs name, as tests/real_templates.py gives them.
TOKENS = {
    "gpt-oss": ("<|startoftext|>", "<|return|>"),
    "deepseek-r1-distill-qwen": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "qwen3": ("<|endoftext|>", "<|im_end|>"),
    "llama-3.1": ("<|begin_of_text|>", "<|eot_id|>"),
    "gemma-3": ("<bos>", "<eos>"),
    "yi-1.5-chat": ("<|startoftext|>", "<|endoftext|>"),
}
QUESTION = "What happened at Tiananmen Square in June 1989? 1989年6月在天安门广场发生了什么？ " * 3
ANSWER = "In June 1989 the army cleared the square. 1989年6月，军队清场。 " * 4


def conversation(turns: int) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for turn in range(turns):
        messages.append({"role": "user", "content": QUESTION})
        if turn < turns - 1:
            messages.append({"role": "assistant", "content": ANSWER})
    return messages


def median_us(call: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1e6, 1)


def measure(template: str, bos: str, eos: str, rounds: int) -> dict[str, Any]:
    """One template's compile and render times, ours and llama-cpp-python's, and whether
    both give the same prompt."""

    def ours_compiled() -> ChatRenderer:
        return ChatRenderer(template, bos_token=bos, eos_token=eos)

    def theirs_compiled() -> Any:
        return llama_chat_format.Jinja2ChatFormatter(template=template, bos_token=bos, eos_token=eos)

    ours, theirs = ours_compiled(), theirs_compiled()
    compiles = max(10, rounds // 10)
    row: dict[str, Any] = {"compile_us": {"workbench": median_us(ours_compiled, compiles), "llama_cpp_python": median_us(theirs_compiled, compiles)}}
    for turns in (1, 5):
        messages = conversation(turns)
        row[f"render_{turns}_turns_us"] = {
            "workbench": median_us(lambda: ours.render(messages), rounds),  # noqa: B023 - timed before the loop moves on
            "llama_cpp_python": median_us(lambda: theirs(messages=messages), rounds),  # noqa: B023 - likewise
            "same_prompt": ours.render(messages) == theirs(messages=messages).prompt,
        }
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    results: dict[str, Any] = {"rounds": args.rounds, "templates": {}}
    for name, (bos, eos) in TOKENS.items():
        template = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
        results["templates"][name] = measure(template, bos, eos, args.rounds)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
