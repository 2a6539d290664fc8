"""A model process started before its model is known (engine/local.py's start_spare): the
next model loaded takes it, answers as a process of its own would, and a spare that
died is passed over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_process import env
from gguf_factory import write_tiny_model
from workbench.core.engine import local
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.local import LocalModel
from workbench.core.engine.params import GenerationParams, LoadSettings

PARAMS = GenerationParams(max_tokens=12, n_ctx=256, n_threads=1, seed=3)
QUESTION = [{"role": "user", "content": "Say something about tea."}]


class Collect:
    def __init__(self) -> None:
        self.chunks: list[str] = []

    def started(self, prompt_tokens, stream_format) -> None:
        pass

    def text(self, chunks: list[str]) -> None:
        self.chunks.extend(chunks)


@pytest.fixture
def no_spare() -> Iterator[None]:
    """No spare left over from another test, and none left behind for the next."""
    yield
    spare = local._take_spare(Path("none"), LoadSettings(256, 1), Path(os.devnull))
    if spare is not None:
        spare[0].kill()
        spare[0].join()


def answer(model: LocalModel) -> str:
    return model.generate(QUESTION, PARAMS, Collect(), Cancel()).text


def test_the_next_model_takes_the_spare_and_answers_as_its_own_process_would(tiny_model: Path, no_spare: None) -> None:
    own = LocalModel(tiny_model, "Tiny", LoadSettings(256, 1))
    own.start()
    try:
        expected = answer(own)
    finally:
        own.close()

    local.start_spare()
    spare_pid = local._spare[0].pid  # type: ignore[index]
    first, second = LocalModel(tiny_model, "Tiny", LoadSettings(256, 1)), LocalModel(tiny_model, "Tiny", LoadSettings(256, 1))
    first.start()
    second.start()
    try:
        assert first.pid == spare_pid and second.pid != spare_pid  # the spare serves once
        assert answer(first) == answer(second) == expected != ""
    finally:
        first.close()
        second.close()


def test_a_spare_that_died_is_passed_over(tiny_model: Path, no_spare: None) -> None:
    local.start_spare()
    process = local._spare[0]  # type: ignore[index]
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)
    model = LocalModel(tiny_model, "Tiny", LoadSettings(256, 1))
    model.start()
    try:
        assert model.pid != process.pid and answer(model)
    finally:
        model.close()


def test_a_spare_given_a_file_llama_cpp_refuses_says_so_as_its_own_process_would(tmp_path: Path, no_spare: None) -> None:
    broken = write_tiny_model(tmp_path / "broken.gguf", architecture="nonesuch")
    local.start_spare()
    with pytest.raises(Exception) as refused:
        LocalModel(broken, "Broken", LoadSettings(256, 1)).start()
    with pytest.raises(Exception) as refused_alone:
        LocalModel(broken, "Broken", LoadSettings(256, 1)).start()
    assert str(refused.value) == str(refused_alone.value) and "broken.gguf" in str(refused.value)


def test_a_command_that_loads_no_model_leaves_no_spare_behind(tmp_path: Path) -> None:
    """`compare` with a model that does not exist started a spare as it began: it ends
    with the command."""
    command = [sys.executable, "-m", "workbench", "compare", "Hi", "--model", "no-such-model", "--db", str(tmp_path / "nb.sqlite")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), start_new_session=True)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0 and "no-such-model" in err
    deadline = time.monotonic() + 10
    while (left := subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True, text=True).stdout) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == "", "a process of the command's session outlived it"
