"""A fault-injecting proxy for endpoint tests, run as its own process on 127.0.0.1.

`python tests/fault_proxy.py UPSTREAM_PORT FAULTS.json` prints its port on the first
line of stdout, then forwards every request to 127.0.0.1:UPSTREAM_PORT, streaming the
reply back in HTTP chunks. Before each request it takes the first fault off the list
in FAULTS.json (re-read each time, so a test queues faults between requests), and
logs the request's arrival time to FAULTS.json.arrivals (one monotonic time a line):

  {"kind": "status", "status": 429, "retry_after": "1"}  an error reply (JSON), no forwarding
  {"kind": "html", "status": 502}                         a proxy's HTML error page
  {"kind": "cut", "after_bytes": 300}                     the reply cut off: the socket closed mid-body
  {"kind": "stall", "after_bytes": 300, "seconds": 5}     the reply stops for `seconds`, then is cut
  {"kind": "malformed"}                                   an event stream whose data is not JSON
  {"kind": "bigline", "bytes": 10000000}                  an event stream with one 10 MB line
  {"kind": "pass"}                                        forwarded untouched (as with no fault)
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_lock = threading.Lock()


class Proxy(BaseHTTPRequestHandler):
    upstream: int
    faults_path: Path
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def _next_fault(self) -> dict:
        with _lock:
            with open(str(self.faults_path) + ".arrivals", "a", encoding="utf-8") as log:
                log.write(f"{time.monotonic()}\n")
            faults = json.loads(self.faults_path.read_text(encoding="utf-8"))
            if not faults:
                return {"kind": "pass"}
            self.faults_path.write_text(json.dumps(faults[1:]), encoding="utf-8")
            return faults[0]

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        self._handle(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def _handle(self, body: bytes) -> None:
        fault = self._next_fault()
        kind = fault["kind"]
        self.close_connection = True
        if kind == "status":
            extra = {"Retry-After": fault["retry_after"]} if "retry_after" in fault else {}
            return self._reply(fault["status"], "application/json", json.dumps({"error": {"message": f"injected {fault['status']}"}}).encode(), extra)
        if kind == "html":
            page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><script>alert(1)</script></body></html>"
            return self._reply(fault.get("status", 502), "text/html; charset=utf-8", page)
        if kind == "malformed":
            return self._reply(200, "text/event-stream", b'data: {"choices": [{"delta": {"content": "Hel\n\ndata: not json at all\n\n')
        if kind == "bigline":
            return self._reply(200, "text/event-stream", b"data: " + b"x" * fault["bytes"] + b"\n\n")
        self._forward(body, fault)

    def _reply(self, status: int, content_type: str, data: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _forward(self, body: bytes, fault: dict) -> None:
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        reply = upstream.getresponse()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        limit = fault.get("after_bytes")
        while True:
            piece = reply.read1(65536)
            if limit is not None and sent + len(piece) >= limit:
                piece = piece[: max(0, limit - sent)]
                if piece:
                    self._chunk(piece)
                if fault["kind"] == "stall":
                    time.sleep(fault["seconds"])
                self.connection.shutdown(socket.SHUT_RDWR)  # cut: no closing chunk
                break
            if not piece:
                self.wfile.write(b"0\r\n\r\n")
                break
            self._chunk(piece)
            sent += len(piece)
        upstream.close()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def main() -> None:
    Proxy.upstream = int(sys.argv[1])
    Proxy.faults_path = Path(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
