"""GPU offload (issue 20): the setting, what reaches llama.cpp, and what each answer records.

This machine's llama.cpp is a CPU build, so the GPU side is faked where llama.cpp is
asked which GPU backends it has (`offload.gpu_backends`): the load itself is real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comparison_listener import Listener
from fake_model import FakeLoader
from gguf_factory import write_tiny_model
from workbench.core.comparison import Contender
from workbench.core.engine import offload, worker
from workbench.core.engine.backend import Backend
from workbench.core.engine.cancel import Cancel
from workbench.core.engine.local import LocalModel
from workbench.core.engine.params import ALL_LAYERS, GPU_LAYERS_PROBLEM, GenerationParams, LoadSettings, parse_gpu_layers
from workbench.core.engine.pool import ModelPool
from workbench.core.workspace import Workspace


def test_gpu_layers_default_to_all_and_old_records_read_back() -> None:
    assert GenerationParams().gpu_layers == ALL_LAYERS
    saved_before = {k: v for k, v in GenerationParams(n_threads=2).to_dict().items() if k != "gpu_layers"}
    assert GenerationParams.from_dict(saved_before).gpu_layers == ALL_LAYERS
    assert GenerationParams.from_dict(GenerationParams(gpu_layers=12).to_dict()).gpu_layers == 12
    assert json.loads(json.dumps(GenerationParams(gpu_layers=0).to_dict()))["gpu_layers"] == 0
    assert GenerationParams(gpu_layers=7).load_settings() == LoadSettings(GenerationParams.n_ctx, GenerationParams().n_threads, gpu_layers=7)


@pytest.mark.parametrize("bad", [-1, "most", "ALL", 1.5, True, None, 2**31])
def test_bad_gpu_layers_are_refused_in_one_line(bad: Any) -> None:
    with pytest.raises(ValueError) as caught:
        GenerationParams(gpu_layers=bad)
    assert str(caught.value) == GPU_LAYERS_PROBLEM and "\n" not in GPU_LAYERS_PROBLEM


@pytest.mark.parametrize(("text", "value"), [("all", "all"), (" All ", "all"), ("0", 0), ("33", 33)])
def test_gpu_layers_are_read_as_people_write_them(text: str, value: Any) -> None:
    assert parse_gpu_layers(text) == value


@pytest.mark.parametrize("text", ["-1", "", "half", "١٢", "3.5", str(2**31)])
def test_unreadable_gpu_layers_say_what_is_taken(text: str) -> None:
    with pytest.raises(ValueError, match="GPU layers must be \"all\" or a whole number"):
        parse_gpu_layers(text)


def test_the_pool_loads_a_model_again_when_its_gpu_layers_change(tmp_path: Path) -> None:
    loader = FakeLoader(lambda _model, _prompt: "ok")
    pool = ModelPool(budget_bytes=100, loader=loader)
    path = tmp_path / "fake.gguf"  # never opened
    try:
        first = pool.acquire(path, "Fake", GenerationParams(n_ctx=256, n_threads=1).load_settings(), 10)
        pool.release(first)
        assert pool.acquire(path, "Fake", GenerationParams(n_ctx=256, n_threads=1, gpu_layers=ALL_LAYERS).load_settings(), 10) is first
        pool.release(first)
        cpu_only = pool.acquire(path, "Fake", GenerationParams(n_ctx=256, n_threads=1, gpu_layers=0).load_settings(), 10)
        assert cpu_only is not first and len(loader.loaded) == 2
    finally:
        pool.close()


@pytest.fixture
def llama_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every llama_cpp.Llama built, which still loads for real."""
    import llama_cpp

    calls: list[dict[str, Any]] = []
    real = llama_cpp.Llama

    def recording(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(llama_cpp, "Llama", recording)
    return calls


def test_this_machines_cpu_build_offloads_nothing_whatever_is_asked(tmp_path: Path, llama_calls: list[dict[str, Any]]) -> None:
    import llama_cpp

    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this llama.cpp can offload to a GPU: the CPU-build case can't be seen here")
    assert offload.gpu_backends() == []
    path = write_tiny_model(tmp_path / "tiny.gguf")
    for asked in (ALL_LAYERS, 5, 0):
        model, info = worker.load_model(str(path), LoadSettings(256, 1, gpu_layers=asked))
        model.llama.close()
        assert llama_calls[-1]["n_gpu_layers"] == 0  # as before the setting: llama-cpp-python's default
        # The tiny model has 2 blocks; llama.cpp counts its output layer too.
        assert {k: info[k] for k in ("backend", "gpu_layers_requested", "gpu_layers_offloaded", "layers")} == {
            "backend": "CPU", "gpu_layers_requested": asked, "gpu_layers_offloaded": 0, "layers": 3,
        }  # fmt: skip


def test_every_local_model_attends_with_flash_attention_and_says_so(tmp_path: Path, llama_calls: list[dict[str, Any]]) -> None:
    """llama-cpp-python turns it off unless asked; llama.cpp's tools have it on (offload.py)."""
    import llama_cpp

    model, info = worker.load_model(str(write_tiny_model(tmp_path / "tiny.gguf")), LoadSettings(256, 1))
    try:
        assert llama_calls[-1]["flash_attn"] is True
        assert model.llama.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        assert info["flash_attn"] is True and offload.ran_on(info)["flash_attn"] is True  # type: ignore[index]
    finally:
        model.llama.close()


def test_the_model_process_reports_what_ran_it(tmp_path: Path) -> None:
    """Through the real process: the setting travels in LoadSettings, the report back in "ready"."""
    import llama_cpp

    model = LocalModel(write_tiny_model(tmp_path / "tiny.gguf"), "Tiny", LoadSettings(256, 1, gpu_layers=2))
    model.start()
    try:
        assert model.info["gpu_layers_requested"] == 2 and model.info["layers"] == 3
        if not llama_cpp.llama_supports_gpu_offload():
            assert (model.info["backend"], model.info["gpu_layers_offloaded"]) == ("CPU", 0)
        else:
            assert model.info["backend"] != "CPU" and model.info["gpu_layers_offloaded"] == 2
    finally:
        model.close()


@pytest.mark.parametrize(("asked", "n_gpu_layers", "offloaded", "backend"), [(ALL_LAYERS, -1, 3, "CUDA"), (2, 2, 2, "CUDA"), (40, 40, 3, "CUDA"), (0, 0, 0, "CPU")])
def test_a_gpu_build_gets_the_setting_as_llama_cpp_counts_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llama_calls: list[dict[str, Any]], asked: Any, n_gpu_layers: int, offloaded: int, backend: str,
) -> None:
    monkeypatch.setattr(worker, "gpu_backends", lambda: ["CUDA"])  # as a CUDA build with a GPU says
    model, info = worker.load_model(str(write_tiny_model(tmp_path / "tiny.gguf")), LoadSettings(256, 1, gpu_layers=asked))
    model.llama.close()
    assert llama_calls[-1]["n_gpu_layers"] == n_gpu_layers
    assert (info["backend"], info["gpu_layers_requested"], info["gpu_layers_offloaded"], info["layers"]) == (backend, asked, offloaded, 3)


