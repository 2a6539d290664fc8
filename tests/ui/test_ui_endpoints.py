"""File > Endpoints… and remote models in the window (issue 19).

The endpoint is the suite's loopback stub server (tests/endpoint_servers.py starts
tests/openai_stub_server.py) that lists models and streams scripted answers; keys live
in the suite's in-memory keyring. What is checked: a key goes to the keychain and is never shown again (not in the dialog,
the settings file, the library, the details or the panes), problems are one line,
the network is never waited on by the GUI thread, and the models an endpoint lists
are in the library under it, with a remote badge, usable in the panes.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
from endpoint_servers import free_port
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QPushButton
from window_texts import window_texts
from window_helpers import WAIT_MS, run_and_wait

from workbench.core import paths
from workbench.core.endpoints.probe import Probe
from workbench.core.endpoints.seed_check import HONOURED, SeedCheck
from workbench.ui.batches.judge_dialog import judge_choices
from workbench.ui.library import endpoints as endpoints_module
from workbench.ui.library.library import ID_ROLE

KEY = "sk-test-0123456789abcdef"
QWEN, DEEPSEEK = "Qwen/Qwen2.5-72B-Instruct", "deepseek-chat"
SCRIPT = {
    "models": [QWEN, DEEPSEEK],
    "key": KEY,
    "replies": {
        QWEN: {"chunks": [{"content": "Hello "}, {"content": "from the lab."}], "finish_reason": "stop",
               "usage": {"prompt_tokens": 5, "completion_tokens": 4}},
        DEEPSEEK: {"chunks": [{"reasoning_content": "Think first."}, {"content": "Remote answer."}], "finish_reason": "stop",
                   "usage": {"prompt_tokens": 5, "completion_tokens": 3}},
    },
}


@pytest.fixture
def stub_url(stub_server) -> str:
    """The conftest's loopback stub server (its own process), serving SCRIPT (key required)."""
    stub_server.script(SCRIPT)
    return stub_server.url


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


def test_a_closed_port_is_one_line_in_the_dialog(open_window, tiny_models, memory_keyring, qtbot):
    closed_port = free_port()  # bound, then let go: nothing listens there
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "nowhere", f"http://127.0.0.1:{closed_port}/v1", key=KEY)
    dialog.add_button.click()
    wait_idle(qtbot, window)
    line = dialog.message.text()
    assert "nowhere" in line and "Can't reach" in line, line
    assert "\n" not in line and "Traceback" not in line and KEY not in line
    assert dialog.message.objectName() == "paneError"
    assert memory_keyring.passwords == {("model-values-workbench", "nowhere"): KEY}  # saved; only the server was away
    assert KEY not in window_texts(dialog) and dialog.key_edit.text() == ""
    assert KEY not in (paths.config_dir() / "settings.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("status", [200, 502])
def test_a_proxy_web_page_is_one_line_in_the_dialog(open_window, tiny_models, memory_keyring, stub_url, fault_proxy, qtbot, status):
    fault_proxy.faults([{"kind": "html", "status": status}] * 3)
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "lab", fault_proxy.url, key=KEY)
    dialog.add_button.click()
    wait_idle(qtbot, window)
    line = dialog.message.text()
    assert line.startswith(f"lab ({fault_proxy.url})") and "web page" in line, line
    assert "\n" not in line and "<" not in line and KEY not in line
    assert not any(e.remote for e in window.models.entries)


def test_without_a_keychain_the_dialog_says_to_use_a_variable(open_window, tiny_models, no_keychain, qtbot):
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "lab", "http://127.0.0.1:9/v1", key=KEY)
    dialog.add_button.click()
    wait_idle(qtbot, window)
    assert "environment variable" in dialog.message.text() and KEY not in dialog.message.text()
    assert dialog.table.rowCount() == 0  # nothing saved without its key


def test_a_key_and_a_variable_at_once_are_refused(open_window, tiny_models, memory_keyring):
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "lab", "http://127.0.0.1:9/v1", key=KEY, key_env="LAB_KEY")
    dialog.add_button.click()
    assert "not both" in dialog.message.text()
    assert dialog.key_edit.text() == "" and memory_keyring.passwords == {}


