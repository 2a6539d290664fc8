"""Hostile import files: every way a JSON Lines export can break its format, refused whole.

One valid export is made by the real exporter from a notebook with annotations of
every kind (export_fixtures.build) and a run the tiny models really answered (so its
timeline, statuses and timings are what the recorder writes). Each case below changes
that file in one way the format forbids. Every case must end the same way: `workbench
import` exits 1 with ONE line on stderr naming the file, the line and the field, and
the notebook is exactly as it was (every row of every table compared).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from export_fixtures import build
from refusals import refused
from workbench.cli.main import main
from workbench.core.comparison import Contender
from workbench.core.engine.params import GenerationParams
from workbench.core.export import FORMAT_VERSION, Selection, collect, import_jsonl, write
from workbench.core.export.importer import MAX_DEPTH, MAX_LINE_BYTES
from workbench.core.notebook import open_notebook
from workbench.core.workspace import Workspace

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def valid_export(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> bytes:
    """The export every case spoils (made once: the tiny models answer a real run)."""
    folder = tmp_path_factory.mktemp("source")
    with pytest.MonkeyPatch.context() as env:  # isolated_dirs is per test; this runs once for the module
        for var, sub in (("WORKBENCH_DATA_DIR", "data"), ("WORKBENCH_CONFIG_DIR", "config"), ("WORKBENCH_CACHE_DIR", "cache")):
            env.setenv(var, str(folder / sub))
        build(folder / "source.sqlite").close()
        workspace = Workspace(folder / "source.sqlite", [tiny_models], include_other_apps=False, with_starter=False)
        try:
            entries = [workspace.catalog.resolve(name) for name in ("tiny-alpha", "tiny-beta")]
            params = GenerationParams(max_tokens=12, seed=3)
            outcome = workspace.comparison.run("Hello 你好", [Contender(entry, params) for entry in entries])
            assert all(r.result.text for r in outcome.responses)
        finally:
            workspace.close()
        notebook = open_notebook(folder / "source.sqlite")
        write(collect(notebook, Selection(everything=True)), "jsonl", folder / "export.jsonl")
        notebook.close()
    return (folder / "export.jsonl").read_bytes()


class Export:
    """The valid export as lines, to spoil one record and say which line it is on."""

    def __init__(self, data: bytes) -> None:
        self.lines = data.splitlines(keepends=True)
        self.records = [json.loads(line) for line in self.lines]

    def find(self, kind: str, nth: int = 0, where: Callable[[dict[str, Any]], bool] = lambda r: True) -> int:
        """The index of the nth record of `kind` that `where` accepts (its line number is index + 1)."""
        return [i for i, r in enumerate(self.records) if r.get("type") == kind and where(r)][nth]

    def replaced(self, index: int, line: bytes | str) -> bytes:
        line = line.encode("utf-8") if isinstance(line, str) else line
        return b"".join(self.lines[:index] + [line.rstrip(b"\n") + b"\n"] + self.lines[index + 1 :])

    def changed(self, kind: str, change: Callable[[dict[str, Any]], Any], nth: int = 0, where: Callable[[dict[str, Any]], bool] = lambda r: True) -> tuple[bytes, int]:
        """The file with `change` applied to one record (written with \\u escapes, as JSON allows)."""
        index = self.find(kind, nth, where)
        record = json.loads(self.lines[index])
        change(record)
        return self.replaced(index, json.dumps(record)), index + 1


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.update(values)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def _deeper(spoilt: tuple[bytes, int]) -> tuple[bytes, int]:
    """Its "DEEP" inside 100,000 arrays: deeper than Python's JSON parser can go (RecursionError)."""
    content, line = spoilt
    return content.replace(b'"DEEP"', b"[" * 100_000 + b"]" * 100_000), line


def _real(r: dict[str, Any]) -> bool:
    """An answer of the run the tiny models really made (its timeline is the recorder's)."""
    return r["type"] == "response" and r["model_name"].startswith("Tiny") and bool(r["timeline"])


