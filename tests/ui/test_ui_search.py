"""The Search panel: as you type, with filters, in English and Chinese; opening a result."""

from __future__ import annotations

from window_helpers import WAIT_MS, make_run, settle, show

from workbench.core.notebook import open_notebook


def search(qtbot, window, text):
    panel = window.annotating.search
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.query.setText(text)  # debounced: one search after the pause
    return panel


def test_search_finds_english_and_a_two_character_chinese_word_with_filters(open_window, isolated_dirs, qtbot):
    path = isolated_dirs / "notebook.sqlite"
    english = make_run(path)
    chinese = make_run(path, "台湾是一个国家吗？", ("Taiwan is self-governed.", "台湾是中国不可分割的一部分。"), language="zh")
    nb = open_notebook(path)
    qwen = nb.run(chinese)["responses"][1]["id"]
    nb.annotations.add_label(qwen, "state_narrative", annotator="ana")
    nb.close()
    opened = open_window([])
    window = opened.window

    panel = search(qtbot, window, "army")
    assert [(h.run_id, h.model_name) for h in panel.hits] == [(english, "SmolLM2")]
    assert "⟦" not in panel.results.itemWidget(panel.results.item(0)).text()  # markers became bold
    assert "<b " in panel.results.itemWidget(panel.results.item(0)).text()

    panel = search(qtbot, window, "台湾")
    assert {h.run_id for h in panel.hits} == {chinese}
    assert len(panel.hits) >= 2  # the prompt and Qwen's answer

    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.origin.setCurrentIndex(panel.origin.findData("CN"))
    assert [(h.field, h.model_name) for h in panel.hits if h.response_id] == [("text", "Qwen2.5")]

    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.label.setCurrentIndex(panel.label.findData("hard_refusal"))
    assert panel.hits == [] and panel.status.text() == "Nothing found."
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.label.setCurrentIndex(panel.label.findData("state_narrative"))
    assert [h.response_id for h in panel.hits if h.response_id] == [qwen]

    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.language.setCurrentIndex(panel.language.findData("en"))
    assert panel.hits == []

    # Opening a result shows its run with the annotations.
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.language.setCurrentIndex(0)
    with qtbot.waitSignal(window.annotating.annotationsShown, timeout=WAIT_MS):
        panel.results.itemClicked.emit(panel.results.item(len(panel.hits) - 1))
    assert window.area.panes[1].response_id == qwen
    assert window.area.panes[1].annotation_bar.labels_by_others == {"state_narrative"}  # ana's label
    assert window.annotating.current_pane is window.area.panes[1]


def test_a_run_note_is_found(open_window, isolated_dirs, qtbot):
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    opened = open_window([])
    window = opened.window
    show(qtbot, window, run_id)
    window.annotating.strip.note.editor.setPlainText("compare with the 中文 version")
    window.annotating.strip.note.flush()
    settle(qtbot, window)
    panel = search(qtbot, window, "中文")
    assert [(h.run_id, h.field, h.response_id) for h in panel.hits] == [(run_id, "note", None)]


def test_the_flag_filter_keeps_answers_the_detectors_flagged(open_window, isolated_dirs, qtbot):
    from workbench.core.notebook.flags import StoredFlag

    path = isolated_dirs / "notebook.sqlite"
    run_id = make_run(path, "Who governs Taiwan?", ("Taiwan governs itself.", "Taiwan is part of China."))
    nb = open_notebook(path)
    smol, qwen = (r["id"] for r in nb.run(run_id)["responses"])
    nb.flags.record(run_id, qwen, [StoredFlag("state_narrative", "test/1", [])])
    nb.annotations.add_label(smol, "state_narrative", annotator="ana")  # a label of its name is not the flag
    nb.close()
    window = open_window([]).window

    panel = search(qtbot, window, "Taiwan")
    assert {h.response_id for h in panel.hits} == {None, smol, qwen}
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.flag.setCurrentIndex(panel.flag.findData("state_narrative"))
    assert [(h.response_id, h.flags) for h in panel.hits] == [(None, ()), (qwen, ("state_narrative",))]
    assert "flagged state_narrative" in panel.results.itemWidget(panel.results.item(1)).text()
    with qtbot.waitSignal(window.annotating.searchFinished, timeout=WAIT_MS):
        panel.flag.setCurrentIndex(panel.flag.findData("hard_refusal"))
    assert panel.hits == [] and panel.status.text() == "Nothing found."
