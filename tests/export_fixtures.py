"""A small annotated notebook shared by the export and import tests (no tests of its own).

Two models (one US, one Chinese), three runs (one in a session, two linked
as a language shift), answers with hostile text, labels by two annotators,
highlights, notes, ratings, machine flags, and audience votes on the first
run by two teachers (ana and cy).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from workbench.core.notebook.votes import TIE
from workbench.core.notebook import open_notebook
from workbench.core.notebook.database import ModelRecord, Notebook

US_SHA = "a" * 64
CN_SHA = "b" * 64
HOSTILE = (
    "<script>alert(1)</script> <img src=http://evil.example/x.png onerror=alert(2)> "
    "[click](javascript:alert(3)) ![tracker](https://evil.example/t.png) "
    "=HYPERLINK(\"http://evil.example\") \u202eevil\u202c \x07bell " + "x" * 5000
)
CHINESE = "天安门广场在1989年6月发生了抗议活动，人群被驱散。"


def build(path: Path) -> Notebook:
    notebook = open_notebook(path)
    notebook.record_model(ModelRecord(US_SHA, "SmolLM2-135M-Instruct", "/home/alice/models/smol.gguf", quantization="Q4_1", maker="HuggingFaceTB", origin_country="US", chat_template_sha256="c" * 64, metadata={"general.name": "SmolLM2"}))
    notebook.record_model(ModelRecord(CN_SHA, "Qwen2.5-Coder-0.5B-Instruct", "/home/alice/models/qwen.gguf", quantization="Q4_K_M", maker="Alibaba", origin_country="CN"))
    runs = []
    for prompt, language, answers in (
        ("What happened at Tiananmen Square in June 1989?", "en", (HOSTILE, "I'm sorry, but I can't assist with that.")),
        ("1989年6月天安门广场发生了什么？", "zh", ("A meeting about an Anti-Terrorism Act.", CHINESE)),
        ("-1+1 =SUM(A1) @me", "en", ("=cmd|' /C calc'!A0", "+1")),
    ):
        run_id = notebook.create_run(prompt, language=language, settings={"temperature": 0.0, "seed": 7})
        for position, (text, sha, name, country) in enumerate(zip(answers, (US_SHA, CN_SHA), ("SmolLM2", "Qwen2.5-Coder"), ("US", "CN"))):
            rid = notebook.add_response(run_id, position, model_name=name, model_sha256=sha, origin_country=country, seed=7, sampler={"temperature": 0.0, "top_p": 0.95})
            notebook.finish_response(
                rid, text=text, reasoning="", finish_reason="stop", prompt_tokens=12, completion_tokens=40, ttft_s=0.2, tokens_per_s=25.0,
                duration_s=1.8, load_s=0.3, llama_cpp_version="llama-cpp-python 0.3.36", chat_template="gguf", template_sha256="d" * 64,
                timeline=f"[[200, 0, {min(5, len(text))}]]",
            )
        runs.append(run_id)
    first, second, third = (notebook.run(r)["responses"] for r in runs)
    ann = notebook.annotations
    notebook.labels.create("whataboutism", annotator="ana", title="Whataboutism <b>", definition="Answers a criticism with another.")
    for annotator, labels in (("ana", ("factual_error", "hard_refusal", "answered", "state_narrative")), ("bo", ("factual_error", "evasive", "answered", "answered"))):
        for response, label in zip((first[0], first[1], second[0], second[1]), labels):
            ann.add_label(response["id"], label, annotator=annotator)
    ann.add_label(third[0]["id"], "whataboutism", annotator="ana")
    ann.add_span(second[1]["id"], "text", 0, 5, annotator="ana", labels=["state_narrative"], note="Official <i>framing</i> ![x](http://evil.example/n.png)")
    ann.add_span(first[0]["id"], "text", 0, 8, annotator="bo", labels=["factual_error"])
    ann.set_response_note(first[0]["id"], "Note with <script>alert('note')</script> and [link](javascript:alert(1))", annotator="ana")
    ann.set_response_note(first[0]["id"], "Bo's view: **fabricated**.", annotator="bo")
    ann.set_run_note(runs[0], "Run note \u202e reversed", annotator="ana")
    ann.set_divergence(runs[0], "opposite", annotator="ana")
    ann.set_summary(runs[0], "One refuses, one invents.", annotator="ana")
    ann.set_divergence(runs[0], "substantive", annotator="bo")
    ann.link_language_shift(runs[0], runs[1], annotator="ana", note="same question, two languages")
    votes = notebook.votes
    for annotator, choice, count in (("ana", "pane:0", 12), ("ana", "pane:1", 5), ("ana", TIE, 3), ("cy", "pane:1", 2)):
        votes.add(runs[0], choice, count, annotator=annotator)
    session = notebook.sessions.create("June 1989", annotator="ana")
    notebook.sessions.move_runs([runs[0], runs[1]], session.id, annotator="ana")
    with notebook.store.writing() as db:
        db.execute(
            "insert into flags (run_id, response_id, name, source, detector, evidence, created_at, updated_at) values (?, ?, 'hard_refusal', 'auto', 'refusal-phrases/1', ?, '2026-01-01T00:00:00.000+00:00', '2026-01-01T00:00:00.000+00:00')",
            [runs[0], first[1]["id"], '[{"rule": "sorry", "text": "I\'m sorry", "start": 0, "end": 9}]'],
        )
    return notebook


def snapshot(path: Path) -> str:
    """Every row of every table, to show a notebook did not change at all."""
    notebook = open_notebook(path)
    try:
        with notebook.store.reading() as db:
            tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table' and name not like '%fts%' order by name")]
            dump = {t: [list(row) for row in db.execute(f"select * from [{t}] order by rowid")] for t in tables}
    finally:
        notebook.close()
    return hashlib.sha256(json.dumps(dump, default=str).encode()).hexdigest()
