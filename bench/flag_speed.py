"""Flagging 1,000 real answers: the classifier alone, and every flag.

Issue 14 asks that the trained classifier flag 1,000 answers in under 2 s on
the project's 2-core machines. The answers are a seeded sample of SpeechMap's
(tools/flag_data/: real answers of large models, median about 4,000
characters, English and Chinese), so the figure is for the long answers
studies collect, not for one-line ones. One thread, as the app flags each
answer on the thread that saved it.

    python bench/flag_speed.py [--answers 1000] [--rounds 3]

Prints a Markdown table: seconds for all answers (best and median of the
rounds), milliseconds per answer, and the load time of the weights.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.core.analysis import analyse_response  # noqa: E402
from workbench.core.analysis.compliance import DEFAULT_PATH, ComplianceModel  # noqa: E402

DATA = ROOT / "tools" / "flag_data" / "speechmap-train.jsonl.gz"


def sample(count: int) -> list[dict[str, str]]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return random.Random(14).sample(rows, count)


def timed(work, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = sample(args.answers)
    began = time.perf_counter()
    model = ComplianceModel.load(DEFAULT_PATH)
    load_s = time.perf_counter() - began
    chars = statistics.median(len(r["response"]) for r in rows)

    def classifier() -> None:
        for r in rows:
            model.probabilities(r["response"], r["prompt"])

    def every_flag() -> None:
        for r in rows:
            analyse_response(r["prompt"], r["response"], prompt_lang=r["lang"], classifier=model)

    print(f"{len(rows)} SpeechMap answers (median {chars:,.0f} characters), {args.rounds} rounds; weights loaded in {load_s * 1000:.0f} ms\n")
    print("| what | best, s | median, s | ms per answer (median) |")
    print("|---|---|---|---|")
    for name, work in (("classifier alone", classifier), ("every flag (rules + classifier)", every_flag)):
        times = timed(work, args.rounds)
        median = statistics.median(times)
        print(f"| {name} | {min(times):.2f} | {median:.2f} | {median * 1000 / len(rows):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
