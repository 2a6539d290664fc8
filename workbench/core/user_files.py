"""Files the user names: inputs opened so they can't hang, outputs written all or nothing.

A path typed on the command line or picked in a dialog can be anything: a
FIFO nobody writes (reading it blocks forever), /dev/zero (it never ends), a
device, a socket, a folder, or a symbolic link someone planted in a shared
folder. Every user-named file is read and written through here, so one rule
holds for the command line and the window alike.

Inputs (`open_input`) must be regular files. The path is checked first, then
opened with O_NONBLOCK (so even a path swapped for a FIFO after the check
can't block the open) and what was opened is checked again with fstat. What
is refused raises an OSError whose `strerror` says what the path is, so the
callers' existing "Can't read …: {strerror}" messages and the catalog's file
statuses need nothing new.

Outputs (`save`) are written to a temporary file in the destination's folder,
flushed to the disk, and moved over the destination only when complete: a
full disk or a read-only folder leaves any earlier file as it was, and no
temporary file behind. Before anything is written, a destination that exists
and is not a regular file is refused, because replacing it would destroy it (a
FIFO, a socket, a device: as root, `export -o /dev/full` turned the device
into a file). A symbolic link is refused too, naming its target: replacing the
link would leave the file it points to stale, and writing through it would
follow a link someone else may have planted; giving the target's path says
which file is meant. A missing folder is not created, since it is more likely
a typing mistake than a wish.
"""

from __future__ import annotations

import errno
import io
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import EnvironmentProblem

# Not on Windows, where no FIFO can block an open; 0 leaves the flags as they are.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class NotAFile(OSError):
    """The path is a FIFO, a device or a socket; `strerror` says which."""


def what_it_is(mode: int) -> str | None:
    """What a file of this mode is, for a message ("a named pipe (FIFO)"); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refusal(path: Path, mode: int) -> OSError:
    kind = what_it_is(mode)
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, "it is a folder, not a file", str(path))
    return NotAFile(errno.EINVAL, f"it is {kind}, not a regular file", str(path))


def link_target(path: Path) -> Path:
    """Where the symbolic link at `path` points, as a path from here."""
    return Path(os.path.normpath(path.parent / os.readlink(path)))


def check_input(path: Path | str) -> os.stat_result:
    """The status of the regular file at `path` (symbolic links followed), or an
    OSError saying why it is not one (see the module docstring)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(errno.ENOENT, f"it is a symbolic link to {link_target(path)}, which does not exist", str(path)) from None
        raise
    if not stat.S_ISREG(st.st_mode):
        raise _refusal(path, st.st_mode)
    return st


def open_input(path: Path | str) -> io.BufferedReader:
    """The regular file at `path`, open for reading in binary; never blocks.

    Raises OSError (NotAFile, IsADirectoryError, FileNotFoundError, …) with a
    `strerror` a user can read, before reading a byte of anything else."""
    path = Path(path)
    check_input(path)
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY | _BINARY)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped since the check
            raise _refusal(path, st.st_mode)
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_output(path: Path | str) -> None:
    """EnvironmentProblem, before anything is written, if `save(path, …)` can't
    write there: the destination is not a regular file or a symbolic link, or
    its folder is missing or not a folder."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise EnvironmentProblem(f"Can't write {path}: {exc.strerror or exc}. Choose another place; nothing was written.") from exc
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise EnvironmentProblem(
            f"Won't write {path}: it is a symbolic link to {link_target(path)}. "
            "To replace that file, give its own path; nothing was written."
        )
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise EnvironmentProblem(f"Won't write {path}: it is a folder. Give a file name (inside it, if you like); nothing was written.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise EnvironmentProblem(
            f"Won't write {path}: it is {what_it_is(st.st_mode)}, not a regular file. "
            "Give the name of a file to write; nothing was written."
        )
    folder = path.parent
    if not folder.is_dir():
        problem = "does not exist" if not folder.exists() else "is not a folder"
        raise EnvironmentProblem(f"Can't write {path}: the folder {folder} {problem}. Create it or choose another place; nothing was written.")


def save(path: Path | str, content: bytes | str | Iterable[str]) -> None:
    """Write `content` (bytes, or text as UTF-8, which may come in pieces) to
    `path`, all or nothing; EnvironmentProblem with one line if it can't."""
    path = Path(path)
    check_output(path)
    temporary = path.parent / f".{path.name[:100]}.{secrets.token_hex(4)}.part"
    try:
        # The mode (before the umask) a new file gets from any program, unlike mkstemp's 0600.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
    except OSError as exc:
        raise EnvironmentProblem(f"Can't write in the folder {path.parent}: {exc.strerror or exc}. {_advice(exc)}") from exc
    try:
        with open(fd, "wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                for piece in (content,) if isinstance(content, str) else content:
                    out.write(piece.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        _keep_mode(path, temporary)
        check_output(path)  # again: the destination may have changed while we wrote
        os.replace(temporary, path)
    except OSError as exc:
        kept = " The file that was there is unchanged." if path.exists() else ""
        raise EnvironmentProblem(f"Can't write {path}: {exc.strerror or exc}. {_advice(exc)}{kept}") from exc
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    _sync_folder(path.parent)


def _keep_mode(path: Path, temporary: Path) -> None:
    """A file that is replaced keeps its permissions (a shared report stays shared)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    os.chmod(temporary, mode)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; not possible (nor needed) everywhere."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _advice(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "Free some space on that disk or choose another place."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "Choose a folder you can write in."
    return "Check the disk and the folder's permissions."
