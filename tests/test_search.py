"""Full-text search: English and Chinese (two-character words too), filters, snippets, index upkeep."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.notebook import open_notebook
from workbench.core.notebook.database import ModelRecord
from workbench.core.notebook.search import MARK_END, MARK_START, SearchFilters, make_snippet, parse_terms

QWEN, SMOL = ("Qwen2.5-Coder-0.5B-Instruct", "CN", "q" * 64), ("SmolLM2-135M-Instruct", "US", "s" * 64)


def _run(notebook, prompt, language, answers, created_at=None):
    run_id = notebook.create_run(prompt, language=language)
    if created_at:
        notebook.store.db.execute("update runs set created_at = ? where id = ?", [created_at, run_id])
    ids = []
    for position, ((name, country, sha), text, reasoning) in enumerate(answers):
        rid = notebook.add_response(run_id, position, model_name=name, model_sha256=sha, origin_country=country, seed=1, sampler={})
        notebook.finish_response(rid, text=text, reasoning=reasoning)
        ids.append(rid)
    return run_id, ids


# Each search can take one of several ways to the same answer (see search._Finder);
# every test runs in each, forced by the thresholds that choose between them.
STRATEGIES = {
    "index": {"MAX_CANDIDATES": -1},  # walk the index's matches, checking filters
    "candidates": {"MAX_CANDIDATES": 10**9},  # list what the filters allow, check each text
    "common terms": {"MAX_CANDIDATES": -1, "MAX_TRIGRAMS": 0},  # short terms checked in the text, not the index
}


@pytest.fixture(params=list(STRATEGIES))
def notebook(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in STRATEGIES[request.param].items():
        monkeypatch.setattr(f"workbench.core.notebook.search.{name}", value)
    notebook = open_notebook(tmp_path / "nb.sqlite")
    for name, country, sha in (QWEN, SMOL):
        notebook.record_model(ModelRecord(sha256=sha, name=name, path=f"/m/{name}.gguf", origin_country=country))
    # run 1 (responses 1, 2), run 2 (3, 4), run 3 (5, 6)
    _run(notebook, "What happened at Tiananmen Square in June 1989?", "en", [
        (QWEN, "I'm unable to engage in discussions regarding political matters.", ""),
        (SMOL, "In June 1989 a meeting in Tiananmen Square discussed the Anti-Terrorism Act. AI wrote this.", "The user asks about 1989."),
    ], created_at="2026-03-01T12:00:00.000+00:00")
    _run(notebook, "1989年6月天安门广场发生了什么？", "zh", [
        (QWEN, "1989年6月，天安门广场发生了抗议活动，人群被驱散。", ""),
        (SMOL, "天安门广场是北京的中心。关于台湾", ""),
    ], created_at="2026-03-15T12:00:00.000+00:00")
    _run(notebook, "台湾是一个国家吗？", "zh", [
        (QWEN, "台湾是中国不可分割的一部分。", "党的立场"),
        (SMOL, "Taiwan governs itself; 台湾有自己的政府。", ""),
    ], created_at="2026-04-01T12:00:00.000+00:00")
    yield notebook
    notebook.close()


def _found(notebook, query, **filters):
    return [(h.run_id, h.response_id, h.field) for h in notebook.search(query, SearchFilters(**filters))]


def test_english_is_found_in_prompts_answers_and_reasoning_ignoring_case(notebook) -> None:
    assert _found(notebook, "TIANANMEN") == [(1, None, "prompt"), (1, 2, "text")]
    assert _found(notebook, "user asks") == [(1, 2, "reasoning")]
    hit = notebook.search("engage")[0]
    assert (hit.model_name, hit.origin_country, hit.position, hit.language) == (QWEN[0], "CN", 0, "en")
    assert hit.snippet == f"I'm unable to {MARK_START}engage{MARK_END} in discussions regarding political matters."


def test_two_character_chinese_words_are_found_even_at_the_very_end_of_a_text(notebook) -> None:
    # 台湾 ends response 4: only the index's padding gives it a trigram of its own.
    assert _found(notebook, "台湾") == [(3, None, "prompt"), (3, 5, "text"), (3, 6, "text"), (2, 4, "text")]
    assert _found(notebook, "天安") == [(2, None, "prompt"), (2, 3, "text"), (2, 4, "text")]
    assert _found(notebook, "党") == [(3, 5, "reasoning")]
    assert _found(notebook, "天安门广场") == [(2, None, "prompt"), (2, 3, "text"), (2, 4, "text")]
    assert _found(notebook, "驱散") == [(2, 3, "text")]
    assert _found(notebook, "香港") == []
    hit = notebook.search("台湾", SearchFilters(languages=("zh",)))[-1]
    assert hit.snippet == f"天安门广场是北京的中心。关于{MARK_START}台湾{MARK_END}"


def test_two_letter_english_and_mixed_queries(notebook) -> None:
    # By substring, like every term: "AI wrote" and "Taiwan".
    assert _found(notebook, "ai") == [(3, 6, "text"), (1, 2, "text")]
    assert f"{MARK_START}AI{MARK_END} wrote" in notebook.search("ai")[1].snippet
    assert _found(notebook, "taiwan 台湾") == [(3, 6, "text")]  # every term, in the same text


def test_quotes_keep_a_phrase_and_every_word_must_occur(notebook) -> None:
    assert _found(notebook, '"anti-terrorism act"') == [(1, 2, "text")]
    assert _found(notebook, '"act anti-terrorism"') == []
    assert _found(notebook, "meeting engage") == []  # in different answers


# What "1989" alone finds in the fixture: both prompts that say it, and the answers 2 and 3.
ALL_1989 = [(2, None, "prompt"), (2, 3, "text"), (1, None, "prompt"), (1, 2, "text")]


@pytest.mark.parametrize("query, found", [
    # Words FTS would read as operators are words, found in no text of the fixture.
    ("AND", []), ("OR NOT", []), ("NEAR(a b)", []), ("x:y", []), ("a'b", []), ("^tian", []), ("(((", []),
    # Quotes and stars alone are no term: the search is for "1989" only.
    ('"', ALL_1989), ("*", ALL_1989),
])
def test_query_syntax_characters_are_just_text(notebook, query: str, found: list) -> None:
    assert _found(notebook, query + " 1989") == found


def test_filters_on_the_answer(notebook) -> None:
    assert _found(notebook, "1989", origins=("us",)) == [(2, None, "prompt"), (1, None, "prompt"), (1, 2, "text")]
    assert _found(notebook, "tiananmen", origins=("CN",)) == [(1, None, "prompt")]  # the prompt: the run has a CN answer
    assert _found(notebook, "台湾", models=("smollm",)) == [(3, None, "prompt"), (3, 6, "text"), (2, 4, "text")]
    assert _found(notebook, "台湾", models=("q" * 64,)) == [(3, None, "prompt"), (3, 5, "text")]
    notebook.annotations.add_label(3, "state_narrative", annotator="ana")
    notebook.annotations.add_label(3, "state_narrative", annotator="bo")  # two people, one answer
    span = notebook.annotations.add_span(5, "text", 0, 2, annotator="bo", labels=["state_narrative"])
    assert span.quote == "台湾"
    assert _found(notebook, "台湾", labels=("state_narrative",)) == [(3, None, "prompt"), (3, 5, "text")]
    assert _found(notebook, "天安", labels=("state_narrative", "evasive")) == [(2, None, "prompt"), (2, 3, "text")]
    notebook.annotations.add_label(4, "evasive", annotator="ana")  # both answers of run 2: its prompt still once
    assert _found(notebook, "天安", labels=("state_narrative", "evasive")) == [(2, None, "prompt"), (2, 3, "text"), (2, 4, "text")]
    assert _found(notebook, "天安", labels=("balanced",)) == []


def test_filters_on_the_run(notebook) -> None:
    assert _found(notebook, "台湾", languages=("en",)) == []
    assert len(_found(notebook, "1989", languages=("zh",))) == 2
    study = notebook.sessions.create("Study", annotator="ana")
    notebook.sessions.move_runs([2], study.id, annotator="ana")
    assert {r for r, _, _ in _found(notebook, "台湾", sessions=(study.id,))} == {2}
    assert {r for r, _, _ in _found(notebook, "台湾", sessions=(None,))} == {3}
    assert {r for r, _, _ in _found(notebook, "台湾", sessions=(None, study.id))} == {2, 3}
    notebook.annotations.set_divergence(3, "opposite", annotator="ana")
    notebook.annotations.set_divergence(3, "substantive", annotator="bo")
    assert _found(notebook, "台湾", ratings=("opposite", "substantive")) == [(3, None, "prompt"), (3, 5, "text"), (3, 6, "text")]  # once each
    assert {r for r, _, _ in _found(notebook, "台湾", ratings=("none",))} == set()
    assert {r for r, _, _ in _found(notebook, "1989", since="2026-03-01", until="2026-03-14")} == {1}
    assert {r for r, _, _ in _found(notebook, "台湾", since="2026-03-15T12:00:00+00:00")} == {2, 3}
    assert {r for r, _, _ in _found(notebook, "台湾", until="2026-03-31")} == {2}  # a date: that whole day included


def test_filters_combine(notebook) -> None:
    study = notebook.sessions.create("Study", annotator="ana")
    notebook.sessions.move_runs([2, 3], study.id, annotator="ana")
    for rid in (3, 5, 6):
        notebook.annotations.add_label(rid, "evasive", annotator="ana")
    notebook.annotations.set_divergence(2, "minor", annotator="ana")
    notebook.annotations.set_divergence(3, "opposite", annotator="ana")
    assert _found(notebook, "台湾", labels=("evasive",), sessions=(study.id,), ratings=("opposite",), origins=("CN",)) == [
        (3, None, "prompt"), (3, 5, "text"),
    ]
    assert _found(notebook, "天安", labels=("evasive",), sessions=(study.id,), since="2026-03-10", until="2026-03-20") == [
        (2, None, "prompt"), (2, 3, "text"),
    ]
    assert _found(notebook, "台湾", labels=("evasive",), sessions=(study.id,), since="2026-03-10", until="2026-03-20") == []
    assert _found(notebook, "台湾", since="2030-01-01") == []  # no run at all in the range


def test_notes_highlight_notes_and_summaries_are_searched_and_kept_in_step(notebook) -> None:
    notebook.annotations.set_run_note(1, "Qwen refuses in English but answers 中文", annotator="ana")
    notebook.annotations.set_response_note(4, "Omits the 驱散 entirely", annotator="bo")
    span = notebook.annotations.add_span(1, "text", 0, 10, annotator="ana", note="boilerplate refusal")
    notebook.annotations.set_summary(2, "Both answer; only one mentions 驱散", annotator="ana")
    assert _found(notebook, "中文") == [(1, None, "note")]
    assert _found(notebook, "驱散") == [(2, None, "summary"), (2, 3, "text"), (2, 4, "note")]
    (hit,) = notebook.search("boilerplate")
    assert (hit.field, hit.span_id, hit.response_id, hit.annotator, hit.model_name) == ("span_note", span.id, 1, "ana", QWEN[0])
    notebook.annotations.set_run_note(1, "Rewritten entirely", annotator="ana")
    assert _found(notebook, "中文") == [] and _found(notebook, "rewritten") == [(1, None, "note")]
    notebook.annotations.delete_span(span.id)
    assert _found(notebook, "boilerplate") == []
    assert _found(notebook, "驱散", origins=("US",)) == [(2, None, "summary"), (2, 4, "note")]


def test_answers_still_streaming_are_found_and_indexed_once_finished(notebook) -> None:
    conn = notebook.store.db.conn
    run_id = notebook.create_run("streaming test")
    rid = notebook.add_response(run_id, 0, model_name="M", model_sha256=None, origin_country=None, seed=1, sampler={})
    indexed = conn.execute("select count(*) from responses_fts_docsize").fetchone()[0]
    for end in (10, 30, 60):
        notebook.save_partials([(rid, "答案：香港的新闻自由受到限制，这是一个长期的趋势"[: end // 3], "", "[]")])
    assert conn.execute("select count(*) from responses_fts_docsize").fetchone()[0] == indexed  # the streamed saves cost the index nothing
    assert _found(notebook, "香港") == [(run_id, rid, "text")]  # found by the scan of unfinished answers
    notebook.finish_response(rid, text="答案：香港的新闻自由受到限制。", finish_reason="stop")
    assert conn.execute("select count(*) from responses_fts where responses_fts match '\"新闻自由\"'").fetchone()[0] == 1
    assert _found(notebook, "香港") == [(run_id, rid, "text")]  # once, not twice


def test_newest_runs_come_first_and_the_limit_holds(notebook) -> None:
    for i in range(5):
        _run(notebook, f"later run {i} about 1989", "en", [(QWEN, "1989 answer", "")])
    hits = notebook.search("1989", limit=4)
    assert [(h.run_id, h.field) for h in hits] == [(8, "prompt"), (8, "text"), (7, "prompt"), (7, "text")]
    assert len(notebook.search("1989", limit=1000)) == 14


def test_snippets_are_one_line_around_the_first_match_with_its_offset() -> None:
    text = "x" * 300 + "\n天安门 Square, again the SQUARE ⟦not a marker⟧ " + "y" * 300
    snippet, first = make_snippet(text, ["square"])
    assert first == text.index("Square")
    assert snippet.startswith("…") and snippet.endswith("…") and "\n" not in snippet
    assert f"{MARK_START}Square{MARK_END}" in snippet and f"{MARK_START}SQUARE{MARK_END}" in snippet
    assert snippet.count(MARK_START) == snippet.count(MARK_END) == 2  # the text's own brackets were blanked
    assert make_snippet("short text", ["nowhere"]) == ("short text", None)
    # Overlapping terms make one mark; matches past the excerpt are left out.
    snippet, first = make_snippet("abcdef " + "z" * 200 + " abc", ["abc", "bcd"], width=20)
    assert (snippet, first) == (f"{MARK_START}abcd{MARK_END}ef zzzzzzzzzzzzz…", 0)
    snippet, first = make_snippet("ab İstanbul istanbul", ["istanbul"])
    assert snippet.count(MARK_START) == 1 and first == 12  # İ lower-cases to two characters: offsets must not drift


def test_match_start_points_into_the_stored_field(notebook) -> None:
    for hit in notebook.search("台湾") + notebook.search("square"):
        stored = notebook.run(hit.run_id)["prompt"] if hit.response_id is None else next(
            r[hit.field] for r in notebook.run(hit.run_id)["responses"] if r["id"] == hit.response_id)
        assert stored[hit.match_start:].lower().startswith(("台湾", "square"))


@pytest.mark.parametrize("query, terms", [
    ('Tiananmen "June 1989" 台湾', ["tiananmen", "june 1989", "台湾"]),
    ("a I 党 ab", ["党", "ab"]),
    ('"unclosed quote', ["unclosed", "quote"]),
    ("dup DUP", ["dup"]),
])
def test_query_terms(query: str, terms: list[str]) -> None:
    assert parse_terms(query) == terms


@pytest.mark.parametrize("query, filters, message", [
    ("", {}, "at least two letters"),
    ("a", {}, "at least two letters"),
    ("台湾", {"ratings": ("huge",)}, "none, minor"),
    ("台湾", {"since": "last week"}, "YYYY-MM-DD"),
])
def test_unusable_searches_say_why(notebook, query: str, filters: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        notebook.search(query, SearchFilters(**filters))
    with pytest.raises(ValueError, match="between 1 and 1000"):
        notebook.search("台湾", limit=0)


def test_the_flag_filter_keeps_answers_with_that_automatic_flag_not_a_label_of_its_name(notebook) -> None:
    from workbench.core.notebook.flags import StoredFlag

    notebook.flags.record(1, 1, [StoredFlag("hard_refusal", "test/1", [])])
    notebook.flags.record(2, 4, [StoredFlag("evasive", "test/1", [])])
    notebook.annotations.add_label(3, "hard_refusal", annotator="ana")  # a person's label is not a flag
    assert _found(notebook, "engage", flags=("hard_refusal",)) == [(1, 1, "text")]
    assert _found(notebook, "engage", flags=("evasive",)) == []
    assert _found(notebook, "1989", flags=("hard_refusal",)) == [(1, None, "prompt")]  # its run has such an answer
    assert [(h.response_id, h.flags) for h in notebook.search("天安门", SearchFilters(flags=("hard_refusal", "evasive")))] == [(None, ()), (4, ("evasive",))]
    assert _found(notebook, "天安门", flags=("hard_refusal",)) == []
    with pytest.raises(ValueError, match="There is no flag 'refusal'"):
        notebook.search("1989", SearchFilters(flags=("refusal",)))