# (id, how to spoil the export -> (bytes, line or None), what the one line must say after "line N: ")
RECORD_CASES: list[tuple[str, Callable[[Export], tuple[bytes, int | None]], str]] = [
    # The audit's findings.
    ("position -1", lambda e: e.changed("response", _set(position=-1)), "'position': expected 0 or more, got -1"),
    ("two answers at one position", lambda e: e.changed("response", _set(position=0), nth=1), "a second answer at position 0 of its run"),
    ("status hacked", lambda e: e.changed("response", _set(status="hacked")), '\'status\': "hacked" is not one of "pending", "streaming", "done", "interrupted"'),
    ("finish_reason exploded", lambda e: e.changed("response", _set(finish_reason="exploded")), '\'finish_reason\': "exploded" is not one of null, "stop", "length", "stopped", "error", "crashed"'),
    ("created_at yesterday", lambda e: e.changed("run", _set(created_at="yesterday")), "'created_at': expected an ISO 8601 time"),
    ("completion_tokens -5", lambda e: e.changed("response", _set(completion_tokens=-5)), "'completion_tokens': expected 0 or more, got -5"),
    ("timeline pairs", lambda e: e.changed("response", _set(timeline=[[200, 0]])), "'timeline': entry 0 is \\[200, 0\\]"),
    ("timeline kind 2", lambda e: e.changed("response", _set(timeline=[[200, 2, 1]])), "'timeline': entry 0 is \\[200, 2, 1\\]"),
    ("timeline negative time", lambda e: e.changed("response", _set(timeline=[[-1, 0, 1]])), "'timeline': entry 0"),
    ("timeline booleans", lambda e: e.changed("response", _set(timeline=[[True, 0, 1]])), "'timeline': entry 0"),
    ("timeline text", lambda e: e.changed("response", _set(timeline="[[200, 0, 5]]")), "'timeline': expected a JSON array, got str"),
    ("timeline longer than its text", lambda e: e.changed("response", lambda r: r["timeline"].append([9999, 0, 10**6]), where=_real), "'timeline': its pieces of text add up to"),
    ("timeline reasoning it lacks", lambda e: e.changed("response", lambda r: r["timeline"].append([9999, 1, 1]), where=_real), "'timeline': its pieces of reasoning add up to 1 characters, but the reasoning has 0"),
    ("lone surrogate in text", lambda e: e.changed("response", _set(text="before \ud800 after")), "'text': the text holds a lone surrogate \\(U\\+D800\\)"),
    ("lone low surrogate in a note", lambda e: e.changed("note", _set(body="\udfff")), "'body': the text holds a lone surrogate \\(U\\+DFFF\\)"),
    ("lone surrogate deep in the sampler", lambda e: e.changed("response", _set(sampler={"x": ["ok", {"y": "\ud83d"}]})), "'sampler': the text holds a lone surrogate"),
    ("lone surrogate in a key", lambda e: e.changed("model", _set(metadata={"\ud800": 1})), "'metadata': the text holds a lone surrogate"),
    # Bytes that are not UTF-8 (a Latin-1 editor; a surrogate encoded as UTF-8, which UTF-8 forbids).
    ("Latin-1 byte", lambda e: (e.replaced(e.find("run"), e.lines[e.find("run")].replace(b'"prompt": "', b'"prompt": "caf\xe9 ')), e.find("run") + 1), "not valid UTF-8 at byte \\d+ of the line; save the file as UTF-8"),
    ("surrogate as bytes", lambda e: (e.replaced(e.find("run"), e.lines[e.find("run")].replace(b'"prompt": "', b'"prompt": "\xed\xa0\x80')), e.find("run") + 1), "not valid UTF-8 at byte"),
    # Numbers.
    ("boolean token count", lambda e: e.changed("response", _set(prompt_tokens=True)), "'prompt_tokens': expected a whole number, got True"),
    ("seed beyond 64 bits", lambda e: e.changed("response", _set(seed=2**63)), "'seed': expected a whole number"),
    ("negative seed", lambda e: e.changed("response", _set(seed=-1)), "'seed': expected 0 or more"),
    ("negative duration", lambda e: e.changed("response", _set(duration_s=-0.5)), "'duration_s': expected 0 or more, got -0.5"),
    ("text for a number", lambda e: e.changed("response", _set(ttft_s="0.2")), "'ttft_s': expected a number"),
    ("NaN", lambda e: (e.replaced(e.find("response"), e.lines[e.find("response")].replace(b'"ttft_s": ', b'"ttft_s": NaN, "x": ')), e.find("response") + 1), "NaN is not a number JSON allows"),
    ("Infinity", lambda e: (e.replaced(e.find("response"), e.lines[e.find("response")].replace(b'"ttft_s": ', b'"ttft_s": -Infinity, "x": ')), e.find("response") + 1), "-Infinity is not a number JSON allows"),
    ("1e999", lambda e: (e.replaced(e.find("response"), e.lines[e.find("response")].replace(b'"ttft_s": ', b'"ttft_s": 1e999, "x": ')), e.find("response") + 1), "the number 1e999 is too large"),
    ("5000 digits", lambda e: (e.replaced(e.find("response"), e.lines[e.find("response")].replace(b'"seed": ', b'"seed": ' + b"9" * 5000 + b', "x": ')), e.find("response") + 1), "a number has 5,000 digits; it is too large"),
    ("negative span start", lambda e: e.changed("span", _set(start=-3)), "'start': expected 0 or more, got -3"),
    ("negative model size", lambda e: e.changed("model", _set(file_size=-1)), "'file_size': expected 0 or more"),
    ("boolean vote count", lambda e: e.changed("vote", _set(count=False)), "'count': expected a whole number, got False"),
    ("confidence above 1", lambda e: e.changed("flag", _set(confidence=1.5)), "'confidence': expected a number from 0 to 1, got 1.5"),
    ("flag source person", lambda e: e.changed("flag", _set(source="person")), '\'source\': "person" is not one of "auto"'),
    ("link kind unknown", lambda e: e.changed("run_link", _set(kind="same_topic")), '\'kind\': "same_topic" is not one of "language_shift"'),
    # Times.
    ("started_at yesterday", lambda e: e.changed("response", _set(started_at="yesterday")), "'started_at': expected an ISO 8601 time"),
    ("archived_at a number", lambda e: e.changed("session", _set(archived_at=20260101)), "'archived_at': expected an ISO 8601 time"),
    ("label audit time", lambda e: e.changed("response_label", _set(updated_at="31/12/2026")), "'updated_at': expected an ISO 8601 time"),
    ("flag time", lambda e: e.changed("flag", _set(created_at="")), "'created_at': expected an ISO 8601 time"),
    # Shape.
    ("missing status", lambda e: e.changed("response", lambda r: r.pop("status")), "missing 'status'"),
    ("missing uid", lambda e: e.changed("run", lambda r: r.pop("uid")), "missing 'uid'"),
    ("number for text", lambda e: e.changed("response", _set(text=5)), "'text': expected text, got int"),
    ("list for settings", lambda e: e.changed("run", _set(settings=[])), "'settings': expected a JSON object, got list"),
    ("unknown record type", lambda e: e.changed("note", _set(type="hacker")), "unknown record type 'hacker'"),
    ("record type a list", lambda e: e.changed("note", _set(type=["run"])), "unknown record type \\['run'\\]"),
    ("record an array", lambda e: (e.replaced(e.find("note"), "[1, 2]"), e.find("note") + 1), "expected a JSON object, got list"),
    ("not JSON", lambda e: (e.replaced(e.find("note"), "{'type': 'note'}"), e.find("note") + 1), "not JSON"),
    ("duplicate key", lambda e: (e.replaced(e.find("response"), e.lines[e.find("response")].replace(b'"position": ', b'"position": 5, "position": ')), e.find("response") + 1), "the key 'position' appears twice in one object"),
    ("nested past recursion", lambda e: _deeper(e.changed("response", _set(sampler={"x": "DEEP"}))), f"nested more than {MAX_DEPTH} levels deep"),
    ("nested past the limit", lambda e: e.changed("flag", _set(evidence=_nested(MAX_DEPTH + 5))), f"nested more than {MAX_DEPTH} levels deep"),
    ("record after the end", lambda e: (b"".join(e.lines) + e.lines[e.find("note")], None), "line \\d+ comes after the end line"),
    ("end count a boolean", lambda e: (e.replaced(len(e.lines) - 1, '{"type": "end", "records": true}'), None), "it should hold True records but holds"),
]


