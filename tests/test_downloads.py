"""Downloads from a hub (core/downloads/hub.py) against a fake hub on 127.0.0.1: a file
that arrives is checked against the hub's SHA-256 and found by the catalog with its
origin; a cut connection, Cancel and a restart resume; a damaged file, a missing one and
a gated repository each give one line that says what to do."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from fake_hub import GOOD_TOKEN, FakeHub, tiny_gguf
from workbench.core.catalog.cache import CatalogCache, FileKey
from workbench.core.catalog.catalog import Catalog
from workbench.core.downloads import hub
from workbench.core.downloads.hub import DownloadCancelled, DownloadProblem, Progress, partial_path, pull, target_path
from workbench.core.paths import config_dir, models_dir
from workbench.core.settings import Settings

REPO = "Qwen/Qwen2.5-0.5B-Instruct-GGUF"
FILE = "qwen2.5-0.5b-instruct-q4_k_m.gguf"


@pytest.fixture
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tiny_gguf(tmp_path_factory.mktemp("hub-files"))


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 8 KB, so a 160 KB file arrives in many pieces (the app reads 1 MiB)."""
    monkeypatch.setattr(hub, "CHUNK_BYTES", 8192)
    monkeypatch.setattr(hub, "RESERVE_BYTES", 0)


def test_a_download_is_verified_moved_into_the_models_folder_and_listed_with_its_origin(fake_hub: FakeHub, model_bytes: bytes) -> None:
    fake_hub.add(REPO, FILE, model_bytes)
    seen: list[Progress] = []

    done = pull(REPO, FILE, progress=seen.append)

    assert done.path == models_dir() / "Qwen" / "Qwen2.5-0.5B-Instruct-GGUF" / FILE
    assert done.path.read_bytes() == model_bytes and not done.already_there
    assert done.remote.sha256 == fake_hub.repos[REPO].files[FILE].sha256
    assert done.remote.commit == fake_hub.repos[REPO].commit
    assert not partial_path(REPO, FILE).exists() and not partial_path(REPO, FILE).with_suffix(".json").exists()
    assert seen[-1].stage == "verify" and seen[-1].done == seen[-1].total == len(model_bytes)
    assert any(p.stage == "download" and p.done == len(model_bytes) for p in seen)
    # The verified hash went to the catalog's cache, so the library needn't hash it again.
    cached = CatalogCache().get(FileKey.of(done.path))
    assert cached is not None and cached.sha256 == done.remote.sha256
    entry = next(e for e in Catalog(include_other_apps=False).scan() if e.path == done.path)
    assert entry.source == "workbench" and entry.origin.country == "CN" and entry.origin.maker == "Alibaba (Qwen team)"


def test_the_same_file_again_is_only_checked(fake_hub: FakeHub, model_bytes: bytes) -> None:
    fake_hub.add(REPO, FILE, model_bytes)
    pull(REPO, FILE)
    again = pull(REPO, FILE)
    assert again.already_there and len(fake_hub.gets()) == 1


def test_a_cut_connection_is_resumed_from_where_it_stopped(fake_hub: FakeHub, model_bytes: bytes, small_chunks: None) -> None:
    fake_hub.add(REPO, FILE, model_bytes, cuts=1, cut_at=50_000)

    done = pull(REPO, FILE)

    assert done.path.read_bytes() == model_bytes
    first, second = fake_hub.gets()
    assert first.range is None
    resumed = int(second.range.removeprefix("bytes=").rstrip("-")) if second.range else 0
    assert 0 < resumed <= 50_000  # only the rest was asked for


def test_cancel_keeps_what_arrived_and_the_next_attempt_resumes_it(fake_hub: FakeHub, model_bytes: bytes, small_chunks: None) -> None:
    """As after a restart: a new call finds the part on disk and asks for the rest."""
    fake_hub.add(REPO, FILE, model_bytes)
    cancel = threading.Event()

    with pytest.raises(DownloadCancelled, match="kept; download it again to resume"):
        pull(REPO, FILE, progress=lambda p: cancel.set(), cancel=cancel)
    kept = partial_path(REPO, FILE).stat().st_size
    assert 0 < kept < len(model_bytes) and not target_path(REPO, FILE).exists()

    done = pull(REPO, FILE)
    assert done.resumed_from == kept and done.path.read_bytes() == model_bytes
    assert fake_hub.gets()[-1].range == f"bytes={kept}-"


def test_a_part_of_an_older_version_of_the_file_is_not_resumed(fake_hub: FakeHub, model_bytes: bytes, small_chunks: None) -> None:
    fake_hub.add(REPO, FILE, model_bytes[::-1])  # the hub's file before it changed
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        pull(REPO, FILE, progress=lambda p: cancel.set(), cancel=cancel)
    fake_hub.add(REPO, FILE, model_bytes)

    done = pull(REPO, FILE)
    assert done.resumed_from == 0 and done.path.read_bytes() == model_bytes
    assert fake_hub.gets()[-1].range is None


def test_a_damaged_file_is_deleted_and_said_so(fake_hub: FakeHub, model_bytes: bytes) -> None:
    fake_hub.add(REPO, FILE, model_bytes, corrupt=True)

    with pytest.raises(DownloadProblem, match="arrived damaged: its SHA-256 is [0-9a-f]{64}, the hub says [0-9a-f]{64}. Deleted it"):
        pull(REPO, FILE)
    assert not partial_path(REPO, FILE).exists() and not target_path(REPO, FILE).exists()


