"""Follow-up turns in exports and imports (issue 18 item 3): JSON Lines carries them (format
version 3) and import reads them back; Markdown, HTML and PDF show each follow-up after the
first turn, its untrusted text as inert as the rest; CSV has a row per answer of every turn."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from export_fixtures import HOSTILE, build, snapshot
from pdf_text import pdf_text
from workbench.core.export import ImportProblem, Selection, collect, import_jsonl, render, write
from workbench.core.notebook import open_notebook

PRESS = "Are you sure? <script>alert('turn')</script> [x](javascript:alert(1))"


def _with_follow_ups(path: Path):
    """export_fixtures' notebook, its run 1 pressed twice: follow-up 1 to both models (the
    second labelled, flagged, highlighted, noted), follow-up 2 in Chinese."""
    notebook = build(path)
    assert notebook.add_turn(1, PRESS, language="en") == 1
    answers = []
    for position, (text, name, sha) in enumerate((("Yes, I am sure.", "SmolLM2", "a" * 64), ("I still can't help.", "Qwen2.5-Coder", "b" * 64))):
        rid = notebook.add_response(1, position, model_name=name, model_sha256=sha, origin_country=None, seed=7, sampler={"temperature": 0.0}, turn=1)
        notebook.finish_response(rid, text=text, finish_reason="stop", completion_tokens=5, timeline="[[100, 0, 3]]")
        answers.append(rid)
    notebook.annotations.add_label(answers[1], "hard_refusal", annotator="ana")
    notebook.annotations.add_span(answers[1], "text", 0, 7, annotator="ana", note="Still refuses")
    notebook.annotations.set_response_note(answers[1], "Pressed, it holds.", annotator="bo")
    with notebook.store.writing() as db:
        db.execute(
            "insert into flags (run_id, response_id, name, source, detector, evidence, created_at, updated_at) "
            "values (1, ?, 'hard_refusal', 'auto', 'refusal-phrases/1', '[]', '2026-01-01T00:00:00.000+00:00', '2026-01-01T00:00:00.000+00:00')",
            [answers[1]],
        )
        notebook.store.note({"flags"}, [1])
    assert notebook.add_turn(1, "请用中文回答", language="zh") == 2
    rid = notebook.add_response(1, 0, model_name="SmolLM2", model_sha256="a" * 64, origin_country=None, seed=7, sampler={}, turn=2)
    notebook.finish_response(rid, text="是的。", finish_reason="stop")
    return notebook


def _conversation(notebook, run_id: int) -> list:
    """A run's turns as comparable values: no local ids."""
    run = notebook.run(run_id)
    return [
        (t["turn"], t["prompt"], t["language"], t["created_at"],
         [(r["uid"], r["position"], r["turn"], r["text"], r["finish_reason"]) for r in t["responses"]])
        for t in run["turns"]
    ]  # fmt: skip


@pytest.fixture
def source(tmp_path: Path):
    notebook = _with_follow_ups(tmp_path / "source.sqlite")
    yield notebook
    notebook.close()


def test_turns_round_trip_through_json_lines_into_a_fresh_notebook(source, tmp_path: Path) -> None:
    exported = tmp_path / "export.jsonl"
    write(collect(source, Selection(everything=True)), "jsonl", exported)
    records = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert records.pop(0)["version"] == 3
    run = next(r for r in records if r["type"] == "run")
    assert [(t["turn"], t["prompt"], t["language"]) for t in run["turns"]] == [(1, PRESS, "en"), (2, "请用中文回答", "zh")]
    assert [r["turn"] for r in records if r["type"] == "response" and r["run"] == run["uid"]] == [0, 0, 1, 1, 2]

    target = open_notebook(tmp_path / "target.sqlite")
    result = import_jsonl(target, exported)
    assert result.added["turns"] == 2 and result.added["responses"] == 9 and not result.kept
    assert _conversation(target, 1) == _conversation(source, 1)
    assert len(target.run(2)["turns"]) == 1  # a run without follow-ups stays one turn
    # What people said about the follow-up answer came along, and finds it.
    [hit] = target.search("still can")
    assert hit.turn == 1 and target.annotations.for_run(1).responses[hit.response_id].label_names() == {"hard_refusal"}
    assert [h.turn for h in target.search("请用中文")] == [2]
    # Exported again, the same file; imported again, nothing changes.
    again = render(collect(target, Selection(everything=True)), "jsonl").splitlines()[1:]
    assert again == exported.read_text(encoding="utf-8").splitlines()[1:]
    target.close()
    before = snapshot(tmp_path / "target.sqlite")
    target = open_notebook(tmp_path / "target.sqlite")
    second = import_jsonl(target, exported)
    target.close()
    assert not second.changed and second.present["turns"] == 2
    assert snapshot(tmp_path / "target.sqlite") == before