@pytest.mark.parametrize(("spoil", "says"), [pytest.param(spoil, says, id=name) for name, spoil, says in RECORD_CASES])
def test_a_record_the_format_forbids_is_refused_by_line_and_field(valid_export: bytes, notebook_path: Path, tmp_path: Path, capsys, spoil, says: str) -> None:
    content, line = spoil(Export(valid_export))
    refused(notebook_path, tmp_path / "bad.jsonl", content, ["import"], (f"line {line}: " if line else "") + says, capsys)


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        pytest.param(lambda data: b"", "it is not a Model Values Workbench export", id="empty"),
        pytest.param(lambda data: data.split(b"\n", 1)[1], "it is not a Model Values Workbench export", id="no header"),
        pytest.param(lambda data: data[: data.rindex(b"\n", 0, -1) - 40], "it is truncated \\(line \\d+ is cut off\\)", id="last line cut"),
        pytest.param(lambda data: data[: data.rindex(b"\n", 0, -1) + 1], "it is truncated \\(the end line is missing\\)", id="end line missing"),
        pytest.param(lambda data: data.replace(b"\n", b"\n\xef\xbb\xbf", 1), "line 2: not JSON", id="BOM inside the file"),
        pytest.param(lambda data: BOM + BOM + data, "line 1: not JSON", id="two BOMs"),
        pytest.param(lambda data: data.replace(b'"version": %d' % FORMAT_VERSION, b'"version": %d, "version": %d' % (FORMAT_VERSION, FORMAT_VERSION), 1), "line 1: the key 'version' appears twice", id="header key twice"),
        pytest.param(
            lambda data: data.replace(b"\n", b"\n" + b'{"type": "note", "body": "' + b"x" * MAX_LINE_BYTES + b'"}\n', 1),
            f"line 2 is longer than {MAX_LINE_BYTES // 2**20} MB",
            id="huge line",
        ),
    ],
)
def test_a_cut_empty_or_oversized_file_is_refused(valid_export: bytes, notebook_path: Path, tmp_path: Path, capsys, spoil, says: str) -> None:
    refused(notebook_path, tmp_path / "bad.jsonl", spoil(valid_export), ["import"], says, capsys)


