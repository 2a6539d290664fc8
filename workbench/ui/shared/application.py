"""The QApplication the window runs in, typed as one.

Qt types `QApplication.instance()` as optional (there may be none, or a mere
QCoreApplication); inside the window there is always the one QApplication, and
a feature that follows focus or restyles the app asks here rather than check
again each time.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def the_application() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication), "the window runs in a QApplication"
    return app
