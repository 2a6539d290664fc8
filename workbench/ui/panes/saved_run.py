"""A saved run's models in the panes: the one place that decides which pane shows which.

Showing a saved run and replaying one both start here: as many panes as the
run has answers (up to MAX_PANES), each pane's model chosen from the library
when its file is on this computer, and each answer's recorded name and origin.
"""

from __future__ import annotations

from typing import Any

from ...core.catalog import ModelEntry
from ..shared import describe
from ..shared.actions import MAX_PANES
from .compare_area import CompareArea


def place_saved_run(
    area: CompareArea, run: dict[str, Any], by_sha256: dict[str, ModelEntry], makers: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """Set the panes to `run`'s models; return each shown answer's (model name, origin text).

    `makers`: makers by model hash where the library does not know the model (a demo
    file brings them), so the room still sees who made it."""
    responses = run["responses"][:MAX_PANES]
    area.set_count(len(responses))
    headers = []
    for pane, response in zip(area.panes, responses):
        sha256 = response.get("model_sha256") or ""
        entry = by_sha256.get(sha256)
        pane.select(entry.id if entry else None)
        maker = entry.origin.maker if entry else (makers or {}).get(sha256)
        headers.append((response.get("model_name") or "?", describe.recorded_origin_text(response.get("origin_country"), maker)))
    return headers
