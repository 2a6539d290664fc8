"""Download one GGUF from the Hugging Face hub (or a mirror) into the models folder.

Users of other local-model apps lose whole downloads to a dropped connection, get
checksum failures after a resume, and cannot reach the hub from China. So:

- **Resume.** The bytes go to `models/.downloads/<repo>--<file>.part` (a hidden folder
  the catalog never scans), kept on a cut connection, a full disk, Cancel, Ctrl+C or a
  crash; the next attempt asks the hub for the rest with a Range request. A `.json`
  beside it names the SHA-256 the part belongs to, so a file changed on the hub since
  starts afresh instead of being spliced. huggingface_hub's `hf_hub_download` can't be
  used for this: since 2.x it downloads to a temporary name unique to each call and
  deletes it on failure (its resume only covers retries within one call). Its
  `http_get` does the transfer (Range, the retries within a call on a cut connection,
  the hub's errors as exceptions) into the file handed to it.
- **Checked.** The hub's metadata gives the file's size and SHA-256 (the LFS object id,
  from `paths-info` at the commit the file resolves to). Free space is checked against
  the size before the first byte; the whole file's SHA-256 is checked against the hub's
  before it is renamed into `models/OWNER/REPO/FILE`, where the catalog finds it.
  A mismatch deletes the part and says so.
- **Mirror.** `endpoint` is an explicit argument (`hub_endpoint`: the caller's mirror,
  else HF_ENDPOINT, else huggingface.co), so a mirror set after huggingface_hub was
  imported still counts.
- **Gated repositories** and the rest of the hub's refusals become one line that says
  what to do (DownloadProblem).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import HfApi, constants as hub_constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.file_download import http_get
from huggingface_hub.hf_api import RepoFile
# Its documented import path; the package's lazy __init__ does not list it for mypy.
from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

from ..catalog.cache import CatalogCache
from ..errors import EnvironmentProblem
from ..paths import models_dir
from ..settings import Settings

DEFAULT_ENDPOINT = "https://huggingface.co"
MIRROR_SETTING = "hub_mirror"  # settings.json: the mirror typed into Get models… (README)
PARTIAL_FOLDER = ".downloads"
# Read as the hub streams; huggingface_hub's own 10 MiB would leave progress and Cancel
# silent for ten seconds on a 1 MB/s line. Set on its constants for the call (http_get
# reads it there); the app is that module's only user.
CHUNK_BYTES = 1 << 20
HASH_BLOCK = 4 << 20
# Left free after a download, so the notebook can still be saved.
RESERVE_BYTES = 64 << 20
REPORT_EVERY_S = 0.25
SPEED_WINDOW_S = 5.0
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")

Stage = Literal["download", "verify"]


class DownloadProblem(EnvironmentProblem):
    """A download could not finish; `str()` says why and what to do."""


class DownloadCancelled(DownloadProblem):
    """Cancel (or Ctrl+C): what was downloaded is kept for the next attempt."""


@dataclass(frozen=True)
class RemoteFile:
    """One file on the hub, as its metadata describes it at one commit."""

    repo: str
    file: str
    endpoint: str
    commit: str
    sha256: str
    size: int
    url: str  # where the bytes are fetched (the hub's redirect, when it gives one)

    @property
    def page(self) -> str:
        return f"{self.endpoint}/{self.repo}"


@dataclass(frozen=True)
class Progress:
    """What a progress bar shows. `bytes_per_s` and `seconds_left` are None until a
    second of transfer has been seen (and during verification, which has no rate)."""

    stage: Stage
    done: int
    total: int
    bytes_per_s: float | None = None
    seconds_left: float | None = None
    resumed_from: int = 0


@dataclass(frozen=True)
class Downloaded:
    path: Path
    remote: RemoteFile
    resumed_from: int  # bytes that were already there from an earlier attempt
    already_there: bool  # the verified file was in the models folder before this call


ProgressCallback = Callable[[Progress], None]


def hub_endpoint(mirror: str | None = None) -> str:
    """The hub to use (no trailing /): `mirror`, else HF_ENDPOINT, else the mirror saved in
    the settings (Get models…), else huggingface.co."""
    saved = Settings.load().others.get(MIRROR_SETTING)
    return check_endpoint(mirror or os.environ.get("HF_ENDPOINT") or (saved if isinstance(saved, str) else "") or DEFAULT_ENDPOINT)


def check_endpoint(value: str) -> str:
    """`value` as a hub address without its trailing /; DownloadProblem if it is no http(s) URL."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DownloadProblem(f"the hub address {value!r} is not an http(s) URL: give one such as https://hf-mirror.com")
    return value


