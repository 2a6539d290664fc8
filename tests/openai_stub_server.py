"""A small OpenAI-compatible server for tests, run as its own process on 127.0.0.1.

`python tests/openai_stub_server.py SCRIPT.json` prints its port on the first line of
stdout, then serves GET /v1/models and POST /v1/chat/completions (streamed as SSE)
from the script, re-read on every request so a test can change it between requests:

  {"models": ["m1", ...],            listed at /v1/models
   "missing": ["ghost"],             listed, but 404 when asked (a server that lies)
   "key": "sk-...",                  if set, other keys get 401
   "echo_auth": true,                chat requests get 400 quoting the Authorization header,
                                     as careless servers and proxies do
   "headers": {"x-server-version": "stub 1.0"},
   "replies": {"m1": {"chunks": [{"content": "Hi"}, {"reasoning_content": "hmm"}, ...],
                      "finish_reason": "stop", "usage": {"prompt_tokens": 5, "completion_tokens": 2},
                      "fingerprint": "fp_1", "served_as": "m1-2025", "pause_s": 0.0,
                      "vary": "seed"}}}       a last chunk that differs by the request's seed
                                              ("seed"), or every time ("always")

Each request is appended to SCRIPT.requests.jsonl (path, body, whether the key
matched; never the key itself; `in_flight`: the chat requests being served as it
arrived, itself included), so tests see what the workbench sent and how many at once.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(BaseHTTPRequestHandler):
    script_path: Path
    protocol_version = "HTTP/1.1"
    in_flight = 0
    served = 0
    counting = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def _script(self) -> dict:
        return json.loads(self.script_path.read_text(encoding="utf-8"))

    def _key_ok(self, script: dict) -> bool:
        return not script.get("key") or self.headers.get("Authorization") == f"Bearer {script['key']}"

    def _log(self, body: object, key_ok: bool, in_flight: int = 0) -> None:
        with Handler.counting, open(str(self.script_path) + ".requests.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps({"path": self.path, "body": body, "key_ok": key_ok, "in_flight": in_flight}) + "\n")

    def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        script = self._script()
        key_ok = self._key_ok(script)
        self._log(None, key_ok)
        if not key_ok:
            return self._json(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})
        if self.path.rstrip("/") != "/v1/models":
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        listed = script.get("models", []) + script.get("missing", [])
        self._json(200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "stub"} for m in listed]}, script.get("headers"))

    def do_POST(self) -> None:
        with Handler.counting:
            Handler.in_flight += 1
            now = Handler.in_flight
        try:
            self._chat(now)
        finally:
            with Handler.counting:
                Handler.in_flight -= 1

    def _chat(self, in_flight: int) -> None:
        script = self._script()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        key_ok = self._key_ok(script)
        self._log(body, key_ok, in_flight)
        if not key_ok:
            return self._json(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        if script.get("echo_auth"):
            return self._json(400, {"error": {"message": f"Bad request, auth was {self.headers.get('Authorization')}"}})
        model = body.get("model")
        reply = script.get("replies", {}).get(model)
        if reply is None:
            return self._json(404, {"error": {"message": f"The model `{model}` does not exist", "code": "model_not_found"}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        for name, value in script.get("headers", {}).items():
            self.send_header(name, value)
        self.end_headers()
        base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": reply.get("served_as", model)}
        if reply.get("fingerprint"):
            base["system_fingerprint"] = reply["fingerprint"]
        for delta in reply.get("chunks", []) + self._variation(reply.get("vary"), body):
            self._event(base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            time.sleep(reply.get("pause_s", 0.0))
        if reply.get("finish_reason"):
            self._event(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": reply["finish_reason"]}]})
        if reply.get("usage") and (body.get("stream_options") or {}).get("include_usage"):
            usage = reply["usage"] | {"total_tokens": sum(reply["usage"].values())}
            self._event(base | {"choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _variation(self, vary: str | None, body: dict) -> list[dict]:
        """A sampled answer's part: the same for the same seed, or never the same."""
        with Handler.counting:
            Handler.served += 1
            served = Handler.served
        if vary == "seed":
            return [{"content": f" seed {body.get('seed')}"}]
        return [{"content": f" draw {served}"}] if vary == "always" else []

    def _event(self, payload: dict) -> None:
        self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")
        self.wfile.flush()


def main() -> None:
    Handler.script_path = Path(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
