"""The CJK font that travels with the workbench.

Without a font that covers Chinese, Qt draws every Chinese answer as empty
boxes, in the window and in a PDF export, and a fresh Linux machine has none.
So the workbench depends on Noto Sans CJK from PyPI (`noto-cjk-sans-otc`,
Google's fonts under the SIL Open Font License 1.1) and the views register it
with Qt when the machine has no CJK font of its own. Qt-free: this only finds
the file; `ui/fonts.py` and `export/pdf.py` hand it to Qt.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

FONT_PACKAGE = "noto_cjk_sans_otc"
FONT_FILE = "NotoSansCJK-Regular.ttc"


def bundled_cjk_font() -> Path | None:
    """The font file shipped with the workbench, or None where it is missing
    (a frozen app built without it, a broken install)."""
    spec = find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / FONT_FILE
    return path if path.is_file() else None