def save_mirror(settings: Settings, mirror: str) -> None:
    """Keep `mirror` as settings.json's "hub_mirror" ("" forgets it), for the next start and
    `workbench pull` (after --mirror and HF_ENDPOINT). Touches the disk: not on the GUI thread."""
    if mirror:
        settings.others[MIRROR_SETTING] = check_endpoint(mirror)
    else:
        settings.others.pop(MIRROR_SETTING, None)
    settings.save()


def check_request(repo: str, file: str) -> None:
    """Refuse a repository or file name that is not one, before any request."""
    if not _REPO.fullmatch(repo) or ".." in repo:
        raise DownloadProblem(f"{repo!r} is not a repository name: give it as OWNER/NAME, e.g. Qwen/Qwen3-4B-GGUF")
    parts = file.split("/")
    if not file.lower().endswith(".gguf") or any(p in ("", ".", "..") or p.startswith(".") for p in parts) or "\\" in file:
        raise DownloadProblem(f"{file!r} is not a GGUF file name inside a repository: give its path there, ending in .gguf")


def target_path(repo: str, file: str, folder: Path | None = None) -> Path:
    """Where a finished download lives: models/OWNER/REPO/FILE, so its origin shows in its path."""
    check_request(repo, file)
    owner, name = repo.split("/")
    return (folder if folder is not None else models_dir()) / owner / name / Path(*file.split("/"))


def partial_path(repo: str, file: str, folder: Path | None = None) -> Path:
    """Where the bytes of an unfinished download wait (hidden from the catalog)."""
    check_request(repo, file)
    slug = f"{repo}--{file}".replace("/", "--")
    return (folder if folder is not None else models_dir()) / PARTIAL_FOLDER / f"{slug}.part"


def partial_bytes(repo: str, file: str, folder: Path | None = None) -> int:
    """How much of this file an earlier attempt left (0 when none), for "resume" labels."""
    try:
        return partial_path(repo, file, folder).stat().st_size
    except OSError:
        return 0


# --- the hub's metadata ----------------------------------------------------------


def locate(repo: str, file: str, *, endpoint: str, token: str | bool | None = None) -> RemoteFile:
    """The file's commit, size and SHA-256 from the hub (a HEAD on resolve/main, then
    paths-info at that commit). `token` None: HF_TOKEN or the one `hf auth login` saved."""
    check_request(repo, file)
    with hub_errors(repo, file, endpoint):
        url = hf_hub_url(repo, file, revision="main", endpoint=endpoint)
        head = get_hf_file_metadata(url, token=token, endpoint=endpoint)
        if not head.commit_hash:
            raise DownloadProblem(f"{endpoint} did not answer as a Hugging Face hub (no commit for {repo}): check the mirror address")
        infos = HfApi(endpoint=endpoint, token=token).get_paths_info(repo, [file], revision=head.commit_hash)
    info = next((i for i in infos if isinstance(i, RepoFile) and i.path == file), None)
    if info is None:
        raise DownloadProblem(f"{repo} has no file {file} at its latest commit: see {endpoint}/{repo}/tree/main for its files")
    if info.lfs is None or not _SHA256.fullmatch(info.lfs.sha256.lower()):
        raise DownloadProblem(f"the hub gives no SHA-256 for {repo}/{file} (not an LFS file), so it can't be checked: not downloaded")
    return RemoteFile(repo, file, endpoint, head.commit_hash, info.lfs.sha256.lower(), int(info.lfs.size), head.location or url)


