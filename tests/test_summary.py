"""Summary statistics: Wilson and McNemar against hand-computed values, and
human labels winning over flags on a notebook written by hand."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from batch_notebooks import notebook_with_batch

from workbench.core.analysis.summary import (
    AUTO,
    COUNTING,
    HUMAN,
    compare_languages,
    compare_models,
    export_observations,
    known_names,
    mcnemar_exact,
    observations,
    rates,
    summarise,
    wilson_interval,
)
from workbench.core.export import Selection, collect, render


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # p = 1/2, z² = 3.8415: centre 0.5, half-width 1.96·√(0.025 + 0.0096)/1.3841 = 0.2634
        (5, 10, 0.2366, 0.7634),
        # 0/10: centre = half-width = (z²/20)/(1 + z²/10) = 0.1388
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        # 1/3: p(1-p)/n = 0.0741, z²/4n² = 0.1067; denominator 2.2805;
        # centre (0.3333 + 0.6403)/2.2805 = 0.4269, half 1.96·0.4252/2.2805 = 0.3654
        (1, 3, 0.0615, 0.7923),
    ],
)
def test_wilson_interval(k: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_edges() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (1, 6, 0.125),  # 2 · (C(7,0) + C(7,1)) / 2^7 = 2 · 8/128
        (0, 5, 0.0625),  # 2 · 1/32
        (6, 1, 0.125),  # symmetric
        (3, 3, 1.0),  # 2 · 42/64 > 1, capped
        (0, 0, 1.0),  # no discordant pair: no evidence
        (2, 10, 0.0386),  # 2 · (1 + 12 + 66)/4096 = 0.03857
    ],
)
def test_mcnemar_exact(b: int, c: int, p: float) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(p, abs=1e-4)


def test_rates_by_topic_and_language_count_only_finished_answers(tmp_path: Path) -> None:
    notebook, batch, _ = notebook_with_batch(tmp_path)
    try:
        found = observations(notebook, [batch.id])
        assert len(found) == 7  # the failed answer is not counted
        overall = {r.model_name: (r.k, r.n) for r in rates(found, "hard_refusal")}
        assert overall == {"US model": (0, 3), "CN model": (1, 4)}
        by_language = {(r.model_name, r.group): (r.k, r.n) for r in rates(found, "hard_refusal", "language")}
        assert by_language[("CN model", "en")] == (1, 2) and by_language[("CN model", "zh")] == (0, 2)
        assert by_language[("US model", "zh")] == (0, 1)
        by_topic = {(r.model_name, r.group): r for r in rates(found, "hard_refusal", "topic")}
        cn = by_topic[("CN model", "tiananmen")]
        assert (cn.k, cn.n, cn.rate, cn.auto, cn.human) == (1, 2, 0.5, 2, 0)
        assert cn.interval == pytest.approx(wilson_interval(1, 2))
    finally:
        notebook.close()


def test_human_labels_win_over_flags_and_the_summary_says_so(tmp_path: Path) -> None:
    notebook, batch, response_ids = notebook_with_batch(tmp_path)
    try:
        # A person says the CN model's Chinese answer to q1 is a refusal too, and
        # that its English one was evasive rather than a hard refusal.
        notebook.annotations.add_label(response_ids[("q1-zh", 1)], "hard_refusal", annotator="ana")
        notebook.annotations.add_label(response_ids[("q1-en", 1)], "evasive", annotator="ben")
        notebook.annotations.add_label(response_ids[("q2-zh", 1)], "answered", annotator="ana")
        found = {(o.prompt_id, o.model_name): o for o in observations(notebook, [batch.id])}
        assert found[("q1-zh", "CN model")].names == {"hard_refusal"} and found[("q1-zh", "CN model")].source == HUMAN
        assert found[("q1-en", "CN model")].names == {"evasive"}
        # lang_mismatch has no label: it still comes from the flags.
        assert found[("q2-zh", "CN model")].names == {"answered", "lang_mismatch"}
        assert found[("q1-en", "US model")].source == AUTO

        summary = summarise(notebook, [batch.id])
        assert summary.counting == COUNTING and "human labels" in summary.counting
        cn_key = "b" * 64
        cn = next(r for r in summary.overall if r.model == cn_key)
        assert (cn.k, cn.n, cn.human, cn.auto) == (1, 4, 3, 1)
        assert list(summary.models.values()) == ["US model", "CN model"]
        assert "lang_mismatch" in known_names(notebook) and "balanced" in known_names(notebook)
    finally:
        notebook.close()


def test_paired_tests_pair_prompts_and_translations(tmp_path: Path) -> None:
    notebook, batch, _ = notebook_with_batch(tmp_path)
    try:
        found = observations(notebook, [batch.id])
        test = compare_models(found, "hard_refusal", "a" * 64, "b" * 64)
        # q2-zh is missing for the US model: three shared prompts, one discordant (CN only).
        assert (test.pairs, test.both, test.first_only, test.second_only, test.neither) == (3, 0, 0, 1, 2)
        assert test.p_value == 1.0
        lang = compare_languages(found, "hard_refusal", "b" * 64)
        assert (lang.first, lang.second, lang.pairs, lang.first_only, lang.second_only) == ("en", "zh", 2, 1, 0)
        assert compare_languages(found, "hard_refusal", "a" * 64).pairs == 1
    finally:
        notebook.close()


def test_an_exported_batch_counts_exactly_as_the_batch(tmp_path: Path) -> None:
    """The reports' Summary and the Summary view share one counting path."""
    notebook, batch, response_ids = notebook_with_batch(tmp_path)
    try:
        notebook.annotations.add_label(response_ids[("q1-zh", 1)], "hard_refusal", annotator="ana")
        notebook.annotations.add_label(response_ids[("q1-en", 1)], "evasive", annotator="ben")
        data = collect(notebook, Selection(batch_id=batch.id))
        assert export_observations(data) == observations(notebook, [batch.id])
        # Answers of runs outside any batch pair up by run and have no topic.
        run_id = notebook.create_run("Ad hoc", language="zh")
        for position, sha in enumerate(("a" * 64, "b" * 64)):
            rid = notebook.add_response(run_id, position, model_name=sha[:1], model_sha256=sha, origin_country=None, seed=1, sampler={})
            notebook.finish_response(rid, text="text", finish_reason="stop")
        ad_hoc = export_observations(collect(notebook, Selection(run_ids=(run_id,))))
        assert [(o.prompt_id, o.topic, o.language, o.source) for o in ad_hoc] == [(f"run {run_id}", "", "zh", AUTO)] * 2
    finally:
        notebook.close()


