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

# Heavier entry points load on first use (PEP 562), so `import musicwb` stays quick.
_LAZY = {
    "Store": "musicwb.store",
    "open_store": "musicwb.store",
    "scan_library": "musicwb.library",
    "tracks_frame": "musicwb.library",
    "build_demo": "musicwb.demo",
    "run_batch": "musicwb.reports",
    "ParsedTitle": "musicwb.titles",
    "parse_title": "musicwb.titles",
    "parse_filename": "musicwb.titles",
    "parse_titles_frame": "musicwb.titles",
    "normalise_tags": "musicwb.playlist.genres",
    "genre_similarity": "musicwb.playlist.genres",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'musicwb' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

__all__ = [
    "__version__",
    "AudioError",
    "AuthError",
    "ParsedTitle",
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
    "build_demo",
    "genre_similarity",
    "get_settings",
    "normalise_tags",
    "open_store",
    "parse_filename",
    "parse_title",
    "parse_titles_frame",
    "run_batch",
    "scan_library",
    "tracks_frame",
]
