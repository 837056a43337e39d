"""Reading what scans wrote: the tracks and the scan errors, as DataFrames."""

from __future__ import annotations

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.runs import last_run

__all__ = ["scan_errors_frame", "track_counts", "tracks_frame"]

_ERROR_COLUMNS = ["path", "reason", "message", "run_id", "recorded_at"]


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

    Examples
    --------
    >>> tracks_frame(store, limit=5).columns.tolist()  # doctest: +SKIP
    ['id', 'path', 'artist', 'title', 'album', 'label', 'duration', 'format', 'missing']
    """
    sql = (
        "SELECT id, path, artist, title, album, label, duration, format, "
        "missing_since IS NOT NULL AS missing FROM tracks"
    )
    if missing_only:
        sql += " WHERE missing_since IS NOT NULL"
    sql += " ORDER BY id"
    if limit is not None:
        if int(limit) < 1:
            raise ParameterError(f"limit must be at least 1, got {limit}")
        return store.df(sql + " LIMIT ?", [int(limit)])
    return store.df(sql)


def track_counts(store: Store) -> dict[str, int]:
    """How many tracks the store holds, and how many of them have a missing file.

    Returns
    -------
    dict
        ``{"tracks": n, "missing": m}``.

    Examples
    --------
    >>> track_counts(store)  # doctest: +SKIP
    {'tracks': 75, 'missing': 2}
    """
    total, missing = store.rows("SELECT count(*), count(missing_since) FROM tracks")[0]
    return {"tracks": int(total), "missing": int(missing)}


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

    Examples
    --------
    >>> scan_errors_frame(store)[["path", "reason"]]  # doctest: +SKIP
                     path     reason
    0  /music/broken.flac  truncated
    """
    columns = ", ".join(_ERROR_COLUMNS)
    if not last_run_only:
        return store.df(f"SELECT {columns} FROM scan_errors ORDER BY run_id DESC, path")
    run = last_run(store, kind="scan")
    if run is None:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in _ERROR_COLUMNS})
    return store.df(
        f"SELECT {columns} FROM scan_errors WHERE run_id = ? ORDER BY path", [run["run_id"]]
    )