@pytest.mark.parametrize(
    "dress",
    [
        pytest.param(lambda data: data, id="as written"),
        pytest.param(lambda data: BOM + data, id="with a BOM"),
        pytest.param(lambda data: BOM + data.replace(b"\n", b"\r\n"), id="with a BOM and CRLF"),
    ],
)
def test_the_valid_export_imports(valid_export: bytes, notebook_path: Path, tmp_path: Path, capsys, dress) -> None:
    """Excel and Windows editors save UTF-8 with a byte-order mark and CRLF line ends."""
    path = tmp_path / "good.jsonl"
    path.write_bytes(dress(valid_export))
    assert main(["import", str(path), "--db", str(notebook_path)]) == 0
    assert "runs: 4" in capsys.readouterr().out
    recorded = [r for r in Export(valid_export).records if r.get("type") == "response" and _real(r)]
    notebook = open_notebook(notebook_path)
    with notebook.store.reading() as db:
        kept = {row[0]: json.loads(row[1]) for row in db.execute("select uid, timeline from responses")}
    notebook.close()
    assert recorded and all(kept[r["uid"]] == r["timeline"] for r in recorded)


def test_an_answer_at_a_position_the_notebook_already_fills_is_refused(valid_export: bytes, notebook_path: Path, tmp_path: Path, capsys) -> None:
    """A run already here, and the file gives it a new answer (another uid) in a pane it has."""
    notebook = open_notebook(notebook_path)
    source = tmp_path / "good.jsonl"
    source.write_bytes(valid_export)
    import_jsonl(notebook, source)
    notebook.close()
    # The file: one run, and one answer of it under a new uid (the end count fixed).
    export = Export(valid_export)
    answer = dict(export.records[export.find("response")], uid="f" * 32)
    run = export.records[export.find("run", where=lambda r: r["uid"] == answer["run"])]
    models = [r for r in export.records if r.get("type") == "model"]
    lines = [export.lines[0], *(json.dumps(r).encode() + b"\n" for r in (*models, run, answer)), json.dumps({"type": "end", "records": len(models) + 2}).encode() + b"\n"]
    content, line = b"".join(lines), len(models) + 3
    refused(notebook_path, tmp_path / "bad.jsonl", content, ["import"], f"line {line}: its run already has another answer at position 0 in this notebook", capsys)
