"""The desktop window (PySide6), a view over `workbench.core`.

Everything here is Qt; everything slow (scanning, loading models, reading
the notebook) happens in `workbench.core` on worker threads, and reaches the
widgets as queued signals (`tasks` for short jobs, `runner` for comparisons).
`app.run_window` is the way in.
"""
