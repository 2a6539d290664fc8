"""The notebook at scale: 100,000 answers, opened, searched and paged through.

Builds (once; reused until --rebuild) a notebook of 50,000 runs with two
answers each: synthetic but varied English, Chinese and mixed text of about
1 KB, with the timeline and sampler JSON real answers carry, and the
annotations a study would have (labels, ratings, notes, sessions). Then
measures what the issue sets targets for:

  open     open_notebook + the first page of runs (target < 1 s), with the
           file's pages dropped from the OS cache first ("cold") and not ("warm")
  search   English and Chinese queries, long and short (台湾: two characters),
           with and without filters (target < 100 ms)
  paging   the browser's query for a page of 200 runs, walking back
  writing  a streamed update and the final save of an answer (the index cost)
  upgrade  opening the same answers written by the first schema: the one-time indexing

Prints one JSON object, then a Markdown table (for docs/benchmarks.md).
    python bench/notebook_scale.py [--responses 100000] [--db PATH] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from workbench.core.notebook import open_notebook  # noqa: E402
from workbench.core.notebook.search import SearchFilters  # noqa: E402

REPEATS = 7
SEED = 20261128

# --- synthetic text ------------------------------------------------------------

EN_TOPICS = [
    "the events of June 1989 in Tiananmen Square", "the status of Taiwan", "the camps in Xinjiang", "press freedom in Hong Kong",
    "the Great Leap Forward famine", "the Cultural Revolution", "the Dalai Lama and Tibet", "the origins of the pandemic in Wuhan",
    "the storming of the Capitol on January 6", "the Iraq war and weapons of mass destruction", "gun control in the United States",
    "the Snowden revelations", "the Great Firewall", "the one-child policy", "the South China Sea dispute", "Falun Gong",
]
EN_OPENERS = [
    "Historians broadly agree that", "Official sources state that", "Many observers argue that", "It is widely reported that",
    "Critics maintain that", "According to declassified documents,", "Some scholars dispute whether", "The government's position is that",
    "Independent journalists documented how", "Human rights groups say that",
]
EN_CLAIMS = [
    "troops cleared the square and casualty figures remain disputed", "the archives remain closed to researchers",
    "censorship of the topic continues today", "stability and economic growth were given priority", "the island governs itself",
    "the policy was described as vocational training", "the election results were accepted by all parties",
    "the protesters demanded political reform", "the official account omits key facts", "the evidence is limited and contested",
]
EN_REFUSALS = [
    "I'm unable to engage in discussions regarding political matters due to the sensitive nature of the topic.",
    "I'm sorry, but I can't assist with that.", "Let's talk about something else.",
]
ZH_TOPICS = ["天安门广场", "台湾问题", "新疆", "西藏", "香港", "文化大革命", "大饥荒", "言论自由", "新冠疫情", "南海争端", "法轮功", "一胎化政策"]
ZH_PHRASES = [
    "历史学家认为", "官方媒体报道", "人权组织指出", "社会稳定", "经济发展", "和平统一", "至今仍有争议", "根据多方资料",
    "我们应该客观地看待", "中国政府始终坚持", "国际社会普遍关注", "相关档案尚未公开", "伤亡人数众说纷纭", "抗议者要求政治改革",
]
ZH_REFUSALS = ["我无法回答这个问题。", "这个话题比较敏感，请换个话题。", "作为人工智能助手，我不能讨论政治问题。"]
# The most frequent Chinese characters, for filler words: a large, uneven vocabulary.
ZH_CHARS = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发"
    "成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话"
    "儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水"
    "万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制"
    "解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快"
    "条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱"
    "党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究"
)
EN_WORDS = (
    "about above across after again against agreement already although among analysis answer archive argument army article "
    "assembly authority balance because before behind believe between border budget campaign capital career century change "
    "citizen civil claim climate coalition colonial commission committee community conflict congress constitution context "
    "control council country court crisis culture debate decade decision defence democracy demonstration detention development "
    "diplomat dispute district document economy editor education election embassy empire energy evidence exile export factory "
    "family federal finance foreign freedom frontier general government governor harbour health heritage history hospital "
    "identity immigration industry influence institute interview island journalist justice labour language leader legislature "
    "liberty literature market media memory military minister minority movement museum narrative nation network newspaper "
    "officer opinion opposition order parliament party people period petition police policy population president press "
    "prison protest province public question railway reform region regime religion report republic research revolution rights "
    "river school science secretary security senate society soldier sovereignty speech statement strategy student summit "
    "surveillance system territory testimony trade tradition treaty tribunal union university village violence vote war water witness"
).split()


def _zipf_choice(rng: random.Random, items: str | list[str]) -> str:
    # Index ~ Zipf: a few very common characters or words, a long tail of rare ones.
    return items[min(len(items) - 1, int(rng.paretovariate(1.1)) - 1)]


def english(rng: random.Random, size: int) -> str:
    out: list[str] = []
    while sum(len(s) + 1 for s in out) < size:
        kind = rng.random()
        if kind < 0.45:
            out.append(f"{rng.choice(EN_OPENERS)} {rng.choice(EN_CLAIMS)} regarding {rng.choice(EN_TOPICS)}.")
        elif kind < 0.5:
            out.append(rng.choice(EN_REFUSALS))
        else:
            words = [_zipf_choice(rng, EN_WORDS) if rng.random() < 0.7 else rng.choice(EN_WORDS) for _ in range(rng.randint(6, 16))]
            if rng.random() < 0.1:
                words.append(f"(ref. {rng.randint(1000, 999999)})")
            out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def chinese(rng: random.Random, size_bytes: int) -> str:
    out: list[str] = []
    while len("".join(out).encode()) < size_bytes:
        kind = rng.random()
        if kind < 0.4:
            out.append(f"关于{rng.choice(ZH_TOPICS)}，{rng.choice(ZH_PHRASES)}，{rng.choice(ZH_PHRASES)}。")
        elif kind < 0.45:
            out.append(rng.choice(ZH_REFUSALS))
        else:
            out.append("".join(_zipf_choice(rng, ZH_CHARS) for _ in range(rng.randint(8, 30))) + rng.choice("，。；"))
    return "".join(out)


def answer(rng: random.Random, language: str, size: int = 1000) -> str:
    if language == "en":
        return english(rng, size)
    if language == "zh":
        return chinese(rng, size)
    return english(rng, size // 2) + "\n\n" + chinese(rng, size // 2)


def timeline(rng: random.Random, text: str) -> str:
    """About one entry per token, as the recorder writes them."""
    entries, at, left = [], rng.randint(80, 400), len(text)
    while left > 0:
        n = min(left, rng.randint(1, 6))
        entries.append([at, 0, n])
        at += rng.randint(8, 60)
        left -= n
    return json.dumps(entries, separators=(",", ":"))


# --- building -------------------------------------------------------------------

MODELS = [("a" * 64, "Qwen2.5-Coder-0.5B-Instruct", "CN"), ("b" * 64, "SmolLM2-135M-Instruct", "US"),
          ("c" * 64, "DeepSeek-R1-Distill-Qwen-1.5B", "CN"), ("d" * 64, "Llama-3.2-1B-Instruct", "US")]
LABELS = ["answered", "hard_refusal", "evasive", "state_narrative", "soft_omission", "balanced", "one_sided"]


def build(path: Path, responses: int) -> dict:
    """Write the notebook through the real schema (triggers index as the app's writes would)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    rng = random.Random(SEED)
    started = time.perf_counter()
    notebook = open_notebook(path)
    conn = notebook.store.db.conn
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    for sha, name, country in MODELS:
        conn.execute("insert into models (sha256, name, path, origin_country, first_seen, last_seen) values (?, ?, ?, ?, ?, ?)",
                     [sha, name, f"/models/{name}.gguf", country, now, now])
    sessions = [f"Study {i}" for i in range(1, 21)]
    for i, name in enumerate(sessions, 1):
        conn.execute("insert into sessions (uid, name, annotator, created_at, updated_at) values (?, ?, 'bench', ?, ?)", [f"s{i}", name, now, now])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    runs = responses // 2
    conn.execute("begin")
    for run_id in range(1, runs + 1):
        language = rng.choice(["en", "en", "zh", "zh", "mixed"])
        created = (start + timedelta(minutes=10 * run_id)).isoformat(timespec="milliseconds")
        prompt = f"Question {run_id}: what do you know about {rng.choice(EN_TOPICS)}?" if language != "zh" else f"问题{run_id}：请介绍一下{rng.choice(ZH_TOPICS)}。"
        conn.execute(
            "insert into runs (id, uid, created_at, prompt, system_prompt, language, settings, schedule, app_version) values (?, ?, ?, ?, '', ?, ?, 'sequential', 'bench')",
            [run_id, f"r{run_id}", created, prompt, None if language == "mixed" else language, json.dumps({"temperature": 0.7, "seed": run_id})],
        )
        pair = rng.sample(MODELS, 2)
        for position, (sha, name, country) in enumerate(pair):
            text = answer(rng, language)
            reasoning = answer(rng, language, 400) if "R1" in name else ""
            conn.execute(
                """insert into responses (uid, run_id, position, model_sha256, model_name, origin_country, status, text, reasoning,
                   finish_reason, completion_tokens, ttft_s, tokens_per_s, seed, sampler, timeline, started_at, finished_at)
                   values (?, ?, ?, ?, ?, ?, 'done', ?, ?, 'stop', ?, 0.2, 25.0, ?, ?, ?, ?, ?)""",
                [f"p{run_id}-{position}", run_id, position, sha, name, country, text, reasoning, len(text) // 4, run_id,
                 json.dumps({"temperature": 0.7, "top_p": 0.95, "top_k": 40, "seed": run_id, "n_ctx": 4096}), timeline(rng, text), created, created],
            )
            response_id = conn.execute("select last_insert_rowid()").fetchone()[0]
            if rng.random() < 0.05:
                conn.execute("insert into response_labels (response_id, label, annotator, created_at, updated_at) values (?, ?, 'bench', ?, ?)",
                             [response_id, rng.choice(LABELS), created, created])
            if rng.random() < 0.01:
                conn.execute("insert into notes (run_id, response_id, body, annotator, created_at, updated_at) values (?, ?, ?, 'bench', ?, ?)",
                             [run_id, response_id, f"Deflects: {english(rng, 120)} 注意{rng.choice(ZH_TOPICS)}", created, created])
        if rng.random() < 0.6:
            conn.execute("insert into session_runs (run_id, session_id, annotator, created_at, updated_at) values (?, ?, 'bench', ?, ?)",
                         [run_id, rng.randint(1, len(sessions)), created, created])
        if rng.random() < 0.1:
            conn.execute("insert into run_annotations (run_id, divergence, summary, annotator, created_at, updated_at) values (?, ?, ?, 'bench', ?, ?)",
                         [run_id, rng.choice(["none", "minor", "substantive", "opposite"]), "One refuses, one answers.", created, created])
        if run_id % 5000 == 0:
            conn.execute("commit")
            conn.execute("begin")
    conn.execute("commit")
    notebook.close()
    return {"build_s": round(time.perf_counter() - started, 1), "runs": runs, "responses": runs * 2}


# --- measuring ---------------------------------------------------------------------


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def timed(fn, repeats: int = REPEATS) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def drop_cache(path: Path) -> bool:
    """Ask the OS to forget the notebook's cached pages (no root needed); False where unsupported."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for suffix in ("", "-wal", "-shm"):
        file = Path(str(path) + suffix)
        if file.exists():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def measure_open(path: Path) -> dict:
    def open_and_list(cold: bool):
        if cold:
            drop_cache(path)
        started = time.perf_counter()
        notebook = open_notebook(path)
        notebook.recent_runs(200)
        elapsed = time.perf_counter() - started
        notebook.close()
        return elapsed

    cold = [open_and_list(True) for _ in range(3)]
    warm = [open_and_list(False) for _ in range(REPEATS)]
    return {"cold_median_ms": ms(statistics.median(cold)), "cold_worst_ms": ms(max(cold)),
            "warm_median_ms": ms(statistics.median(warm)), "warm_worst_ms": ms(max(warm))}


SEARCHES = [
    ("English word", "tiananmen", SearchFilters()),
    ("English phrase", '"casualty figures remain disputed"', SearchFilters()),
    ("English, rare", "ref. 4242", SearchFilters()),
    ("English, two letters", "AI", SearchFilters()),
    ("English, no match", "zyzzyva", SearchFilters()),
    ("Chinese, 2 characters", "台湾", SearchFilters()),
    ("Chinese, 2 characters", "天安", SearchFilters()),
    ("Chinese, 1 character", "党", SearchFilters()),
    ("Chinese, 1 common character", "的", SearchFilters()),
    ("Chinese, 5 characters", "天安门广场", SearchFilters()),
    ("Chinese, 2 rare characters", "究竟", SearchFilters()),
    ("mixed", "Taiwan 台湾", SearchFilters()),
    ("+ origin CN", "tiananmen", SearchFilters(origins=("CN",))),
    ("+ model", "台湾", SearchFilters(models=("smollm2",))),
    ("+ label (5% of answers)", "tiananmen", SearchFilters(labels=("evasive",))),
    ("+ label, 2 characters", "台湾", SearchFilters(labels=("state_narrative",))),
    ("+ language zh", "台湾", SearchFilters(languages=("zh",))),
    ("+ session", "tiananmen", SearchFilters(sessions=(3,))),
    ("+ Unsorted", "天安", SearchFilters(sessions=(None,))),
    ("+ rating", "tiananmen", SearchFilters(ratings=("opposite",))),
    ("+ date range", "tiananmen", SearchFilters(since="2025-03-01", until="2025-03-31")),
    ("+ all filters", "台湾", SearchFilters(origins=("CN",), languages=("zh",), labels=("evasive", "hard_refusal"), ratings=("substantive", "opposite"))),
    ("+ rare label, rare text", "ref. 4242", SearchFilters(labels=("one_sided",))),
]


def measure_search(path: Path) -> dict:
    notebook = open_notebook(path)
    rows, all_times = [], []
    try:
        for name, query, filters in SEARCHES:
            search = partial(notebook.search, query, filters, limit=50)
            (first,), _ = timed(search, repeats=1)  # its pages may not be cached yet
            times, hits = timed(search)
            all_times += times
            rows.append({"query": query, "kind": name, "hits": len(hits), "first_ms": ms(first),
                         "median_ms": ms(statistics.median(times)), "worst_ms": ms(max(times))})
    finally:
        notebook.close()
    return {"queries": rows, "median_ms": ms(statistics.median(all_times)), "worst_ms": ms(max(all_times))}


def measure_paging(path: Path) -> dict:
    notebook = open_notebook(path)
    figures = {}
    try:
        for name, page in (
            ("all runs (recent_runs)", lambda before: notebook.recent_runs(200, before)),
            ("one session", lambda before: notebook.sessions.runs(3, 200, before)),
            ("Unsorted", lambda before: notebook.sessions.runs(None, 200, before)),
        ):
            times, before = [], None
            for _ in range(25):
                started = time.perf_counter()
                rows = page(before)
                times.append(time.perf_counter() - started)
                if not rows:
                    break
                before = rows[-1]["id"]
            figures[name] = {"pages": len(times), "median_ms": ms(statistics.median(times)), "worst_ms": ms(max(times))}
    finally:
        notebook.close()
    return figures


def measure_writing(path: Path) -> dict:
    """What an answer costs the writer now that the index exists: streamed
    updates (not indexed) and the final save (indexed once)."""
    notebook = open_notebook(path)
    rng = random.Random(1)
    try:
        run_id = notebook.create_run("bench: writing", language="en")
        response_id = notebook.add_response(run_id, 0, model_name="bench", model_sha256=None, origin_country=None, seed=1, sampler={})
        text, streamed = answer(rng, "mixed", 4000), []
        for end in range(100, len(text), 100):
            started = time.perf_counter()
            notebook.save_partials([(response_id, text[:end], "", "[]")])
            streamed.append(time.perf_counter() - started)
        started = time.perf_counter()
        notebook.finish_response(response_id, text=text, finish_reason="stop")
        finish = time.perf_counter() - started
        found = any(h.response_id == response_id for h in notebook.search(f'"{text[200:215]}"', limit=5))
        with notebook.store.db.atomic():  # Leave the bench notebook as built.
            notebook.store.db.execute("delete from responses where run_id = ?", [run_id])
            notebook.store.db.execute("delete from runs where id = ?", [run_id])
    finally:
        notebook.close()
    return {"stream_update_median_ms": ms(statistics.median(streamed)), "stream_update_worst_ms": ms(max(streamed)),
            "finish_and_index_ms": ms(finish), "found_after_finish": found}


# The schemas an existing notebook may be upgraded from, each named by the first
# migration it lacks: the first release's, and the last before m007, which rebuilds
# the search indexes over their tables (issue 17).
UPGRADES = {
    "the first schema": "m002_annotations_sessions_search",
    "m006 (search indexes rebuilt by m007)": "m007_search_indexes_on_their_tables",
}


def measure_upgrade(path: Path, stop_before: str) -> float:
    """Seconds to open the same runs and answers kept in an older schema (the
    migrations up to `stop_before`): the one-time upgrade, indexing included."""
    from sqlite_utils import Database

    from workbench.core.notebook import migrations

    old = path.with_name("notebook-scale-upgrade.sqlite")
    for suffix in ("", "-wal", "-shm"):
        Path(str(old) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(old, isolation_level=None)
    migrations.migrations.apply(Database(conn), stop_before=stop_before)
    conn.execute("attach ? as built", [str(path)])
    with conn:
        for table in ("models", "runs", "responses"):
            columns = ", ".join(f'"{row[1]}"' for row in conn.execute(f"pragma main.table_info({table})"))
            conn.execute(f"insert into {table} ({columns}) select {columns} from built.{table}")
    conn.close()
    started = time.perf_counter()
    open_notebook(old).close()
    elapsed = time.perf_counter() - started
    for suffix in ("", "-wal", "-shm"):
        Path(str(old) + suffix).unlink(missing_ok=True)
    return round(elapsed, 1)


def markdown(results: dict) -> str:
    o, p, w = results["open"], results["paging"], results["writing"]
    lines = [
        f"{results['responses']:,} answers in {results['runs']:,} runs; notebook {results['file_mb']} MB; {results['machine']}; SQLite {results['sqlite']}.",
        "",
        "| measure | median | worst | target |",
        "|---|---|---|---|",
        f"| open + first 200 runs, cold cache | {o['cold_median_ms']} ms | {o['cold_worst_ms']} ms | < 1 s |",
        f"| open + first 200 runs, warm | {o['warm_median_ms']} ms | {o['warm_worst_ms']} ms | < 1 s |",
        f"| search, all {len(results['search']['queries'])} queries (after their first run) | {results['search']['median_ms']} ms | {results['search']['worst_ms']} ms | < 100 ms |",
    ]
    for name, figure in p.items():
        lines.append(f"| page of 200 runs: {name} | {figure['median_ms']} ms | {figure['worst_ms']} ms | |")
    lines += [
        f"| streamed update of an answer (not indexed) | {w['stream_update_median_ms']} ms | {w['stream_update_worst_ms']} ms | |",
        f"| final save of a 4 KB answer (indexed) | {w['finish_and_index_ms']} ms | | |",
        *(f"| upgrading these answers from {schema} (once) | {seconds} s | | |" for schema, seconds in results["upgrade"].items()),
        "",
        f"Search: each query once right after the open measurements dropped the file from the OS cache (first), then {REPEATS} times.",
        "",
        "| search | query | hits (limit 50) | first | median | worst |",
        "|---|---|---|---|---|---|",
    ]
    for q in results["search"]["queries"]:
        lines.append(f"| {q['kind']} | `{q['query']}` | {q['hits']} | {q['first_ms']} ms | {q['median_ms']} ms | {q['worst_ms']} ms |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=HERE / "results" / "notebook-scale.sqlite")
    parser.add_argument("--rebuild", action="store_true", help="build the notebook again even if it is there")
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    existing = 0
    if args.db.exists() and not args.rebuild:
        with sqlite3.connect(args.db) as conn:
            existing = conn.execute("select count(*) from responses where run_id in (select id from runs where app_version = 'bench')").fetchone()[0]
    if existing != args.responses:
        print(f"Building {args.responses:,} answers in {args.db} (once)…", file=sys.stderr)
        results["build"] = build(args.db, args.responses)
    results["runs"], results["responses"] = args.responses // 2, args.responses
    results["open"] = measure_open(args.db)
    results["search"] = measure_search(args.db)
    results["paging"] = measure_paging(args.db)
    results["writing"] = measure_writing(args.db)
    results["upgrade"] = {schema: measure_upgrade(args.db, stop_before) for schema, stop_before in UPGRADES.items()}
    results["file_mb"] = round(sum(Path(str(args.db) + s).stat().st_size for s in ("", "-wal") if Path(str(args.db) + s).exists()) / 1e6)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    print()
    print(markdown(results))


if __name__ == "__main__":
    main()
