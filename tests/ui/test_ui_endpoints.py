"""File > Endpoints… and remote models in the window (issue 19).

The endpoint is a real loopback server (tests/openai_stub_server.py) that lists
models and streams scripted answers; keys live in an in-memory keyring. What is
checked: a key goes to the keychain and is never shown again (not in the dialog,
the settings file, the library, the details or the panes), problems are one line,
the network is never waited on by the GUI thread, and the models an endpoint lists
are in the library under it, with a remote badge, usable in the panes.
"""

from __future__ import annotations

import socket
import threading

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from test_ui_blind import window_texts
from window_helpers import WAIT_MS

from workbench.core import paths
from workbench.ui.library import endpoints as endpoints_module

KEY = "sk-test-0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    """A keychain in a dict: this machine's own backend keeps nothing."""

    priority = 1  # type: ignore[assignment]  # keyring declares it a classproperty

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.keys.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.keys[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.keys.pop((service, username), None) is None:
            raise PasswordDeleteError("no such key")


@pytest.fixture
def memory_keyring():
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(before)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_endpoints(window):
    window.commands.file.endpoints.trigger()
    dialog = window.library_control.endpoints.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def fill(dialog, name: str, url: str, *, key: str = "", key_env: str = "") -> None:
    dialog.name_edit.setText(name)
    dialog.url_edit.setText(url)
    dialog.key_edit.setText(key)
    dialog.key_env_edit.setText(key_env)


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.catalog_tasks.busy, timeout=WAIT_MS)


def test_a_closed_port_is_one_line_in_the_dialog(open_window, tiny_models, memory_keyring, qtbot, closed_port):
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "nowhere", f"http://127.0.0.1:{closed_port}/v1", key=KEY)
    dialog.add_button.click()
    wait_idle(qtbot, window)
    line = dialog.result.text()
    assert "nowhere" in line and "Can't reach" in line, line
    assert "\n" not in line and "Traceback" not in line and KEY not in line
    assert dialog.result.objectName() == "paneError"
    assert memory_keyring.keys == {("model-values-workbench", "nowhere"): KEY}  # saved; only the server was away
    assert KEY not in window_texts(dialog) and dialog.key_edit.text() == ""
    assert KEY not in (paths.config_dir() / "settings.json").read_text(encoding="utf-8")


def test_without_a_keychain_the_dialog_says_to_use_a_variable(open_window, tiny_models, qtbot):
    from keyring.backends.fail import Keyring as NoKeychain

    before = keyring.get_keyring()
    keyring.set_keyring(NoKeychain())
    try:
        window = open_window([tiny_models]).window
        dialog = open_endpoints(window)
        fill(dialog, "lab", "http://127.0.0.1:9/v1", key=KEY)
        dialog.add_button.click()
        wait_idle(qtbot, window)
    finally:
        keyring.set_keyring(before)
    assert "environment variable" in dialog.result.text() and KEY not in dialog.result.text()
    assert dialog.table.rowCount() == 0  # nothing saved without its key


def test_a_key_and_a_variable_at_once_are_refused(open_window, tiny_models, memory_keyring):
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "lab", "http://127.0.0.1:9/v1", key=KEY, key_env="LAB_KEY")
    dialog.add_button.click()
    assert "not both" in dialog.result.text()
    assert dialog.key_edit.text() == "" and memory_keyring.keys == {}


def test_a_test_never_holds_up_the_gui_thread(open_window, tiny_models, memory_keyring, qtbot, monkeypatch):
    """The listing blocks (a slow server) on its own thread while the window keeps working."""
    release, asked = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []

    def slow_listing(ep, key):
        threads.append(threading.current_thread())
        asked.set()
        assert release.wait(WAIT_MS / 1000)
        return ["slow-model"]

    monkeypatch.setattr(endpoints_module, "list_models", slow_listing)
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "slow", "http://127.0.0.1:9/v1", key_env="SLOW_KEY")
    dialog.add_button.click()
    qtbot.waitUntil(asked.is_set, timeout=WAIT_MS)
    ticks: list[int] = []
    for tick in range(5):  # the GUI thread turns its event loop while the server is silent
        qtbot.wait(20)
        ticks.append(tick)
    assert ticks == list(range(5)) and not dialog.add_button.isEnabled()
    release.set()
    wait_idle(qtbot, window)
    assert threads and threads[0] is not threading.main_thread()
    assert "slow lists 1 model: slow-model" in dialog.result.text()
    assert dialog.add_button.isEnabled()
