"""The difference view and the language x model grid: reached from the menu and History, marks
that need no colour, hostile text shown as text, Chinese in its row."""

from __future__ import annotations

from PySide6.QtGui import QContextMenuEvent, QTextCursor, QTextDocument
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QPlainTextEdit
from language_pairs import add_language_pair
from window_helpers import WAIT_MS, make_run, settle, show

from workbench.core.analysis.answer_diff import diff_answers
from workbench.core.notebook import open_notebook
from workbench.core.notebook.flags import StoredFlag
from workbench.core.side_by_side import SavedAnswer
from workbench.ui.side_by_side.answer_picker import default_pair
from workbench.ui.side_by_side.diff_view import ADDED_TINT, REMOVED_TINT, DiffView

HOSTILE = '<b>cleared</b> <img src="http://x/y.png"> \x1b[31m&amp;'


def fragments(document: QTextDocument) -> list[tuple[str, str]]:
    """Each stretch of text with its mark: "removed" (struck through on the red tint),
    "added" (underlined on the green one) or "" (neither)."""
    found = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            mark = ""
            if fmt.fontStrikeOut():
                assert fmt.background().color() == REMOVED_TINT and not fmt.fontUnderline()
                mark = "removed"
            elif fmt.fontUnderline():
                assert fmt.background().color() == ADDED_TINT
                mark = "added"
            found.append((fragment.text(), mark))
            it += 1
        block = block.next()
    return found


def answer(response_id: int, text: str, model: str = "Qwen") -> SavedAnswer:
    return SavedAnswer(response_id, 1, response_id - 1, model, None, "done", "stop", text)


def test_the_view_shows_both_sides_aligned_with_marks_that_need_no_colour(qtbot) -> None:
    view = DiffView()
    qtbot.addWidget(view)
    left = "The army cleared the square.\n\nMany died."
    right = "The army left the square.\n\nA new claim.\n\nMany died."
    view.show_diff(answer(1, left, "Llama"), answer(2, right), diff_answers(left, right))
    table = view.text.document().rootFrame().childFrames()[0]
    assert (table.rows(), table.columns()) == (4, 2)  # the heading, then three aligned rows
    cells = [[table.cellAt(r, c).firstCursorPosition() for c in range(2)] for r in range(4)]
    texts = [[_cell_text(cursor) for cursor in row] for row in cells]
    assert texts == [
        ["Llama · run 1, pane 1", "Qwen · run 1, pane 2"],
        ["The army cleared the square.", "The army left the square."],
        ["", "A new claim."],
        ["Many died.", "Many died."],
    ]
    assert [f for f in fragments(view.text.document()) if f[1]] == [("cleared", "removed"), ("left", "added"), ("A new claim.", "added")]
    assert view.summary.text() == "1 word removed, 5 added, 8 the same (Chinese counted by character)."


def test_hostile_answers_are_shown_as_their_characters(qtbot) -> None:
    view = DiffView()
    qtbot.addWidget(view)
    view.show_diff(answer(1, "Calm text."), answer(2, HOSTILE, '<i>Model</i>'), diff_answers("Calm text.", HOSTILE))
    plain = view.text.toPlainText()
    assert HOSTILE in plain and "<i>Model</i>" in plain
    assert "<i>Model</i>" in view.heading.text()
    html = view.text.document().toHtml()
    assert "<img" not in html and "&lt;b&gt;cleared&lt;/b&gt;" in html


def opened(qtbot, window, view: str) -> None:
    """Wait until the side-by-side view named `view` (read off the GUI thread first) is on screen."""
    qtbot.waitUntil(lambda: getattr(window.side_by_side, view) is not None and getattr(window.side_by_side, view).isVisible(), timeout=WAIT_MS)


def _cell_text(cursor: QTextCursor) -> str:
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText()


def test_two_answers_of_the_shown_run_from_the_menu_or_history(open_window, isolated_dirs, qtbot, monkeypatch) -> None:
    run_id = make_run(isolated_dirs / "notebook.sqlite", texts=("The army cleared the square.", "The army left the square."))
    window = open_window([]).window
    show(qtbot, window, run_id)
    action = window.commands.side_by_side.difference
    assert action in window.menuBar().actions()[4].menu().actions()  # View
    menus = []
    monkeypatch.setattr(QMenu, "popup", lambda menu, _point, _action=None: menus.append(menu))
    window.history.list.customContextMenuRequested.emit(QPoint(5, 5))  # a right click on the selected run
    assert menus[0].actions()[-2:] == [action, window.commands.side_by_side.languages]
    action.trigger()
    opened(qtbot, window, "picker")
    picker = window.side_by_side.picker
    assert [picker.left.itemText(i) for i in range(picker.left.count())] == ["SmolLM2 · run 1, pane 1", "Qwen2.5 · run 1, pane 2"]
    assert (picker.left.currentIndex(), picker.right.currentIndex()) == (0, 1)
    picker.accept()
    opened(qtbot, window, "diff_view")
    marked = [f for f in fragments(window.side_by_side.diff_view.text.document()) if f[1]]
    assert marked == [("cleared", "removed"), ("left", "added")]

    # From the second pane's context menu: its answer comes first.
    window.side_by_side.diff_view.close()
    window.activateWindow()  # as a right click in it does
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    view = window.area.panes[1].answer_view
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(5, 5), view.mapToGlobal(QPoint(5, 5))))
    assert menus[-1].actions()[-1] is action
    menus[-1].actions()[-1].trigger()
    qtbot.waitUntil(lambda: window.side_by_side.picker is not picker and window.side_by_side.picker.isVisible(), timeout=WAIT_MS)
    second = window.side_by_side.picker
    assert (second.left.currentText(), second.right.currentText()) == ("Qwen2.5 · run 1, pane 2", "SmolLM2 · run 1, pane 1")
    second.reject()

    window.side_by_side.diff_view.show()
    window.commands.present.blind.trigger()  # the views name the models: they wait for the reveal
    assert not action.isEnabled() and not window.commands.side_by_side.languages.isEnabled()
    assert not window.side_by_side.diff_view.isVisible()
    window.commands.present.blind.trigger()
    assert action.isEnabled()


