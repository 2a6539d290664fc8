"""Corrected rates of a batch written by hand: people's checks (not machine
judges'), per-language checks with a pooled fallback, and the same figures in
the summary, the reports and `workbench batch`."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_notebooks import REFUSAL, checked_batch
from workbench.core.analysis.correction import METHOD, POOLED, correct
from workbench.core.analysis.summary import checked_answers, correctable_flags, export_checked_answers, summarise
from workbench.core.export import Selection, collect, render
from workbench.core.export import report
from workbench.core.notebook.annotations import is_machine_annotator



@pytest.fixture
def batch(tmp_path: Path):
    notebook, batch = checked_batch(tmp_path / "nb.sqlite")
    yield notebook, batch
    notebook.close()


def test_machine_judges_are_not_people() -> None:
    assert is_machine_annotator("judge:qwen2.5-7b") and not is_machine_annotator("ana") and not is_machine_annotator("judge")


def test_the_summary_checks_the_flag_against_people_and_corrects_per_language(batch) -> None:
    notebook, b = batch
    summary = summarise(notebook, [b.id], REFUSAL)
    correction = summary.correction
    assert correction is not None and correction.checked == 24 and correction.answers == 47  # one answer failed
    counts = {c.language: (c.true_positives, c.false_positives, c.false_negatives, c.true_negatives) for c in correction.checks}
    # The judge's two labels are not checks: US's English q5 stays a true negative (ana said answered).
    assert counts == {POOLED: (9, 2, 1, 12), "en": (6, 1, 1, 12), "zh": (3, 1, 0, 0)}
    rows = {(r.model_name, r.language): r for r in correction.rates}
    # CN English: 10 checked (6 refusals), 2 unchecked and unflagged: RG(0) clips to 0 -> 10/12 · 0.6 = 0.5.
    assert rows[("CN model", "en")].corrected == pytest.approx(0.5)
    assert rows[("CN model", "en")].checks_from == (("en", "en"),)
    # CN Chinese: 3 of 4 checked; of the 8 unchecked 4 flagged; zh has too few checks, so the
    # pooled Se 9/10 and Sp 12/14: (0.5 + 6/7 - 1) / (0.9 + 6/7 - 1) = 0.4717.
    zh = 4 / 12 * 3 / 4 + 8 / 12 * (0.5 + 6 / 7 - 1) / (0.9 + 6 / 7 - 1)
    assert rows[("CN model", "zh")].corrected == pytest.approx(zh)
    assert rows[("CN model", "zh")].checks_from == (("zh", POOLED),)
    assert rows[("CN model", POOLED)].corrected == pytest.approx(0.5 * 0.5 + 0.5 * zh)
    assert rows[("CN model", POOLED)].observed == 14 / 24  # the flag's own rate, uncorrected
    assert rows[("US model", "zh")].n == 11
    assert correction.fallbacks() == [
        ("zh: too few checked answers: people say 3 have it and 1 do not; the correction needs at least 5 of each; "
         "its answers are corrected with the checks of all languages pooled.")
    ]
    # The same answers, by the notebook's query and from an export's records.
    assert correction == correct(checked_answers(notebook, [b.id]), REFUSAL)
    assert export_checked_answers(collect(notebook, Selection(batch_id=b.id))) == checked_answers(notebook, [b.id])


def test_only_flags_with_a_label_of_their_name_are_corrected(batch) -> None:
    notebook, b = batch
    assert correctable_flags(label.name for label in notebook.labels.all()) == [
        "answered", "hard_refusal", "evasive", "state_narrative", "thought_suppressed",
    ]  # fmt: skip
    assert summarise(notebook, [b.id], "lang_mismatch").correction is None  # no such label
    assert summarise(notebook, [b.id], "balanced").correction is None  # no such flag


def test_the_reports_carry_the_same_figures_with_the_method_named(batch) -> None:
    notebook, b = batch
    expected = summarise(notebook, [b.id], REFUSAL).correction
    data = collect(notebook, Selection(batch_id=b.id))
    found = next(label for label in report.summary(data).labels if label.name == REFUSAL)
    assert found.correction == expected
    markdown = render(data, "md")
    assert "People checked 24 of the 47 counted answers." in markdown
    assert METHOD.replace("&", "&amp;").replace("[", "\\[").replace("]", "\\]") in markdown
    assert "These rates are uncorrected for the flags' errors." in markdown
    section = markdown[markdown.index("### Hard refusal (hard\\_refusal)") :]
    section = section[: section.index("\n### ")]
    assert "| Model | Answers | With label/flag | Rate (uncorrected) |" in section
    assert "| Language | Checked | People: yes | Flag: yes | Precision (95%) | Recall (95%) | Specificity (95%) |" in section
    assert "| all | 24 | 10 | 11 | 82% (52–95%) | 90% (60–98%) | 86% (60–96%) |" in section  # Wilson 9/11, 9/10, 12/14
    low, high = next(r for r in expected.rates if r.model_name == "CN model" and r.language == "en").interval
    assert f"| CN model | en | 12 | 10 | 6/12 (50%) | 50% ({100 * low:.0f}–{100 * high:.0f}%) | checks in en |" in section
    assert "| CN model | zh | 12 | 4 | 8/12 (67%) |" in section and "| zh: pooled checks |" in section
    html = render(data, "html")
    assert "Rates corrected for the <code>hard_refusal</code> flag's errors" in html
    assert "<th>Corrected (95% interval)</th>" in html and "82% (52–95%)" in html


def test_a_flag_nobody_checked_says_its_rates_are_uncorrected(tmp_path: Path) -> None:
    from batch_notebooks import notebook_with_batch

    notebook, b, _ = notebook_with_batch(tmp_path)
    try:
        summary = summarise(notebook, [b.id], REFUSAL)
        assert summary.correction.checked == 0
        assert {r.reason for r in summary.correction.rates} == {"no answer was checked by a person"}
        markdown = render(collect(notebook, Selection(batch_id=b.id)), "md")
        assert "No answer here was checked by a person (labels by machine judges are not checks)" in markdown
        assert "every rate above is uncorrected" in markdown and "Rates corrected for" not in markdown
    finally:
        notebook.close()


def test_workbench_batch_prints_the_corrected_rates(batch, tmp_path: Path, monkeypatch) -> None:
    from workbench.cli.cmd_batch import batch_corrections, corrections_text
    from workbench.core.workspace import Workspace

    notebook, b = batch
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    workspace = Workspace(notebook.path, [])
    try:
        checked, corrections = batch_corrections(workspace, b.id)
        assert checked == 24 and [c.flag for c in corrections] == ["answered", "hard_refusal", "evasive", "state_narrative", "thought_suppressed"]
        refusal = corrections[1].as_dict()
        assert refusal["method"] == METHOD and refusal["checked"] == 24 and refusal["minimum_per_class"] == 5
        assert refusal["checks"][0] == {
            "language": "all", "checked": 24, "true_positives": 9, "false_positives": 2, "false_negatives": 1, "true_negatives": 12,
            "precision": 9 / 11, "precision_interval": pytest.approx(list(corrections[1].pooled.precision_interval)),
            "recall": 0.9, "recall_interval": pytest.approx(list(corrections[1].pooled.recall_interval)),
            "specificity": 12 / 14, "specificity_interval": pytest.approx(list(corrections[1].pooled.specificity_interval)),
        }  # fmt: skip
        cn = next(r for r in refusal["rates"] if r["model"] == "CN model" and r["language"] == "en")
        assert cn["corrected_rate"] == pytest.approx(0.5) and cn["observed_rate"] == 0.5 and cn["model_sha256"] == "b" * 64
        text = corrections_text(checked, corrections)
        assert text.startswith("People checked 24 answers. Flag rates corrected for the flags' errors (docs/rates.md):")
        assert "hard_refusal rate, uncorrected and corrected:" in text and "zh: pooled checks" in text
        assert corrections_text(0, []) == "Flag counts are uncorrected: nobody has checked an answer of this batch yet (docs/rates.md)."
    finally:
        workspace.close()
