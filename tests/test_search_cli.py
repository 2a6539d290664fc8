"""`workbench search` for scripts: the JSON contract, filters, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gguf_factory import write_bytes
from cli_process import in_process as workbench
from workbench.core.notebook import open_notebook
from workbench.core.notebook.flags import StoredFlag

MATCH_KEYS = {"run_id", "response_id", "model_name", "snippet"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "nb.sqlite"
    notebook = open_notebook(path)
    for prompt, language, answers in (
        ("What happened at Tiananmen Square in June 1989?", "en", [("Qwen", "CN", "I'm unable to engage in political matters."), ("SmolLM2", "US", "A meeting in Tiananmen Square.")]),
        ("台湾是一个国家吗？", "zh", [("Qwen", "CN", "台湾是中国的一部分。"), ("SmolLM2", "US", "Taiwan 台湾 governs itself.")]),
    ):
        run_id = notebook.create_run(prompt, language=language)
        for position, (name, country, text) in enumerate(answers):
            rid = notebook.add_response(run_id, position, model_name=name, model_sha256=None, origin_country=country, seed=1, sampler={})
            notebook.finish_response(rid, text=text)
    notebook.annotations.set_run_note(1, "English refusal vs 台湾 answer", annotator="ana")
    notebook.annotations.add_label(3, "state_narrative", annotator="ana")
    notebook.flags.record(1, 1, [StoredFlag("hard_refusal", "test/1", [], "rules", None)])
    notebook.flags.record(2, 3, [StoredFlag("state_narrative", "test/1", [])])
    notebook.flags.record(2, 4, [StoredFlag("answered", "test/1", [], "classifier", 0.9)])
    study = notebook.sessions.create("Study A", annotator="ana")
    notebook.sessions.move_runs([2], study.id, annotator="ana")
    notebook.close()
    return path


def _json(capsys: pytest.CaptureFixture, *argv: str) -> list[dict]:
    assert workbench(*argv) == 0
    return json.loads(capsys.readouterr().out)


def test_search_json_lists_matches_with_the_contract_keys(db: Path, capsys: pytest.CaptureFixture) -> None:
    matches = _json(capsys, "search", "台湾", "--json", "--db", str(db))
    assert [(m["run_id"], m["response_id"], m["field"]) for m in matches] == [(2, None, "prompt"), (2, 3, "text"), (2, 4, "text"), (1, None, "note")]
    for match in matches:
        assert MATCH_KEYS <= set(match)
    assert matches[0]["model_name"] is None and matches[1]["model_name"] == "Qwen"
    assert matches[1]["snippet"] == "⟦台湾⟧是中国的一部分。"
    assert [m["flags"] for m in matches] == [[], ["state_narrative"], ["answered"], []]


def test_db_works_before_the_subcommand_and_env_is_the_default(db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(_json(capsys, "--db", str(db), "search", "tiananmen", "--json")) == 2
    monkeypatch.setenv("WORKBENCH_DB", str(db))
    assert len(_json(capsys, "search", "tiananmen", "--json")) == 2


@pytest.mark.parametrize("options, expected", [
    (["--origin", "us"], [(2, None), (2, 4), (1, None)]),
    (["--model", "smol", "--lang", "zh"], [(2, None), (2, 4)]),
    (["--label", "state_narrative"], [(2, None), (2, 3)]),
    (["--session", "study a"], [(2, None), (2, 3), (2, 4)]),
    (["--session", "unsorted"], [(1, None)]),
    (["--until", "2000-01-01"], []),
    (["--rating", "opposite"], []),
    (["--limit", "1"], [(2, None)]),
    (["--flag", "state_narrative"], [(2, None), (2, 3)]),
    (["--flag", "answered,hard_refusal"], [(2, None), (2, 4), (1, None)]),
    (["--flag", "answered", "--flag", "state_narrative"], [(2, None), (2, 3), (2, 4)]),
    (["--flag", "state_narrative", "--label", "state_narrative"], [(2, None), (2, 3)]),
    (["--flag", "answered", "--label", "state_narrative"], []),
    (["--flag", "hard_refusal", "--origin", "US"], []),
])
def test_search_filters(db: Path, capsys: pytest.CaptureFixture, options: list[str], expected: list[tuple]) -> None:
    matches = _json(capsys, "search", "台湾", "--json", "--db", str(db), *options)
    assert [(m["run_id"], m["response_id"]) for m in matches] == expected


def test_search_prints_readable_lines_without_json(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert workbench("search", "engage", "--db", str(db)) == 0
    heading, snippet = capsys.readouterr().out.splitlines()
    assert heading.startswith("run 1 · response 1 · Qwen (CN) · text · 20")  # then the run's date
    assert heading.endswith(" · flags: hard_refusal")
    assert snippet == "    I'm unable to ⟦engage⟧ in political matters."
    assert workbench("search", "nowhere to be found", "--db", str(db)) == 0
    assert capsys.readouterr().err == "No matches.\n"


@pytest.mark.parametrize("argv, status, message", [
    (["search", "a"], 2, "workbench search: Type at least two letters"),
    (["search", "台湾", "--label", "evasiv"], 2, "workbench search: No label named 'evasiv'"),
    (["search", "台湾", "--since", "yesterday"], 2, "workbench search: A date is written YYYY-MM-DD"),
    (["search", "台湾", "--session", "nope"], 1, "workbench search: There is no session named 'nope'"),
    (["search", "台湾", "--flag", "refusal"], 2, "workbench search: there is no flag 'refusal'; the flags are answered, hard_refusal"),
])
def test_bad_searches_get_one_line_and_a_status(db: Path, capsys: pytest.CaptureFixture, argv: list[str], status: int, message: str) -> None:
    assert workbench(*argv, "--db", str(db)) == status
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_argparse_rejects_misused_options(db: Path) -> None:
    for argv in (["search", "x", "--lang", "fr"], ["search", "x", "--limit", "0"], ["search"]):
        with pytest.raises(SystemExit) as exit_:
            workbench(*argv, "--db", str(db))
        assert exit_.value.code == 2


def test_a_damaged_notebook_is_an_environment_problem(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = write_bytes(tmp_path / "nb.sqlite", b"not a database" * 500)
    assert workbench("search", "台湾", "--db", str(db)) == 1
    err = capsys.readouterr().err
    assert err.startswith("workbench: The notebook") and "damaged" in err and err.count("\n") == 1


def test_a_match_in_a_follow_up_says_which_turn(db: Path, capsys: pytest.CaptureFixture) -> None:
    notebook = open_notebook(db)
    notebook.add_turn(1, "Are you sure about the square?", language="en")
    rid = notebook.add_response(1, 0, model_name="Qwen", model_sha256=None, origin_country="CN", seed=1, sampler={}, turn=1)
    notebook.finish_response(rid, text="Yes, I am sure about it.")
    notebook.close()
    assert workbench("search", "sure", "--db", str(db)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("run 1 · the run · follow-up 1 · prompt · 20") and lines[1] == "    Are you ⟦sure⟧ about the square?"
    assert lines[2].startswith(f"run 1 · response {rid} · Qwen (CN) · follow-up 1 · text · 20")
    assert [(m["response_id"], m["turn"]) for m in _json(capsys, "search", "sure", "--json", "--db", str(db))] == [(None, 1), (rid, 1)]
    assert [m["turn"] for m in _json(capsys, "search", "engage", "--json", "--db", str(db))] == [0]
