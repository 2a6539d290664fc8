"""Finding models: split files, walking safely, and other apps' folders."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from gguf_factory import write_tiny_model, write_truncated

from workbench.core.catalog.catalog import Catalog
from workbench.core.catalog.discovery import (
    gpt4all_folders,
    ollama_folders,
    split_stem,
    walk_gguf,
)




@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def scan(home: Path, folders=(), extra_files=()):
    return Catalog(folders=folders, extra_files=extra_files, home=home).scan()


# --- split models ---------------------------------------------------------


def test_split_stem():
    assert split_stem("Big-Model-Q4_K_M-00002-of-00003.gguf") == ("Big-Model-Q4_K_M", 2, 3)
    assert split_stem("model.gguf") is None


def test_split_model_is_one_entry(tmp_path, home):
    folder = tmp_path / "m"
    folder.mkdir()
    for n in (1, 2, 3):
        write_tiny_model(folder / f"Big-Model-0000{n}-of-00003.gguf", name="Big Model", seed=n)
    [entry] = scan(home, [folder])
    assert entry.id == "big-model"
    assert entry.name == "Big Model"
    assert entry.status == "ok"
    assert entry.path == folder / "Big-Model-00001-of-00003.gguf"
    assert [f.name for f in entry.files] == [f"Big-Model-0000{n}-of-00003.gguf" for n in (1, 2, 3)]
    single = (folder / "Big-Model-00001-of-00003.gguf").stat().st_size
    assert entry.metadata.file_size == 3 * single
    assert entry.metadata.tensor_count == 63


def test_missing_shard(tmp_path, home):
    folder = tmp_path / "m"
    folder.mkdir()
    write_tiny_model(folder / "X-00001-of-00003.gguf")
    write_tiny_model(folder / "X-00003-of-00003.gguf")
    [entry] = scan(home, [folder])
    assert entry.status == "missing shard 2 of 3 (X-00002-of-00003.gguf)"
    assert entry.files == (folder / "X-00001-of-00003.gguf",)


def test_non_first_shards_are_never_listed_alone(tmp_path, home):
    folder = tmp_path / "m"
    folder.mkdir()
    write_tiny_model(folder / "X-00002-of-00002.gguf")
    [entry] = scan(home, [folder])
    assert (entry.id, entry.path.name, entry.files) == ("x", "X-00001-of-00002.gguf", ())
    assert entry.status == "missing shard 1 of 2 (X-00001-of-00002.gguf)"


def test_damaged_later_shard(tmp_path, home):
    folder = tmp_path / "m"
    folder.mkdir()
    write_tiny_model(folder / "X-00001-of-00002.gguf")
    write_truncated(folder / "X-00002-of-00002.gguf", write_tiny_model(tmp_path / "src.gguf"), keep=0.5)
    [entry] = scan(home, [folder])
    assert entry.status.startswith("shard 2 of 2: truncated: tensor ")


def test_explicit_shard_brings_its_siblings(tmp_path, home):
    for n in (1, 2):
        write_tiny_model(tmp_path / f"X-0000{n}-of-00002.gguf")
    [entry] = scan(home, extra_files=[(tmp_path / "X-00002-of-00002.gguf", "file")])
    assert [f.name for f in entry.files] == ["X-00001-of-00002.gguf", "X-00002-of-00002.gguf"]
    assert entry.status == "ok"


# --- walking --------------------------------------------------------------


def test_walk_survives_symlink_loops_and_limits_depth(tmp_path):
    root = tmp_path / "root"
    deep = root / "a" / "b" / "c" / "d" / "e" / "f" / "g" / "h" / "i"
    deep.mkdir(parents=True)
    write_tiny_model(root / "a" / "shallow.gguf")
    write_tiny_model(deep / "too-deep.gguf")
    (root / "a" / "loop").symlink_to(root)
    (root / ".hidden").mkdir()
    write_tiny_model(root / ".hidden" / "secret.gguf")
    (root / "a" / "broken.gguf").symlink_to(tmp_path / "nowhere.gguf")
    found = [p.relative_to(root) for p in walk_gguf(root)]
    assert found == [Path("a/shallow.gguf")]


def test_unreadable_subfolder_is_skipped_silently(tmp_path, home, monkeypatch):
    folder = tmp_path / "m"
    (folder / "locked").mkdir(parents=True)
    write_tiny_model(folder / "ok.gguf")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    catalog = Catalog(folders=[folder], home=home)
    assert [e.id for e in catalog.scan()] == ["ok"]
    assert catalog.problems == ()


# --- other apps -----------------------------------------------------------


def write_ollama(
    models: Path, manifest: tuple[str, str, str, str], blob_source: Path | None, digest=None
) -> str:
    """An Ollama store entry; returns the blob's digest hex."""
    data = blob_source.read_bytes() if blob_source else b""
    digest = digest or hashlib.sha256(data).hexdigest()
    if blob_source:
        (models / "blobs").mkdir(parents=True, exist_ok=True)
        (models / "blobs" / f"sha256-{digest}").write_bytes(data)
    path = models / "manifests" / Path(*manifest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "layers": [
                    {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64},
                    {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}"},
                ],
            }
        )
    )
    return digest


