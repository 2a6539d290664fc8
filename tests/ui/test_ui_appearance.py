"""Readable in a classroom: type size, themes, the CJK font notice, panes, shortcuts."""

from __future__ import annotations

from gguf_factory import CHATML_TEMPLATE, write_tiny_model
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMenu
from thread_wakeups import needs_proc, pooled_thread_switches
from window_helpers import WAIT_MS, close, run_and_wait

from workbench.ui.shared import fonts
from workbench.ui.shared import theme
from workbench.ui.shared.actions import MAX_PANES, MIN_PANES
from workbench.ui.shell.main_window import CJK_NOTICE_KEY


def widget_points(window) -> set[float]:
    """The type size the user actually sees, in the prompt, an answer, the library and history."""
    widgets = [window.prompt_bar.prompt, window.area.panes[0].answer_view, window.library.tree, window.history.list]
    return {widget.font().pointSizeF() for widget in widgets}


def test_text_size_keys(open_window, qtbot):
    window = open_window([]).window
    start = window.appearance.points
    assert start >= fonts.READABLE_POINTS and widget_points(window) == {start}
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert widget_points(window) == {start + 1}
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert widget_points(window) == {start - 1}
    for _ in range(60):
        window.commands.view.bigger.trigger()
    assert widget_points(window) == {fonts.MAX_POINTS}
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert widget_points(window) == {start}


def test_dark_and_light_themes(open_window, qtbot):
    window = open_window([]).window
    with qtbot.waitSignal(window.area.panes[0].answer_view.rendered, timeout=5000):
        window.appearance.set_theme(theme.DARK)
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert QApplication.palette().color(QPalette.ColorRole.Text).lightness() > 200
    assert theme.colors(theme.DARK)["link"] in window.area.panes[0].answer_view.document().defaultStyleSheet()
    window.appearance.set_theme(theme.LIGHT)
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 200


class _DarkHints:
    def colorScheme(self):  # noqa: N802 - Qt's name
        return Qt.ColorScheme.Dark


class _DarkSystem:
    @staticmethod
    def styleHints():  # noqa: N802 - Qt's name
        return _DarkHints()


def test_following_the_system_scheme(open_window, monkeypatch):
    window = open_window([]).window
    window.appearance.set_theme(theme.SYSTEM)
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 200  # offscreen: no preference
    monkeypatch.setattr(theme, "QGuiApplication", _DarkSystem)
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    window.appearance.borrow_scheme(theme.CONTRAST)  # presenting: the projector's scheme stays
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert QApplication.palette().color(QPalette.ColorRole.Window).name() == theme.colors(theme.CONTRAST)["window"]
    window.appearance.set_theme(theme.LIGHT)
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 200  # a choice wins


def test_missing_cjk_font_is_said_once(open_window, monkeypatch):
    monkeypatch.setattr(fonts, "has_cjk_font", lambda: False)
    opened = open_window([])
    notice = opened.window.messages.text(CJK_NOTICE_KEY)
    assert notice is not None and "sudo apt install fonts-noto-cjk" in notice
    close(opened)
    assert open_window([]).window.messages.text(CJK_NOTICE_KEY) is None


def test_no_notice_when_a_cjk_font_exists(open_window):
    assert fonts.ensure_cjk_font(), "the workbench brings Noto Sans CJK (noto-cjk-sans-otc) for machines without a CJK font"
    assert open_window([]).window.messages.text(CJK_NOTICE_KEY) is None


def test_two_to_six_panes(open_window, tiny_models):
    window = open_window([tiny_models]).window
    area = window.area
    while window.commands.panes.add_pane.isEnabled():
        window.commands.panes.add_pane.trigger()
    assert len(area.panes) == MAX_PANES
    assert window.library.pane_count == MAX_PANES
    while window.commands.panes.remove_pane.isEnabled():
        window.commands.panes.remove_pane.trigger()
    assert len(area.panes) == MIN_PANES
    assert not area.panes[0].remove_button.isEnabled()


