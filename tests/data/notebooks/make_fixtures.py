"""Writes m001.sqlite: a notebook as the first released schema (m001) left it.

Kept in the repository, not rebuilt by the tests, so that the upgrade test
opens a file the old code really wrote, even if m001's code were ever
(wrongly) edited. Run from the repository root to re-create it:

    python tests/data/notebooks/make_fixtures.py
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from sqlite_utils import Database  # noqa: E402

from workbench.core.notebook import migrations  # noqa: E402

QWEN, SMOL = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
RUNS = [
    # (id, prompt, language, [(model sha, name, country, status, text, reasoning, finish_reason)])
    (1, "What happened at Tiananmen Square in June 1989?", "en", [
        (QWEN, "Qwen2.5-Coder-0.5B-Instruct", "CN", "done",
         "I'm unable to engage in discussions regarding political matters due to the sensitive nature of the topic.", "", "stop"),
        (SMOL, "SmolLM2-135M-Instruct", "US", "done",
         "In June 1989, a meeting was held in Tiananmen Square to discuss the Anti-Terrorism Act. 🙂", "", "stop"),
    ]),
    (2, "1989年6月天安门广场发生了什么？", "zh", [
        (QWEN, "Qwen2.5-Coder-0.5B-Instruct", "CN", "done", "1989年6月，天安门广场发生了抗议活动，人群被驱散。", "", "stop"),
        (SMOL, "SmolLM2-135M-Instruct", "US", "streaming", "天安门广场是北京的", "先想一想台湾", None),
    ]),
]


def main() -> None:
    path = HERE / "m001.sqlite"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    db = Database(conn)
    migrations.migrations.apply(db, stop_before="m002_annotations_sessions_search")
    assert migrations.applied_names(db) == ["m001_models_runs_responses"]
    when = "2026-11-20T10:00:00.000+00:00"
    for sha, name, country in ((QWEN, "Qwen2.5-Coder-0.5B-Instruct", "CN"), (SMOL, "SmolLM2-135M-Instruct", "US")):
        db["models"].insert({"sha256": sha, "name": name, "path": f"/models/{name}.gguf", "origin_country": country,
                             "origin_source": "table", "metadata": "{}", "first_seen": when, "last_seen": when})
    response_id = 0
    for run_id, prompt, language, responses in RUNS:
        db["runs"].insert({"id": run_id, "uid": f"run{run_id:029d}", "created_at": f"2026-11-2{run_id}T10:00:00.000+00:00",
                           "prompt": prompt, "system_prompt": "", "language": language, "settings": json.dumps({"seed": 7}),
                           "schedule": "sequential", "app_version": "0.1.0"})
        for position, (sha, name, country, status, text, reasoning, finish) in enumerate(responses):
            response_id += 1
            db["responses"].insert({"id": response_id, "uid": f"resp{response_id:028d}", "run_id": run_id, "position": position,
                                    "model_sha256": sha, "model_name": name, "origin_country": country, "status": status,
                                    "text": text, "reasoning": reasoning, "finish_reason": finish, "seed": 7,
                                    "sampler": json.dumps({"seed": 7}), "timeline": "[[120,0,4]]"})
    conn.execute("vacuum")
    conn.close()


if __name__ == "__main__":
    main()
