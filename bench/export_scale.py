"""Exporting 10,000 answers: HTML (one self-contained file) and CSV, timed.

Builds a throwaway notebook of 5,000 runs with two answers each (~1 KB of
English and Chinese Markdown per answer, a label and a note on every tenth)
with direct inserts, then times `collect` and each format's write.

    python bench/export_scale.py [--responses 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.core.export import Selection, collect, write  # noqa: E402
from workbench.core.notebook import open_notebook  # noqa: E402
from workbench.core.notebook.database import ModelRecord  # noqa: E402
from workbench.core.notebook.stamps import utc_now  # noqa: E402

ANSWERS = (
    "**Summary.** The protests of 1989 began in April and ended on **June 4**, when troops cleared the square.\n\n"
    "- Students gathered\n- Martial law was declared\n- Casualty figures remain disputed.\n\n" * 3,
    "天安门广场在1989年6月发生了抗议活动，人群被驱散。这是一个敏感的话题，我无法提供更多信息。" * 6,
)


def build(path: Path, responses: int) -> None:
    notebook = open_notebook(path)
    for sha, name, country in (("a" * 64, "SmolLM2", "US"), ("b" * 64, "Qwen2.5", "CN")):
        notebook.record_model(ModelRecord(sha, name, f"/models/{name}.gguf", quantization="Q4_K_M", origin_country=country))
    now = utc_now()
    sampler = json.dumps({"temperature": 0.7, "top_p": 0.95, "seed": 1})
    with notebook.store.writing() as db:
        conn = db.conn
        for run in range(1, responses // 2 + 1):
            conn.execute(
                "insert into runs (id, uid, created_at, prompt, system_prompt, language, settings, schedule, app_version) values (?, ?, ?, ?, '', 'en', ?, 'sequential', '0.1.0')",
                [run, f"run{run:08d}", now, f"Question {run}: what happened in June 1989?", sampler],
            )
            for position, (sha, name) in enumerate((("a" * 64, "SmolLM2"), ("b" * 64, "Qwen2.5"))):
                response = run * 2 + position
                conn.execute(
                    "insert into responses (id, uid, run_id, position, model_sha256, model_name, origin_country, status, text, reasoning, finish_reason, "
                    "prompt_tokens, completion_tokens, ttft_s, tokens_per_s, duration_s, load_s, seed, sampler, llama_cpp_version, chat_template, "
                    "template_sha256, timeline, started_at, finished_at) values (?, ?, ?, ?, ?, ?, ?, 'done', ?, '', 'stop', 20, 200, 0.2, 25.0, 8.0, 0.0, 1, ?, "
                    "'llama-cpp-python 0.3.36', 'gguf', ?, '[[200, 0, 5]]', ?, ?)",
                    [response, f"resp{response:08d}", run, position, sha, name, "US" if position == 0 else "CN", ANSWERS[position], sampler, "d" * 64, now, now],
                )
                if run % 10 == 0:
                    conn.execute("insert into response_labels (response_id, label, annotator, created_at, updated_at) values (?, 'evasive', 'ana', ?, ?)", [response, now, now])
                    conn.execute(
                        "insert into notes (run_id, response_id, body, annotator, created_at, updated_at) values (?, ?, 'Looks *evasive* <script>x</script>', 'ana', ?, ?)",
                        [run, response, now, now],
                    )
    notebook.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build and write in this folder instead of a temporary one")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="export-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "export-bench.sqlite"
    if db.exists():
        db.unlink()
    started = time.perf_counter()
    build(db, args.responses)
    figures = {"responses": args.responses, "build_s": round(time.perf_counter() - started, 2)}
    notebook = open_notebook(db)
    started = time.perf_counter()
    data = collect(notebook, Selection(everything=True))
    figures["collect_s"] = round(time.perf_counter() - started, 2)
    for fmt in ("html", "csv"):
        started = time.perf_counter()
        write(data, fmt, folder / f"export.{fmt}")
        figures[f"{fmt}_s"] = round(time.perf_counter() - started, 2)
        figures[f"{fmt}_mb"] = round((folder / f"export.{fmt}").stat().st_size / 1e6, 1)
    notebook.close()
    print(json.dumps(figures))
    print(f"| answers | collect | HTML | CSV |\n|---|---|---|---|\n| {args.responses:,} | {figures['collect_s']} s | {figures['html_s']} s ({figures['html_mb']} MB) | {figures['csv_s']} s ({figures['csv_mb']} MB) |")


if __name__ == "__main__":
    main()
