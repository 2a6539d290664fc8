"""The notebook: one SQLite file holding every model, run, response and (later) annotation.

`open_notebook(path)` is the way in; see docs/notebook.md for the schema.
"""

from .database import Notebook, open_notebook

__all__ = ["Notebook", "open_notebook"]
