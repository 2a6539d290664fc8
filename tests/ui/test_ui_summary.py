"""The Summary tab on a notebook with known flags and labels: k/n, intervals, tests, kappa."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_notebooks import checked_batch, notebook_with_batch
from window_helpers import WAIT_MS

from workbench.ui.batches.batch_view import CHIPS_ROLE, FIXED
from workbench.ui.batches.summary_view import TABLE_HEADERS

# The offscreen platform can't raise windows; opening the Batches window raises it.
US, CN = 0, 1


@pytest.fixture
def labelled_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """test_summary's hand-made batch, with two annotators' labels on three of CN's answers."""
    notebook, batch, ids = notebook_with_batch(tmp_path / "hand")
    try:
        for prompt, ana, ben in (
            ("q1-en", ["hard_refusal"], ["evasive"]),
            ("q1-zh", ["hard_refusal"], ["hard_refusal"]),  # its flags say answered, state_narrative
            ("q2-en", ["answered"], ["answered"]),
        ):
            for label in ana:
                notebook.annotations.add_label(ids[(prompt, CN)], label, annotator="ana")
            for label in ben:
                notebook.annotations.add_label(ids[(prompt, CN)], label, annotator="ben")
    finally:
        notebook.close()
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "hand" / "nb.sqlite"))
    return {"batch": batch, "ids": ids}


def rows(table) -> list[dict[str, str]]:
    return [{h: table.item(r, c).text() for c, h in enumerate(TABLE_HEADERS)} for r in range(table.rowCount())]


def open_summary(qtbot, window):
    batches = window.open_batches()
    qtbot.waitUntil(lambda: batches.matrix.data_ is not None, timeout=WAIT_MS)
    with qtbot.waitSignal(batches.summary.summaryShown, timeout=WAIT_MS):
        batches.tabs.setCurrentWidget(batches.summary)
    return batches


def test_summary_counts_human_labels_over_flags_with_intervals_tests_and_kappa(open_window, labelled_notebook, qtbot) -> None:
    window = open_window([]).window
    batches = open_summary(qtbot, window)
    view = batches.summary
    assert view.chosen_label == "hard_refusal"
    # CN: q1 refused in both languages by the annotators (2 of 4 counted answers);
    # q2-zh has no label, so its flags count. US: 3 answers (q2-zh failed), no label.
    overall = {r["Model"]: r for r in rows(view.table) if r["By"] == "all"}
    assert overall["CN model"] == {
        "Model": "CN model", "By": "all", "Group": "all", "k / n": "2/4", "Rate": "50%",
        "95% interval": "15–85%", "From labels": "3", "From flags": "1",
    }
    assert overall["US model"]["k / n"] == "0/3" and overall["US model"]["95% interval"] == "0–56%"
    by_language = {(r["Model"], r["Group"]): r["k / n"] for r in rows(view.table) if r["By"] == "language"}
    assert by_language == {("US model", "en"): "0/2", ("US model", "zh"): "0/1", ("CN model", "en"): "1/2", ("CN model", "zh"): "1/2"}
    assert view.counting.text().endswith("7 answers: 3 from human labels, 4 from automatic flags.")
    assert "human labels where an answer has any" in view.counting.text()

    tests = view.tests.text().splitlines()
    # The same 3 prompts: only CN refused twice -> 2 * (1/2)^2.
    assert tests[0] == "US model vs CN model, on the same 3 prompts: both 0, only US model 0, only CN model 2 — McNemar exact p = 0.500"
    assert "CN model, English vs Chinese on 2 translated pairs: both 1, only English 0, only Chinese 0 — McNemar exact p = 1.000" in tests

    table = view.agreement
    kappa = {
        (table.item(r, 1).text(), table.item(r, 0).text()): (table.item(r, 2).text(), table.item(r, 4).text()) for r in range(table.rowCount())
    }
    # hard_refusal: ana yes,yes,no; ben no,yes,no -> (2/3 - 4/9) / (5/9) = 0.4.
    people = {label: k for (pair, label), (_, k) in kappa.items() if pair == "ana & ben"}
    assert people == {"Hard refusal": "0.40", "Evasive": "0.00", "Answered": "1.00"}
    assert kappa[("ana & ben", "Hard refusal")][0] == "3"
    # The automatic flags rate beside them, on the answers both they and a person labelled:
    # hard_refusal: flags yes,no,no (q1-en, q1-zh, q2-en of CN: hard_refusal, answered+state_narrative,
    # answered); ana yes,yes,no -> (2/3 - 4/9) / (5/9) = 0.4.
    assert kappa[("[automatic flags] & ana", "Hard refusal")] == ("3", "0.40")
    assert "the detectors' flags ([automatic flags])" in view.agreement_note.text()
    for chart in (view.heat_map, view.bars):
        assert chart.renderer().isValid() and not chart.renderer().defaultSize().isEmpty()

    # The state-narrative flag on CN's q1-zh is overruled by the annotators' labels.
    with qtbot.waitSignal(view.summaryShown, timeout=WAIT_MS):
        view.choose_label("state_narrative")
    overall = {r["Model"]: r["k / n"] for r in rows(view.table) if r["By"] == "all"}
    assert overall == {"US model": "0/3", "CN model": "0/4"}


