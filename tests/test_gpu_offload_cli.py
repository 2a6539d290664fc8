"""`--gpu-layers` on the commands that generate: parsed once for all of them, recorded with
the answers, and refused in one line when it is neither "all" nor a count."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cli_process import in_process
from gguf_factory import write_tiny_model
from prompt_set_factory import write_set


@pytest.mark.parametrize("value", ["-2", "lots", "1.5"])
@pytest.mark.parametrize("command", [["compare", "Hi"], ["batch", "starter-20"], ["judge", "--run", "1", "--model", "x"]])
def test_a_bad_gpu_layers_value_is_a_usage_error(command: list[str], value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        in_process(*command, "--gpu-layers", value)
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"""workbench {command[0]}: error: argument --gpu-layers: '{value}': GPU layers must be "all" or a whole number from 0 (CPU only) to 2147483647"""


def test_compare_hands_the_setting_to_llama_and_records_what_ran_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A real tiny model in this process's child: the setting in the answer's settings, and
    the model process's report of the backend beside it (this machine: the CPU), which
    `workbench models` shows as what the model last ran on."""
    import llama_cpp

    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    folder = tmp_path / "models"
    folder.mkdir()
    model = write_tiny_model(folder / "tiny.gguf")
    write_tiny_model(folder / "idle.gguf", name="Tiny Idle", seed=3)
    db = tmp_path / "nb.sqlite"
    assert in_process("models", "--folder", str(folder), "--db", str(db)) == 0
    assert not db.exists()  # listing models makes no notebook
    assert all(row.split()[-2:] == ["yet", "ok"] for row in capsys.readouterr().out.splitlines()[1:])  # "not run yet"
    status = in_process("compare", "Hi", "--model", str(model), "--max-tokens", "4", "--ctx", "256", "--gpu-layers", "2", "--db", str(db), "--json")
    out, err = capsys.readouterr()
    assert status == 0, err
    response_id = json.loads(out)["responses"][0]["response_id"]
    with sqlite3.connect(db) as conn:
        sampler = json.loads(conn.execute("select sampler from responses where id = ?", [response_id]).fetchone()[0])
    assert sampler["gpu_layers"] == 2
    expected = "CPU" if not llama_cpp.llama_supports_gpu_offload() else sampler["ran_on"]["backend"]
    assert sampler["ran_on"]["backend"] == expected and sampler["ran_on"]["layers"] == 3
    assert in_process("models", "--folder", str(folder), "--db", str(db), "--json", "--hash") == 0
    listed = {m["id"]: m["ran_on"] for m in json.loads(capsys.readouterr().out)}
    assert listed["idle"] is None
    assert {k: v for k, v in listed["tiny"].items() if k != "finished_at"} == sampler["ran_on"] and listed["tiny"]["finished_at"]
    assert in_process("models", "--folder", str(folder), "--db", str(db)) == 0
    rows = {row.split()[0]: row for row in capsys.readouterr().out.splitlines()}
    assert f" {expected} " in rows["tiny"] and "not run yet" in rows["idle"] and "RAN ON" in rows["ID"]


def test_a_new_batch_records_the_setting_and_its_models_load_with_it(tiny_models: Path, tmp_path: Path, scripted_models, monkeypatch, capsys) -> None:
    monkeypatch.setenv("WORKBENCH_NO_STARTER", "1")
    loaded_with: list[object] = []
    loader = scripted_models(lambda _model, _prompt: "Yes.")
    original = type(loader).__call__

    def recording(self, path, name, settings, cancel):
        loaded_with.append(settings.gpu_layers)
        return original(self, path, name, settings, cancel)

    monkeypatch.setattr(type(loader), "__call__", recording)
    db = tmp_path / "nb.sqlite"
    status = in_process("--db", str(db), "batch", str(write_set(tmp_path / "set.toml", 1)), "--model", "tiny-alpha", "--folder", str(tiny_models), "--max-tokens", "4", "--gpu-layers", "0", "--json")
    assert status == 0, capsys.readouterr().err
    with sqlite3.connect(db) as conn:
        assert json.loads(conn.execute("select settings from batches").fetchone()[0])["gpu_layers"] == 0
    assert loaded_with == [0]
