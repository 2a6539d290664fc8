"""What the hostile-input suite shares: full disks, FIFOs and devices made for a test.

A full disk is a small tmpfs mounted in a user and mount namespace of its own
(`unshare -rm`), so an ordinary user can make one without root. The namespace
lives as long as a `sleep` inside it; every process of the test reaches the
tmpfs through that process's view of the file system, `/proc/PID/root/…`,
and writes there fail with ENOSPC like on a real full disk. Where the kernel
refuses unprivileged namespaces the tests that need one are skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest


class SmallDisk:
    """A tmpfs of `size` bytes; `path` is a folder on it, usable from this process."""

    def __init__(self, mount_point: Path, size: int) -> None:
        self.size = size
        self._process = subprocess.Popen(
            ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs "$0" && echo mounted && exec sleep 3600', str(mount_point)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self._process.stdout.readline() if self._process.stdout else ""
        if line.strip() != "mounted":
            error = self._process.stderr.read().strip() if self._process.stderr else ""
            self.close()
            pytest.skip(f"can't make a small disk here (unprivileged `unshare -rm` and tmpfs refused: {error or 'no reason given'})")
        self.path = Path(f"/proc/{self._process.pid}/root") / mount_point.relative_to("/")

    def free(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave: int = 0) -> None:
        """Fill the disk until `leave` bytes (rounded to its blocks) stay free."""
        filler = self.path / "filler"
        with open(filler, "ab") as out:
            while self.free() > leave:
                try:
                    out.write(b"\0" * max(1, min(self.free() - leave, 1 << 20)))
                    out.flush()
                except OSError:
                    break

    def make_room(self) -> None:
        (self.path / "filler").unlink(missing_ok=True)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream:
                stream.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], SmallDisk]]:
    """`small_disk(size)` gives a fresh tmpfs of `size` bytes (at least one 4 KB block)."""
    if shutil.which("unshare") is None:
        pytest.skip("can't make a small disk here: `unshare` (util-linux) is not installed")
    disks: list[SmallDisk] = []

    def make(size: int) -> SmallDisk:
        mount_point = tmp_path / f"disk{len(disks)}"
        mount_point.mkdir()
        disk = SmallDisk(mount_point, size)
        disks.append(disk)
        return disk

    yield make
    for disk in disks:
        disk.close()


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A named pipe nobody writes to: reading it blocks forever, as the audit found."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path

