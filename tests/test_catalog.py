"""Catalog scans: statuses for every kind of bad file, ids, resolve, cache, hashes."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from gguf_factory import (
    write_absurd_header,
    write_bytes,
    write_huge_key_length,
    write_tiny_model,
    write_truncated,
)

from workbench.core.catalog import gguf_header
from workbench.core.catalog.cache import CatalogCache, FileKey
from workbench.core.catalog.catalog import AmbiguousModel, Catalog, ModelNotFound
from workbench.core.catalog.overrides import OriginOverrides, override_key
from workbench.core.errors import ModelFileProblem

QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
SMOLLM_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


@pytest.fixture(autouse=True)
def home_folder(tmp_path):
    """Catalogs here look for other apps' folders in tmp_path/home (empty unless a test fills it)."""
    (tmp_path / "home").mkdir()


def make_catalog(tmp_path: Path, folders=(), extra_files=(), **kwargs) -> Catalog:
    return Catalog(folders=folders, extra_files=extra_files, home=tmp_path / "home", **kwargs)


def by_id(entries):
    return {e.id: e for e in entries}


# --- statuses -------------------------------------------------------------


def test_good_model(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    write_tiny_model(models / "Tiny-Chat.Q8_0.gguf", name="Tiny Chat", organization="HuggingFaceTB")
    [entry] = make_catalog(tmp_path, [models]).scan()
    assert entry.id == "tiny-chat.q8_0"
    assert entry.name == "Tiny Chat"
    assert entry.status == "ok" and entry.ok
    assert entry.source == "folder"
    assert entry.path == models / "Tiny-Chat.Q8_0.gguf"
    assert entry.files == (entry.path,)
    assert entry.metadata.architecture == "llama"
    assert (entry.origin.maker, entry.origin.country) == ("Hugging Face", "US")
    assert entry.sha256 is None
    assert entry in {entry}  # usable as a key by the views


def test_to_json(tmp_path):
    path = write_tiny_model(tmp_path / "tiny.gguf", name="Tiny", organization="Unlisted Lab")
    [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    data = entry.to_json()
    required = {
        "id", "name", "path", "origin_country", "organization", "architecture", "parameters",
        "quantization", "context_length", "chat_template", "sha256", "status",
    }  # fmt: skip
    assert required <= data.keys()
    assert data["id"] == "tiny"
    assert data["path"] == str(path)
    assert data["origin_country"] is None
    assert data["organization"] == "Unlisted Lab"  # maker unknown: falls back to general.organization
    assert data["chat_template"] is True
    assert data["quantization"] == "F32"
    assert data["context_length"] == 256
    assert data["sha256"] is None
    assert data["status"] == "ok"
    assert data["source"] == "file"
    assert data["origin_evidence"].startswith("nothing in origins.toml matches")


def test_broken_and_hostile_files_get_plain_statuses(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    good = write_tiny_model(tmp_path / "source.gguf")
    write_bytes(folder / "empty.gguf", b"")
    write_bytes(folder / "text.gguf", b"just some text, renamed\n")
    write_bytes(folder / "badmagic.gguf", b"GGML" + bytes(40))
    write_bytes(folder / "v99.gguf", b"GGUF" + (99).to_bytes(4, "little") + bytes(16))
    write_absurd_header(folder / "absurd.gguf")
    write_huge_key_length(folder / "hugekey.gguf")
    write_truncated(folder / "half.gguf", good, keep=0.5)
    write_truncated(folder / "early.gguf", good, keep=0.01)
    write_tiny_model(folder / "vocab.gguf", with_tensors=False)
    (folder / "dir.gguf").mkdir()

    entries = by_id(make_catalog(tmp_path, [folder]).scan())
    statuses = {key: e.status for key, e in entries.items()}
    assert statuses["empty"] == "empty file"
    assert statuses["text"] == "not a GGUF file (starts with 'just')"
    assert statuses["badmagic"] == "not a GGUF file (starts with 'GGML')"
    assert statuses["v99"] == "unsupported GGUF version 99"
    assert statuses["absurd"] == "header claims 2^62 tensors in a 24-byte file"
    assert statuses["hugekey"].startswith("a metadata key at byte 24 claims 2^60 bytes")
    assert statuses["half"].startswith("truncated: tensor ")
    assert "more than the file" in statuses["early"]
    assert statuses["vocab"] == "no weights (vocabulary-only file)"
    assert "dir" not in statuses  # a folder in a walked folder is a folder
    assert all(e.metadata is None for key, e in entries.items() if key != "vocab")
    assert entries["vocab"].metadata.tensor_count == 0


def test_explicit_folder_and_missing_file(tmp_path):
    (tmp_path / "x.gguf").mkdir()
    entries = make_catalog(
        tmp_path, extra_files=[(tmp_path / "x.gguf", "file"), (tmp_path / "gone.gguf", "starter")]
    ).scan()
    assert {e.id: e.status for e in entries} == {
        "x": "is a folder, not a GGUF file",
        "gone": "file not found",
    }


@pytest.mark.skipif(
    os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads chmod 000 files"
)
def test_unreadable_file(tmp_path):
    path = write_tiny_model(tmp_path / "locked.gguf")
    path.chmod(0)
    try:
        [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    finally:
        path.chmod(0o644)
    assert entry.status == "can't read: permission denied"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "can't read: permission denied"),
        (OSError(errno.EIO, "Input/output error"), "can't read: Input/output error"),
    ],
)
def test_os_errors_while_reading_become_statuses(tmp_path, monkeypatch, error, status):
    path = write_tiny_model(tmp_path / "m.gguf")

    def failing_read(_path):
        raise error

    monkeypatch.setattr(gguf_header, "read_header", failing_read)
    [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert entry.status == status


def test_os_errors_are_not_cached(tmp_path, monkeypatch):
    """Permission can be granted later: the next scan must read the file again."""
    path = write_tiny_model(tmp_path / "m.gguf")
    real = gguf_header.read_header
    failures = [PermissionError(errno.EACCES, "Permission denied")]

    def fails_once(p):
        if failures:
            raise failures.pop()
        return real(p)

    monkeypatch.setattr(gguf_header, "read_header", fails_once)
    [first] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    [second] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert (first.status, second.status) == ("can't read: permission denied", "ok")


# --- order, ids, dedupe ---------------------------------------------------


def test_sorted_ok_first_then_country_then_name(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    write_tiny_model(folder / "a.gguf", name="Zeta", organization="Qwen")  # CN
    write_tiny_model(folder / "b.gguf", name="Alpha", organization="google")  # US
    write_tiny_model(folder / "c.gguf", name="Beta", organization="Qwen")  # CN
    write_tiny_model(folder / "d.gguf", name="Mystery")  # unknown
    write_bytes(folder / "e.gguf", b"")  # broken
    names = [e.name for e in make_catalog(tmp_path, [folder]).scan()]
    assert names == ["Beta", "Zeta", "Alpha", "Mystery", "e"]


def test_ids_are_stable_and_unique(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    write_tiny_model(one / "Model.Q4_K_M.gguf")
    write_tiny_model(two / "model.q4_k_m.gguf", seed=1)
    write_tiny_model(one / "Weird Name (copy) #2.gguf")
    catalog = make_catalog(tmp_path, [one, two])
    first = [(e.id, e.path) for e in catalog.scan()]
    second = [(e.id, e.path) for e in catalog.scan()]
    assert first == second
    ids = {path: id_ for id_, path in first}
    suffix = hashlib.sha256(str((two / "model.q4_k_m.gguf").resolve()).encode()).hexdigest()[:6]
    assert ids[one / "Model.Q4_K_M.gguf"] == "model.q4_k_m"
    assert ids[two / "model.q4_k_m.gguf"] == f"model.q4_k_m-{suffix}"
    assert ids[one / "Weird Name (copy) #2.gguf"] == "weird-name-copy-2"


def test_same_file_found_twice_is_listed_once_under_the_first_source(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    path = write_tiny_model(folder / "tiny.gguf")
    (folder / "link.gguf").symlink_to(path)
    entries = make_catalog(tmp_path, [folder], extra_files=[(path, "starter")]).scan()
    assert [(e.id, e.source) for e in entries] == [("link", "folder")]


def test_workbench_models_folder_is_scanned(tmp_path):
    own = tmp_path / "data" / "models"
    own.mkdir(parents=True)
    write_tiny_model(own / "dropped.gguf")
    assert [(e.id, e.source) for e in make_catalog(tmp_path).scan()] == [("dropped", "workbench")]


def test_missing_user_folder_is_reported(tmp_path):
    catalog = make_catalog(tmp_path, [tmp_path / "nowhere"])
    assert catalog.scan() == []
    assert catalog.problems == (f"folder not found: {tmp_path / 'nowhere'}",)


# --- resolve --------------------------------------------------------------


@pytest.fixture
def two_models(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    write_tiny_model(folder / "qwen-tiny-chat.gguf", name="Qwen Tiny Chat")
    write_tiny_model(folder / "smol-tiny-chat.gguf", name="SmolLM Tiny Chat")
    return make_catalog(tmp_path, [folder])


def test_resolve_by_id_path_and_substring(tmp_path, two_models):
    assert two_models.resolve("qwen-tiny-chat").id == "qwen-tiny-chat"
    assert two_models.resolve("SmolLM Tiny Chat").id == "smol-tiny-chat"
    assert two_models.resolve("QWEN").id == "qwen-tiny-chat"
    assert two_models.resolve(str(tmp_path / "m" / "smol-tiny-chat.gguf")).id == "smol-tiny-chat"
    (tmp_path / "elsewhere").mkdir()
    outside = write_tiny_model(tmp_path / "elsewhere" / "other.gguf")
    entry = two_models.resolve(outside)
    assert (entry.id, entry.source, entry.status) == ("other", "file", "ok")


def test_resolve_ambiguous_and_unknown(two_models):
    with pytest.raises(AmbiguousModel) as caught:
        two_models.resolve("tiny")
    assert str(caught.value) == "'tiny' matches 2 models: qwen-tiny-chat, smol-tiny-chat. Use a full id."
    assert isinstance(caught.value, ModelFileProblem)
    with pytest.raises(
        ModelNotFound, match=r"No model matches 'qwen-tiny-chta'\. Did you mean: qwen-tiny-chat"
    ):
        two_models.resolve("qwen-tiny-chta")
    with pytest.raises(ModelNotFound, match="No such file"):
        two_models.resolve("/no/such/model.gguf")


# --- cache and hashes -----------------------------------------------------


def counting_reader(monkeypatch) -> list[Path]:
    calls: list[Path] = []
    real = gguf_header.read_header

    def read(path):
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(gguf_header, "read_header", read)
    return calls


def test_second_scan_reads_no_headers(tmp_path, monkeypatch):
    folder = tmp_path / "m"
    folder.mkdir()
    write_tiny_model(folder / "a.gguf")
    write_bytes(folder / "broken.gguf", b"nope")
    calls = counting_reader(monkeypatch)
    first = make_catalog(tmp_path, [folder]).scan()
    assert len(calls) == 2
    second = make_catalog(tmp_path, [folder]).scan()  # a new Catalog, the same cache file
    assert len(calls) == 2
    assert [(e.id, e.status, e.metadata) for e in first] == [(e.id, e.status, e.metadata) for e in second]


def test_changed_file_is_read_again(tmp_path, monkeypatch):
    path = write_tiny_model(tmp_path / "m.gguf", name="Before")
    calls = counting_reader(monkeypatch)
    make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    write_tiny_model(path, name="After, longer")
    [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert len(calls) == 2
    assert entry.name == "After, longer"


def test_sha256_is_computed_once(tmp_path, monkeypatch):
    path = write_tiny_model(tmp_path / "m.gguf")
    calls = []
    real_digest = hashlib.file_digest

    def digest(f, name):
        calls.append(name)
        return real_digest(f, name)

    monkeypatch.setattr(hashlib, "file_digest", digest)
    catalog = make_catalog(tmp_path, extra_files=[(path, "file")])
    [entry] = catalog.scan()
    hashed = catalog.ensure_sha256(entry)
    assert hashed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert catalog.ensure_sha256(hashed) is hashed
    [rescanned] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert rescanned.sha256 == hashed.sha256
    assert calls == ["sha256"]
    assert catalog.resolve("m").sha256 == hashed.sha256  # the catalog's list was updated


def test_seeded_sha256_is_used(tmp_path, monkeypatch):
    path = write_tiny_model(tmp_path / "m.gguf")
    CatalogCache().remember_sha256(path, "AB" * 32)
    monkeypatch.setattr(hashlib, "file_digest", None)  # must not be called
    [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert entry.sha256 == "ab" * 32
    with pytest.raises(ValueError):
        CatalogCache().remember_sha256(path, "not-a-hash")


def test_ensure_sha256_of_a_missing_file(tmp_path):
    [entry] = make_catalog(tmp_path, extra_files=[(tmp_path / "gone.gguf", "file")]).scan()
    with pytest.raises(ModelFileProblem, match="Can't read"):
        make_catalog(tmp_path).ensure_sha256(entry)


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    path = write_tiny_model(tmp_path / "m.gguf")
    cache_file = tmp_path / "cache" / "catalog.sqlite"
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"this is not a database" * 100)
    [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert entry.status == "ok"
    assert cache_file.read_bytes().startswith(b"SQLite format 3")
    calls = counting_reader(monkeypatch)
    make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert calls == []


def test_unusable_cache_location_does_not_stop_a_scan(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "catalog.sqlite").mkdir()  # a folder where the database should be
    path = write_tiny_model(tmp_path / "m.gguf")
    [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert entry.status == "ok"


def test_cache_drops_rows_of_an_older_schema(tmp_path):
    cache = CatalogCache(tmp_path / "c.sqlite")
    path = write_tiny_model(tmp_path / "m.gguf")
    cache.remember_sha256(path, "cd" * 32)
    cache.close()
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        db.execute("PRAGMA user_version = 0")
    assert CatalogCache(tmp_path / "c.sqlite").get(FileKey.of(path)) is None


# --- overrides in a scan --------------------------------------------------


def test_override_by_path_then_by_hash(tmp_path):
    path = write_tiny_model(tmp_path / "hermes.gguf", name="Hermes")
    OriginOverrides().set(override_key(None, path), "Nous Research", "US")
    catalog = make_catalog(tmp_path, extra_files=[(path, "file")])
    [entry] = catalog.scan()
    assert (entry.origin.maker, entry.origin.country, entry.origin.source) == (
        "Nous Research",
        "US",
        "override",
    )

    hashed = catalog.ensure_sha256(entry)
    OriginOverrides().set(override_key(hashed.sha256, path), "Someone Else", "FR")
    [entry] = make_catalog(tmp_path, extra_files=[(path, "file")]).scan()
    assert (entry.origin.maker, entry.origin.country) == ("Someone Else", "FR")


# --- the real starter files -----------------------------------------------


@pytest.mark.starter
def test_starter_pair(tmp_path, starter_paths):
    smollm, qwen = starter_paths
    catalog = make_catalog(tmp_path, extra_files=[(smollm, "starter"), (qwen, "starter")])
    assert [(e.id, e.origin.country, e.origin.maker, e.source, e.status) for e in catalog.scan()] == [
        ("qwen2.5-coder-0.5b-instruct-q4_k_m", "CN", "Alibaba (Qwen team)", "starter", "ok"),
        ("smollm2-135m-instruct.q4_1", "US", "Hugging Face", "starter", "ok"),
    ]
    CatalogCache().remember_sha256(qwen, QWEN_SHA256)
    assert make_catalog(tmp_path, extra_files=[(qwen, "starter")]).resolve("qwen").sha256 == QWEN_SHA256


@pytest.mark.starter
def test_starter_hash(tmp_path, starter_paths):
    copy = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    shutil.copyfile(starter_paths[0], copy)
    catalog = make_catalog(tmp_path, extra_files=[(copy, "starter")])
    assert catalog.ensure_sha256(catalog.resolve("smollm2")).sha256 == SMOLLM_SHA256


def test_locked_cache_is_skipped_quickly(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    for n in range(5):
        write_tiny_model(folder / f"m{n}.gguf", seed=n)
    make_catalog(tmp_path, [folder]).scan()  # creates the cache file
    holder = sqlite3.connect(tmp_path / "cache" / "catalog.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic()
        entries = make_catalog(tmp_path, [folder]).scan()
        elapsed = time.monotonic() - start
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [e.status for e in entries] == ["ok"] * 5
    assert elapsed < 4, f"a locked cache slowed the scan to {elapsed:.1f} s"