def test_a_missing_file_or_repository_is_one_line_and_nothing_is_written(fake_hub: FakeHub, model_bytes: bytes) -> None:
    fake_hub.add(REPO, FILE, model_bytes)
    with pytest.raises(DownloadProblem, match=f"{REPO} has no file other.gguf: see {fake_hub.endpoint}/{REPO}/tree/main"):
        pull(REPO, "other.gguf")
    with pytest.raises(DownloadProblem, match=f"{fake_hub.endpoint} has no repository someone/missing-GGUF"):
        pull("someone/missing-GGUF", FILE)
    assert not (models_dir() / ".downloads").exists() or not any((models_dir() / ".downloads").iterdir())


def test_a_gated_repository_says_how_to_get_in_and_a_token_lets_it_through(
    fake_hub: FakeHub, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, file = "meta-llama/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf"
    fake_hub.add(repo, file, model_bytes, gated=True)
    with pytest.raises(DownloadProblem) as refused:
        pull(repo, file)
    assert str(refused.value) == (
        f"{repo} is gated: accept its licence at {fake_hub.endpoint}/{repo} while logged in there, then log in here with "
        "`hf auth login` or set HF_TOKEN to an access token, and try again"
    )
    monkeypatch.setenv("HF_TOKEN", GOOD_TOKEN)
    done = pull(repo, file)
    assert done.path.read_bytes() == model_bytes
    assert fake_hub.gets()[-1].token == GOOD_TOKEN


def test_the_token_goes_to_the_hub_but_not_to_the_cdn_it_redirects_to(fake_hub: FakeHub, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub.add(REPO, FILE, model_bytes, cdn=True)
    monkeypatch.setenv("HF_TOKEN", GOOD_TOKEN)

    done = pull(REPO, FILE)

    assert done.path.read_bytes() == model_bytes and done.remote.url.startswith("http://localhost:")
    asked = [(r.method, r.path.split("/")[1], r.token) for r in fake_hub.requests]
    assert ("HEAD", "Qwen", GOOD_TOKEN) in asked and ("GET", "cdn", None) in asked
    assert all(token is None for method, first, token in asked if first == "cdn")


def test_a_mirror_given_by_name_wins_over_hf_endpoint(fake_hub: FakeHub, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub.add(REPO, FILE, model_bytes)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    done = pull(REPO, FILE, mirror=fake_hub.endpoint + "/")
    assert done.remote.endpoint == fake_hub.endpoint


def test_a_saved_mirror_is_used_after_the_flag_and_hf_endpoint(fake_hub: FakeHub, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub.add(REPO, FILE, model_bytes)
    monkeypatch.delenv("HF_ENDPOINT")
    settings = Settings.load()
    hub.save_mirror(settings, fake_hub.endpoint + "/")
    assert json.loads((config_dir() / "settings.json").read_text(encoding="utf-8"))["hub_mirror"] == fake_hub.endpoint

    assert pull(REPO, FILE).remote.endpoint == fake_hub.endpoint
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example")
    assert hub.hub_endpoint() == "https://hf-mirror.example"
    assert hub.hub_endpoint("https://other.example") == "https://other.example"

    with pytest.raises(DownloadProblem, match="not an http"):
        hub.save_mirror(settings, "hf-mirror.com")
    hub.save_mirror(settings, "")
    monkeypatch.delenv("HF_ENDPOINT")
    assert hub.hub_endpoint() == hub.DEFAULT_ENDPOINT and "hub_mirror" not in Settings.load().others


def test_an_unreachable_hub_suggests_a_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(DownloadProblem, match=r"could not reach http://127.0.0.1:9 .*use a mirror \(--mirror URL or HF_ENDPOINT"):
        pull(REPO, FILE)


@pytest.mark.parametrize(
    ("mirror", "problem"),
    [("hf-mirror.com", r"is not an http\(s\) URL"), ("ftp://example.org", r"is not an http\(s\) URL")],
)
def test_a_mirror_that_is_not_a_url_is_refused(mirror: str, problem: str) -> None:
    with pytest.raises(DownloadProblem, match=problem):
        hub.hub_endpoint(mirror)


@pytest.mark.parametrize(
    ("repo", "file"),
    [("no-slash", FILE), ("a/b/c", FILE), ("../etc", FILE), (REPO, "../../x.gguf"), (REPO, "model.bin"), (REPO, ".hidden/x.gguf")],
)
def test_names_that_could_leave_the_models_folder_are_refused_before_any_request(repo: str, file: str, fake_hub: FakeHub) -> None:
    with pytest.raises(DownloadProblem):
        pull(repo, file)
    assert fake_hub.requests == []


def test_sizes_and_times_read_as_people_say_them() -> None:
    assert [hub.format_bytes(n) for n in (512, 1500, 2_019_377_696, 18_556_686_208)] == ["512 bytes", "1.5 KB", "2.0 GB", "18.6 GB"]
    assert [hub.format_seconds(s) for s in (12.4, 200, 7500)] == ["12 s", "3 min 20 s", "2 h 05 min"]


def test_the_free_space_check_counts_only_what_is_still_to_come(tmp_path: Path) -> None:
    remote = hub.RemoteFile(REPO, FILE, "http://hub", "c" * 40, "0" * 64, 10**15, "http://hub/x")
    with pytest.raises(DownloadProblem, match=r"not enough free space for .*: it needs 1000000.0 GB more"):
        hub._check_free_space(tmp_path, remote.size, remote)
    hub._check_free_space(tmp_path, 0, remote)  # a finished part needs no room
