"""Import: round trip, idempotence, side-by-side annotators, refusal of bad files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from export_fixtures import build, snapshot
from workbench.cli.main import main
from workbench.core.notebook.votes import TIE
from workbench.core.export import FORMAT_VERSION, ImportProblem, Selection, collect, import_jsonl, render, write
from workbench.core.notebook import open_notebook


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    notebook = build(tmp_path / "source.sqlite")
    write(collect(notebook, Selection(everything=True)), "jsonl", tmp_path / "export.jsonl")
    notebook.close()
    return tmp_path / "export.jsonl"


def _body(text: str) -> list[str]:
    """The file without its header, whose export time differs; the header's other facts are compared too."""
    header, *rest = text.splitlines()
    facts = json.loads(header)
    facts.pop("exported_at")
    return [json.dumps(facts)] + rest


def test_round_trip_is_identical_and_a_second_import_changes_nothing(exported: Path, tmp_path: Path) -> None:
    target = open_notebook(tmp_path / "target.sqlite")
    result = import_jsonl(target, exported)
    assert result.added["runs"] == 3 and result.added["responses"] == 6 and not result.kept
    again = render(collect(target, Selection(everything=True)), "jsonl")
    assert _body(again) == _body(exported.read_text(encoding="utf-8"))
    target.close()
    before = snapshot(tmp_path / "target.sqlite")
    target = open_notebook(tmp_path / "target.sqlite")
    second = import_jsonl(target, exported)
    target.close()
    assert not second.changed and "nothing new" in second.summary()
    assert snapshot(tmp_path / "target.sqlite") == before
    # The imported search index works for the imported text.
    target = open_notebook(tmp_path / "target.sqlite")
    assert target.search("天安门")
    target.close()


def test_annotators_are_kept_side_by_side_and_yours_is_never_overwritten(exported: Path, tmp_path: Path) -> None:
    mine = open_notebook(tmp_path / "mine.sqlite")
    import_jsonl(mine, exported)
    response_id = mine.run(1)["responses"][0]["id"]
    mine.annotations.set_response_note(response_id, "My own reading.", annotator="ana")  # differs from the file's
    mine.annotations.add_label(response_id, "evasive", annotator="cy")
    result = import_jsonl(mine, exported)
    assert not result.changed and any("ana's note" in k for k in result.kept)
    notes = {n.annotator: n.body for n in mine.annotations.for_run(1).responses[response_id].notes}
    assert notes["ana"] == "My own reading." and notes["bo"] == "Bo's view: **fabricated**."
    labels = {(label.label, label.annotator) for label in mine.annotations.for_run(1).responses[response_id].labels}
    assert {("factual_error", "ana"), ("factual_error", "bo"), ("evasive", "cy")} <= labels
    mine.close()


