"""The workbench's core: catalog, engine, notebook. Imports no Qt, so the CLI,
the tests and a future server can use all of it headless."""