def test_a_notebook_holding_the_run_gains_the_follow_ups_asked_since(source, tmp_path: Path) -> None:
    before = tmp_path / "before.jsonl"
    text = render(collect(source, Selection(everything=True)), "jsonl").splitlines()
    # The same run exported before its follow-ups were asked.
    records = [json.loads(line) for line in text[1:-1]]
    kept = [dict(r, turns=[]) if r["type"] == "run" else r for r in records if r.get("turn", 0) == 0 and r.get("response") not in _follow_up_uids(records)]
    before.write_text("\n".join([text[0], *map(json.dumps, kept), json.dumps({"type": "end", "records": len(kept)})]) + "\n", encoding="utf-8")
    target = open_notebook(tmp_path / "target.sqlite")
    import_jsonl(target, before)
    assert len(target.run(1)["turns"]) == 1
    after = tmp_path / "after.jsonl"
    after.write_text("\n".join(text) + "\n", encoding="utf-8")
    result = import_jsonl(target, after)
    assert result.added["turns"] == 2 and result.added["responses"] == 3
    assert _conversation(target, 1) == _conversation(source, 1)
    target.close()


def _follow_up_uids(records: list[dict]) -> set[str]:
    return {r["uid"] for r in records if r["type"] == "response" and r.get("turn")}


def _refused(tmp_path: Path, records: list[dict], header: dict, match: str) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = [json.dumps(header), *(json.dumps(r, ensure_ascii=False) for r in records), json.dumps({"type": "end", "records": len(records)})]
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = open_notebook(tmp_path / "target.sqlite")
    try:
        with pytest.raises(ImportProblem, match=match) as refused:
            import_jsonl(target, bad)
        assert "Nothing in the notebook was changed." in str(refused.value)
        assert target.recent_runs() == []
    finally:
        target.close()


def _export(source) -> tuple[dict, list[dict]]:
    header, *records = [json.loads(line) for line in render(collect(source, Selection(run_ids=(1,))), "jsonl").splitlines()]
    return header, records[:-1]


@pytest.mark.parametrize("spoil, match", [
    (lambda run: run["turns"].reverse(), r"line \d+: 'turns': entry 0 is turn 2; follow-ups are numbered 1, 2, … in order, so it must be turn 1\."),
    (lambda run: run["turns"][0].update(prompt=7), r"'turns': entry 0: 'prompt': expected text, got int"),
    (lambda run: run["turns"][1].pop("created_at"), r"'turns': entry 1: missing 'created_at'"),
    (lambda run: run.update(turns={"turn": 1}), r"'turns': expected a JSON array, got dict"),
    (lambda run: run["turns"].pop(), r"it answers turn 2, but its run has 1 follow-up\(s\)"),
])
def test_hostile_turns_are_refused_with_one_clear_line(source, tmp_path: Path, spoil, match) -> None:
    header, records = _export(source)
    spoil(next(r for r in records if r["type"] == "run"))
    _refused(tmp_path, records, header, match)


def test_two_answers_at_one_position_of_a_turn_are_refused(source, tmp_path: Path) -> None:
    header, records = _export(source)
    follow_up = [r for r in records if r["type"] == "response" and r.get("turn") == 1]
    follow_up[1]["position"] = 0
    _refused(tmp_path, records, header, r"a second answer at position 0 of its run's turn 1")


def test_a_follow_up_that_contradicts_the_notebooks_is_refused(source, tmp_path: Path) -> None:
    exported = tmp_path / "export.jsonl"
    write(collect(source, Selection(everything=True)), "jsonl", exported)
    target = open_notebook(tmp_path / "target.sqlite")
    import_jsonl(target, exported)
    lines = exported.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    next(r for r in records if r.get("type") == "run")["turns"][0]["prompt"] = "Something else?"
    exported.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    with pytest.raises(ImportProblem, match="follow-up 1 of its run asks something else in this notebook; the file contradicts it"):
        import_jsonl(target, exported)
    target.close()


