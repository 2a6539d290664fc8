"""Putting a saved run's models in the panes: one place for it, whoever shows the run.

The history shows a saved run, a demo replays one; both give each answer a
pane (at most MAX_PANES), pick its model when the file is on this computer
(by SHA-256: a name can mean another file), and otherwise name the recorded
model from the notebook, so the room still sees who answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.catalog import ModelEntry
from ..shared import describe
from .compare_area import CompareArea


def place_saved_run(
    area: CompareArea, run: dict[str, Any], by_sha256: Mapping[str, ModelEntry], makers: Mapping[str, str | None] | None = None
) -> list[tuple[str, str]]:
    """Give each of `run`'s answers a pane with its model chosen or named; panes beyond the
    run's answers say so. `makers`: a model's maker by SHA-256 when its file is not here (a demo
    file brings them). Returns each placed pane's header: the model's name and origin text."""
    responses = run["responses"]
    area.set_count(len(responses))
    headers = []
    for index, pane in enumerate(area.panes):
        if index >= len(responses):
            pane.clear_response(f"Run #{run['id']} had {len(responses)} model(s).")
            continue
        response = responses[index]
        sha256 = response.get("model_sha256") or ""
        entry = by_sha256.get(sha256)
        pane.select(entry.id if entry else None)
        maker = entry.origin.maker if entry else (makers or {}).get(sha256)
        header = (response.get("model_name") or "?", describe.recorded_origin_text(response.get("origin_country"), maker))
        pane.show_recorded_model(*header)
        headers.append(header)
    return headers