def test_a_test_never_holds_up_the_gui_thread(open_window, tiny_models, memory_keyring, qtbot, monkeypatch):
    """The test blocks (a slow server) on its own thread while the window keeps working."""
    release, asked = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []

    def slow_probe(ep, key):
        threads.append(threading.current_thread())
        asked.set()
        assert release.wait(WAIT_MS / 1000)
        return Probe(("slow-model",), "slow-model", "slow-model", None, 0.5, SeedCheck(HONOURED, "2026-12-02"))

    monkeypatch.setattr(endpoints_module, "probe", slow_probe)
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "slow", "http://127.0.0.1:9/v1", key_env="SLOW_KEY")
    dialog.add_button.click()
    qtbot.waitUntil(asked.is_set, timeout=WAIT_MS)
    fired: list[bool] = []  # a timer on the GUI thread runs while the server is still silent
    QTimer.singleShot(10, lambda: fired.append(release.is_set()))
    qtbot.waitUntil(lambda: bool(fired), timeout=WAIT_MS)
    assert fired == [False] and not dialog.add_button.isEnabled()
    release.set()
    wait_idle(qtbot, window)
    assert threads and threads[0] is not threading.main_thread()
    assert "slow lists 1 model: slow-model. They are in the library. slow-model answered; the seed is used" in dialog.message.text()
    assert dialog.add_button.isEnabled()


def add_lab(qtbot, window, url: str):
    """Add the stub as "lab" with its key typed in the dialog; wait for the library to list its models."""
    dialog = open_endpoints(window)
    fill(dialog, "lab", url, key=KEY)
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        dialog.add_button.click()
    wait_idle(qtbot, window)
    return dialog


def test_remote_models_join_the_library_under_their_endpoint(open_window, tiny_models, memory_keyring, stub_url, qtbot):
    window = open_window([tiny_models]).window
    dialog = add_lab(qtbot, window, stub_url)
    assert dialog.message.text().startswith("lab lists 2 models: Qwen/Qwen2.5-72B-Instruct, deepseek-chat.")
    assert f"{QWEN} answered; the seed check shows nothing" in dialog.message.text()  # the stub answers alike whatever the seed
    assert [dialog.table.item(0, c).text() for c in range(3)] == ["lab", stub_url, "in the keychain"]
    assert dialog.selected_name == "lab" and dialog.test_button.isEnabled()  # the one just added
    assert KEY not in window_texts(dialog) and dialog.key_edit.text() == ""
    assert KEY not in (paths.config_dir() / "settings.json").read_text(encoding="utf-8")

    library = window.library
    qwen = window.models.get(f"lab/{QWEN}")
    assert qwen is not None and qwen.remote and qwen.origin.country == "CN"
    assert library.select(qwen.id)
    row = [library.tree.selectionModel().selectedRows(c)[0].data() for c in range(5)]
    assert row == [f"[remote · lab] {QWEN}", "CN · Alibaba (Qwen team)", "Alibaba (Qwen team)", "—", "remote"]
    library.set_grouping("source")
    groups = [library.proxy.index(r, 0).data() for r in range(library.proxy.rowCount())]
    assert "Endpoint lab (remote) (2)" in groups
    library.filter_edit.setText("remote")
    assert {i.data(ID_ROLE) for i in library.shown_indexes() if i.data(ID_ROLE)} == {f"lab/{QWEN}", f"lab/{DEEPSEEK}"}

    details = window.library_control.show_details(qwen.id)
    qtbot.waitUntil(lambda: details.endpoint_url_value.text() == stub_url, timeout=WAIT_MS)
    overview = window_texts(details)
    assert QWEN in overview and "remote: the endpoint lab" in overview and KEY not in overview
    assert not details.hash_button.isVisible()


def test_removing_an_endpoint_forgets_its_key_and_its_models(open_window, tiny_models, memory_keyring, stub_url, qtbot):
    window = open_window([tiny_models]).window
    dialog = add_lab(qtbot, window, stub_url)
    assert memory_keyring.passwords and window.models.get(f"lab/{QWEN}") is not None
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        dialog.remove_button.click()
    wait_idle(qtbot, window)
    assert dialog.table.rowCount() == 0 and memory_keyring.passwords == {}
    assert not any(e.remote for e in window.models.entries)
    assert dialog.message.text().startswith("Removed lab and its key")


def test_enter_in_the_key_field_adds(open_window, tiny_models, memory_keyring, stub_url, qtbot):
    window = open_window([tiny_models]).window
    dialog = open_endpoints(window)
    fill(dialog, "lab", stub_url, key=KEY)
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Return)
    assert memory_keyring.passwords == {("model-values-workbench", "lab"): KEY} and dialog.key_edit.text() == ""