def test_a_version_2_file_imports_as_runs_of_one_turn(tmp_path: Path) -> None:
    notebook = build(tmp_path / "old.sqlite")
    header, *records = [json.loads(line) for line in render(collect(notebook, Selection(everything=True)), "jsonl").splitlines()]
    notebook.close()
    old = [{k: v for k, v in r.items() if k not in ("turns", "turn")} for r in records]
    (tmp_path / "v2.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [header | {"version": 2}, *old]) + "\n", encoding="utf-8")
    target = open_notebook(tmp_path / "target.sqlite")
    assert import_jsonl(target, tmp_path / "v2.jsonl").added["runs"] == 3
    assert [len(target.run(run_id)["turns"]) for run_id in (1, 2, 3)] == [1, 1, 1]
    assert all(r["turn"] == 0 for r in target.run(1)["responses"])
    target.close()


def test_reports_show_each_follow_up_after_the_first_turn_inertly(source) -> None:
    data = collect(source, Selection(run_ids=(1,)))
    markdown = render(data, "md")
    first, press, chinese = markdown.index("**Prompt**"), markdown.index("**Follow-up 1**"), markdown.index("**Follow-up 2**")
    assert first < markdown.index("### SmolLM2") < press < markdown.index("### SmolLM2", press) < chinese
    assert "<script>" not in markdown and "javascript:" not in markdown  # the follow-up prompt escaped like any
    assert "&lt;script&gt;alert('turn')" in markdown and "I still can't help." in markdown and "是的。" in markdown
    assert "follow-up 1" in markdown[press:chinese] and "Still refuses" in markdown[press:chinese]
    html = render(data, "html")
    press = html.index("<strong>Follow-up 1</strong>")
    assert html.index("<strong>Prompt</strong>") < press < html.index("I still can") < html.index("<strong>Follow-up 2</strong>") < html.index("是的。")
    assert "<script>alert('turn')" not in html and "&lt;script&gt;alert(&#x27;turn&#x27;)&lt;/script&gt;" in html
    # The Summary's rates count the first turn's answers, as before the follow-ups; provenance counts all.
    everything = collect(source, Selection(everything=True))
    assert (len(everything.responses()), len(everything.every_response()), everything.header()["provenance"]["responses"]) == (6, 9, 9)


def test_the_pdf_shows_the_follow_ups(source, tmp_path: Path, qapp) -> None:
    write(collect(source, Selection(run_ids=(1,))), "pdf", tmp_path / "r.pdf")
    # (This reader gives digits of that font as U+FFFD, and bold text twice.)
    text = " ".join(" ".join(pdf_text((tmp_path / "r.pdf").read_bytes())).split())
    first_answer, press = text.index("I'm sorry, but I can't assist with that."), text.index("Follow-up")
    assert first_answer < press < text.index("Are you sure? <script>alert('turn')</script>") < text.index("I still can't help.")
    assert text.count("Follow-up") >= 2 and "是的。" in text


def test_csv_has_a_row_per_answer_of_every_turn_with_its_prompt(source) -> None:
    rows = list(csv.DictReader(io.StringIO(render(collect(source, Selection(run_ids=(1,))), "csv").lstrip("\ufeff"))))
    assert [(r["turn"], r["position"], r["model"]) for r in rows] == [("0", "0", "SmolLM2"), ("0", "1", "Qwen2.5-Coder"), ("1", "0", "SmolLM2"), ("1", "1", "Qwen2.5-Coder"), ("2", "0", "SmolLM2")]
    assert rows[0]["prompt"] == "What happened at Tiananmen Square in June 1989?" and rows[0]["text"].startswith(HOSTILE[:20])
    assert rows[3]["prompt"] == PRESS and rows[3]["labels"] == "hard_refusal" and rows[3]["flags"] == "hard_refusal"
    assert (rows[4]["prompt"], rows[4]["language"], rows[4]["text"]) == ("请用中文回答", "zh", "是的。")


def test_more_follow_ups_than_a_run_can_hold_are_refused(source, tmp_path: Path, monkeypatch) -> None:
    """The search index numbers a run's turns below TURNS_PER_RUN (2**20); a file can't
    go past it (made small here: a file with a million follow-ups is a 70 MB line)."""
    from workbench.core.notebook import migrations

    monkeypatch.setattr(migrations, "TURNS_PER_RUN", 2)
    header, records = _export(source)
    _refused(tmp_path, records, header, r"'turns': 2 follow-ups; a run holds fewer than 2")
