"""A Hugging Face hub on 127.0.0.1 for the download tests: the calls huggingface_hub
makes to fetch one file, answered as the hub answers them, with faults to order.

Served, for the repositories a test adds:
  HEAD/GET /{owner}/{name}/resolve/{revision}/{path}   the file, with X-Repo-Commit, ETag and
      X-Linked-Etag (the LFS SHA-256, quoted), X-Linked-Size, Content-Length, Accept-Ranges;
      GET honours `Range: bytes=N-` (206, Content-Range)
  POST /api/models/{owner}/{name}/paths-info/{revision}   (form `paths`) the files' JSON, LFS
      object id and size included
Refusals as the hub words them (X-Error-Code): an unknown repository 401 RepoNotFound, a
gated one without the right token 401 GatedRepo, a missing file 404 EntryNotFound.

Faults, per file (HubFile): `cuts` connections closed mid-body after `cut_at` bytes of that
response; `corrupt` serves one byte changed while the metadata keeps the true SHA-256;
`trickle_s` pauses after every 8 KB sent (a slow line); `cdn` makes resolve redirect to
/cdn/… on http://localhost:PORT, another host than the endpoint's 127.0.0.1, as the hub
sends LFS files to its CDN.
Every request is recorded (`requests`: method, path, Range, whether a token came).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest

from gguf_factory import write_tiny_model

GOOD_TOKEN = "hf_fake_token_that_accepted_the_licence"


@dataclass
class HubFile:
    data: bytes
    cuts: int = 0  # how many more responses end early
    cut_at: int = 0  # after this many body bytes of a response
    corrupt: bool = False
    trickle_s: float = 0.0  # a pause after every 8 KB of a body: a slow line, for clicking Cancel
    cdn: bool = False  # resolve answers 302 to /cdn/… on another host name (localhost), as the hub does

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def body(self) -> bytes:
        if not self.corrupt:
            return self.data
        middle = len(self.data) // 2
        return self.data[:middle] + bytes([self.data[middle] ^ 0xFF]) + self.data[middle + 1 :]


@dataclass
class HubRepo:
    files: dict[str, HubFile] = field(default_factory=dict)
    gated: bool = False
    commit: str = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    range: str | None
    token: str | None


class FakeHub:
    """Start with `FakeHub()`, stop with `close()`; `endpoint` is what HF_ENDPOINT takes."""

    def __init__(self) -> None:
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(_Handler):
            owner = hub

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-hub", daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, repo: str, file: str, data: bytes, *, gated: bool = False, **faults: Any) -> HubFile:
        entry = self.repos.setdefault(repo, HubRepo())
        entry.gated = entry.gated or gated
        entry.files[file] = HubFile(data, **faults)
        return entry.files[file]

    def gets(self) -> list[Request]:
        """The file downloads asked for (GETs on resolve)."""
        with self.lock:
            return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    owner: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def _record(self) -> str | None:
        auth = self.headers.get("Authorization")
        token = auth.removeprefix("Bearer ") if auth else None
        with self.owner.lock:
            self.owner.requests.append(Request(self.command, self.path, self.headers.get("Range"), token))
        return token

    def _error(self, status: int, code: str, message: str, commit: str | None = None) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _repo(self, repo_id: str, token: str | None, *, files: bool) -> HubRepo | None:
        repo = self.owner.repos.get(repo_id)
        if repo is None:
            self._error(401, "RepoNotFound", "Repository not found")
            return None
        if files and repo.gated and token != GOOD_TOKEN:
            self._error(401, "GatedRepo", f"Access to model {repo_id} is restricted. You must have access to it and be authenticated to access it. Please log in.")
            return None
        return repo

    def do_HEAD(self) -> None:
        self._resolve()

    def do_GET(self) -> None:
        self._resolve()

    def _resolve(self) -> None:
        token = self._record()
        parts = unquote(self.path.split("?")[0]).lstrip("/").split("/")
        if parts[0] == "cdn" and len(parts) >= 4:  # a signed CDN address: no token needed
            repo_id, path = "/".join(parts[1:3]), "/".join(parts[3:])
            cdn_repo = self.owner.repos.get(repo_id)
            if cdn_repo is not None and path in cdn_repo.files:
                self._send_file(cdn_repo.files[path], cdn_repo.commit)
                return
        if len(parts) < 5 or parts[2] != "resolve":
            self._error(404, "EntryNotFound", "no such route")
            return
        repo_id, revision, path = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        repo = self._repo(repo_id, token, files=True)
        if repo is None:
            return
        if revision not in ("main", repo.commit):
            self._error(404, "RevisionNotFound", "Invalid rev id")
            return
        file = repo.files.get(path)
        if file is None:
            self._error(404, "EntryNotFound", "Entry not found", repo.commit)
            return
        if file.cdn:
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/cdn/{repo_id}/{path}")
            self.send_header("X-Repo-Commit", repo.commit)
            self.send_header("X-Linked-Etag", f'"{file.sha256}"')
            self.send_header("X-Linked-Size", str(len(file.data)))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send_file(file, repo.commit)

    def _send_file(self, file: HubFile, commit: str) -> None:
        body, start = file.body(), 0
        wanted = self.headers.get("Range")
        if wanted and self.command == "GET":
            start = int(wanted.removeprefix("bytes=").split("-")[0])
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("X-Repo-Commit", commit)
        self.send_header("ETag", f'"{file.sha256}"')
        self.send_header("X-Linked-Etag", f'"{file.sha256}"')
        self.send_header("X-Linked-Size", str(len(file.data)))
        self.send_header("Content-Length", str(len(body) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if self.command == "HEAD":
            return
        with self.owner.lock:
            cut = file.cuts > 0
            file.cuts -= cut
        if cut:
            self.wfile.write(body[start : start + file.cut_at])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if not file.trickle_s:
            self.wfile.write(body[start:])
            return
        for at in range(start, len(body), 8192):
            self.wfile.write(body[at : at + 8192])
            self.wfile.flush()
            time.sleep(file.trickle_s)

    def do_POST(self) -> None:
        token = self._record()
        parts = unquote(self.path.split("?")[0]).lstrip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        if len(parts) < 6 or parts[:2] != ["api", "models"] or parts[4] != "paths-info":
            self._error(404, "EntryNotFound", "no such route")
            return
        repo = self._repo("/".join(parts[2:4]), token, files=False)
        if repo is None:
            return
        found = [
            {
                "type": "file",
                "path": path,
                "size": len(repo.files[path].data),
                "oid": hashlib.sha1(repo.files[path].data).hexdigest(),
                "lfs": {"oid": repo.files[path].sha256, "size": len(repo.files[path].data), "pointerSize": 134},
            }
            for path in form.get("paths", [])
            if path in repo.files
        ]
        body = json.dumps(found).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def tiny_gguf(folder: Path, name: str = "Qwen2.5 0.5B Instruct") -> bytes:
    """The bytes of a real tiny GGUF (about 160 KB) whose header names `name`."""
    return write_tiny_model(folder / "hub-model.gguf", name=name).read_bytes()


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A fake hub as HF_ENDPOINT, with huggingface_hub's home (tokens) in the test's folder."""
    from huggingface_hub import constants

    hub = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf-home" / "stored_tokens"))
    yield hub
    hub.close()
