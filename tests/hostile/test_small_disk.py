"""The suite's full disk is really full, and the rest of the machine is not touched."""

from __future__ import annotations

import errno

import pytest


def test_a_small_disk_fills_up_and_says_so(small_disk) -> None:
    disk = small_disk(64 * 1024)
    assert 0 < disk.free() <= 64 * 1024
    with pytest.raises(OSError) as raised:
        (disk.path / "big").write_bytes(b"x" * 200_000)
    assert raised.value.errno == errno.ENOSPC


def test_fill_leaves_what_was_asked_and_make_room_gives_it_back(small_disk) -> None:
    disk = small_disk(256 * 1024)
    disk.fill(leave=8192)
    assert disk.free() <= 8192
    disk.make_room()
    assert disk.free() > 200 * 1024
