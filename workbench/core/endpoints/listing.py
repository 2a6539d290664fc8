"""The models an endpoint serves (GET /v1/models through the SDK), and the last listing of
each endpoint kept in the cache folder: catalog scans read that file, never the network,
so a scan is as quick offline as online. `workbench endpoint test` and the window's
Endpoints dialog refresh it. The cache also keeps what a test's seed check found for
each model (seed_check.py), for the provenance of that model's later answers.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import paths, user_files
from ..errors import EnvironmentProblem
from ..nesting import json_loads
from .config import Endpoint

__all__ = ["cached_models", "list_models", "remember_seed_check", "seed_check_for", "usable_model_id"]

CACHE_FILE = "endpoint-models.json"
MAX_MODEL_ID = 200
MAX_MODELS = 2000


def usable_model_id(model_id: object) -> bool:
    """A model id the workbench can show and send back: printable text of sensible length.
    Anything else a server lists (control characters, a megabyte of name) is left out."""
    return isinstance(model_id, str) and 0 < len(model_id) <= MAX_MODEL_ID and model_id.isprintable() and model_id.strip() == model_id


def list_models(endpoint: Endpoint, key: str | None) -> list[str]:
    """The ids the endpoint lists, in its order (unusable ids left out), remembered in the
    cache; EndpointProblem saying why when the endpoint can't be listed."""
    # Here, not at the top: catalog scans read the cache through this module on every
    # command, and the SDK takes a third of a second to import.
    import openai

    from .client import EndpointProblem, WebPage, client_for, describe_failure, is_html

    client = client_for(endpoint, key, max_retries=1)
    try:
        raw = client.models.with_raw_response.list()
        if is_html(raw.http_response):  # the SDK's page parser fails on one (AttributeError)
            raise WebPage(raw.status_code)
        # Nor does it take other text for JSON: anything but JSON is not a model list.
        data = getattr(raw.parse(), "data", None) if "json" in raw.headers.get("content-type", "") else None
    except (openai.OpenAIError, WebPage, ValueError, OSError) as error:
        raise EndpointProblem(describe_failure(error, endpoint, key)) from None
    finally:
        client.close()
    if not isinstance(data, list):
        raise EndpointProblem(f"{endpoint.name} ({endpoint.url}) answered /v1/models with something that is not a model list: is the URL that of its API?")
    ids = [i for i in (getattr(model, "id", None) for model in data) if isinstance(i, str) and usable_model_id(i)]
    models = list(dict.fromkeys(ids))[:MAX_MODELS]
    if not models:
        raise EndpointProblem(f"{endpoint.name} ({endpoint.url}) lists no models at /v1/models: is a model loaded on the server?")
    _remember(endpoint, models)
    return models


def cached_models(endpoint: Endpoint) -> list[str]:
    """The endpoint's last listing, if it was listed at its current URL; [] otherwise."""
    models = _entry(endpoint).get("models")
    return [m for m in models if usable_model_id(m)] if isinstance(models, list) else []


def seed_check_for(endpoint: Endpoint, model_id: str) -> object:
    """The saved seed finding for `model_id` (as JSON, for SeedCheck.from_json), if the
    endpoint was tested at its current URL; None otherwise."""
    seeds = _entry(endpoint).get("seed")
    return seeds.get(model_id) if isinstance(seeds, dict) else None


def remember_seed_check(endpoint: Endpoint, model_id: str, finding: dict[str, str]) -> None:
    listings = _read()
    entry = _entry(endpoint, listings)
    seeds = entry.get("seed")
    listings[endpoint.name] = entry | {"url": endpoint.url, "seed": (seeds if isinstance(seeds, dict) else {}) | {model_id: finding}}
    _write(listings)


def forget(name: str) -> None:
    """Drop an endpoint's listing (it was removed)."""
    listings = _read()
    if listings.pop(name, None) is not None:
        _write(listings)


def _remember(endpoint: Endpoint, models: list[str]) -> None:
    """The new listing; seed findings stay while the URL does (a new URL is a new server)."""
    listings = _read()
    listings[endpoint.name] = _entry(endpoint, listings) | {"url": endpoint.url, "models": models}
    _write(listings)


def _entry(endpoint: Endpoint, listings: dict[str, object] | None = None) -> dict[str, object]:
    """What the cache holds for the endpoint at its current URL; {} for nothing or another URL."""
    entry = (_read() if listings is None else listings).get(endpoint.name)
    return entry if isinstance(entry, dict) and entry.get("url") == endpoint.url else {}


def _path() -> Path:
    return paths.cache_dir() / CACHE_FILE


def _read() -> dict[str, object]:
    try:
        data = json_loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(listings: dict[str, object]) -> None:
    """Best effort: the cache is rebuildable, so a full disk only costs the next scan the models."""
    try:
        _path().parent.mkdir(parents=True, exist_ok=True)
        user_files.save(_path(), json.dumps(listings, indent=1, ensure_ascii=False))
    except (OSError, EnvironmentProblem):
        pass