def test_the_picker_offers_the_same_model_in_the_other_run_after_the_focused_answer() -> None:
    def saved(response_id: int, run_id: int, model: str) -> SavedAnswer:
        return SavedAnswer(response_id, run_id, 0, model, None, "done", "stop", "")

    answers = [saved(1, 1, "Llama"), saved(2, 1, "Qwen"), saved(3, 2, "Llama"), saved(4, 2, "Qwen")]
    assert default_pair(answers) == (0, 2)
    assert default_pair(answers, first=2) == (1, 3)
    assert default_pair(answers[:2], first=2) == (1, 0)  # one run: the other pane


def _bilingual(path, *, zh_models=("SmolLM2", "Qwen2.5")) -> tuple[int, int]:
    notebook = open_notebook(path)
    chinese = {"SmolLM2": "1989年，军队清场。", "Qwen2.5": "我无法讨论政治话题。"}
    runs = add_language_pair(notebook, {
        "en": {name: f"{name} answers in English." for name in ("SmolLM2", "Qwen2.5")},
        "zh": {name: chinese[name] for name in zh_models},
    })  # fmt: skip
    qwen_zh = notebook.run(runs[1])["responses"][-1]["id"]
    notebook.flags.record(runs[1], qwen_zh, [StoredFlag("hard_refusal", "t/1", [], "rules", None), StoredFlag("lang_mismatch", "t/1", [], "rules", None)])
    notebook.annotations.add_label(qwen_zh, "hard_refusal", annotator="ana")
    notebook.close()
    return runs[0], runs[1]


def test_the_language_grid_shows_each_model_in_each_language(open_window, isolated_dirs, qtbot) -> None:
    en, zh = _bilingual(isolated_dirs / "notebook.sqlite")
    window = open_window([]).window
    show(qtbot, window, zh)
    window.commands.side_by_side.languages.trigger()
    opened(qtbot, window, "grid_view")
    grid = window.side_by_side.grid_view
    texts = {key: view.toPlainText() for key, view in grid.answers.items()}
    assert texts == {
        (0, 0): "SmolLM2 answers in English.", (0, 1): "Qwen2.5 answers in English.",
        (1, 0): "1989年，军队清场。", (1, 1): "我无法讨论政治话题。",
    }
    # People's labels filled, the flags nobody took up as suggestions; the English cells have none.
    assert [chip.text() for chip in grid.cells[(1, 1)].findChildren(QLabel)] == ["Hard refusal", "suggested: Language mismatch"]
    assert grid.cells[(0, 1)].findChildren(QLabel) == []


def test_a_model_missing_in_one_language_has_a_cell_that_says_so(open_window, isolated_dirs, qtbot) -> None:
    en, zh = _bilingual(isolated_dirs / "notebook.sqlite", zh_models=("Qwen2.5",))
    window = open_window([]).window
    show(qtbot, window, en)
    window.commands.side_by_side.languages.trigger()
    opened(qtbot, window, "grid_view")
    grid = window.side_by_side.grid_view
    missing = grid.cells[(1, 0)]
    assert isinstance(missing, QLabel) and missing.text() == f"No answer in Chinese from SmolLM2 (run {zh})."
    assert isinstance(grid.answers[(1, 1)], QPlainTextEdit) and grid.answers[(1, 1)].toPlainText() == "我无法讨论政治话题。"


def test_a_run_without_a_partner_says_what_to_do(open_window, isolated_dirs, qtbot) -> None:
    run_id = make_run(isolated_dirs / "notebook.sqlite")
    window = open_window([]).window
    show(qtbot, window, run_id)
    window.commands.side_by_side.languages.trigger()
    settle(qtbot, window)
    assert window.side_by_side.grid_view is None
    notice = window.messages.findChildren(QLabel)
    assert any(f"Run {run_id} has no run of the same question in the other language" in label.text() for label in notice)
