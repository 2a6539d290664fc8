"""File > Get models… against the fake hub on 127.0.0.1: a curated pair shown with
origin, size, memory and licence; a download off the GUI thread with a progress bar and
its speed line, ending in the library and a pane with its origin; Cancel keeps what
arrived and Download resumes it; a gated repository is one line in the dialog."""

from __future__ import annotations

import json

from fake_hub import FakeHub, tiny_gguf
from PySide6.QtWidgets import QPushButton
from window_helpers import WAIT_MS

from workbench.core import paths
from workbench.core.downloads import hub
from workbench.core.downloads.hub import partial_path, target_path

REPO, FILE = "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf"


def open_get_models(window):
    window.commands.file.get_models.trigger()
    dialog = window.library_control.get_models.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def download(dialog, repo: str, file: str) -> None:
    dialog.repo.setText(repo)
    dialog.file.setText(file)
    dialog.download_button.click()


def test_the_curated_pairs_are_listed_with_origin_size_memory_and_licence(open_window, tiny_models, fake_hub: FakeHub):
    dialog = open_get_models(open_window([tiny_models]).window)
    pairs = [dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())]
    lineage = next(p for p in pairs if p.text(0).startswith("Lineage"))
    rows = [[lineage.child(i).text(c) for c in range(6)] for i in range(lineage.childCount())]
    assert {r[1] for r in rows} == {"US · Meta", "CN · DeepSeek (base: Meta Llama 3.1 8B (US))"}
    assert all(r[3].endswith(" GB") and r[4] and r[5] for r in rows)
    dialog.tree.setCurrentItem(lineage.child(0))
    assert dialog.repo.text() and dialog.file.text().endswith(".gguf") and "DeepSeek" in dialog.demo.text()


def test_a_download_shows_progress_and_lands_in_a_pane_with_its_origin(open_window, tiny_models, fake_hub: FakeHub, tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(hub, "CHUNK_BYTES", 8192)
    fake_hub.add(REPO, FILE, tiny_gguf(tmp_path))
    window = open_window([tiny_models]).window
    dialog = open_get_models(window)
    lines: list[str] = []
    window.library_control.get_models.downloads.progress.connect(lambda _p: lines.append(dialog.line.text()))

    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        download(dialog, REPO, FILE)
    assert target_path(REPO, FILE).exists()
    assert any(" of 159.9 KB" in line for line in lines) and not dialog.cancel_button.isEnabled()
    assert "SHA-256 matches the hub's" in dialog.line.text()
    entry = next(e for e in window.models.entries if e.path == target_path(REPO, FILE))
    assert entry.origin.country == "CN" and window.area.panes[-1].entry_id == entry.id


def test_cancel_keeps_what_arrived_and_download_resumes_it(open_window, tiny_models, fake_hub: FakeHub, tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr(hub, "CHUNK_BYTES", 8192)
    data = tiny_gguf(tmp_path)
    fake_hub.add(REPO, FILE, data, trickle_s=0.05)  # 20 pieces of 8 KB: a second to click Cancel in
    window = open_window([tiny_models]).window
    dialog = open_get_models(window)
    downloads = window.library_control.get_models.downloads
    downloads.progress.connect(lambda _p: dialog.cancel_button.click() if dialog.cancel_button.isEnabled() else None)

    with qtbot.waitSignal(downloads.finished, timeout=WAIT_MS):
        download(dialog, REPO, FILE)
    assert "cancelled" in dialog.line.text().lower() and not target_path(REPO, FILE).exists()
    kept = partial_path(REPO, FILE).stat().st_size
    assert 0 < kept < len(data)

    downloads.progress.disconnect()
    fake_hub.repos[REPO].files[FILE].trickle_s = 0
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        dialog.download_button.click()
    assert target_path(REPO, FILE).read_bytes() == data and fake_hub.gets()[-1].range == f"bytes={kept}-"


def test_the_mirror_typed_is_kept_in_the_settings_for_next_time(open_window, tiny_models, fake_hub: FakeHub, tmp_path, qtbot, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing there: only the typed mirror can work
    fake_hub.add(REPO, FILE, tiny_gguf(tmp_path))
    window = open_window([tiny_models]).window
    dialog = open_get_models(window)
    assert dialog.mirror.text() == "" and "127.0.0.1:9 (HF_ENDPOINT)" in dialog.mirror.placeholderText()
    dialog.mirror.setText(fake_hub.endpoint)
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        download(dialog, REPO, FILE)
    assert target_path(REPO, FILE).exists()
    saved = json.loads((paths.config_dir() / "settings.json").read_text(encoding="utf-8"))
    assert saved["hub_mirror"] == fake_hub.endpoint

    dialog.close()
    qtbot.waitUntil(lambda: window.library_control.get_models.dialog is None, timeout=WAIT_MS)
    assert open_get_models(window).mirror.text() == fake_hub.endpoint


def test_the_empty_library_offers_get_models(open_window, fake_hub: FakeHub, qtbot):
    window = open_window([]).window
    button = next(b for b in window.findChildren(QPushButton) if b.text() == "Get models…")
    button.click()
    assert window.library_control.get_models.dialog is not None


def test_a_gated_repository_is_one_line_in_the_dialog(open_window, tiny_models, fake_hub: FakeHub, tmp_path, qtbot):
    fake_hub.add("google/gemma-3-4b-it-qat-q4_0-gguf", "gemma-3-4b-it-q4_0.gguf", tiny_gguf(tmp_path), gated=True)
    window = open_window([tiny_models]).window
    dialog = open_get_models(window)
    with qtbot.waitSignal(window.library_control.get_models.downloads.finished, timeout=WAIT_MS):
        download(dialog, "google/gemma-3-4b-it-qat-q4_0-gguf", "gemma-3-4b-it-q4_0.gguf")
    line = dialog.line.text()
    assert line.startswith("google/gemma-3-4b-it-qat-q4_0-gguf is gated: accept its licence at ")
    assert "HF_TOKEN" in line and "\n" not in line and dialog.download_button.isEnabled()
