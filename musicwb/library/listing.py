"""Reading what scans wrote: the tracks and the scan errors, as DataFrames.

Examples
--------
A scan of a folder with a short WAV file and a text file named like a FLAC file:

>>> import wave
>>> from pathlib import Path
>>> from tempfile import mkdtemp
>>> from musicwb.library.scan import scan_library
>>> folder = Path(mkdtemp())
>>> _ = (folder / "broken.flac").write_bytes(b"not audio at all")
>>> with wave.open(str(folder / "Artist - Title.wav"), "wb") as wav:
...     wav.setparams((1, 2, 8000, 0, "NONE", "not compressed"))
...     wav.writeframes(bytes(1600))
>>> with Store(folder / "lib.duckdb") as store:
...     _ = scan_library(store, folder, progress=False)
...     print(tracks_frame(store, limit=5)[["artist", "title", "missing"]].to_string(index=False))
...     print(track_counts(store), scan_errors_frame(store)["reason"].tolist())
artist title  missing
Artist Title    False
{'tracks': 1, 'missing': 0} ['not_audio']
"""

from __future__ import annotations

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.runs import last_run
from musicwb.store.tables import library as library_tables

__all__ = ["scan_errors_frame", "track_counts", "tracks_frame"]


def tracks_frame(
    store: Store, *, limit: int | None = None, missing_only: bool = False
) -> pd.DataFrame:
    """The tracks the store holds, by id, with whether their file is missing.

    Parameters
    ----------
    store : Store
        Read-only is enough.
    limit : int, optional
        At most this many rows (the lowest ids).
    missing_only : bool, default False
        Only the tracks whose file the last scan of their folder found gone.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, path, artist, title, album, label, duration, format, missing``; one row
        per track. ``missing`` is True where ``tracks.missing_since`` is set (the file is gone;
        ``musicwb scan ROOT --prune`` deletes such tracks).
    """
    if limit is not None and int(limit) < 1:
        raise ParameterError(f"limit must be at least 1, got {limit}")
    return library_tables.track_rows(store, limit=limit, missing_only=missing_only)


def track_counts(store: Store) -> dict[str, int]:
    """How many tracks the store holds, and how many of them have a missing file.

    Returns
    -------
    dict
        ``{"tracks": n, "missing": m}``.
    """
    counts = library_tables.count_tracks(store)
    return {"tracks": counts.tracks, "missing": counts.missing}


def scan_errors_frame(store: Store, *, last_run_only: bool = True) -> pd.DataFrame:
    """The files (and folders) scans could not read, with the reason.

    Parameters
    ----------
    store : Store
        Read-only is enough.
    last_run_only : bool, default True
        Only the errors of the most recent scan (what is still broken); else every scan's.

    Returns
    -------
    pandas.DataFrame
        Columns ``path, reason, message, run_id, recorded_at``; one row per file and scan,
        sorted by path (newest scan first when all runs).
    """
    if not last_run_only:
        return library_tables.scan_error_rows(store, run_id=None)
    run = last_run(store, kind="scan")
    if run is None:
        columns = library_tables.SCAN_ERROR_COLUMNS
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    return library_tables.scan_error_rows(store, run_id=run["run_id"])
