"""A path given as input that is not a regular file is refused at once, never read.

/dev/zero never ends, a FIFO nobody writes blocks the reader forever: the
audit's `--model /dev/zero` hung at the SHA-256 step and `import` from a FIFO
blocked. Each case runs the real command line in a process of its own with a
timeout, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocking import unblocked
from cli_process import one_line_refusal, workbench
from export_fixtures import build
from workbench.core import user_files
from workbench.core.user_files import NotAFile, open_input

TIMEOUT = 60
MODEL_HINT = "Give the path of a GGUF file, or a model id (`workbench models`)."


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    yield path
    server.close()


@pytest.fixture
def dangling(tmp_path: Path) -> Path:
    link = tmp_path / "gone.gguf"
    link.symlink_to(tmp_path / "moved.gguf")
    return link


def model_refusal(path: Path | str, what: str) -> str:
    return f"workbench: Can't use {path} as a model: it is {what}. {MODEL_HINT}"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_model_is_refused_at_once(device: str, tmp_path: Path) -> None:
    line = one_line_refusal(workbench("compare", "Hello", "--db", str(tmp_path / "nb.sqlite"), "--model", device, timeout=TIMEOUT))
    assert line == model_refusal(device, "a character device, not a regular file")


def test_a_fifo_socket_or_link_to_a_device_as_model_is_refused(fifo: Path, unix_socket: Path, tmp_path: Path) -> None:
    zero = tmp_path / "zero.gguf"
    zero.symlink_to("/dev/zero")
    for path, what in ((fifo, "a named pipe (FIFO)"), (unix_socket, "a socket"), (zero, "a character device")):
        line = one_line_refusal(workbench("compare", "Hello", "--model", str(path), timeout=TIMEOUT))
        assert line == model_refusal(path, f"{what}, not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and zero.is_symlink()


def test_a_folder_or_a_dangling_link_as_model_says_what_to_do(tmp_path: Path, dangling: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    assert one_line_refusal(workbench("compare", "Hello", "--model", str(folder), timeout=TIMEOUT)) == (
        f"workbench: {folder} is a folder, not a model file. To use the models in it, add the folder (--folder)."
    )
    assert one_line_refusal(workbench("compare", "Hello", "--model", str(dangling), timeout=TIMEOUT)) == model_refusal(
        dangling, f"a symbolic link to {tmp_path / 'moved.gguf'}, which does not exist"
    )


def test_judge_and_batch_refuse_a_device_as_model(isolated_dirs: Path) -> None:
    build(isolated_dirs / "notebook.sqlite").close()  # run 1 is there to judge
    for command in (["judge", "--run", "1"], ["batch", "starter-20", "--limit", "1"]):
        line = one_line_refusal(workbench(*command, "--model", "/dev/zero", timeout=TIMEOUT))
        assert line == model_refusal("/dev/zero", "a character device, not a regular file")


def test_a_scanned_folder_lists_fifos_and_devices_as_bad_files_without_reading_them(fifo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    os.mkfifo(folder / "pipe.gguf")
    (folder / "zero.gguf").symlink_to("/dev/zero")
    done = workbench("models", "--json", "--hash", "--folder", str(folder), timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    statuses = {m["id"]: m["status"] for m in json.loads(done.stdout)}
    assert statuses == {
        "pipe": "can't read: it is a named pipe (FIFO), not a regular file",
        "zero": "can't read: it is a character device, not a regular file",
    }
    # Asked for by id, the FIFO fails like any broken file: no answer, exit 1, no hang.
    done = workbench("compare", "Hello", "--folder", str(folder), "--model", "pipe", timeout=TIMEOUT)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "workbench: no model answered: pipe can't be loaded: can't read: it is a named pipe (FIFO), not a regular file"


@pytest.mark.parametrize("command", [["import"], ["demo", "import"]])
def test_import_from_a_fifo_a_device_or_a_folder_is_refused(command: list[str], fifo: Path, tmp_path: Path) -> None:
    for path, what in ((fifo, "a named pipe (FIFO), not a regular file"), (Path("/dev/zero"), "a character device, not a regular file"), (tmp_path, "a folder, not a file")):
        line = one_line_refusal(workbench(*command, "--db", str(tmp_path / "nb.sqlite"), str(path), timeout=TIMEOUT))
        assert line == f"workbench: Can't read {path}: it is {what}."
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_prompt_set_that_is_a_fifo_is_refused(fifo: Path) -> None:
    line = one_line_refusal(workbench("batch", str(fifo), "--model", "x", timeout=TIMEOUT), status=2)
    assert line == f"workbench batch: Can't read the prompt set {fifo}: it is a named pipe (FIFO), not a regular file."


def test_a_path_swapped_for_a_fifo_after_the_check_is_refused_without_blocking(fifo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_files, "check_input", lambda path: None)  # the check saw a file; now it is a FIFO
    with pytest.raises(NotAFile, match=r"it is a named pipe \(FIFO\), not a regular file"):
        unblocked(lambda: open_input(fifo), fifo)


def test_a_very_large_regular_file_is_still_read(tmp_path: Path) -> None:
    big = tmp_path / "big.gguf"
    with open(big, "wb") as out:
        out.truncate(8 << 30)  # sparse: 8 GB that take no room
    with open_input(big) as stream:
        assert stream.read(4) == b"\0" * 4
    done = workbench("models", "--json", "--folder", str(tmp_path), timeout=TIMEOUT)
    [model] = [m for m in json.loads(done.stdout) if m["id"] == "big"]
    assert model["status"].startswith("not a GGUF file")