def test_ollama_manifest_to_blob(tmp_path, home, monkeypatch):
    models = home / ".ollama" / "models"
    # Headers that name nothing: the store's names show (naming.py; a header's name comes first).
    tiny = write_tiny_model(tmp_path / "t.gguf", name=None)
    digest = write_ollama(models, ("registry.ollama.ai", "library", "qwen2.5", "0.5b"), tiny)
    write_ollama(models, ("registry.ollama.ai", "library", "qwen2.5", "latest"), tiny)  # same blob
    write_ollama(
        models,
        ("registry.ollama.ai", "someone", "mymodel", "q4"),
        write_tiny_model(tmp_path / "u.gguf", name=None, seed=3),
    )
    write_ollama(models, ("hf.co", "org", "Repo-GGUF", "Q8_0"), None, digest="ab" * 32)  # blob missing
    (models / "manifests" / "registry.ollama.ai" / "library" / "evil").mkdir()
    (models / "manifests" / "registry.ollama.ai" / "library" / "evil" / "x").write_text(
        json.dumps(
            {"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:../../etc"}]}
        )
    )
    (models / "manifests" / "registry.ollama.ai" / "library" / "junk").mkdir()
    (models / "manifests" / "registry.ollama.ai" / "library" / "junk" / "y").write_text("{not json")

    monkeypatch.setattr(hashlib, "file_digest", None)  # the digest is the hash: nothing is hashed
    catalog = Catalog(home=home)
    entries = {e.name: e for e in catalog.scan()}
    assert set(entries) == {"hf.co/org/Repo-GGUF:Q8_0", "qwen2.5:0.5b", "someone/mymodel:q4"}
    qwen = entries["qwen2.5:0.5b"]
    assert (qwen.id, qwen.source, qwen.status, qwen.sha256) == ("qwen2.5-0.5b", "ollama", "ok", digest)
    assert qwen.path == models / "blobs" / f"sha256-{digest}"
    assert (qwen.origin.maker, qwen.origin.country) == ("Alibaba (Qwen team)", "CN")
    assert qwen.origin.evidence == "Ollama name matches 'qwen' in origins.toml"
    assert entries["someone/mymodel:q4"].id == "someone-mymodel-q4"
    assert entries["hf.co/org/Repo-GGUF:Q8_0"].status == "missing Ollama blob sha256-abababababab…"
    assert catalog.ensure_sha256(qwen).sha256 == digest