@contextlib.contextmanager
def hub_errors(repo: str, file: str, endpoint: str) -> Iterator[None]:
    """The hub's and the network's failures as one line each (DownloadProblem)."""
    try:
        yield
    except GatedRepoError as exc:
        raise DownloadProblem(
            f"{repo} is gated: accept its licence at {endpoint}/{repo} while logged in there, then log in here with "
            "`hf auth login` or set HF_TOKEN to an access token, and try again"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise DownloadProblem(
            f"{endpoint} has no repository {repo} (or it is private: log in with `hf auth login` or set HF_TOKEN); check the name"
        ) from exc
    except RevisionNotFoundError as exc:
        raise DownloadProblem(f"{repo} has no branch main on {endpoint}") from exc
    except EntryNotFoundError as exc:
        raise DownloadProblem(f"{repo} has no file {file}: see {endpoint}/{repo}/tree/main for its files") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "an error"
        raise DownloadProblem(f"{endpoint} answered HTTP {status} for {repo}/{file}: try again later, or another mirror") from exc
    except httpx2.HTTPError as exc:
        raise DownloadProblem(
            f"could not reach {endpoint} ({type(exc).__name__}: {exc}): check the connection, or use a mirror "
            "(--mirror URL or HF_ENDPOINT, e.g. https://hf-mirror.com); what was downloaded is kept for a retry"
        ) from exc


# --- the download ----------------------------------------------------------------


def download(
    remote: RemoteFile,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    folder: Path | None = None,
    token: str | bool | None = None,
    cache: CatalogCache | None = None,
) -> Downloaded:
    """Fetch `remote` (resuming what an earlier attempt left), check its SHA-256 and move it
    into the models folder (`folder`, for tests). Raises DownloadProblem, DownloadCancelled
    when `cancel` is set; either way the bytes fetched stay for the next attempt, except
    after a SHA-256 mismatch. The verified hash is handed to the catalog's cache, so the
    library lists the file without hashing it again."""
    report = progress or (lambda _: None)
    destination = target_path(remote.repo, remote.file, folder)
    if destination.exists() and _sha256(destination, remote.size, report, cancel) == remote.sha256:
        return Downloaded(destination, remote, 0, already_there=True)
    part = partial_path(remote.repo, remote.file, folder)
    resumed_from = _prepare_part(part, remote)
    _check_free_space(part.parent, remote.size - resumed_from, remote)
    headers = build_hf_headers(token=token if _same_host(remote.url, remote.endpoint) else False)
    meter = _meter_class(report, cancel, remote.size, resumed_from)
    hub_constants.DOWNLOAD_CHUNK_SIZE = CHUNK_BYTES
    try:
        with hub_errors(remote.repo, remote.file, remote.endpoint), _disk_errors(part, remote), open(part, "ab") as out:
            http_get(remote.url, out, resume_size=out.tell(), headers=headers, expected_size=remote.size, displayed_filename=remote.file, tqdm_class=meter)
    except OSError as exc:  # huggingface_hub's size check: the hub sent more or less than it said
        raise DownloadProblem(f"{remote.repo}/{remote.file}: {str(exc).splitlines()[0]} Run again to resume.") from exc
    sha256 = _sha256(part, remote.size, report, cancel)
    if sha256 != remote.sha256:
        part.unlink(missing_ok=True)
        _meta_path(part).unlink(missing_ok=True)
        raise DownloadProblem(
            f"{remote.repo}/{remote.file} arrived damaged: its SHA-256 is {sha256}, the hub says {remote.sha256}. "
            "Deleted it; run again to download it afresh (if it happens again, the mirror serves another file)"
        )
    with _disk_errors(part, remote):
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, destination)
    _meta_path(part).unlink(missing_ok=True)
    own_cache = cache is None
    cache = cache if cache is not None else CatalogCache()
    try:
        with contextlib.suppress(OSError):  # the cache is only a shortcut (catalog/cache.py)
            cache.remember_sha256(destination, sha256)
    finally:
        if own_cache:
            cache.close()
    return Downloaded(destination, remote, resumed_from, already_there=False)


def _meta_path(part: Path) -> Path:
    return part.with_suffix(".json")


def _prepare_part(part: Path, remote: RemoteFile) -> int:
    """Bytes to resume from: the part left for this very content (same SHA-256, not
    longer than the file), else none, the stale part removed."""
    meta = _meta_path(part)
    with _disk_errors(part, remote):
        part.parent.mkdir(parents=True, exist_ok=True)
        try:
            saved = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = None
        size = part.stat().st_size if part.exists() else 0
        if not isinstance(saved, dict) or saved.get("sha256") != remote.sha256 or size > remote.size:
            part.unlink(missing_ok=True)
            size = 0
        fields = {"repo": remote.repo, "file": remote.file, "sha256": remote.sha256, "size": remote.size, "commit": remote.commit, "endpoint": remote.endpoint}
        meta.write_text(json.dumps(fields, indent=2), encoding="utf-8")
    return size


