"""The endpoints a user added: a name, a base URL, where its key comes from, how many
requests it takes at once. Saved in settings.json under "endpoints"; a key never is
(secrets.py keeps keys)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import EnvironmentProblem
from ..settings import Settings

SETTINGS_KEY = "endpoints"
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


class EndpointConfigProblem(EnvironmentProblem):
    """A name, URL or setting for an endpoint that can't be used; `str()` says which and why."""


@dataclass(frozen=True)
class Endpoint:
    """One OpenAI-compatible server. `url` is the base URL, with or without `/v1`."""

    name: str
    url: str
    key_env: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY

    def __post_init__(self) -> None:
        check_name(self.name)
        check_url(self.url)
        if self.key_env is not None and not _ENV_VAR.fullmatch(self.key_env):
            raise EndpointConfigProblem(f"{self.key_env!r} is not an environment variable name (letters, digits and _, not starting with a digit).")
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) or not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise EndpointConfigProblem(f"Concurrency must be a whole number from 1 to {MAX_CONCURRENCY}.")

    @property
    def api_base(self) -> str:
        """The URL the SDK is given: the base URL ending in /v1 (servers list models at /v1/models)."""
        url = self.url.rstrip("/")
        return url if url.endswith("/v1") else url + "/v1"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise EndpointConfigProblem("An endpoint name is 1 to 40 letters, digits, '.', '_' or '-' (it starts every model id: NAME/MODEL).")
    return name


def check_url(url: object) -> str:
    if not isinstance(url, str):
        raise EndpointConfigProblem("An endpoint URL is text: http:// or https:// and a server.")
    parts = urlsplit(url)
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() or ord(c) < 32 for c in url):
        raise EndpointConfigProblem("An endpoint URL starts with http:// or https:// and names a server, e.g. http://127.0.0.1:8080/v1.")
    if parts.username or parts.password:
        raise EndpointConfigProblem("Put the key in the keychain or an environment variable, not in the URL (it would be saved in settings.json).")
    return url


def load_endpoints() -> list[Endpoint]:
    """The saved endpoints; an entry a hand edit broke is left out (settings never stop the app)."""
    saved = Settings.load().others.get(SETTINGS_KEY)
    endpoints: list[Endpoint] = []
    for item in saved if isinstance(saved, list) else []:
        try:
            endpoints.append(_from_json(item))
        except (EndpointConfigProblem, TypeError):
            continue
    return endpoints


def find_endpoint(name: str) -> Endpoint:
    for endpoint in load_endpoints():
        if endpoint.name == name:
            return endpoint
    raise EndpointConfigProblem(f"No endpoint named {name!r}. Add it with `workbench endpoint add {name} URL`, or see `workbench endpoint list`.")


def save_endpoint(endpoint: Endpoint) -> None:
    """Add `endpoint`, or replace the one with its name."""
    others = [e for e in load_endpoints() if e.name != endpoint.name]
    _save([*others, endpoint])


def remove_endpoint(name: str) -> bool:
    """Forget the endpoint `name`; False if there was none."""
    endpoints = load_endpoints()
    kept = [e for e in endpoints if e.name != name]
    if len(kept) == len(endpoints):
        return False
    _save(kept)
    return True


def _save(endpoints: list[Endpoint]) -> None:
    settings = Settings.load()
    settings.others[SETTINGS_KEY] = [e.to_json() for e in endpoints]
    settings.save()


def _from_json(item: object) -> Endpoint:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    key_env = item.get("key_env")
    return Endpoint(
        name=item.get("name"),  # type: ignore[arg-type]  # checked by Endpoint.__post_init__
        url=item.get("url"),  # type: ignore[arg-type]  # checked by Endpoint.__post_init__
        key_env=key_env if isinstance(key_env, str) else None,
        concurrency=item.get("concurrency", DEFAULT_CONCURRENCY),
    )
