"""The openai SDK's client for an endpoint, and its failures as one-line advice.

The SDK does the HTTP, the SSE decoding and the retries (429 and 5xx, with backoff
that honours Retry-After); this module only chooses its settings and says what a
failure means for the user, with the key taken out of anything a server echoed.
"""

from __future__ import annotations

import ssl

import httpx2
import openai

from ..errors import EnvironmentProblem
from .config import Endpoint
from .secrets import redact

# Retries for 429 and 5xx, each after the server's Retry-After or the SDK's backoff.
MAX_RETRIES = 3
CONNECT_TIMEOUT_S = 10.0
# The longest wait for the next piece of a stream (or the first byte of a reply) before
# the request is called stalled: a big model on a busy server reads a long prompt slowly.
STALL_TIMEOUT_S = 120.0
# Sent instead of a key when the endpoint has none: the SDK insists on one, and must
# never fall back to OPENAI_API_KEY, which would send the user's OpenAI key elsewhere.
NO_KEY = "no-key"


class EndpointProblem(EnvironmentProblem):
    """An endpoint that can't be reached or used; `str()` is one line and never holds a key."""


def client_for(endpoint: Endpoint, key: str | None, *, max_retries: int = MAX_RETRIES, stall_s: float = STALL_TIMEOUT_S) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=endpoint.api_base,
        api_key=key or NO_KEY,
        max_retries=max_retries,
        timeout=httpx2.Timeout(stall_s, connect=CONNECT_TIMEOUT_S),
    )


def describe_failure(error: BaseException, endpoint: Endpoint, key: str | None, model: str | None = None, stall_s: float = STALL_TIMEOUT_S) -> str:
    """What `error` (raised by the SDK or its HTTP client) means, in one line for the user."""
    where = f"{endpoint.name} ({endpoint.url})"
    return redact(_describe(error, where, model, stall_s), key).replace("\n", " ").replace("\r", " ")


def _describe(error: BaseException, where: str, model: str | None, stall_s: float) -> str:
    if isinstance(error, (openai.APITimeoutError, httpx2.TimeoutException)):
        return f"{where} stopped answering (nothing for {stall_s:g} s): the server may be overloaded; try again later."
    if isinstance(error, openai.APIConnectionError):
        cause = _root(error)
        if isinstance(cause, ssl.SSLError) or "ssl" in type(cause).__name__.lower() or "SSL" in str(cause) or "TLS" in str(cause):
            return f"{where}: the secure (TLS) connection failed ({_short(cause)}). Check the URL's http:// or https:// and the server's certificate."
        return f"Can't reach {where}: {_short(cause) or 'no connection'}. Check the URL and that the server is running."
    if isinstance(error, openai.APIStatusError):
        return _status_problem(error, where, model)
    if isinstance(error, openai.APIResponseValidationError):
        return f"{where} sent a reply that is not what an OpenAI-compatible server sends: is the URL that of its API?"
    if isinstance(error, ValueError):  # an SSE event whose data is not JSON
        return f"{where} sent a stream that is not valid server-sent JSON events."
    if isinstance(error, httpx2.HTTPError):
        return f"{where}: the connection failed ({_short(error)})."
    return f"{where}: {_short(error)}"


def _status_problem(error: openai.APIStatusError, where: str, model: str | None) -> str:
    status = error.status_code
    if _is_html(error.response):
        return f"{where} answered with a web page (HTTP {status}), not the API: a proxy or login page is in the way, or the URL is not the server's API."
    if status in (401, 403):
        return f"{where} refused the key (HTTP {status}): set it with `workbench endpoint add NAME URL --key-stdin` or in the endpoint's environment variable."
    if status == 404 and model:
        return f"{where} has no model {model!r} (HTTP 404), though its /v1/models may list it: choose another of its models (`workbench endpoint list`)."
    if status == 404:
        return f"{where} has no OpenAI-compatible API there (HTTP 404): check the URL (it usually ends in /v1)."
    if status == 429:
        return f"{where} is limiting requests (HTTP 429) and still did after {MAX_RETRIES} retries: wait, or lower the endpoint's concurrency."
    if status >= 500:
        return f"{where} failed with a server error (HTTP {status}) {MAX_RETRIES + 1} times: {_server_says(error)}"
    return f"{where} refused the request (HTTP {status}): {_server_says(error)}"


def _server_says(error: openai.APIStatusError) -> str:
    body = error.body
    message = body.get("message") if isinstance(body, dict) else None
    text = message if isinstance(message, str) else error.message
    return _short(text) or "no reason given"


def _is_html(response: httpx2.Response) -> bool:
    return "html" in response.headers.get("content-type", "").lower()


def _root(error: BaseException) -> BaseException:
    seen = error
    while seen.__cause__ is not None:
        seen = seen.__cause__
    return seen


def _short(value: object, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
