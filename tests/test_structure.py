"""The layout rules of docs/ARCHITECTURE.md that an import can break, checked
on the source with `ast` so they stay kept.

The notebook's table classes receive the `Store` (and the tables they work
with) from the `Notebook` that builds them; importing database.py back made
an import circle and let them reach past the store. Export and classroom
imported each other for the vote names, which now live in notebook/votes.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

PACKAGE = Path(workbench.__file__).parent
NOTEBOOK = PACKAGE / "core" / "notebook"
# The package's front door re-exports the Notebook; the recorder writes through one, as a caller does.
MAY_IMPORT_NOTEBOOK = {"__init__.py", "recorder.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports (also under TYPE_CHECKING or inside a function), by
    absolute name; `from package import name` counts as importing package.name too."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_notebooks_tables_do_not_import_the_notebook() -> None:
    # database.py itself, or the Notebook as the package re-exports it.
    notebook = {"workbench.core.notebook.database", "workbench.core.notebook.Notebook"}
    offenders = [
        path.name
        for path in sorted(NOTEBOOK.glob("*.py"))
        if path.name not in MAY_IMPORT_NOTEBOOK and notebook & imported_modules(path)
    ]
    assert offenders == [], f"these notebook modules import database.py; give them the Store instead: {offenders}"


def test_export_does_not_import_classroom() -> None:
    """Classroom's demo files are written by export, so the other way round would be a circle."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted((PACKAGE / "core" / "export").rglob("*.py"))
        if any(name.startswith("workbench.core.classroom") for name in imported_modules(path))
    ]
    assert offenders == []


def test_the_import_reader_resolves_relative_imports() -> None:
    """The rules above are only as good as this reader: it must see what a module imports."""
    assert "workbench.core.notebook.store" in imported_modules(NOTEBOOK / "database.py")
    assert "workbench.core.notebook.database" in imported_modules(NOTEBOOK / "recorder.py")
    assert "workbench.core.export.collect" in imported_modules(PACKAGE / "core" / "classroom" / "demo_file.py")
