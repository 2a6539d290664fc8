"""What the window does to QComboBox items that Qt reaches only through the box's model."""

from __future__ import annotations

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox


def enable_item(combo: QComboBox, index: int, enabled: bool) -> None:
    """Let the item at `index` be chosen, or grey it out."""
    model = combo.model()
    assert isinstance(model, QStandardItemModel), "a QComboBox given no model keeps its items in a QStandardItemModel"
    model.item(index).setEnabled(enabled)
