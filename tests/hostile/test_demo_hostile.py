"""Hostile demo files: a step's settings, times and shape the demo format forbids, refused whole.

One valid demo file is written by the real exporter (export_demo) from a script whose
steps replay three recorded runs and ask one live, with the settings the window
stores (GenerationParams.to_dict()). Each case spoils its demo part, which lives in
the header (line 1), in one way. `workbench demo import` must exit 1 with ONE line
naming the file, line 1 and the step or field, and leave the notebook exactly as it was.
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
from workbench.core.classroom.demo_file import export_demo
from workbench.core.engine.params import GenerationParams
from workbench.core.notebook import open_notebook

LIVE_STEP = 4  # the step asked live, with the window's full settings (steps count from 1)


@pytest.fixture(scope="module")
def valid_demo(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("home")
    notebook = build(folder / "home.sqlite")
    demos = notebook.demos
    script = demos.create("Monday", annotator="ana")
    for run_id in (1, 2, 3):
        demos.add_step_from_run(script.id, run_id, annotator="ana")
    settings = GenerationParams(temperature=0.7, n_threads=2).to_dict()
    demos.add_step(script.id, prompt="Who are you?", annotator="ana", models=[{"sha256": "a" * 64, "name": "SmolLM2"}], settings=settings)
    demos.add_step_from_run(script.id, 1, annotator="ana", mode="instant")
    export_demo(notebook, script.id, folder / "monday.demo.jsonl")
    notebook.close()
    return (folder / "monday.demo.jsonl").read_bytes()


def _demo(change: Callable[[dict[str, Any]], Any]) -> Callable[[bytes], bytes]:
    """The file with `change` applied to its demo part (the header's "demo")."""

    def spoil(data: bytes) -> bytes:
        header, rest = data.split(b"\n", 1)
        parsed = json.loads(header)
        change(parsed["demo"])
        return json.dumps(parsed).encode() + b"\n" + rest

    return spoil


def _setting(**values: Any) -> Callable[[bytes], bytes]:
    return _demo(lambda demo: demo["steps"][LIVE_STEP - 1]["settings"].update(values))


def _raw_setting(name: str, text: bytes) -> Callable[[bytes], bytes]:
    """A setting written as JSON text the json module would not write (NaN, 1e999)."""
    return lambda data: _setting(**{name: "RAW"})(data).replace(b'"RAW"', text, 1)


def _named(setting: str) -> str:
    """A setting as a problem names it: 'n_ctx' (the demo reader) or n ctx (GenerationParams)."""
    return "'?" + setting.replace("_", "[_ ]") + "'?"


CASES = [
    # The audit's findings.
    ("temperature hot", _setting(temperature="hot"), f"step {LIVE_STEP}: 'settings': {_named('temperature')} must be a number"),
    ("n_ctx -1", _setting(n_ctx=-1), f"step {LIVE_STEP}: 'settings': context size must be at least 64"),
    # Types GenerationParams would take without complaint, or with a TypeError.
    ("n_ctx true", _setting(n_ctx=True), f"{_named('n_ctx')} must be a whole number"),
    ("n_ctx a float", _setting(n_ctx=4096.0), f"{_named('n_ctx')} must be a whole number"),
    ("top_k text", _setting(top_k="40"), f"{_named('top_k')} must be a whole number"),
    ("temperature a list", _setting(temperature=[0.5]), f"{_named('temperature')} must be a number"),
    ("temperature false", _setting(temperature=False), f"{_named('temperature')} must be a number"),
    ("system prompt a number", _setting(system_prompt=5), f"{_named('system_prompt')} must be text"),
    ("temperature NaN", _raw_setting("temperature", b"NaN"), "NaN is not a number JSON allows"),
    ("top_p 1e999", _raw_setting("top_p", b"1e999"), "the number 1e999 is too large"),
    # Bounds (GenerationParams' own checks).
    ("temperature 7", _setting(temperature=7), "temperature must be between 0 and 5"),
    ("top_p 0", _setting(top_p=0), "top-p must be above 0 and at most 1"),
    ("max_tokens 0", _setting(max_tokens=0), "max tokens must be at least 1"),
    ("seed 2**40", _setting(seed=2**40), "seed must be between 0 and 4294967295"),
    ("n_threads 0", _setting(n_threads=0), "threads must be at least 1"),
    ("settings of a replayed step", _demo(lambda d: d["steps"][0]["settings"].update(repeat_penalty=99)), "step 1: 'settings': repeat penalty must be between 0.5 and 3"),
    # Times, shape and text.
    ("step created_at yesterday", _demo(lambda d: d["steps"][1].update(created_at="yesterday")), "step 2: 'created_at' is not valid \\('yesterday'\\)"),
    ("script updated_at a number", _demo(lambda d: d["script"].update(updated_at=1)), "the script: 'updated_at' is not valid \\(1\\)"),
    ("settings a list", _demo(lambda d: d["steps"][0].update(settings=[])), "step 1: 'settings' is not valid"),
    ("steps an object", _demo(lambda d: d.update(steps={})), "its steps are not a list"),
    ("a step a string", _demo(lambda d: d["steps"].append("step")), "step 6 is not a JSON object"),
    ("a step without a prompt", _demo(lambda d: d["steps"][2].pop("prompt")), "step 3 has no 'prompt'"),
    ("mode turbo", _demo(lambda d: d["steps"][2].update(mode="turbo")), "step 3: 'mode' is not valid \\('turbo'\\)"),
    ("a model without a name", _demo(lambda d: d["steps"][3].update(models=[{"sha256": None}])), "step 4: Each model of a step needs a name"),
    ("demo version true", _demo(lambda d: d.update(version=True)), "its demo format version True is not one this workbench knows"),
    ("no script", _demo(lambda d: d.pop("script")), "the script is not a JSON object"),
    ("lone surrogate in a title", _demo(lambda d: d["steps"][0].update(title="\ud800")), "'demo': the text holds a lone surrogate \\(U\\+D800\\)"),
    ("a key twice", lambda data: data.replace(b'"mode": ', b'"mode": "live", "mode": ', 1), "the key 'mode' appears twice in one object"),
]


@pytest.mark.parametrize(("spoil", "says"), [pytest.param(spoil, says, id=name) for name, spoil, says in CASES])
def test_a_demo_the_format_forbids_is_refused_by_line_and_step(valid_demo: bytes, notebook_path: Path, tmp_path: Path, capsys, spoil, says: str) -> None:
    refused(notebook_path, tmp_path / "monday.demo.jsonl", spoil(valid_demo), ["demo", "import"], f"not imported: line 1: .*{says}", capsys)


@pytest.mark.parametrize(
    "dress",
    [
        pytest.param(lambda data: data, id="as written"),
        pytest.param(lambda data: b"\xef\xbb\xbf" + data, id="with a BOM"),
        pytest.param(_setting(flash_attention=True), id="a setting from a newer workbench"),
    ],
)
def test_the_valid_demo_imports(valid_demo: bytes, notebook_path: Path, tmp_path: Path, capsys, dress) -> None:
    path = tmp_path / "monday.demo.jsonl"
    path.write_bytes(dress(valid_demo))
    assert main(["demo", "import", "--db", str(notebook_path), str(path)]) == 0
    assert "Demo script 'Monday' (5 step(s))" in capsys.readouterr().out
    notebook = open_notebook(notebook_path)
    live = notebook.demos.steps(notebook.demos.scripts()[-1].id)[LIVE_STEP - 1]
    notebook.close()
    assert GenerationParams.from_dict(live.settings) == GenerationParams(temperature=0.7, n_threads=2)
