"""`-o PATH` never destroys what is at PATH, and never says "wrote" when it didn't.

Each case runs the real command line in a process of its own with a
timeout, so a regression (writing into a FIFO blocks) fails instead of
hanging the suite. The device case uses a character device of the test's
own when it can make one (as root, mknod): a regression as root would
otherwise replace the machine's /dev/null with a file, as the audit's
`-o /dev/full` did. Without root it uses /dev/null, which an ordinary user
can't replace anyway.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from export_fixtures import build
from blocking import unblocked
from cli_process import one_line_refusal, workbench
from workbench.core.errors import EnvironmentProblem
from workbench.core.prompts import load_prompt_set, prompt_sets_dir, save_prompt_set

FORMATS = ("md", "html", "csv", "jsonl", "pdf")


def leftovers(folder: Path) -> list[str]:
    """Temporary files a failed save left behind."""
    return [name for name in os.listdir(folder) if name.endswith(".part")]


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    """A notebook with three annotated runs and a demo script replaying them."""
    path = tmp_path / "home.sqlite"
    opened = build(path)
    demos = opened.demos
    script = demos.create("Monday", annotator="ana")
    for run_id in (1, 2, 3):
        demos.add_step_from_run(script.id, run_id, annotator="ana")
    opened.close()
    return path


def export(notebook: Path, output: Path | str, fmt: str = "md") -> subprocess.CompletedProcess:
    return workbench("export", "--db", str(notebook), "--all", "--format", fmt, "-o", str(output), timeout=120)


def demo_export(notebook: Path, output: Path | str) -> subprocess.CompletedProcess:
    return workbench("demo", "export", "--db", str(notebook), "Monday", "-o", str(output), timeout=120)


@pytest.fixture
def device(tmp_path: Path) -> Path:
    """A character device (the null device) that a regression may destroy safely."""
    own = tmp_path / "null"
    try:
        os.mknod(own, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (OSError, AttributeError):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            pytest.skip("root can't make a device here, and /dev/null must not be put at risk")
        return Path(os.devnull)
    return own


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fifo_is_refused_before_anything_is_written(notebook: Path, fifo: Path, fmt: str) -> None:
    line = one_line_refusal(export(notebook, fifo, fmt))
    assert line == f"workbench: Won't write {fifo}: it is a named pipe (FIFO), not a regular file. Give the name of a file to write; nothing was written."
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(fifo.parent) == []


def test_a_device_is_refused_and_stays_a_device(notebook: Path, device: Path) -> None:
    before = os.lstat(device)
    line = one_line_refusal(export(notebook, device))
    assert line == f"workbench: Won't write {device}: it is a character device, not a regular file. Give the name of a file to write; nothing was written."
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_symlink_is_refused_naming_its_target_which_stays_as_it_was(notebook: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("mine\n")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    line = one_line_refusal(export(notebook, link))
    assert line == f"workbench: Won't write {link}: it is a symbolic link to {target}. To replace that file, give its own path; nothing was written."
    assert link.is_symlink() and target.read_text() == "mine\n"
    # Given its own path, the file is replaced.
    assert export(notebook, target).returncode == 0
    assert target.read_text().startswith("# ")


def test_a_folder_is_refused(notebook: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    line = one_line_refusal(export(notebook, folder))
    assert line == f"workbench: Won't write {folder}: it is a folder. Give a file name (inside it, if you like); nothing was written."
    assert os.listdir(folder) == []


def test_a_missing_folder_is_not_created(notebook: Path, tmp_path: Path) -> None:
    output = tmp_path / "typo" / "report.md"
    line = one_line_refusal(export(notebook, output))
    assert line == f"workbench: Can't write {output}: the folder {output.parent} does not exist. Create it or choose another place; nothing was written."
    assert not output.parent.exists()


def test_demo_export_has_the_same_rule(notebook: Path, fifo: Path, tmp_path: Path) -> None:
    line = one_line_refusal(demo_export(notebook, fifo))
    assert line.startswith(f"workbench: Won't write {fifo}: it is a named pipe (FIFO)")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "lesson.demo.jsonl"
    link.symlink_to(tmp_path / "elsewhere.demo.jsonl")
    assert one_line_refusal(demo_export(notebook, link)).startswith(f"workbench: Won't write {link}: it is a symbolic link to ")
    assert link.is_symlink() and not (tmp_path / "elsewhere.demo.jsonl").exists()
    done = demo_export(notebook, tmp_path / "lesson2.demo.jsonl")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("fmt", ["md", "pdf"])
def test_a_full_disk_says_so_and_keeps_the_file_that_was_there(notebook: Path, small_disk, fmt: str) -> None:
    disk = small_disk(16 << 20)  # room for the PDF, with its fonts, once the filler is gone
    output = disk.path / f"report.{fmt}"
    output.write_text("the earlier export\n")
    disk.fill(leave=0)
    line = one_line_refusal(export(notebook, output, fmt))
    assert line == (
        f"workbench: Can't write {output}: No space left on device. "
        "Free some space on that disk or choose another place. The file that was there is unchanged."
    )
    assert output.read_text() == "the earlier export\n"
    assert leftovers(disk.path) == []
    disk.make_room()
    assert export(notebook, output, fmt).returncode == 0
    assert output.read_bytes() != b"the earlier export\n"


def test_demo_export_on_a_full_disk_leaves_nothing(notebook: Path, small_disk) -> None:
    disk = small_disk(64 * 1024)
    disk.fill(leave=0)
    output = disk.path / "lesson.demo.jsonl"
    assert one_line_refusal(demo_export(notebook, output)).startswith(f"workbench: Can't write {output}: No space left on device.")
    assert not output.exists() and leftovers(disk.path) == []


@pytest.fixture
def read_only_folder(small_disk) -> Path:
    """A folder nobody may write in, even root (a read-only mount), holding report.md."""
    disk = small_disk(64 * 1024)
    (disk.path / "report.md").write_text("earlier\n")
    disk.make_read_only()
    return disk.path


def test_a_read_only_folder_says_so_and_keeps_the_file(notebook: Path, read_only_folder: Path) -> None:
    output = read_only_folder / "report.md"
    line = one_line_refusal(export(notebook, output))
    assert line == f"workbench: Can't write in the folder {read_only_folder}: Read-only file system. Choose a folder you can write in."
    assert output.read_text() == "earlier\n"


def test_the_screenshot_path_is_checked_before_the_window_opens(fifo: Path, tmp_path: Path) -> None:
    line = one_line_refusal(workbench("--screenshot", str(fifo), timeout=60))
    assert line.startswith(f"workbench: Won't write {fifo}: it is a named pipe (FIFO)")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    missing = tmp_path / "typo" / "shot.png"
    assert one_line_refusal(workbench("--screenshot", str(missing), timeout=60)).startswith(f"workbench: Can't write {missing}: the folder ")


def test_a_saved_prompt_set_follows_the_rule(fifo: Path, tmp_path: Path) -> None:
    prompt_set = load_prompt_set(prompt_sets_dir() / "starter-20.toml")
    with pytest.raises(EnvironmentProblem, match="it is a named pipe"):
        unblocked(lambda: save_prompt_set(prompt_set, fifo), fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    saved = tmp_path / "mine.toml"
    save_prompt_set(prompt_set, saved)
    assert load_prompt_set(saved).prompts == prompt_set.prompts
