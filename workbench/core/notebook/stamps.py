"""What every row a person or the workbench writes is stamped with: when
(`utc_now`, ISO 8601 in UTC to the millisecond) and who (`check_annotator`).
Shared by the notebook's table classes and by the importers, so a time or a
name is written one way everywhere."""

from __future__ import annotations

from datetime import datetime, UTC


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def check_annotator(annotator: str) -> str:
    """Every annotation says who made it, so several people can share a notebook."""
    annotator = " ".join(annotator.split())
    if not annotator:
        raise ValueError("An annotator name is needed (who made this annotation).")
    return annotator
