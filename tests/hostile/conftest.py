"""What the hostile-input suite shares: full disks, FIFOs and devices made for a test.

A full disk is a small tmpfs mounted in a user and mount namespace of its own
(`unshare -rm`), so an ordinary user can make one without root. The namespace
lives as long as a `sleep` inside it. The test reaches the tmpfs through the
sleeper's view of the file system (`disk.path`, `/proc/PID/root/…`): fine for
plain reads and writes, but SQLite resolves that magic link back to this
namespace and so never sees the tmpfs. Programs that must meet the full disk
through SQLite run inside the namespace (`disk.run`, `disk.popen`: nsenter),
where the tmpfs is at `disk.inside`; to look inside a notebook, `copy_out` it.
Where the kernel refuses unprivileged namespaces these tests are skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from export_fixtures import build

from full_disk import FILLER, fill


class SmallDisk:
    """A tmpfs of `size` bytes, mounted at `inside` in its own namespace."""

    def __init__(self, mount_point: Path, size: int) -> None:
        self.size = size
        self.inside = mount_point
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

    def _inside(self, argv: list[str]) -> list[str]:
        return ["nsenter", "-t", str(self._process.pid), "-U", "-m", "--preserve-credentials", *argv]

    def run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        """Run a program that sees the small disk at `inside`."""
        return subprocess.run(self._inside(argv), **kwargs)

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen:
        return subprocess.Popen(self._inside(argv), **kwargs)

    def free(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave: int = 0) -> None:
        """Fill the disk until `leave` bytes (rounded to its blocks) stay free."""
        fill(self.path, leave)

    def make_read_only(self) -> None:
        """Remount it read-only: a folder nobody may write in, not even root."""
        # A bind remount: an ordinary user may make their own mount read-only so, not by a
        # plain tmpfs remount (EINVAL outside root's own namespace).
        done = self.run(["mount", "-o", "remount,bind,ro", str(self.inside)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def make_room(self) -> None:
        (self.path / FILLER).unlink(missing_ok=True)

    def copy_out(self, name: str, folder: Path) -> Path:
        """A copy of the notebook `name` (with its write-ahead log) that SQLite can open here."""
        for suffix in ("", "-wal"):
            if (self.path / (name + suffix)).exists():
                shutil.copyfile(self.path / (name + suffix), folder / (name + suffix))
        return folder / name

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
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("can't make a small disk here: `unshare` and `nsenter` (util-linux) are not installed")
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


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A notebook with work of its own, copied for each case (building it is the slow part)."""
    folder = tmp_path_factory.mktemp("template")
    build(folder / "notebook.sqlite").close()
    return folder / "notebook.sqlite"


@pytest.fixture
def notebook_path(template: Path, tmp_path: Path) -> Path:
    for file in template.parent.glob(template.name + "*"):
        shutil.copy(file, tmp_path / file.name)
    return tmp_path / template.name
