"""musicwb: a research workbench for large DJ and music libraries.

The package computes; the notebooks in ``notebooks/`` orchestrate. Importing it does no work.
"""

from __future__ import annotations

__version__ = "0.1.0"

from musicwb.config import Settings, get_settings
from musicwb.errors import (
    AudioError,
    AuthError,
    MusicwbError,
    NotFound,
    ParameterError,
    RateLimited,
    SourceError,
    StoreError,
    StoreLockedError,
    UnsupportedFormatError,
)
from musicwb.store import Store, open_store

__all__ = [
    "__version__",
    "AudioError",
    "AuthError",
    "MusicwbError",
    "NotFound",
    "ParameterError",
    "RateLimited",
    "Settings",
    "SourceError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "UnsupportedFormatError",
    "get_settings",
    "open_store",
]
