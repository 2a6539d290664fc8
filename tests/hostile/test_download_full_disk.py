"""A download onto a small disk (a real tmpfs): refused before the first byte when the
file can't fit, and on a disk that fills up midway one line, the bytes kept, and the
next attempt resumes them once there is room."""

from __future__ import annotations

import pytest

from fake_hub import FakeHub, tiny_gguf
from workbench.core.downloads import hub
from workbench.core.downloads.hub import DownloadProblem, partial_path, pull

REPO, FILE = "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf"


@pytest.fixture
def on_small_disk(small_disk, monkeypatch: pytest.MonkeyPatch):
    """`make(size)`: a small disk holding the data folder (so the models folder)."""

    def make(size: int):
        disk = small_disk(size)
        monkeypatch.setenv("WORKBENCH_DATA_DIR", str(disk.path))
        return disk

    monkeypatch.setattr(hub, "RESERVE_BYTES", 0)
    monkeypatch.setattr(hub, "CHUNK_BYTES", 16384)
    return make


def test_a_file_bigger_than_the_free_space_is_refused_before_downloading(fake_hub: FakeHub, on_small_disk, tmp_path) -> None:
    data = tiny_gguf(tmp_path)
    fake_hub.add(REPO, FILE, data)
    on_small_disk(64 * 1024)

    with pytest.raises(DownloadProblem, match=r"not enough free space for qwen2.5-0.5b-instruct-q4_k_m.gguf: it needs 1\d\d.\d KB more"):
        pull(REPO, FILE)
    assert fake_hub.gets() == []


def test_a_disk_that_fills_up_midway_keeps_what_arrived_for_the_next_attempt(fake_hub: FakeHub, on_small_disk, tmp_path) -> None:
    data = tiny_gguf(tmp_path)
    fake_hub.add(REPO, FILE, data)
    disk = on_small_disk(1024 * 1024)

    def fill_after_the_first_chunks(progress: hub.Progress) -> None:
        if progress.stage == "download" and progress.done >= 48 * 1024 and disk.free() > 0:
            disk.fill()

    with pytest.raises(DownloadProblem, match=r"the disk filled up while downloading .*kept for the next attempt\. Free some space and run again to resume"):
        pull(REPO, FILE, progress=fill_after_the_first_chunks)
    kept = partial_path(REPO, FILE).stat().st_size
    assert 0 < kept < len(data)

    disk.make_room()
    done = pull(REPO, FILE)
    assert done.resumed_from == kept and done.path.read_bytes() == data
    assert fake_hub.gets()[-1].range == f"bytes={kept}-"
