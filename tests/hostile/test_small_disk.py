"""The suite's full disk is really full inside its namespace, and only there."""

from __future__ import annotations

import sys


def test_a_small_disk_is_full_for_programs_run_on_it(small_disk) -> None:
    disk = small_disk(64 * 1024)
    write = f"open({str(disk.inside / 'big')!r}, 'wb').write(b'x' * 200_000)"
    done = disk.run([sys.executable, "-c", write], capture_output=True, text=True)
    assert done.returncode == 1 and "No space left on device" in done.stderr
    assert not (disk.inside / "big").exists()  # this namespace sees the empty mount point


def test_fill_leaves_what_was_asked_and_make_room_gives_it_back(small_disk) -> None:
    disk = small_disk(256 * 1024)
    disk.fill(leave=8192)
    assert disk.free() <= 8192
    disk.make_room()
    assert disk.free() > 200 * 1024
