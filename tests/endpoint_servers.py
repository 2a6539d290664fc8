"""Fixtures that start the endpoint tests' servers as real processes on 127.0.0.1 and
stop them afterwards: the scripted stub (openai_stub_server.py), the fault proxy in
front of it (fault_proxy.py), and llama-cpp-python's own OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring
from keyring.errors import PasswordDeleteError

HERE = Path(__file__).parent


def _start(args: list[str]) -> tuple[subprocess.Popen[str], int]:
    """A helper process and the port it printed on its first line."""
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        raise RuntimeError(f"{args[0]} did not start")
    return process, int(line)


def _stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


class StubServer:
    def __init__(self, folder: Path) -> None:
        self.script_path = folder / "script.json"
        self.script({})
        self.process, self.port = _start([str(HERE / "openai_stub_server.py"), str(self.script_path)])
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def script(self, script: dict[str, Any]) -> None:
        self.script_path.write_text(json.dumps(script), encoding="utf-8")

    def requests(self) -> list[dict[str, Any]]:
        log = Path(str(self.script_path) + ".requests.jsonl")
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


class FaultProxy:
    def __init__(self, folder: Path, upstream: StubServer) -> None:
        self.faults_path = folder / "faults.json"
        self.faults([])
        self.process, self.port = _start([str(HERE / "fault_proxy.py"), str(upstream.port), str(self.faults_path)])
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def faults(self, faults: list[dict[str, Any]]) -> None:
        self.faults_path.write_text(json.dumps(faults), encoding="utf-8")

    def arrivals(self) -> list[float]:
        log = Path(str(self.faults_path) + ".arrivals")
        return [float(line) for line in log.read_text(encoding="utf-8").split()] if log.exists() else []


@pytest.fixture
def stub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StubServer]:
    server = StubServer(tmp_path_factory.mktemp("stub"))
    yield server
    _stop(server.process)


@pytest.fixture
def fault_proxy(stub_server: StubServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProxy]:
    proxy = FaultProxy(tmp_path_factory.mktemp("proxy"), stub_server)
    yield proxy
    _stop(proxy.process)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a tiny real GGUF; its base URL.
    The model is served under the id "tiny"."""
    from gguf_factory import write_tiny_model

    model = write_tiny_model(tmp_path_factory.mktemp("llama-server") / "tiny-chat.gguf")
    port = free_port()
    args = ["-m", "llama_cpp.server", "--model", str(model), "--model_alias", "tiny", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512", "--n_threads", "1"]
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("llama_cpp.server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        _stop(process)
        raise RuntimeError("llama_cpp.server did not start in 60 s")
    yield f"http://127.0.0.1:{port}/v1"
    _stop(process)



class MemoryKeyring(KeyringBackend):
    """A keychain in memory, so key tests never touch the machine's (CI has none)."""

    priority = 1  # type: ignore[assignment]  # keyring declares it a class property

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def no_keychain() -> Iterator[None]:
    """The machine's keychain as on CI and this machine: keyring's fail backend."""
    before = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    yield
    keyring.set_keyring(before)