def _check_free_space(folder: Path, needed: int, remote: RemoteFile) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed + RESERVE_BYTES:
        raise DownloadProblem(
            f"not enough free space for {remote.file}: it needs {format_bytes(needed)} more (and {format_bytes(RESERVE_BYTES)} "
            f"to spare), {folder} has {format_bytes(free)} free. Free some space (or move the data folder with WORKBENCH_DATA_DIR) and try again"
        )


@contextlib.contextmanager
def _disk_errors(part: Path, remote: RemoteFile) -> Iterator[None]:
    """The disk's refusals (full, read-only, no permission) as one line; the part stays."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, HfHubHTTPError) or exc.errno is None:
            raise
        kept = f" {format_bytes(part.stat().st_size)} of {format_bytes(remote.size)} kept for the next attempt." if part.exists() else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DownloadProblem(f"the disk filled up while downloading {remote.file} into {part.parent}:{kept} Free some space and run again to resume") from exc
        raise DownloadProblem(f"can't write {part.parent}: {exc.strerror}.{kept}") from exc


def _same_host(url: str, endpoint: str) -> bool:
    """A token goes only to the hub it is for, never to the CDN a hub redirects to."""
    return urlsplit(url).netloc == urlsplit(endpoint).netloc


def _sha256(path: Path, total: int, report: ProgressCallback, cancel: threading.Event | None) -> str:
    digest = hashlib.sha256()
    done, last = 0, 0.0
    with open(path, "rb") as f:
        while block := f.read(HASH_BLOCK):
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled(f"cancelled while checking {path.name}; the file is kept and checked again next time")
            digest.update(block)
            done += len(block)
            if done < total and (now := time.monotonic()) - last >= REPORT_EVERY_S:
                last = now
                report(Progress("verify", done, total))
    report(Progress("verify", done, total))
    return digest.hexdigest()


def _meter_class(report: ProgressCallback, cancel: threading.Event | None, total: int, resumed_from: int) -> type[Any]:
    """A stand-in for tqdm that http_get drives (its `tqdm_class`: "inherit from tqdm or
    mimic its behaviour"): each chunk, before it is written, updates speed and time left and
    checks Cancel, which stops the transfer by raising out of http_get."""

    class Meter:
        def __init__(self, *args: Any, initial: int = 0, **kwargs: Any) -> None:
            self.done = initial
            self.samples: deque[tuple[float, int]] = deque([(time.monotonic(), initial)])
            self.last_report = 0.0

        def update(self, n: int) -> None:
            if cancel is not None and cancel.is_set():
                kept = format_bytes(self.done)
                raise DownloadCancelled(f"cancelled: {kept} of {format_bytes(total)} kept; download it again to resume")
            self.done += n
            now = time.monotonic()
            self.samples.append((now, self.done))
            while len(self.samples) > 2 and now - self.samples[1][0] >= SPEED_WINDOW_S:
                self.samples.popleft()
            if now - self.last_report >= REPORT_EVERY_S or self.done >= total:
                self.last_report = now
                report(self.progress(now))

        def progress(self, now: float) -> Progress:
            first_time, first_done = self.samples[0]
            elapsed = now - first_time
            if elapsed < 1.0 or self.done <= first_done:
                return Progress("download", self.done, total, resumed_from=resumed_from)
            speed = (self.done - first_done) / elapsed
            return Progress("download", self.done, total, speed, max(total - self.done, 0) / speed, resumed_from)

        def __enter__(self) -> Meter:
            return self

        def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
            return None

    return Meter


def format_bytes(count: float) -> str:
    """1.9 GB, 512.0 KB: sizes as people read them (decimal units, as the hub shows them)."""
    if abs(count) < 1000:
        return f"{count:.0f} bytes"
    for unit in ("KB", "MB"):
        count /= 1000
        if abs(count) < 1000:
            return f"{count:.1f} {unit}"
    return f"{count / 1000:.1f} GB"


def format_seconds(seconds: float) -> str:
    """'2 h 05 min', '3 min 20 s', '12 s'."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def pull(
    repo: str,
    file: str,
    *,
    mirror: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    folder: Path | None = None,
) -> Downloaded:
    """Locate and download one file: what `workbench pull` and Get models… both run."""
    endpoint = hub_endpoint(mirror)
    return download(locate(repo, file, endpoint=endpoint), progress=progress, cancel=cancel, folder=folder)
