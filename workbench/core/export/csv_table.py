"""CSV: one row per answer, for pandas, R or a spreadsheet.

Every turn's answers: `turn` is 0 for the run's prompt, 1, 2, … for its follow-ups, and
`prompt` and `language` are that turn's (what the answer answered).

Text cells that a spreadsheet would run as a formula (starting with =, +,
-, @, tab or carriage return) get a leading single quote (`text.csv_cell`);
numbers are written as numbers. Multi-valued cells (labels, flags, ratings)
are joined with "; ". `flags` are the automatic flags' names (suggestions,
not people's labels); `flag_basis` and `flag_confidence` say, per flag name,
what it rests on and the classifier's probability ("hard_refusal: 0.97"),
`flag_detector` which detector version wrote them. `thinking` and `reasoning_effort` are
the chat template's switches as set ("default": the template's own), "(no effect)" added
when the model's template ignored the setting. `votes` is the audience's votes for that answer
(`pane:N` of its run, summed over annotators); votes for a tie belong to the
run, not to an answer, so only the JSON Lines export and the reports carry them. `ran_on` (the
last column, added later) is what ran the model: "CPU", "CUDA (29 of 29 layers)", …; empty for
answers saved before it was recorded and for endpoints'. UTF-8 with a byte-order mark, so Excel reads Chinese.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ..engine.offload import RAN_ON
from ..engine.offload import describe as describe_ran_on
from ..engine.switches import VARIABLES, recorded_setting
from ..notebook.votes import pane_choice
from .collect import ExportData, every_turn_response, vote_counts
from .text import csv_cell

COLUMNS = (
    "run_id", "run_uid", "response_id", "response_uid", "created_at", "position", "turn", "model", "model_sha256",
    "maker", "origin", "quantization", "prompt", "system_prompt", "language", "status", "finish_reason",
    "labels", "label_annotations", "flags", "flag_basis", "flag_confidence", "flag_detector", "rating", "votes", "prompt_tokens", "completion_tokens", "ttft_s",
    "tokens_per_s", "duration_s", "load_s", "seed", "temperature", "thinking", "reasoning_effort", "text", "reasoning",
    "ran_on",
)  # fmt: skip


def rows(data: ExportData) -> Iterator[list[Any]]:
    models = {m["sha256"]: m for m in data.models}
    for run in data.runs:
        rating = "; ".join(f"{a['annotator']}: {a['divergence']}" for a in run["assessments"] if a["divergence"])
        votes = vote_counts(run)
        asked = {turn["turn"]: turn for turn in run["turns"]} | {0: run}
        for r in every_turn_response(run):
            model = models.get(r["model_sha256"] or "", {})
            turn = asked[r["turn"]]
            yield [
                run["id"], run["uid"], r["id"], r["uid"], run["created_at"], r["position"], r["turn"], r["model_name"], r["model_sha256"],
                model.get("maker"), r["origin_country"] or model.get("origin_country"), model.get("quantization"),
                turn["prompt"], run["system_prompt"], turn["language"], r["status"], r["finish_reason"],
                "; ".join(sorted({label["label"] for label in r["labels"]})),
                "; ".join(f"{label['annotator']}: {label['label']}" for label in r["labels"]),
                "; ".join(sorted({f["name"] for f in r["flags"]})),
                "; ".join(f"{f['name']}: {f['basis']}" for f in _by_name(r["flags"]) if f.get("basis")),
                "; ".join(f"{f['name']}: {f['confidence']:.4g}" for f in _by_name(r["flags"]) if f.get("confidence") is not None),
                "; ".join(sorted({f["detector"] for f in r["flags"]})),
                rating, votes.get(pane_choice(r["position"]), 0), r["prompt_tokens"], r["completion_tokens"], r["ttft_s"], r["tokens_per_s"], r["duration_s"],
                r["load_s"], r["seed"], r["sampler"].get("temperature"),
                *(recorded_setting(r["sampler"], key) for key in VARIABLES), r["text"], r["reasoning"],
                describe_ran_on(r["sampler"].get(RAN_ON)),
            ]  # fmt: skip


def _by_name(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(flags, key=lambda f: (f["name"], f["detector"]))


def chunks(data: ExportData, rows_per_chunk: int = 500) -> Iterator[str]:
    """The file as text pieces (the first starts with a BOM), each `rows_per_chunk` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    for count, row in enumerate(rows(data), start=1):
        writer.writerow([csv_cell(value) for value in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
