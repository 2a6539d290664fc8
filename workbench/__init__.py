"""Model Values Workbench: compare what local language models will and won't say."""

__version__ = "0.1.0"