def test_the_matrix_shows_labels_solid_and_flags_as_suggestions(open_window, labelled_notebook, qtbot) -> None:
    window = open_window([]).window
    batches = window.open_batches()
    qtbot.waitUntil(lambda: batches.matrix.data_ is not None, timeout=WAIT_MS)
    model = batches.matrix
    row = next(r for r, item in enumerate(model.data_.items) if item.prompt_id == "q1-zh")
    index = model.index(row, len(FIXED) + CN)
    assert index.data() == "Hard refusal Answered? State narrative?"
    assert [solid for _, _, solid in index.data(CHIPS_ROLE)] == [True, False, False]
    failed = model.index(next(r for r, item in enumerate(model.data_.items) if item.prompt_id == "q2-zh"), len(FIXED) + US)
    assert failed.data() == "error"


@pytest.fixture
def checked_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """test_rates' batch: 24 answers checked by ana, two labels by a machine judge."""
    (tmp_path / "rates").mkdir()  # open_notebook makes no folders
    notebook, batch = checked_batch(tmp_path / "rates" / "nb.sqlite")
    notebook.close()
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "rates" / "nb.sqlite"))
    return {"batch": batch}


def table_rows(table, headers) -> list[dict[str, str]]:
    return [{h: table.item(r, c).text() for c, h in enumerate(headers)} for r in range(table.rowCount())]


def test_summary_shows_the_flag_against_people_and_the_corrected_rates(open_window, checked_notebook, qtbot, tmp_path: Path) -> None:
    from workbench.core.export.report import CHECK_COLUMNS, CORRECTED_COLUMNS

    window = open_window([]).window
    batches = open_summary(qtbot, window)
    view = batches.summary
    assert view.chosen_label == "hard_refusal"
    assert view.checks.isVisibleTo(view) and view.corrected.isVisibleTo(view)
    assert view.correction_note.text().startswith("How well the hard_refusal flag did on the 24 answers people checked")
    assert "Rogan–Gladen" in view.correction_note.text() and "Jeffreys" in view.correction_note.text()
    checks = {r["Language"]: r for r in table_rows(view.checks, CHECK_COLUMNS)}
    assert checks["all"] == {
        "Language": "all", "Checked": "24", "People: yes": "10", "Flag: yes": "11",
        "Precision (95%)": "82% (52–95%)", "Recall (95%)": "90% (60–98%)", "Specificity (95%)": "86% (60–96%)",
    }  # fmt: skip
    assert checks["zh"]["Checked"] == "4"
    corrected = {(r["Model"], r["Language"]): r for r in table_rows(view.corrected, CORRECTED_COLUMNS)}
    cn = corrected[("CN model", "en")]
    assert cn["Flag rate (uncorrected)"] == "6/12 (50%)" and cn["Corrected (95% interval)"].startswith("50% (")
    assert corrected[("CN model", "zh")]["Note"] == "pooled checks"
    assert "zh: too few checked answers" in view.correction_lines.text()

    # At 1366x768, the numbers fit beside each other: no column is cut.
    batches.resize(1366, 768)
    batches.show()
    qtbot.waitExposed(batches)
    view.corrected.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(view.corrected)
    qtbot.waitUntil(lambda: view.corrected.horizontalScrollBar().maximum() == 0, timeout=WAIT_MS)  # once laid out
    batches.grab().save(str(tmp_path / "summary-1366x768.png"))

    # Nobody said any answer was evasive: no corrected figure, and the reason instead.
    with qtbot.waitSignal(view.summaryShown, timeout=WAIT_MS):
        view.choose_label("evasive")
    corrected = table_rows(view.corrected, CORRECTED_COLUMNS)
    assert {r["Corrected (95% interval)"] for r in corrected} == {"not shown"}
    assert {r["Note"] for r in corrected} == {"too few checked answers"}
    assert "No corrected rate for US model (all), US model (en), CN model (all), CN model (en): too few checked answers" in view.correction_lines.text()
    view.corrected.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(view.correction_lines)
    qtbot.wait(50)
    batches.grab().save(str(tmp_path / "summary-not-shown-1366x768.png"))

    # A flag no label can check, and a label that is no flag, say so instead of a table.
    with qtbot.waitSignal(view.summaryShown, timeout=WAIT_MS):
        view.choose_label("lang_mismatch")
    assert not view.checks.isVisibleTo(view) and not view.corrected.isVisibleTo(view)
    assert view.correction_note.text().startswith("No label is named lang_mismatch")
    with qtbot.waitSignal(view.summaryShown, timeout=WAIT_MS):
        view.choose_label("balanced")
    assert "is not an automatic flag" in view.correction_note.text()


def test_summary_says_when_nobody_checked_an_answer(open_window, tmp_path: Path, qtbot, monkeypatch) -> None:
    notebook, _, _ = notebook_with_batch(tmp_path / "plain")
    notebook.close()
    monkeypatch.setenv("WORKBENCH_DB", str(tmp_path / "plain" / "nb.sqlite"))
    view = open_summary(qtbot, open_window([]).window).summary
    assert view.correction_note.text().startswith("No answer of this batch was checked by a person yet")
    assert not view.checks.isVisibleTo(view)
