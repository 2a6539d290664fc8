"""A remote model's pseudo path (`endpoint:NAME/MODEL_ID`) and the key of its provenance.

Apart from remote.py because the catalog, the pool and the comparison need these on
every run, local models alone included, and remote.py brings the openai SDK (a third
of a second to import); they import it only when a remote model is asked.
"""

from __future__ import annotations

from pathlib import Path

# The key of a remote answer's provenance in the settings saved with it (its `sampler`).
PROVENANCE = "endpoint"
# A remote catalog entry's path (catalog.remote_path writes it): never a file.
REMOTE_PATH_PREFIX = "endpoint:"


def is_remote_path(path: Path | str) -> bool:
    return str(path).startswith(REMOTE_PATH_PREFIX)


def parse_remote_path(path: Path | str) -> tuple[str, str]:
    """(endpoint name, model id) of `endpoint:NAME/MODEL_ID`."""
    name, _, model_id = str(path).removeprefix(REMOTE_PATH_PREFIX).partition("/")
    return name, model_id
