"""An endpoint's key: in the operating system's keychain (the `keyring` library), or in
the environment variable the endpoint names. Keys are never written anywhere else:
not settings.json, the notebook, logs, exports or messages (`redact` for text that
might quote one, such as a server's error)."""

from __future__ import annotations

import os

import keyring
from keyring.errors import KeyringError

from ..errors import EnvironmentProblem
from .config import Endpoint, check_name

SERVICE = "model-values-workbench"


class KeyProblem(EnvironmentProblem):
    """A key that can't be stored or used; the message never holds the key."""


def check_key(key: str) -> str:
    """`key` as given, or KeyProblem: a newline or control character would end up in an HTTP
    header (a pasted key with its line end is the usual case)."""
    if not key:
        raise KeyProblem("The key is empty.")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise KeyProblem("The key holds a newline or another control character: give the key alone, on one line.")
    if not key.isascii():
        raise KeyProblem("The key holds characters outside ASCII: check it was copied whole and alone.")
    return key


KEYCHAIN = "keychain"
ENVIRONMENT = "environment variable"


def get_key(endpoint: Endpoint) -> str | None:
    """The keychain's key for the endpoint, else its environment variable's, else None."""
    return _found(endpoint)[0]


def key_source(endpoint: Endpoint) -> str | None:
    """Where the endpoint's key comes from (KEYCHAIN or ENVIRONMENT), None without one; for
    `endpoint list` and the Endpoints dialog, which show where, never what."""
    return _found(endpoint)[1]


def _found(endpoint: Endpoint) -> tuple[str | None, str | None]:
    try:
        stored = keyring.get_password(SERVICE, endpoint.name)
    except KeyringError:
        stored = None
    if stored:
        return check_key(stored), KEYCHAIN
    value = os.environ.get(endpoint.key_env) if endpoint.key_env else None
    if value:
        return check_key(value), ENVIRONMENT
    return None, None


def set_key(name: str, key: str) -> None:
    """Keep `key` in the keychain for the endpoint `name`."""
    check_name(name)
    check_key(key)
    try:
        keyring.set_password(SERVICE, name, key)
    except KeyringError:
        raise KeyProblem(
            "This computer has no keychain the workbench can use: put the key in an environment variable "
            f"and add the endpoint with --key-env VAR (e.g. `workbench endpoint add {name} URL --key-env {name.upper().replace('-', '_').replace('.', '_')}_KEY`)."
        ) from None


def delete_key(name: str) -> None:
    """Forget the endpoint's key in the keychain (nothing to do when there is none)."""
    try:
        keyring.delete_password(SERVICE, name)
    except KeyringError:
        pass


def redact(text: str, key: str | None) -> str:
    """`text` with every occurrence of `key` replaced, for messages that quote a server or a URL."""
    if not key:
        return text
    return text.replace(key, "[key]")
