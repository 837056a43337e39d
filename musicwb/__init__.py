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
    "hunt_labels": "musicwb.enrich.hunt",
    "LabelHunter": "musicwb.enrich.labels",
    "make_hunter": "musicwb.enrich.labels",
    "LlmAssist": "musicwb.enrich.llm",
    "LlmError": "musicwb.enrich.llm",
    "Worker": "musicwb.enrich.queue",
    "enqueue_missing_labels": "musicwb.enrich.queue",
    "queue_progress": "musicwb.enrich.queue",
    "Dashboard": "musicwb.enrich.dashboard",
    "evaluate_files": "musicwb.linkage",
    "identify": "musicwb.linkage",
    "build_artifact": "musicwb.sonic.artifact",
    "load_artifact": "musicwb.sonic.artifact",
    "make_playlist": "musicwb.playlist.build",
    "PlaylistParams": "musicwb.playlist.params",
    "sweep": "musicwb.playlist.sweep",
    "write_m3u8": "musicwb.playlist.export",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'musicwb' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

__all__ = [
    "AudioError",
    "AuthError",
    "Dashboard",
    "LabelHunter",
    "LlmAssist",
    "LlmError",
    "MusicwbError",
    "NotFound",
    "ParameterError",
    "ParsedTitle",
    "PlaylistParams",
    "RateLimited",
    "Settings",
    "SourceError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "UnsupportedFormatError",
    "Worker",
    "__version__",
    "build_artifact",
    "build_demo",
    "enqueue_missing_labels",
    "evaluate_files",
    "genre_similarity",
    "get_settings",
    "hunt_labels",
    "identify",
    "load_artifact",
    "make_hunter",
    "make_playlist",
    "normalise_tags",
    "open_store",
    "parse_filename",
    "parse_title",
    "parse_titles_frame",
    "queue_progress",
    "run_batch",
    "scan_library",
    "sweep",
    "tracks_frame",
    "write_m3u8",
]