def test_a_remote_model_answers_in_a_pane_and_goes_blind_like_a_local_one(open_window, tiny_models, memory_keyring, stub_url, qtbot):
    opened = open_window([tiny_models])
    window = opened.window
    add_lab(qtbot, window, stub_url).close()
    window.library_control.use_model(f"lab/{QWEN}", 0)
    window.library_control.use_model(f"lab/{DEEPSEEK}", 1)
    first, second = window.area.panes[:2]
    assert first.facts_label.text() == f"remote · lab · {QWEN}"
    assert "remote · lab" in first.picker.currentText()
    window.prompt_bar.set_texts("Who are you?", "")
    outcome = run_and_wait(qtbot, window)
    assert [r.result.finish_reason for r in outcome.responses] == ["stop", "stop"]
    assert first.answer_text == "Hello from the lab."
    assert second.answer_text == "Remote answer." and second.reasoning_text == "Think first."

    window.commands.present.blind.trigger()
    assert first.hidden_identity and QWEN not in window_texts(first)
    first.reveal()
    assert first.origin_badge.text() == "CN · China — Alibaba (Qwen team)"
    window.commands.present.blind.trigger()
    window.presentation.enter()  # in front of a class: who answered, as for a local model
    assert first.origin_label.isVisible() and first.origin_label.text() == "CN · Alibaba (Qwen team)"
    window.presentation.leave()
    db = opened.workspace.db_path
    for stored in (db, db.with_name(db.name + "-wal")):  # the answers may still be in the write-ahead log
        assert not stored.exists() or KEY.encode() not in stored.read_bytes()
    judges = judge_choices(window.models.entries)  # an endpoint's models judge before the laptop's
    assert [e.remote for e in judges] == [True, True, False, False]


def test_with_no_model_on_the_computer_an_endpoint_is_a_way_in(open_window, memory_keyring, stub_url, qtbot):
    window = open_window([]).window
    assert window.stack.currentWidget() is window.empty_state
    button = next(b for b in window.empty_state.findChildren(QPushButton) if b.text() == "Add a server (endpoint)…")
    button.click()
    dialog = window.library_control.endpoints.dialog
    assert dialog is not None and dialog.isVisible()
    fill(dialog, "lab", stub_url, key=KEY)
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        dialog.add_button.click()
    assert window.stack.currentWidget() is window.area and window.prompt_bar.isVisibleTo(window)
    window.library_control.use_model(f"lab/{QWEN}", 0)
    assert window.commands.run.run.isEnabled()


def test_a_stream_cut_mid_answer_is_one_line_in_its_pane_and_the_text_is_saved(open_window, tiny_models, memory_keyring, stub_server, fault_proxy, qtbot):
    """Through the fault proxy: the pane keeps what arrived and says it was cut; the
    notebook holds the same text; the other pane's answer is untouched."""
    long_reply = {"chunks": [{"content": f"word{i} "} for i in range(200)], "finish_reason": "stop"}
    stub_server.script(SCRIPT | {"replies": SCRIPT["replies"] | {QWEN: long_reply}})
    opened = open_window([tiny_models])
    window = opened.window
    add_lab(qtbot, window, fault_proxy.url).close()
    window.library_control.use_model(f"lab/{QWEN}", 0)
    window.library_control.use_model(f"lab/{DEEPSEEK}", 1)
    fault_proxy.faults([{"kind": "cut", "after_bytes": 2500}, {"kind": "cut", "after_bytes": 2500}])  # DeepSeek's reply is shorter
    window.prompt_bar.set_texts("Who are you?", "")
    outcome = run_and_wait(qtbot, window)
    first, second = window.area.panes[:2]
    assert [r.result.finish_reason for r in outcome.responses] == ["error", "stop"]
    assert first.answer_text.startswith("word0 word1 ") and "word199" not in first.answer_text
    error = first.error_label.text()
    assert f"the connection was cut after {len(first.answer_text):,} characters; the text received is kept" in error and "\n" not in error
    assert second.answer_text == "Remote answer." and not second.error_label.text()
    saved = sqlite3.connect(opened.workspace.db_path).execute("select text, finish_reason from responses order by id").fetchall()
    assert saved == [(first.answer_text, "error"), ("Remote answer.", "stop")]
