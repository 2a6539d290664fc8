"""Generation settings as a form: the shared ones, and a pane's own override.

The fields mirror `GenerationParams`; their ranges match its validation, and
what slips through (a combination) is reported with the core's own message.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.engine.params import (
    ALL_LAYERS,
    EFFORT_CHOICES,
    MAX_GPU_LAYERS,
    MAX_CONTEXT,
    MAX_SEED,
    MAX_THREADS,
    MAX_TOP_K,
    MIN_CONTEXT,
    THINKING_CHOICES,
    GenerationParams,
    all_cores,
)
from ..shared.fonts import follow_font


FIELD_DIGITS = 6  # a seed of ten digits still shows whole once the dock is a little wider
# The GPU layers box's value for "all" (GenerationParams' ALL_LAYERS), shown as ALL_TEXT.
ALL_VALUE = -1
ALL_TEXT = "All"


def gpu_layers_tip(backends: list[str] | None) -> str:
    """What the GPU layers field does, and whether this machine's llama.cpp can do it: as
    the last model process reported (`backends`: its "gpu_backends", engine/offload.py),
    or unknown (None) until one has loaded. The window never asks llama.cpp itself."""
    what = (
        "How many of each model's layers llama.cpp puts on the GPU: All, or a number; "
        "0 keeps the model on the CPU. Changing it reloads the model."
    )
    if backends is None:
        return f"{what} Whether this machine's llama.cpp has a GPU backend is unknown until a model loads."
    if not backends:
        return f"{what} This machine's llama.cpp has no GPU backend it can use, so models run on the CPU whatever this says."
    return f"{what} This machine's llama.cpp offloads to {' and '.join(backends)}."


def _double(minimum: float, maximum: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(minimum, maximum)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


def _choice(choices: tuple[str, ...], tip: str) -> QComboBox:
    """A template switch: "Default" (the template's own; its value "default"), then its other values."""
    box = QComboBox()
    for value in choices:
        box.addItem(value.capitalize(), value)
    box.setToolTip(tip)
    return box


def _int(minimum: int, maximum: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setSingleStep(step)
    return box


class SettingsForm(QWidget):
    """Edits every sampling and loading setting except the system prompt (which has its own box)."""

    changed = Signal()

    def __init__(self, params: GenerationParams, *, offer_random_seed: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.temperature = _double(0.0, 5.0, 0.1)
        self.temperature.setToolTip("0 always picks the likeliest token: the same answer every time.")
        self.top_p = _double(0.01, 1.0, 0.05)
        self.top_k = _int(0, MAX_TOP_K)
        self.top_k.setToolTip("0 turns top-k off.")
        self.min_p = _double(0.0, 1.0, 0.01)
        self.repeat_penalty = _double(0.5, 3.0, 0.05)
        self.max_tokens = _int(1, MAX_CONTEXT, 64)
        # A QSpinBox stops at 2**31-1 and the core's seeds go to 2**32-1: a double
        # holds every whole number up to 2**53 exactly, so no recorded seed is cut.
        self.seed = _double(0, MAX_SEED, 1, decimals=0)
        self.random_seed = QCheckBox("New seed each run")
        self.random_seed.setToolTip("A new random seed for every run; the seed used is recorded with the run, so it can still be repeated.")
        self.n_ctx = _int(MIN_CONTEXT, MAX_CONTEXT, 1024)
        self.n_ctx.setToolTip("Changing it reloads the model.")
        self.n_threads = _int(1, MAX_THREADS)
        self.n_threads.setToolTip(f"This machine has {all_cores()} cores. Changing it reloads the model.")
        self.gpu_layers = _int(ALL_VALUE, MAX_GPU_LAYERS)
        self.gpu_layers.setSpecialValueText(ALL_TEXT)  # shown at the minimum, ALL_VALUE
        self.gpu_backends: list[str] | None = None
        self.set_gpu_backends(None)
        self.thinking = _choice(
            THINKING_CHOICES,
            "Passed to the model's chat template (Qwen3's enable_thinking, DeepSeek's thinking). "
            "A model whose template has no such switch says the setting had no effect.",
        )
        self.reasoning_effort = _choice(
            EFFORT_CHOICES,
            "Passed to the model's chat template as reasoning_effort (gpt-oss). "
            "A model whose template has no such switch says the setting had no effect.",
        )

        layout = QFormLayout(self)
        layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock: labels above their fields
        layout.addRow("Temperature", self.temperature)
        layout.addRow("Top-p", self.top_p)
        layout.addRow("Top-k", self.top_k)
        layout.addRow("Min-p", self.min_p)
        layout.addRow("Repeat penalty", self.repeat_penalty)
        layout.addRow("Max tokens", self.max_tokens)
        layout.addRow("Seed", self.seed)
        if offer_random_seed:
            layout.addRow("", self.random_seed)
        layout.addRow("Context size", self.n_ctx)
        layout.addRow("Threads", self.n_threads)
        layout.addRow("GPU layers", self.gpu_layers)
        layout.addRow("Thinking", self.thinking)
        layout.addRow("Reasoning effort", self.reasoning_effort)
        self.problem = QLabel()
        self.problem.setObjectName("paneError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addRow(self.problem)

        follow_font(self, self._fit_fields)
        self.set_params(params)
        for box in (self.temperature, self.top_p, self.min_p, self.repeat_penalty):
            box.valueChanged.connect(self._changed)
        for whole in (self.top_k, self.max_tokens, self.seed, self.n_ctx, self.n_threads, self.gpu_layers):
            whole.valueChanged.connect(self._changed)
        self.random_seed.toggled.connect(self._changed)
        for combo in (self.thinking, self.reasoning_effort):
            combo.currentIndexChanged.connect(self._changed)

    def _fit_fields(self) -> None:
        """No field asks for more than FIELD_DIGITS digits and its arrows: sized for their largest
        values, Top-k and Seed wrapped under their labels in a narrow dock, unlike the others;
        nor the switches' boxes, so Thinking and Reasoning effort keep beside their labels too.
        A field still takes the width its row has."""
        metrics = self.fontMetrics()
        most = metrics.horizontalAdvance("0" * FIELD_DIGITS) + metrics.height() + 8  # the arrows and the frame
        for box in self.findChildren(QAbstractSpinBox) + self.findChildren(QComboBox):
            box.setMinimumWidth(min(box.minimumSizeHint().width(), most))

    def set_params(self, params: GenerationParams) -> None:
        widgets = (
            self.temperature, self.top_p, self.top_k, self.min_p, self.repeat_penalty, self.max_tokens, self.seed,
            self.n_ctx, self.n_threads, self.gpu_layers, self.thinking, self.reasoning_effort,
        )  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        self.temperature.setValue(params.temperature)
        self.top_p.setValue(params.top_p)
        self.top_k.setValue(params.top_k)
        self.min_p.setValue(params.min_p)
        self.repeat_penalty.setValue(params.repeat_penalty)
        self.max_tokens.setValue(params.max_tokens)
        self.seed.setValue(params.seed)
        self.n_ctx.setValue(params.n_ctx)
        self.n_threads.setValue(params.n_threads)
        self.gpu_layers.setValue(ALL_VALUE if params.gpu_layers == ALL_LAYERS else int(params.gpu_layers))
        self.thinking.setCurrentIndex(self.thinking.findData(params.thinking))
        self.reasoning_effort.setCurrentIndex(self.reasoning_effort.findData(params.reasoning_effort))
        for widget in widgets:
            widget.blockSignals(False)
        self._changed()

    def params(self) -> GenerationParams:
        """The settings as entered; raises ValueError with the core's message if they don't fit."""
        return GenerationParams(
            temperature=self.temperature.value(),
            top_p=self.top_p.value(),
            top_k=self.top_k.value(),
            min_p=self.min_p.value(),
            repeat_penalty=self.repeat_penalty.value(),
            max_tokens=self.max_tokens.value(),
            seed=round(self.seed.value()),
            n_ctx=self.n_ctx.value(),
            n_threads=self.n_threads.value(),
            thinking=self.thinking.currentData(),
            reasoning_effort=self.reasoning_effort.currentData(),
            gpu_layers=ALL_LAYERS if self.gpu_layers.value() == ALL_VALUE else self.gpu_layers.value(),
        )

    def set_gpu_backends(self, backends: list[str] | None) -> None:
        """What a model process said this llama.cpp can offload to (None: no model has loaded)."""
        self.gpu_backends = backends
        self.gpu_layers.setToolTip(gpu_layers_tip(backends))

    def _changed(self) -> None:
        try:
            self.params()
        except ValueError as problem:
            self.problem.setText(str(problem))
            self.problem.show()
        else:
            self.problem.hide()
        self.changed.emit()


class PaneSettingsDialog(QDialog):
    """One pane's settings: the shared ones, or its own."""

    def __init__(
        self, shared: GenerationParams, own: GenerationParams | None, model_name: str, parent: QWidget | None = None,
        gpu_backends: list[str] | None = None,
    ) -> None:
        """`gpu_backends`: what the shared form knows of this llama.cpp (SettingsForm.gpu_backends)."""
        super().__init__(parent)
        self.setWindowTitle(f"Settings for {model_name}")
        self.use_shared = QCheckBox("Use the shared settings")
        self.use_shared.setChecked(own is None)
        self.form = SettingsForm(own or shared, offer_random_seed=False)
        self.form.set_gpu_backends(gpu_backends)
        self.form.setEnabled(own is not None)
        self.use_shared.toggled.connect(lambda shared_on: self.form.setEnabled(not shared_on))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.use_shared)
        layout.addWidget(self.form)
        layout.addWidget(buttons)

    def override(self) -> GenerationParams | None:
        """None for "use the shared settings"."""
        return None if self.use_shared.isChecked() else self.form.params()

    def _accept(self) -> None:
        try:
            self.override()
        except ValueError:
            return  # the form already shows why
        self.accept()
