"""Loaded models stay loaded between prompts, within a memory budget.

Loading Qwen-0.5B takes 0.36 s and a 7B model several seconds; a teacher
asking five questions in a row should pay that once. When a new model would
exceed the budget, the least recently used idle ones are closed first.

What the pool holds is any `Backend`: it builds them with its `loader`, by
default a GGUF model in its own process (`start_local_model`). Tests pass a
loader of scripted backends when they only need text to arrive, the way
simonw/llm's tests use a mock model, so only llama's own tests pay for llama:
`ModelPool(loader=...)` or `Workspace(..., loader=...)` where the test builds
the pool, and, where a front end builds it (a CLI command run in the test's
process), a replacement for `start_local_model`, which a pool built without a
loader looks up as it is built.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from pathlib import Path

import psutil

from ..endpoints.model_path import is_remote_path
from .backend import Backend
from .cancel import Cancel
from .local import LoadCancelled, LocalModel
from .params import LoadSettings

# Leave room for the app, the OS and the KV caches we can only estimate.
DEFAULT_BUDGET_FRACTION = 0.6


def default_budget_bytes() -> int:
    return int(psutil.virtual_memory().total * DEFAULT_BUDGET_FRACTION)


#: Builds a started backend: (path, display name, load settings, cancel) -> Backend.
#: Blocks while loading; raises what `LocalModel.start` raises.
Loader = Callable[[Path, str, LoadSettings, "Cancel | None"], Backend]


def start_local_model(path: Path, display_name: str, settings: LoadSettings, cancel: Cancel | None) -> Backend:
    """The default loader: the GGUF file in its own llama.cpp process."""
    model = LocalModel(path, display_name, settings)
    model.start(cancel)
    return model


class ModelPool:
    def __init__(self, budget_bytes: int | None = None, loader: Loader | None = None, remote_loader: Loader | None = None) -> None:
        """`loader` None: `start_local_model` (looked up now, not at import: the test seam above).
        `remote_loader` builds the models of remote entries (an `endpoint:NAME/MODEL_ID` path):
        None, `start_remote_model` (a `RemoteModel`; tests give a loader of scripted backends)."""
        self.budget_bytes = budget_bytes if budget_bytes is not None else default_budget_bytes()
        self.loader = loader if loader is not None else start_local_model
        self.remote_loader = remote_loader if remote_loader is not None else (loader or _start_remote_model)
        self._models: OrderedDict[tuple[str, LoadSettings], tuple[Backend, int]] = OrderedDict()
        # How many requests hold each model: a remote model serves several at once (a batch's
        # prompts in flight), and is idle, so closable, only when none does.
        self._in_use: Counter[tuple[str, LoadSettings]] = Counter()
        # The models being loaded, each set once its load ends (loaded or failed).
        self._loading: dict[tuple[str, LoadSettings], threading.Event] = {}
        self._lock = threading.Lock()

    def acquire(self, path: Path, display_name: str, settings: LoadSettings, estimate_bytes: int, cancel: Cancel | None = None) -> Backend:
        """A started model for `path` with these load settings; loads it if needed.

        Blocks while loading. Pair with `release`. Raises what the loader raises.
        A request for a model another request is loading waits for that load and shares
        the model: a batch's prompts in flight ask for their model process at once, and
        each loading its own had 8 processes of Qwen fight for 2 cores, then 7 thrown away.
        """
        remote = is_remote_path(path)
        key = (str(path) if remote else str(Path(path).resolve()), settings)
        while True:
            with self._lock:
                held = self._models.get(key)
                if held is not None and not held[0].alive:
                    del self._models[key]
                    held = None
                if held is not None:
                    self._models.move_to_end(key)
                    self._in_use[key] += 1
                    return held[0]
                loading = self._loading.get(key)
                if loading is None:
                    self._loading[key] = threading.Event()
                    victims = self._make_room(estimate_bytes)
                    break
            _wait_for(loading, display_name, cancel)  # then take what it loaded, or load if it failed
        try:
            for victim in victims:
                victim.close()
            model = (self.remote_loader if remote else self.loader)(Path(path), display_name, settings, cancel)
            with self._lock:
                self._models[key] = (model, estimate_bytes)
                self._in_use[key] += 1
            return model
        finally:
            with self._lock:
                self._loading.pop(key).set()

    def release(self, model: Backend) -> None:
        with self._lock:
            for key, (held, _) in self._models.items():
                if held is model:
                    self._in_use[key] -= 1
                    if self._in_use[key] <= 0:
                        del self._in_use[key]
                    if not model.alive and key not in self._in_use:
                        del self._models[key]
                    return

    def _make_room(self, needed: int) -> list[Backend]:
        """Pick idle models to close, oldest first, until `needed` fits. Caller holds the lock."""
        victims = []
        used = sum(size for _, size in self._models.values())
        for key in list(self._models):
            if used + needed <= self.budget_bytes:
                break
            if key in self._in_use:
                continue
            model, size = self._models.pop(key)
            victims.append(model)
            used -= size
        return victims

    def loaded(self) -> list[Backend]:
        with self._lock:
            return [model for model, _ in self._models.values() if model.alive]

    def close(self) -> None:
        with self._lock:
            models = [model for model, _ in self._models.values()]
            self._models.clear()
            self._in_use.clear()
        for model in models:
            model.close()


def _wait_for(loading: threading.Event, display_name: str, cancel: Cancel | None) -> None:
    """Wait until another request's load of the model ends; LoadCancelled on a Stop first."""
    while not loading.wait(0.1):
        if cancel is not None and cancel.is_set():
            raise LoadCancelled(display_name)


def _start_remote_model(path: Path, display_name: str, settings: LoadSettings, cancel: Cancel | None) -> Backend:
    """endpoints.remote's `start_remote_model`, imported when a remote model is first asked:
    it brings the openai SDK (a third of a second to import), which local runs never use."""
    from ..endpoints.remote import start_remote_model

    return start_remote_model(path, display_name, settings, cancel)
