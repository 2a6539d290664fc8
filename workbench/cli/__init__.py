"""The workbench from a terminal: the same core as the window, for scripts and headless machines."""