def test_an_exported_batch_gets_a_topic_heat_map(tmp_path: Path) -> None:
    notebook, batch, _ = notebook_with_batch(tmp_path)
    try:
        data = collect(notebook, Selection(batch_id=batch.id))
        html = render(data, "html")
        refusal = html[html.index("<h3>Hard refusal") :]
        refusal = refusal[: refusal.index("<h3>", 1)]
        svgs = re.findall(r"<svg\b.*?</svg>", refusal, flags=re.S)
        titles = [ET.fromstring(svg).findtext("{http://www.w3.org/2000/svg}title") for svg in svgs]
        assert titles == ["Hard refusal: rate by model", "Hard refusal: by language", "Hard refusal: by topic"]
        heat_map = ET.fromstring(svgs[2])
        texts = [t.text for t in heat_map.iter("{http://www.w3.org/2000/svg}text")]
        # Rows are topics, columns models: US 0/2 and CN 1/2 on tiananmen; US answered only q2-en on facts.
        assert texts.index("tiananmen") < texts.index("facts") and texts.index("US model") < texts.index("CN model")
        assert [t for t in texts if "/" in t] == ["0/2", "1/2", "0/1", "0/2"]
        markdown = render(data, "md")
        assert "By topic:\n\n| Topic | US model | CN model |\n|---|---|---|\n| tiananmen | 0/2 (0%) | 1/2 (50%) |\n| facts | 0/1 (0%) | 0/2 (0%) |" in markdown
    finally:
        notebook.close()


def test_the_reports_carry_the_summary_views_mcnemar_tests(tmp_path: Path) -> None:
    """Markdown, HTML and the PDF's document say the paired tests the window's Summary shows, in its words."""
    from workbench.core.export.html_report import document
    from workbench.core.export.report import TESTS_HEADING, language_test_text, model_test_text

    notebook, batch, _ = notebook_with_batch(tmp_path)
    try:
        view = summarise(notebook, [batch.id], "hard_refusal")
        data = collect(notebook, Selection(batch_id=batch.id))
    finally:
        notebook.close()
    sentences = [model_test_text(t, view.models) for t in view.model_tests]
    sentences += [language_test_text(t, view.models[key]) for key, t in view.language_tests.items()]
    assert sentences == [
        "US model vs CN model, on the same 3 prompts: both 0, only US model 0, only CN model 1 — McNemar exact p = 1.000",
        "US model, English vs Chinese on 1 translated pairs: both 0, only English 0, only Chinese 0 — McNemar exact p = 1.000",
        "CN model, English vs Chinese on 2 translated pairs: both 0, only English 1, only Chinese 0 — McNemar exact p = 1.000",
    ]
    markdown = render(data, "md")
    refusal = markdown[markdown.index("### Hard refusal") :]
    refusal = refusal[: refusal.index("\n### ")]
    assert f"{TESTS_HEADING}:\n\n" + "".join(f"- {s}\n" for s in sentences) in refusal
    for html in (render(data, "html"), document(data, for_qt=True)):
        refusal = html[html.index("<h3>Hard refusal") :]
        refusal = refusal[: refusal.index("<h3>", 1)]
        assert f"<p>{TESTS_HEADING}:</p>\n<ul>\n" + "".join(f'<li dir="auto">{s}</li>\n' for s in sentences) + "</ul>" in refusal
