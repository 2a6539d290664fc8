"""Getting real models: the curated pairs (curated.py) and downloads from the Hugging
Face hub or a mirror of it (hub.py), checked against the hub's SHA-256 before a file
enters the workbench's models folder, where the catalog finds it."""
