"""`workbench endpoint add|list|test|remove`: OpenAI-compatible servers whose models
join the catalog as ENDPOINT/MODEL_ID (core/endpoints).

A key goes to the keychain (`--key-stdin`, so it is never in the shell's history or
the process list) or stays in an environment variable the endpoint names
(`--key-env VAR`); no output ever holds it. Exit status: 0 done; 1 the
environment got in the way (no keychain, a server that can't be reached, lies or
refuses), with one line on stderr; 2 a misused command line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.endpoints.client import EndpointProblem
from ..core.endpoints.config import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, Endpoint, find_endpoint, load_endpoints, remove_endpoint, save_endpoint
from ..core.endpoints.listing import cached_models, forget, list_models
from ..core.endpoints.probe import probe
from ..core.endpoints.secrets import KEYCHAIN, KeyProblem, check_key, delete_key, get_key, key_source, set_key
from .terminal import json_text


def add_endpoint(subparsers: Any) -> None:
    """Add `endpoint` to the `workbench` command's subparsers (its one-line help is in main.COMMANDS)."""
    endpoint = subparsers.add_parser("endpoint")
    actions = endpoint.add_subparsers(dest="endpoint_command", required=True, metavar="{add,list,test,remove}")
    add = actions.add_parser("add", help="add (or change) an endpoint and list its models")
    add.add_argument("name", help="a short name: models are NAME/MODEL_ID (letters, digits, . _ -)")
    add.add_argument("url", help="the base URL, e.g. http://127.0.0.1:8080/v1")
    add.add_argument("--key-env", metavar="VAR", help="read the key from this environment variable when used")
    add.add_argument("--key-stdin", action="store_true", help="read the key from standard input and keep it in the keychain")
    add.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N", help=f"requests a batch sends at once (1 to {MAX_CONCURRENCY}, default {DEFAULT_CONCURRENCY})")
    add.set_defaults(func=cmd_add)
    listing = actions.add_parser("list", help="the endpoints, where their keys come from, their models as last listed")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    test = actions.add_parser("test", help="list an endpoint's models again, ask one a short question and check that it uses the seed (4 short requests)")
    test.add_argument("name")
    test.add_argument("--model", metavar="MODEL_ID", help="the model to ask (default: the first listed)")
    test.set_defaults(func=cmd_test)
    remove = actions.add_parser("remove", help="forget an endpoint, its key in the keychain and its models")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_remove)


def cmd_add(args: argparse.Namespace) -> int:
    endpoint = Endpoint(args.name, args.url, args.key_env, args.concurrency)
    if args.key_stdin:
        set_key(endpoint.name, _key_from_stdin())
    save_endpoint(endpoint)
    print(f"Saved the endpoint {endpoint.name} ({endpoint.url}).")
    try:
        models = list_models(endpoint, get_key(endpoint))
    except (EndpointProblem, KeyProblem) as problem:
        print(f"note: its models could not be listed yet: {problem}", file=sys.stderr)
        return 0
    print(_models_line(endpoint, models))
    return 0


def _key_from_stdin() -> str:
    """The key on standard input: one line (its line end dropped); anything more is refused."""
    text = sys.stdin.read()
    for end in ("\r\n", "\n"):
        if text.endswith(end):
            text = text[: -len(end)]
            break
    return check_key(text)


def cmd_list(args: argparse.Namespace) -> int:
    endpoints = load_endpoints()
    rows = [(e, _key_said(e), cached_models(e)) for e in endpoints]
    if args.json:
        print(json_text([e.to_json() | {"key": said, "models": models} for e, said, models in rows]))
        return 0
    if not rows:
        print("No endpoints yet: `workbench endpoint add NAME URL`.")
        return 0
    for endpoint, said, models in rows:
        print(f"{endpoint.name}  {endpoint.url}  key: {said or 'none'}  concurrency {endpoint.concurrency}  {len(models)} model(s) listed")
        for model in models:
            print(f"    {endpoint.name}/{model}")
    return 0


def _key_said(endpoint: Endpoint) -> str | None:
    """Where the key comes from, or what is wrong with it; never the key."""
    try:
        source = key_source(endpoint)
    except KeyProblem as problem:
        return f"unusable ({problem})"
    if source == KEYCHAIN:
        return source
    if endpoint.key_env:
        return f"${endpoint.key_env}" + ("" if source else " (not set)")
    return None


def cmd_test(args: argparse.Namespace) -> int:
    endpoint = find_endpoint(args.name)
    found = probe(endpoint, get_key(endpoint), args.model)
    print(_models_line(endpoint, list(found.models)))
    version = f", server {found.server_version}" if found.server_version else ""
    print(f"{endpoint.name}/{found.model_id} answered a test request (served as {found.served_as}{version}, in {found.seconds:.2f} s).")
    print(f"Seed: {found.seed.line()}; recorded with its answers.")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    if not remove_endpoint(args.name):
        find_endpoint(args.name)  # raises: no such endpoint, with the advice
    delete_key(args.name)
    forget(args.name)
    print(f"Removed the endpoint {args.name}, its key in the keychain and its models.")
    return 0


def _models_line(endpoint: Endpoint, models: list[str]) -> str:
    shown = ", ".join(f"{endpoint.name}/{m}" for m in models[:10])
    more = f" and {len(models) - 10} more" if len(models) > 10 else ""
    return f"{endpoint.name} lists {len(models)} model(s): {shown}{more}."
