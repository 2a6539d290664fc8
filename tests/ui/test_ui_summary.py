"""The Summary tab on a notebook with known flags and labels: k/n, intervals, tests, kappa."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_summary import _notebook_with_batch
from window_helpers import WAIT_MS

from workbench.ui.batch_view import CHIPS_ROLE, FIXED
from workbench.ui.summary_view import TABLE_HEADERS

# The offscreen platform can't raise windows; opening the Batches window raises it.
US, CN = 0, 1


@pytest.fixture
def labelled_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """test_summary's hand-made batch, with two annotators' labels on three of CN's answers."""
    notebook, batch, ids = _notebook_with_batch(tmp_path / "hand")
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
