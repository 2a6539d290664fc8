"""What the window does to QComboBox items that Qt reaches only through the box's model."""

from __future__ import annotations

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox


def enable_item(combo: QComboBox, index: int, enabled: bool) -> None:
    """Let the item at `index` be chosen, or grey it out."""
    model = combo.model()
    assert isinstance(model, QStandardItemModel), "a QComboBox given no model keeps its items in a QStandardItemModel"
    model.item(index).setEnabled(enabled)


def narrow(combo: QComboBox, chars: int = 10) -> QComboBox:
    """Let a box be as narrow as `chars` characters (its longest item shortened with "…"):
    by default a box asks for its longest item's width, and in a dock beside the panes that
    widened the window past a laptop's screen."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo
