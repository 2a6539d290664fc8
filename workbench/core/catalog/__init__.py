"""The model catalog: finding GGUF files, reading their headers, knowing their origin.

Qt-free. The front ends use `Catalog` (scan, resolve, ensure_sha256) and the
`ModelEntry` it returns; the other modules are its parts.
"""

from .cache import CatalogCache
from .catalog import AmbiguousModel, Catalog, ModelEntry, ModelNotFound
from .metadata import ModelMetadata
from .origins import Origin, OriginTable, default_table
from .overrides import OriginOverrides, override_key

__all__ = [
    "AmbiguousModel",
    "Catalog",
    "CatalogCache",
    "ModelEntry",
    "ModelMetadata",
    "ModelNotFound",
    "Origin",
    "OriginOverrides",
    "OriginTable",
    "default_table",
    "override_key",
]
