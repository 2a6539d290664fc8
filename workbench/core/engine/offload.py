"""Which hardware runs a model: how many layers llama.cpp puts on a GPU, and which backend.

A model process (worker.py) asks llama.cpp, before loading, which GPU devices this build
can use (`gpu_backends`): none on a CPU build, or a GPU build on a machine without the
GPU or its driver. Then the setting (GenerationParams.gpu_layers: "all" or a count) becomes
llama.cpp's n_gpu_layers (`llama_gpu_layers`): -1 for all, 0 when there is no GPU, so a
CPU build loads exactly as it did before the setting. The process reports what ran the
model in its "ready" info (`offload_info`), which every answer records in its settings
under RAN_ON (comparison.py) and the library shows as the backend a model last ran on.

Only `gpu_backends` touches llama.cpp, and only in the model's process.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from typing import Any

from .params import ALL_LAYERS, GpuLayers

# The key of a response's recorded settings (its `sampler` JSON) saying what ran it:
# {"backend": "CPU" | "CUDA" | "Metal" | "Vulkan" | …, "gpu_layers_offloaded": n,
#  "layers": n}. Absent for answers saved before it, and for endpoints' answers.
RAN_ON = "ran_on"

# Every local model attends with flash attention, as llama.cpp's own tools and server do by
# default (their "auto" is on wherever the kernel exists; llama-cpp-python's default is
# off). On this project's 2-core machine it made single-stream decode about 10% faster and
# 16 sequences at once 17% faster (docs/benchmarks.md), and a local model answers as
# llama-server serving the same file does. It changes the last bits of the logits, so
# answers at temperature 0 can part from ones made without it at a near-tie: each answer
# records it under RAN_ON.
FLASH_ATTENTION = True
CPU = "CPU"
# The "ready" info's list of the GPU backends this llama.cpp can offload to, whatever the
# setting (empty on a CPU build): the window's GPU layers tooltip says what it heard.
GPU_BACKENDS = "gpu_backends"
# What the library says of a model no answer has recorded RAN_ON for.
NOT_RUN_YET = "not run yet"
# ggml's registry names that are not the backend's usual name.
_NAMES = {"MTL": "Metal"}
# ggml_backend_dev_type: GGML_BACKEND_DEVICE_TYPE_GPU, _IGPU (ggml-backend.h).
_GPU, _IGPU = 1, 2


def gpu_backends() -> list[str]:
    """The backends (CUDA, Metal, Vulkan, …) of the GPU devices llama.cpp would offload to,
    as it chooses them: discrete GPUs, or integrated ones only when there is none. Empty
    when llama.cpp can't offload (llama_supports_gpu_offload). llama-cpp-python has no
    bindings for ggml's device list, so it is read through its own handle on libggml."""
    import llama_cpp

    if not llama_cpp.llama_supports_gpu_offload():
        return []  # a CPU build: its device list is not needed
    from llama_cpp import _ggml

    lib = _ggml.libggml
    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_dev_get.restype = ctypes.c_void_p
    lib.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_type.restype = ctypes.c_int
    lib.ggml_backend_dev_backend_reg.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_backend_reg.restype = ctypes.c_void_p
    lib.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_reg_name.restype = ctypes.c_char_p
    devices: dict[int, list[str]] = {_GPU: [], _IGPU: []}
    for index in range(lib.ggml_backend_dev_count()):
        device = lib.ggml_backend_dev_get(index)
        kind = lib.ggml_backend_dev_type(device)
        if kind in devices:
            name = lib.ggml_backend_reg_name(lib.ggml_backend_dev_backend_reg(device)).decode("utf-8", "replace")
            devices[kind].append(_NAMES.get(name, name))
    return _unique(devices[_GPU] or devices[_IGPU])


def llama_gpu_layers(setting: GpuLayers, backends: Sequence[str]) -> int:
    """llama.cpp's n_gpu_layers for the setting: -1 (all) for "all", the count as given,
    and 0 without a GPU backend whatever the setting."""
    if not backends:
        return 0
    return -1 if setting == ALL_LAYERS else int(setting)


def offload_info(setting: GpuLayers, backends: Sequence[str], layers: int) -> dict[str, Any]:
    """What the "ready" info says ran the model. `layers`: the layers llama.cpp can offload
    (the model's blocks and its output layer); a count above it offloads them all."""
    offloaded = 0 if not backends else layers if setting == ALL_LAYERS else min(int(setting), layers)
    return {
        GPU_BACKENDS: list(backends),
        "backend": "+".join(backends) if backends and offloaded else CPU,
        "gpu_layers_requested": setting,
        "gpu_layers_offloaded": offloaded,
        "layers": layers,
        "flash_attn": FLASH_ATTENTION,
    }


def ran_on(info: Mapping[str, Any]) -> dict[str, Any] | None:
    """The part of a model process's "ready" info an answer records under RAN_ON; None for a
    backend that does not report it (an endpoint)."""
    if "backend" not in info:
        return None
    return {key: info[key] for key in ("backend", "gpu_layers_offloaded", "layers", "flash_attn")}


def describe(record: Mapping[str, Any] | None) -> str:
    """"CPU", "CUDA (28 of 29 layers)", or "" for an answer that recorded nothing: one
    line for the places that show an answer's provenance and a model's last backend."""
    if not isinstance(record, Mapping) or not isinstance(record.get("backend"), str):
        return ""
    backend = str(record["backend"])
    offloaded, layers = record.get("gpu_layers_offloaded"), record.get("layers")
    if backend == CPU or not isinstance(offloaded, int) or not isinstance(layers, int):
        return backend
    return f"{backend} ({offloaded} of {layers} layers)"


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))