def test_the_device_list_is_read_from_this_llama_cpps_own_libggml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked as a GPU build would be: the real device list, through the real library. A CPU
    build's only device is the CPU, which is no GPU to offload to."""
    import llama_cpp

    if llama_cpp.llama_supports_gpu_offload():
        assert offload.gpu_backends()  # a GPU build on a machine with its GPU names it
        return
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    assert offload.gpu_backends() == []


class _FakeGgml:
    """ggml's device functions over a list of (device type, registry name)."""

    def __init__(self, devices: list[tuple[int, str]]) -> None:
        self.ggml_backend_dev_count = lambda: len(devices)
        self.ggml_backend_dev_get = lambda index: index
        self.ggml_backend_dev_type = lambda device: devices[device][0]
        self.ggml_backend_dev_backend_reg = lambda device: device
        self.ggml_backend_reg_name = lambda reg: devices[reg][1].encode()


@pytest.mark.parametrize(("devices", "backends"), [
    ([(0, "CPU"), (1, "CUDA"), (1, "CUDA")], ["CUDA"]),  # two GPUs, one backend
    ([(0, "CPU"), (2, "MTL")], ["Metal"]),  # Apple's integrated GPU, by its usual name
    ([(2, "Vulkan"), (1, "CUDA")], ["CUDA"]),  # integrated ones only when there is no discrete one, as llama.cpp does
    ([(0, "CPU"), (3, "BLAS")], []),  # an accelerator is not a GPU
])  # fmt: skip
def test_gpu_backends_are_chosen_as_llama_cpp_chooses_devices(monkeypatch: pytest.MonkeyPatch, devices: list[tuple[int, str]], backends: list[str]) -> None:
    import llama_cpp
    from llama_cpp import _ggml

    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    monkeypatch.setattr(_ggml, "libggml", _FakeGgml(devices))
    assert offload.gpu_backends() == backends


def test_what_ran_a_model_is_described_in_one_line() -> None:
    assert offload.describe(offload.offload_info(ALL_LAYERS, ["Metal"], 29)) == "Metal (29 of 29 layers)"
    assert offload.describe(offload.offload_info(10, ["CUDA"], 29)) == "CUDA (10 of 29 layers)"
    assert offload.describe(offload.offload_info(ALL_LAYERS, [], 29)) == "CPU"
    assert offload.describe(None) == offload.describe({"backend": 3}) == ""  # nothing recorded, or not readable


class _ReportingLoader(FakeLoader):
    """Scripted answers from backends whose info says what ran them, as a model process does."""

    def __call__(self, path: Path, display_name: str, settings: LoadSettings, cancel: Cancel | None) -> Backend:
        backend = super().__call__(path, display_name, settings, cancel)
        self.loaded[-1].ready_info.update(offload.offload_info(settings.gpu_layers, [], 3))
        return backend


def test_each_answer_records_what_ran_it_and_the_library_reads_the_newest(tiny_models: Path, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "nb.sqlite", [tiny_models], include_other_apps=False, with_starter=False, loader=_ReportingLoader(lambda _m, _p: "Hi."))
    try:
        params = GenerationParams(max_tokens=8, n_ctx=256, n_threads=1, gpu_layers=4)
        entries = [ws.catalog.resolve("tiny-alpha"), ws.catalog.resolve("tiny-beta")]
        outcome = ws.comparison.run("Hello", [Contender(entries[0], params)], listener=Listener())
        response = ws.notebook.run(outcome.run_id)["responses"][0]
        assert response["sampler"]["gpu_layers"] == 4
        assert response["sampler"][offload.RAN_ON] == {"backend": "CPU", "gpu_layers_offloaded": 0, "layers": 3, "flash_attn": True}
        assert outcome.responses[0].sampler[offload.RAN_ON]["backend"] == "CPU"
        last = ws.notebook.last_ran_on()
        sha = ws.catalog.ensure_sha256(entries[0]).sha256
        assert set(last) == {sha} and last[sha]["backend"] == "CPU" and last[sha]["finished_at"] == response["finished_at"]
    finally:
        ws.close()
