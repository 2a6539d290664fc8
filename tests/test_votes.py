"""Audience votes: counted per choice and annotator, never negative, only for choices the run has."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.notebook.votes import TIE, letter, pane_choice, position_of
from workbench.core.notebook import open_notebook


@pytest.fixture
def notebook(tmp_path: Path):
    notebook = open_notebook(tmp_path / "nb.sqlite")
    run_id = notebook.create_run("Who are you?")
    notebook.add_response(run_id, 0, model_name="Qwen", model_sha256=None, origin_country="CN", seed=1, sampler={})
    notebook.add_response(run_id, 1, model_name="SmolLM2", model_sha256=None, origin_country="US", seed=1, sampler={})
    yield notebook
    notebook.close()


def test_votes_add_up_and_come_back_after_reopening(notebook, tmp_path: Path) -> None:
    votes = notebook.votes
    assert votes.tally(1).counts == {"pane:0": 0, "pane:1": 0, TIE: 0}
    votes.add(1, "pane:0", annotator="ana")
    votes.add(1, "pane:0", annotator="ana")
    votes.add(1, TIE, 3, annotator="ana")
    tally = votes.add(1, "pane:1", annotator="ana")
    assert tally.counts == {"pane:0": 2, "pane:1": 1, TIE: 3}
    assert tally.total == 6 and tally.choices == ["pane:0", "pane:1", TIE]
    notebook.close()
    reopened = open_notebook(tmp_path / "nb.sqlite")
    try:
        assert reopened.votes.tally(1).counts == {"pane:0": 2, "pane:1": 1, TIE: 3}
        row = reopened.store.db.execute("select uid, annotator, created_at, updated_at from votes where choice = 'pane:0'").fetchone()
        assert len(row[0]) == 32 and row[1] == "ana" and row[3] >= row[2]
    finally:
        reopened.close()


def test_taking_votes_back_stops_at_zero(notebook) -> None:
    votes = notebook.votes
    votes.add(1, "pane:1", 2, annotator="ana")
    assert votes.add(1, "pane:1", -1, annotator="ana").counts["pane:1"] == 1
    assert votes.add(1, "pane:1", -5, annotator="ana").counts["pane:1"] == 0
    assert votes.add(1, TIE, -1, annotator="ana").counts[TIE] == 0  # no vote to take back: nothing stored
    counts = [row[0] for row in notebook.store.db.execute("select count from votes order by id")]
    assert counts == [0]


def test_each_annotator_keeps_their_own_counts(notebook) -> None:
    votes = notebook.votes
    votes.add(1, "pane:0", 4, annotator="ana")
    votes.add(1, "pane:0", 2, annotator=" bo  ")
    tally = votes.add(1, "pane:0", -1, annotator="bo")
    assert tally.counts["pane:0"] == 5
    assert tally.by_annotator == {"ana": {"pane:0": 4}, "bo": {"pane:0": 1}}
    assert notebook.store.db.execute("select count(*) from votes").fetchone()[0] == 2


@pytest.mark.parametrize("choice", ["pane:2", "pane:-1", "pane:01", "Pane:0", "A", "", "tie "])
def test_a_choice_the_run_does_not_have_is_refused(notebook, choice: str) -> None:
    with pytest.raises(ValueError):
        notebook.votes.add(1, choice, annotator="ana")
    assert notebook.store.db.execute("select count(*) from votes").fetchone()[0] == 0


def test_unknown_runs_and_missing_annotators_are_refused(notebook) -> None:
    votes = notebook.votes
    with pytest.raises(LookupError, match="no run 9"):
        votes.add(9, TIE, annotator="ana")
    with pytest.raises(LookupError, match="no run 9"):
        votes.tally(9)
    with pytest.raises(ValueError, match="annotator"):
        votes.add(1, TIE, annotator="  ")


def test_votes_go_with_their_run(notebook) -> None:
    votes = notebook.votes
    votes.add(1, "pane:0", annotator="ana")
    votes.add(1, TIE, annotator="bo")
    with notebook.store.writing() as db:
        db.execute("delete from responses where run_id = 1")  # responses do not cascade; votes do
        db.execute("delete from runs where id = 1")
    assert notebook.store.db.execute("select count(*) from votes").fetchone()[0] == 0


def test_choice_names_and_letters() -> None:
    assert [pane_choice(p) for p in (0, 5)] == ["pane:0", "pane:5"]
    assert (position_of("pane:12"), position_of(TIE)) == (12, None)
    assert (letter(0), letter(5)) == ("A", "F")
    with pytest.raises(ValueError):
        pane_choice(-1)
    with pytest.raises(ValueError):
        letter(26)