def _refused(tmp_path: Path, content: bytes, match: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / "notebook.sqlite"
    notebook = build(path)
    notebook.close()
    before = snapshot(path)
    bad = folder / "bad.jsonl"
    bad.write_bytes(content)
    notebook = open_notebook(path)
    with pytest.raises(ImportProblem, match=match):
        import_jsonl(notebook, bad)
    notebook.close()
    assert snapshot(path) == before


def test_a_truncated_file_is_refused(exported: Path, tmp_path: Path) -> None:
    data = exported.read_bytes()
    _refused(tmp_path, data[: len(data) // 2], "truncated")
    lines = data.splitlines(keepends=True)
    _refused(tmp_path, b"".join(lines[:-1]), "truncated")  # whole lines, only the end line missing


def test_a_newer_version_is_refused(exported: Path, tmp_path: Path) -> None:
    header, rest = exported.read_bytes().split(b"\n", 1)
    newer = json.loads(header) | {"version": FORMAT_VERSION + 1}
    _refused(tmp_path, json.dumps(newer).encode() + b"\n" + rest, "newer workbench")


def _rewritten(exported: Path, version: int, keep=lambda record: True) -> bytes:
    """The export with another header version and only the records `keep` accepts (end count fixed)."""
    lines = exported.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0]) | {"version": version}
    records = [r for r in map(json.loads, lines[1:-1]) if keep(r)]
    body = [json.dumps(header), *(json.dumps(r, ensure_ascii=False) for r in records), json.dumps({"type": "end", "records": len(records)})]
    return ("\n".join(body) + "\n").encode()


def test_a_version_1_file_still_imports_and_cannot_carry_votes(exported: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    old.write_bytes(_rewritten(exported, 1, lambda r: r["type"] != "vote"))
    target = open_notebook(tmp_path / "target.sqlite")
    result = import_jsonl(target, old)
    assert result.added["runs"] == 3 and result.added["votes"] == 0
    assert target.votes.tally(1).total == 0
    target.close()
    # Votes arrived with version 2: a version-1 header over vote records is not a workbench's file.
    _refused(tmp_path, _rewritten(exported, 1), "vote records arrived with format version 2")


@pytest.mark.parametrize("content", [b"", b"id,text\n1,hello\n", b'{"format": "something-else", "version": 1}\n', b"\x00\xff\xfe garbage", b"[1, 2, 3]\n"])
def test_a_foreign_file_is_refused(tmp_path: Path, content: bytes) -> None:
    _refused(tmp_path, content, "not a Model Values Workbench export")


def test_a_hostile_or_inconsistent_file_is_refused_as_a_whole(exported: Path, tmp_path: Path) -> None:
    lines = exported.read_text(encoding="utf-8").splitlines()
    # A good file but for its last record: a response label pointing at a response not in the file.
    records = [json.loads(line) for line in lines[1:-1]]
    records.append({"type": "response_label", "response": "f" * 32, "label": "evasive", "annotator": "x", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
    body = "\n".join([lines[0], *(json.dumps(r) for r in records), json.dumps({"type": "end", "records": len(records)})]) + "\n"
    _refused(tmp_path, body.encode(), "line .*response is not earlier")
    # A huge integer, a NaN, a span past the end of its text, a label name that is SQL.
    for mutate, match in (
        (lambda r: r.update(seed=2**80) if r["type"] == "response" else None, "whole number"),
        (lambda r: r.update(ttft_s="NaN") if r["type"] == "response" else None, "number"),
        (lambda r: r.update(end=10**6) if r["type"] == "span" else None, "outside"),
        (lambda r: r.update(name="x'; drop table runs; --") if r["type"] == "label" else None, "label name"),
        (lambda r: r.update(choice="pane:2") if r["type"] == "vote" else None, "no answer at position 2"),
        (lambda r: r.update(choice="Model A") if r["type"] == "vote" else None, "not a vote choice"),
        (lambda r: r.update(count=-1) if r["type"] == "vote" else None, "'count': expected 0 or more"),
        (lambda r: r.update(count="12") if r["type"] == "vote" else None, "whole number"),
        (lambda r: r.update(run="f" * 32) if r["type"] == "vote" else None, "run is not earlier"),
        (lambda r: r.update(uid="same") if r["type"] == "vote" else None, "a second vote with the same uid"),
    ):
        changed = [dict(r) for r in records[:-1]]
        for record in changed:
            mutate(record)
        body = "\n".join([lines[0], *(json.dumps(r) for r in changed), json.dumps({"type": "end", "records": len(changed)})]) + "\n"
        _refused(tmp_path, body.encode(), match)


def test_votes_arrive_per_annotator_and_a_count_already_here_is_kept(exported: Path, tmp_path: Path) -> None:
    target = open_notebook(tmp_path / "class.sqlite")
    assert import_jsonl(target, exported).added["votes"] == 4
    votes = target.votes
    tally = votes.tally(1)
    assert tally.counts == {"pane:0": 12, "pane:1": 7, TIE: 3}
    assert tally.by_annotator == {"ana": {"pane:0": 12, "pane:1": 5, TIE: 3}, "cy": {"pane:1": 2}}
    # Ana's tie count under a uid of this notebook (she counted again here): the file's is skipped, hers stays.
    with target.store.writing() as db:
        db.execute("delete from votes where annotator = 'ana' and choice = 'tie'")
    votes.add(1, TIE, 1, annotator="ana")
    votes.add(1, "pane:1", 1, annotator="cy")  # cy's imported row (same uid) counts one more here
    again = import_jsonl(target, exported)
    assert not again.changed and again.skipped["votes"] == 1 and again.present["votes"] == 3
    assert "Skipped" in again.summary() and "votes: 1" in again.summary()
    assert again.kept == ["cy's count of 3 for pane:1 on run 1 (the file has 2)"]
    assert votes.tally(1).by_annotator == {"ana": {"pane:0": 12, "pane:1": 5, TIE: 1}, "cy": {"pane:1": 3}}
    target.close()


def test_hostile_text_is_stored_as_text_and_exports_inert_again(exported: Path, tmp_path: Path) -> None:
    target = open_notebook(tmp_path / "t.sqlite")
    import_jsonl(target, exported)
    html = render(collect(target, Selection(everything=True)), "html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)" in html
    target.close()


def test_cli_import(exported: Path, tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "cli.sqlite")
    assert main(["import", str(exported), "--db", db]) == 0
    assert "runs: 3" in capsys.readouterr().out
    assert main(["--db", db, "import", str(exported)]) == 0
    assert "nothing new" in capsys.readouterr().out
    (tmp_path / "cut.jsonl").write_bytes(exported.read_bytes()[:100])
    assert main(["import", str(tmp_path / "cut.jsonl"), "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not imported" in err
