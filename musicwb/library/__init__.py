"""Scanning music folders into the store: files, tags, a metadata CSV, and incremental re-scans.

The public API of the scan; see :mod:`musicwb.library.scan` for how a re-scan decides what to
do with each file.
"""

from __future__ import annotations

from musicwb.library.scan import (
    AUDIO_EXTENSIONS,
    BATCH_SIZE,
    METADATA_FIELDS,
    READ_THREADS,
    ScanSummary,
    TrackReading,
    content_hash,
    guess_from_filename,
    list_audio_files,
    plan_scan,
    read_metadata_csv,
    read_track_file,
    scan_errors_frame,
    scan_library,
    tags_to_fields,
    tracks_frame,
)

__all__ = [
    "AUDIO_EXTENSIONS",
    "BATCH_SIZE",
    "METADATA_FIELDS",
    "READ_THREADS",
    "ScanSummary",
    "TrackReading",
    "content_hash",
    "guess_from_filename",
    "list_audio_files",
    "plan_scan",
    "read_metadata_csv",
    "read_track_file",
    "scan_errors_frame",
    "scan_library",
    "tags_to_fields",
    "tracks_frame",
]
