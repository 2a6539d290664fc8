"""Generation settings, shared by a run and overridable per model.

Stored with every response (as JSON), so these names are part of the notebook
format: never rename a field, add new ones with a default.
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass, field
from typing import Any

# How many of a model's layers llama.cpp puts on the GPU: ALL_LAYERS, or a count (0: the
# CPU alone). A CPU build of llama.cpp offloads none whatever this says; the model process
# reports what ran it (engine/offload.py).
ALL_LAYERS = "all"
GpuLayers = int | str
# llama.cpp takes the count as a C int; more layers than a model has means all of them.
MAX_GPU_LAYERS = 2**31 - 1
GPU_LAYERS_PROBLEM = f'GPU layers must be "all" or a whole number from 0 (CPU only) to {MAX_GPU_LAYERS}'


@dataclass(frozen=True)
class LoadSettings:
    """What a model process is started with, as opposed to what each answer is asked
    with: the pool keeps one loaded model per file and LoadSettings (engine/pool.py), and
    the model process gets them whole (engine/worker.py), so a new one is one field here."""

    n_ctx: int
    n_threads: int
    gpu_layers: GpuLayers = ALL_LAYERS  # how many layers llama.cpp offloads (GenerationParams.gpu_layers)
    sequences: int = 1  # answers decoded at once in one context (engine/sequences.py), each with n_ctx of its own


# Deterministic by default: a teacher's demo shows what was prepared, and a
# researcher's rerun reproduces. Repeat penalty 1.1 because SmolLM2 loops
# without one (NOTES.md).
DEFAULT_TEMPERATURE = 0.0
DEFAULT_CONTEXT = 4096
# Room for a chat template and a short question.
MIN_CONTEXT = 64
# The longest context GGUF models are trained for today (Qwen2.5-1M), and the
# window's own limit. Whether a context fits this machine's memory depends on
# the model: `comparison.load_model` refuses what doesn't, before loading.
MAX_CONTEXT = 1_048_576
# llama.cpp's GGML_MAX_N_THREADS: more aborts the model process. Not the
# machine's core count: settings recorded on a bigger machine must still load.
MAX_THREADS = 512
# llama.cpp takes the seed as a 32-bit unsigned number, top-k as a C int.
MAX_SEED = 2**32 - 1
MAX_TOP_K = 2**31 - 1
# A chat template's own switches (switches.py): "default" passes nothing, so the
# template decides, as it does for a model given no settings.
DEFAULT_SWITCH = "default"
THINKING_CHOICES = (DEFAULT_SWITCH, "on", "off")
EFFORT_CHOICES = (DEFAULT_SWITCH, "low", "medium", "high")


def all_cores() -> int:
    """llama-cpp-python defaults to half the cores, which halves speed on a
    2-core laptop (26.0 vs 14.6 tokens/s for Qwen-0.5B, NOTES.md)."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class GenerationParams:
    system_prompt: str = ""
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    seed: int = 0
    n_ctx: int = DEFAULT_CONTEXT
    n_threads: int = field(default_factory=all_cores)
    thinking: str = DEFAULT_SWITCH  # THINKING_CHOICES: Qwen3's enable_thinking, DeepSeek's thinking
    reasoning_effort: str = DEFAULT_SWITCH  # EFFORT_CHOICES: gpt-oss's reasoning_effort
    gpu_layers: GpuLayers = ALL_LAYERS  # "all" or a count; 0 keeps the model on the CPU

    def __post_init__(self) -> None:
        """Refuses settings a model process can't survive, wherever they come from: the
        command line, the window, a batch, a judge, a notebook or a demo file."""
        problems = [f"{label} must be a number" for name, label in _NUMBERS.items() if not _is_number(getattr(self, name))]
        problems += [f"{label} must be a whole number" for name, label in _WHOLE.items() if not _is_whole(getattr(self, name))]
        if not isinstance(self.system_prompt, str):
            problems.append("system prompt must be text")
        if not is_gpu_layers(self.gpu_layers):
            problems.append(GPU_LAYERS_PROBLEM)
        problems += [f"{label} must be one of {', '.join(choices)}" for name, (label, choices) in _CHOICES.items() if getattr(self, name) not in choices]
        if problems:
            raise ValueError("; ".join(problems))
        if not 0.0 <= self.temperature <= 5.0:
            problems.append("temperature must be between 0 and 5")
        if not 0.0 < self.top_p <= 1.0:
            problems.append("top-p must be above 0 and at most 1")
        if not 0 <= self.top_k <= MAX_TOP_K:
            problems.append(f"top-k must be 0 (off) or more, at most {MAX_TOP_K}")
        if not 0.0 <= self.min_p <= 1.0:
            problems.append("min-p must be between 0 and 1")
        if not 0.5 <= self.repeat_penalty <= 3.0:
            problems.append("repeat penalty must be between 0.5 and 3")
        if not 1 <= self.max_tokens <= MAX_CONTEXT:
            problems.append(f"max tokens must be at least 1, at most {MAX_CONTEXT}")
        if not 0 <= self.seed <= MAX_SEED:
            problems.append(f"seed must be between 0 and {MAX_SEED}")
        if not MIN_CONTEXT <= self.n_ctx <= MAX_CONTEXT:
            problems.append(f"context size must be at least {MIN_CONTEXT}, at most {MAX_CONTEXT}")
        if not 1 <= self.n_threads <= MAX_THREADS:
            problems.append(f"threads must be at least 1, at most {MAX_THREADS}")
        if problems:
            raise ValueError("; ".join(problems))

    def replace(self, **changes: Any) -> GenerationParams:
        """A copy with `changes` applied; unknown names raise TypeError."""
        return dataclasses.replace(self, **changes)

    def load_settings(self) -> LoadSettings:
        """The settings that need the model loaded again when they change."""
        return LoadSettings(self.n_ctx, self.n_threads, gpu_layers=self.gpu_layers)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        """Tolerates keys from newer versions, so old apps read new notebooks' settings."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# Each field's name in the messages, as the range checks above name it.
_NUMBERS = {"temperature": "temperature", "top_p": "top-p", "min_p": "min-p", "repeat_penalty": "repeat penalty"}
_CHOICES = {"thinking": ("thinking", THINKING_CHOICES), "reasoning_effort": ("reasoning effort", EFFORT_CHOICES)}
_WHOLE = {"top_k": "top-k", "max_tokens": "max tokens", "seed": "seed", "n_ctx": "context size", "n_threads": "threads"}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_gpu_layers(value: object) -> bool:
    """"all", or a whole number of layers llama.cpp can take."""
    if value == ALL_LAYERS:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_GPU_LAYERS


def parse_gpu_layers(text: str) -> GpuLayers:
    """A GPU-layers value as a person writes it ("all", "ALL", " 12 "); ValueError with
    GPU_LAYERS_PROBLEM for anything else."""
    word = text.strip().lower()
    if word == ALL_LAYERS:
        return ALL_LAYERS
    # ASCII digits only: int() also reads other scripts' digits.
    if word.isascii() and word.isdecimal() and int(word) <= MAX_GPU_LAYERS:
        return int(word)
    raise ValueError(GPU_LAYERS_PROBLEM)


def random_seed() -> int:
    """A fresh seed for a run that did not name one; it is recorded, so the run can be repeated."""
    return random.randrange(2**31)
