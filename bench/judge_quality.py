"""How well does a model judge? SpeechMap's labels against the workbench's judge.

Takes a fixed, seeded, stratified sample of SpeechMap's judged answers (JSON
Lines, gzip: `source_model, category, lang, question_id, prompt, response,
label, judge_model`, label COMPLETE / EVASIVE / DENIAL), as many per label,
each label's share half English and half Chinese, and has each model judge
them exactly as `workbench judge` does: the same `Judge`, rubric, prompt,
shortening of long answers, parser and notebook storage, in a throwaway
notebook (one run per answer), at temperature 0.

Prints a Markdown table per model and overall: accuracy (an unparseable reply
counts as wrong), recall per label, Cohen's kappa against the data's labels
(three classes; an unparseable reply is a fourth answer that never matches),
the unparseable rate, how many answers were shortened to fit the context and
seconds per answer (judging only, loading excluded). `--out` also writes every
verdict as JSON.

    QT_QPA_PLATFORM=offscreen python bench/judge_quality.py /work/shared/data/speechmap-train.jsonl.gz \
        [--per-label 20] [--seed 14] [--model ID]... [--ctx 4096] [--max-tokens 256] [--threads N] [--out FILE]
    python bench/judge_quality.py DATA --report FILE.json...   # the tables again, from --out files

With no --model, the starter pair judges. Not needed by the tests.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from workbench.core.engine.params import all_cores  # noqa: E402
from workbench.core.judge import DEFAULT_JUDGE_PARAMS, LABEL_OF, VERDICTS, Judge, PooledJudgeModel, run_targets  # noqa: E402
from workbench.core.notebook import open_notebook  # noqa: E402
from workbench.core.workspace import Workspace  # noqa: E402

NONE = "unparseable"
LANGS = ("en", "zh")


def stratified_sample(path: Path, per_label: int, seed: int) -> list[dict[str, Any]]:
    """`per_label` answers of each label, half English and half Chinese (the odd one English),
    drawn with `random.Random(seed)` from the file's order: the same file and seed, the same sample."""
    pools: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            pools.setdefault((row["label"], row["lang"]), []).append(row)
    rng = random.Random(seed)
    chosen = []
    for label in VERDICTS:
        for lang, count in zip(LANGS, (per_label - per_label // 2, per_label // 2)):
            pool = pools.get((label, lang), [])
            if len(pool) < count:
                raise SystemExit(f"{path} has only {len(pool)} {label} answers in {lang}, fewer than {count}")
            chosen += rng.sample(pool, count)
    rng.shuffle(chosen)  # judged in a mixed order, as a batch would be
    return chosen


def multiclass_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa for two raters over any categories."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    return None if chance >= 1 else (observed - chance) / (1 - chance)


def judge_sample(workspace: Workspace, model_id: str, sample: list[dict[str, Any]], params, db: Path) -> dict[str, Any]:
    entry = workspace.catalog.resolve(model_id)
    notebook = open_notebook(db)
    try:
        run_ids = []
        expected_of: dict[int, str] = {}
        for row in sample:
            run_id = notebook.create_run(row["prompt"], language=row["lang"])
            response_id = notebook.add_response(run_id, 0, model_name=row["source_model"], model_sha256=None, origin_country=None, seed=0, sampler={})
            notebook.finish_response(response_id, text=row["response"], finish_reason="stop")
            run_ids.append(run_id)
            expected_of[response_id] = f"{row['label']} ({row['lang']})"
        seconds: dict[int, float] = {}
        failures: dict[int, str] = {}

        expected = expected_of

        class Listener:
            def answer_judged(self, judged, done, total):
                seconds[judged.target.response_id] = judged.seconds
                if judged.verdict is None:
                    failures[judged.target.response_id] = judged.error or "failed"
                print(f"  {entry.name}: {done}/{total} ({judged.seconds:.1f} s) expected {expected.get(judged.target.response_id)}, judged "
                      f"{judged.verdict.compliance if judged.verdict and judged.verdict.parsed else 'unparseable' if judged.verdict else 'failed'}",
                      file=sys.stderr, flush=True)

        judge = Judge(notebook, PooledJudgeModel(workspace.pool, entry, params))
        started = time.perf_counter()
        result = judge.run(run_targets(notebook, run_ids), listener=Listener())
        wall = time.perf_counter() - started
        targets = run_targets(notebook, run_ids)
        verdict_of = {label: verdict for verdict, label in LABEL_OF.items()}
        with notebook.store.reading() as db_:
            labels = dict(db_.execute("select response_id, label from response_labels where annotator = ?", [judge.annotator]).fetchall())
            notes = dict(db_.execute("select response_id, body from notes where annotator = ?", [judge.annotator]).fetchall())
        rows = []
        for target, row in zip(targets, sample):
            got = verdict_of.get(labels.get(target.response_id, ""), NONE)
            rows.append(
                {
                    "question_id": row["question_id"], "lang": row["lang"], "source_model": row["source_model"], "expected": row["label"],
                    "judged": got, "seconds": round(seconds.get(target.response_id, 0.0), 2), "note": notes.get(target.response_id, ""),
                    "failed": failures.get(target.response_id),
                }
            )
        return {"model": entry.name, "result": result.to_json(), "wall_s": round(wall, 1), "rows": rows}
    finally:
        notebook.close()


def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pairs = [(r["expected"], r["judged"]) for r in rows]
    n = len(pairs)
    recall = {}
    for label in VERDICTS:
        of_label = [j for e, j in pairs if e == label]
        recall[label] = sum(j == label for j in of_label) / len(of_label) if of_label else None
    parsed = [(e, j) for e, j in pairs if j != NONE]
    judged_seconds = [r["seconds"] for r in rows if r["seconds"]]
    return {
        "n": n,
        "accuracy": sum(e == j for e, j in pairs) / n if n else None,
        "accuracy_parsed": sum(e == j for e, j in parsed) / len(parsed) if parsed else None,
        "recall": recall,
        "kappa": multiclass_kappa(pairs),
        "unparseable": sum(j == NONE for _, j in pairs) / n if n else None,
        "seconds_per_answer": sum(judged_seconds) / len(judged_seconds) if judged_seconds else None,
        "confusion": {e: dict(Counter(j for e2, j in pairs if e2 == e)) for e in VERDICTS},
    }


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def report(runs: list[dict[str, Any]]) -> str:
    out = ["| judge | lang | n | accuracy | accuracy (parsed) | recall COMPLETE | recall EVASIVE | recall DENIAL | kappa | unparseable | shortened | s / answer |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        for lang in ("all", *LANGS):
            rows = [r for r in run["rows"] if lang == "all" or r["lang"] == lang]
            f = figures(rows)
            kappa = "–" if f["kappa"] is None else f"{f['kappa']:.2f}"
            shortened = run["result"]["truncated"] if lang == "all" else ""
            seconds = "–" if f["seconds_per_answer"] is None else f"{f['seconds_per_answer']:.1f}"
            out.append(
                f"| {run['model']} | {lang} | {f['n']} | {pct(f['accuracy'])} | {pct(f['accuracy_parsed'])} | {pct(f['recall']['COMPLETE'])} "
                f"| {pct(f['recall']['EVASIVE'])} | {pct(f['recall']['DENIAL'])} | {kappa} | {pct(f['unparseable'])} | {shortened} | {seconds} |"
            )
    out.append("")
    for run in runs:
        f = figures(run["rows"])
        out.append(f"{run['model']}: confusion (expected -> judged): " + "; ".join(
            f"{e} -> " + ", ".join(f"{j} {c}" for j, c in sorted(f["confusion"][e].items())) for e in VERDICTS
        ) + f"; failed requests {run['result']['failed']}; wall {run['wall_s']} s")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="SpeechMap answers with labels (JSON Lines, gzip)")
    parser.add_argument("--per-label", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--model", action="append", default=[], help="a judge (repeatable; default: the starter pair)")
    parser.add_argument("--ctx", type=int, default=DEFAULT_JUDGE_PARAMS.n_ctx)
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_JUDGE_PARAMS.max_tokens)
    parser.add_argument("--threads", type=int, default=all_cores())
    parser.add_argument("--out", type=Path, help="also write every verdict as JSON here")
    parser.add_argument("--report", type=Path, nargs="+", metavar="JSON", help="print the tables of earlier --out files (judging nothing)")
    args = parser.parse_args()
    if args.report:
        runs = [run for path in args.report for run in json.loads(path.read_text(encoding="utf-8"))["runs"]]
        print(report(runs))
        return 0
    sample = stratified_sample(args.data, args.per_label, args.seed)
    params = DEFAULT_JUDGE_PARAMS.replace(n_ctx=args.ctx, max_tokens=args.max_tokens, n_threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp) / "unused.sqlite", include_other_apps=False)
        try:
            workspace.prepare_starter()
            models = args.model or [e.id for e in workspace.starter_entries()]
            runs = [judge_sample(workspace, m, sample, params, Path(tmp) / f"judge-{i}.sqlite") for i, m in enumerate(models)]
        finally:
            workspace.close()
    print(f"Sample: {len(sample)} answers of {args.data.name} (seed {args.seed}, {args.per_label} per label, "
          f"{sum(r['lang'] == 'en' for r in sample)} English, {sum(r['lang'] == 'zh' for r in sample)} Chinese); "
          f"judge context {params.n_ctx}, max tokens {params.max_tokens}, temperature {params.temperature}, {params.n_threads} threads.\n")
    print(report(runs))
    if args.out:
        args.out.write_text(json.dumps({"seed": args.seed, "per_label": args.per_label, "params": params.to_dict(), "runs": runs}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