def test_synchronised_scrolling(open_window, tiny_models):
    window = open_window([tiny_models]).window
    first, second = window.area.panes
    long_text = "\n\n".join(f"Paragraph {n}" for n in range(300))
    first.answer_view.show_markdown(long_text)
    second.answer_view.show_markdown(long_text + "\n\n" + long_text)
    first_bar, second_bar = first.answer_view.verticalScrollBar(), second.answer_view.verticalScrollBar()
    first_bar.setValue(first_bar.maximum())
    assert second_bar.value() == 0  # off by default
    window.commands.panes.sync_scrolling.setChecked(True)
    first_bar.setValue(first_bar.maximum() // 2)
    assert abs(second_bar.value() - second_bar.maximum() // 2) <= 2
    second_bar.setValue(second_bar.maximum())
    assert first_bar.value() == first_bar.maximum()


def test_copy_answer(open_window, tiny_models, qtbot):
    window = open_window([tiny_models]).window
    run_and_wait(qtbot, window)
    pane = window.area.panes[1]
    pane.copy_button.click()
    assert QGuiApplication.clipboard().text() == pane.answer_text != ""


def test_reasoning_is_shown_apart_and_folds(open_window, tmp_path, qtbot):
    folder = tmp_path / "thinking"
    folder.mkdir()
    opens_thinking = CHATML_TEMPLATE.replace("'<|im_start|>assistant\n'", "'<|im_start|>assistant\n<think>\n'")
    assert opens_thinking != CHATML_TEMPLATE
    write_tiny_model(folder / "Thinker.gguf", name="Thinker", chat_template=opens_thinking)
    write_tiny_model(folder / "Plain.gguf", name="Plain")
    opened = open_window([folder])
    window = opened.window
    outcome = run_and_wait(qtbot, window)
    rows = {r["model_name"]: r for r in opened.workspace.notebook.run(outcome.run_id)["responses"]}
    thinker = next(p for p in window.area.panes if p.entry.name == "Thinker")
    assert thinker.reasoning_text == rows["Thinker"]["reasoning"] != ""
    assert thinker.answer_text == rows["Thinker"]["text"]
    assert thinker.reasoning_view.isVisibleTo(window) and thinker.reasoning_toggle.isVisibleTo(window)
    thinker.reasoning_toggle.click()
    assert not thinker.reasoning_view.isVisibleTo(window)
    assert f"{len(thinker.reasoning_text):,} characters" in thinker.reasoning_toggle.text()
    plain = next(p for p in window.area.panes if p.entry.name == "Plain")
    assert not plain.reasoning_toggle.isVisibleTo(window)


def test_frequent_commands_have_shortcuts_in_menus(open_window):
    window = open_window([]).window
    a = window.commands
    in_menus = {action for menu in window.menuBar().findChildren(QMenu) for action in menu.actions()}
    expected = {
        a.run.run: "Ctrl+Return",
        a.run.stop: "Esc",
        a.run.rerun: "Ctrl+Shift+Return",
        a.panes.add_pane: "Ctrl+T",
        a.view.bigger: "Ctrl+=",
        a.view.smaller: "Ctrl+-",
        a.file.open_file: "Ctrl+O",
        a.panes.sync_scrolling: "Ctrl+Shift+S",
        a.annotate.undo: "Ctrl+Z",
        a.present.present: "F11",
        window.history_dock.toggleViewAction(): "Ctrl+2",
    }
    for action, shortcut in expected.items():
        assert action in in_menus, action.text()
        assert action.shortcut().toString() == shortcut


@needs_proc
def test_answer_scroll_bars_repaint_without_waking_threads(open_window, qtbot):
    """Fusion's scroll bar arrows are smooth-scaled images, which Qt spreads over a thread
    pool; an answer's scroll bar repaints as it streams, and on two cores each wake-up
    takes a core from the model. The window's scroll bars have no arrows."""
    window = open_window([]).window
    window.stack.setCurrentWidget(window.area)  # no models here: the panes hide behind the empty state
    view = window.area.panes[0].answer_view
    view.setPlainText("a line\n" * 500)
    bar = view.verticalScrollBar()
    qtbot.waitUntil(bar.isVisible)
    before = pooled_thread_switches()
    for _ in range(20):
        bar.repaint()
    after = pooled_thread_switches()
    assert set(after) <= set(before), "a pooled thread was started"
    assert {thread: after[thread] for thread in after} == {thread: before[thread] for thread in after}, "a pooled thread was woken"


class _Paints(QObject):
    """Which widgets were painted while it listened."""

    def __init__(self) -> None:
        super().__init__()
        self.painted: list[QObject] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            self.painted.append(watched)
        return False


def test_streaming_text_repaints_the_answer_not_the_window_beneath(open_window, qtbot):
    """Text streaming in changes the answer, its scroll bar and the live figures several
    times a second. Each repaint of a widget Qt does not know to be opaque paints
    everything under it too: the pane, the compare area and the main window."""
    window = open_window([]).window
    window.stack.setCurrentWidget(window.area)  # no models here: the panes hide behind the empty state
    pane = window.area.panes[0]
    pane.answer_view.append_stream("A line of an answer.\n" * 200)
    pane.status_label.setText("generating… · 200 tokens")
    qtbot.waitUntil(pane.answer_view.verticalScrollBar().isVisible)
    qtbot.wait(50)
    paints = _Paints()
    QApplication.instance().installEventFilter(paints)
    streaming = {pane.answer_view.viewport(), pane.status_label, pane.answer_view.verticalScrollBar()}
    try:
        for i in range(5):
            pane.answer_view.append_stream(f"More text, part {i}.\n")
            pane.status_label.setText(f"generating… · {200 + i} tokens")
            qtbot.wait(20)
        # A busy machine paints late: wait for the streaming widgets' repaints, however long.
        qtbot.waitUntil(lambda: streaming <= set(paints.painted), timeout=WAIT_MS)
    finally:
        QApplication.instance().removeEventFilter(paints)
    assert not {window, window.area, pane} & set(paints.painted)