def test_ollama_models_env_var(tmp_path, home, monkeypatch):
    store = tmp_path / "elsewhere"
    write_ollama(
        store, ("registry.ollama.ai", "library", "gemma3", "270m"), write_tiny_model(tmp_path / "t.gguf", name="Gemma 3 270M")
    )
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    # The header's name, as the same file has anywhere else; the id still follows the tag.
    assert [(e.id, e.name) for e in scan(home)] == [("gemma3-270m", "Gemma 3 270M")]
    assert Catalog(home=home).resolve("gemma3:270m").name == "Gemma 3 270M"  # Ollama's name still finds it


def test_system_ollama_store_only_for_the_real_home(home):
    system = Path("/usr/share/ollama/.ollama/models")
    assert system not in ollama_folders(home, real_home=False)
    assert system in ollama_folders(Path.home(), real_home=True)


def test_hugging_face_snapshots_are_deduplicated(tmp_path, home):
    repo = home / ".cache" / "huggingface" / "hub" / "models--Qwen--Qwen2.5-0.5B-Instruct-GGUF"
    (repo / "blobs").mkdir(parents=True)
    blob = repo / "blobs" / ("c" * 64)
    write_tiny_model(blob, name=None)
    for rev in ("rev1", "rev2"):
        (repo / "snapshots" / rev).mkdir(parents=True)
        (repo / "snapshots" / rev / "qwen2.5-0.5b-instruct-q4_k_m.gguf").symlink_to(
            Path("../../blobs") / blob.name
        )
    [entry] = scan(home)
    assert (entry.id, entry.source, entry.status) == ("qwen2.5-0.5b-instruct-q4_k_m", "huggingface", "ok")
    assert entry.path == repo / "snapshots" / "rev1" / "qwen2.5-0.5b-instruct-q4_k_m.gguf"
    assert entry.origin.maker == "Alibaba (Qwen team)"


def test_hf_home_env_var(tmp_path, home, monkeypatch):
    hub = tmp_path / "hfhome" / "hub"
    snap = hub / "models--x--y" / "snapshots" / "r"
    snap.mkdir(parents=True)
    write_tiny_model(snap / "y.gguf")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hfhome"))
    assert [(e.id, e.source) for e in scan(home)] == [("y", "huggingface")]
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))  # wins over HF_HOME
    assert scan(home) == []


def test_lm_studio_and_gpt4all(tmp_path, home):
    lms = home / ".lmstudio" / "models" / "lmstudio-community" / "gemma-3-1b-it-GGUF"
    lms.mkdir(parents=True)
    write_tiny_model(lms / "gemma-3-1b-it-Q4_K_M.gguf", name=None)
    old_lms = home / ".cache" / "lm-studio" / "models" / "x" / "y"
    old_lms.mkdir(parents=True)
    write_tiny_model(old_lms / "old.gguf")
    gpt4all = gpt4all_folders(home)[0]
    gpt4all.mkdir(parents=True)
    write_tiny_model(gpt4all / "Phi-3-mini-4k-instruct.Q4_0.gguf", name=None)
    found = {e.id: (e.source, e.origin.maker) for e in scan(home)}
    assert found == {
        "gemma-3-1b-it-q4_k_m": ("lmstudio", "Google"),
        "old": ("lmstudio", None),
        "phi-3-mini-4k-instruct.q4_0": ("gpt4all", "Microsoft"),
    }


def test_other_apps_can_be_left_out(tmp_path, home):
    lms = home / ".lmstudio" / "models"
    lms.mkdir(parents=True)
    write_tiny_model(lms / "m.gguf")
    assert Catalog(home=home, include_other_apps=False).scan() == []


def test_source_order_decides_duplicates(tmp_path, home):
    lms = home / ".lmstudio" / "models"
    lms.mkdir(parents=True)
    path = write_tiny_model(lms / "m.gguf")
    [entry] = scan(home, folders=[lms], extra_files=[(path, "starter")])
    assert entry.source == "folder"
    [entry] = scan(home, extra_files=[(path, "starter")])
    assert entry.source == "starter"
