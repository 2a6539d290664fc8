"""Running models: backends, their child processes, and comparisons across them."""
