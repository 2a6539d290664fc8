"""The model library: listing, grouping, filtering, details, origin overrides, adding models."""

from __future__ import annotations

import hashlib

from gguf_factory import write_tiny_model, write_truncated
from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from window_helpers import WAIT_MS, close

from workbench.ui.library.library import ID_ROLE


def top_level_names(library) -> list[str]:
    proxy = library.proxy
    return [proxy.index(row, 0, QModelIndex()).data() for row in range(proxy.rowCount(QModelIndex()))]


def visible_model_ids(library) -> list[str]:
    return [index.data(ID_ROLE) for index in library._all_indexes() if index.data(ID_ROLE)]


def entry_named(window, name):
    return next(e for e in window.model_library.entries if e.name == name)


def test_library_groups_by_origin_and_filters(open_window, tiny_models):
    window = open_window([tiny_models]).window
    library = window.library
    assert top_level_names(library) == ["CN · China (1)", "US · United States (1)"]
    library.set_grouping("maker")
    assert sorted(top_level_names(library)) == ["Alibaba (Qwen team) (1)", "Hugging Face (1)"]
    library.set_grouping("none")
    assert len(visible_model_ids(library)) == 2
    library.filter_edit.setText("alibaba")
    assert visible_model_ids(library) == [entry_named(window, "Qwen2.5 Tiny").id]
    library.filter_edit.setText("no such model")
    assert visible_model_ids(library) == []


def test_a_model_that_cannot_load_is_listed_with_the_reason(open_window, tiny_models):
    write_truncated(tiny_models / "Half.gguf", tiny_models / "Qwen2.5-Tiny.gguf")
    window = open_window([tiny_models]).window
    half = next(e for e in window.model_library.entries if e.path.name == "Half.gguf")
    assert not half.ok
    library = window.library
    assert library.select(half.id)
    status = library.tree.selectionModel().selectedRows(8)[0].data()
    assert status == half.status
    assert not library.use_button.isEnabled() and library.details_button.isEnabled()
    picker = window.area.panes[0].picker
    index = picker.findData(half.id)
    assert index > 0 and not picker.model().item(index).isEnabled()
    assert not window.area.panes[0].select(half.id)


def test_use_in_a_pane_from_the_library(open_window, tiny_models):
    window = open_window([tiny_models]).window
    qwen = entry_named(window, "Qwen2.5 Tiny")
    window.library.select(qwen.id)
    window.library.use_button.click()  # both panes are taken: a third opens
    assert [p.entry_id for p in window.area.panes][-1] == qwen.id and len(window.area.panes) == 3
    window.library.useRequested.emit(qwen.id, 0)
    assert window.area.panes[0].entry_id == qwen.id


def test_details_show_metadata_template_and_hash(open_window, tiny_models, qtbot):
    window = open_window([tiny_models]).window
    smol = entry_named(window, "SmolLM2 Tiny")
    dialog = window.show_details(smol.id)
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["Overview", "Origin and lineage", "Chat template", "All metadata"]
    template = dialog.tabs.widget(2).toPlainText()
    assert "<|im_start|>" in template and smol.metadata.chat_template_sha256 in template
    table = dialog.tabs.widget(3)
    keys = [table.item(row, 0).text() for row in range(table.rowCount())]
    assert "general.name" in keys and "tokenizer.chat_template" in keys

    if smol.sha256 is None:
        assert dialog.hash_button.isVisible()
        dialog.hash_button.click()
        qtbot.waitUntil(lambda: window._details.entry.sha256 is not None, timeout=WAIT_MS)
    expected = hashlib.sha256(smol.path.read_bytes()).hexdigest()
    assert window._details.entry.sha256 == expected
    assert window._details.sha_value.text() == expected


def test_origin_override_from_the_details(open_window, tiny_models, qtbot):
    window = open_window([tiny_models]).window
    smol = entry_named(window, "SmolLM2 Tiny")
    pane = next(p for p in window.area.panes if p.entry_id == smol.id)
    assert pane.origin_label.text() == "US · Hugging Face"
    dialog = window.show_details(smol.id)
    dialog.maker_edit.setText("Example Lab")
    dialog.country_edit.setText("fr")
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        dialog._request_override()
    assert pane.origin_label.text() == "FR · Example Lab"
    assert "FR · France (1)" in top_level_names(window.library)
    assert window._details.entry.origin.source == "override"
    assert window._details.remove_override_button.isEnabled()
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        window._details.remove_override_button.click()
    assert pane.origin_label.text() == "US · Hugging Face"


def test_override_needs_a_maker(open_window, tiny_models):
    window = open_window([tiny_models]).window
    dialog = window.show_details(entry_named(window, "SmolLM2 Tiny").id)
    dialog.maker_edit.setText("  ")
    dialog._request_override()
    assert dialog.problem.isVisibleTo(dialog) and "maker" in dialog.problem.text()


def test_open_a_gguf_file_and_find_it_after_a_restart(open_window, tiny_models, tmp_path, qtbot):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = write_tiny_model(elsewhere / "Loose.gguf", name="Loose Model")
    opened = open_window([tiny_models])
    window = opened.window
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        window.open_model_file(path)
    loose = entry_named(window, "Loose Model")
    assert loose.source == "file"
    assert window.area.panes[-1].entry_id == loose.id
    close(opened)

    again = open_window([tiny_models]).window
    assert entry_named(again, "Loose Model").id in visible_model_ids(again.library)
    assert again.area.panes[-1].entry_id == loose.id


def test_add_a_folder_and_drop_files(open_window, tmp_path, qtbot):
    window = open_window([]).window
    folder = tmp_path / "more"
    folder.mkdir()
    write_tiny_model(folder / "InFolder.gguf", name="In Folder")
    with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
        window.add_model_folder(folder)
    assert entry_named(window, "In Folder").source == "folder"

    dropped_folder = tmp_path / "dropped"
    dropped_folder.mkdir()
    write_tiny_model(dropped_folder / "Dropped.gguf", name="Dropped Folder Model")
    loose = write_tiny_model(tmp_path / "DroppedFile.gguf", name="Dropped File Model")
    for dropped in (dropped_folder, loose):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(dropped))])
        enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        window.dragEnterEvent(enter)
        assert enter.isAccepted()
        with qtbot.waitSignal(window.catalogLoaded, timeout=WAIT_MS):
            window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    names = {e.name for e in window.model_library.entries}
    assert {"In Folder", "Dropped Folder Model", "Dropped File Model"} <= names
