"""The genres of the ``tracks`` table and the ``genre_changes`` log (``musicwb genres migrate``).

Examples
--------
>>> import tempfile, pathlib, datetime as dt, pandas as pd
>>> from musicwb.store import Store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
>>> now = dt.datetime(2026, 1, 1)
>>> with Store(path) as store:
...     store.insert("tracks", pd.DataFrame({"id": [1, 2], "path": ["/a.mp3", "/b.mp3"],
...         "size": 1, "mtime": 0.0, "content_hash": ["a", "b"],
...         "genres": [["D&B", "techno"], ["techno"]], "added_at": now, "updated_at": now}))
...     genre_tag_counts(store).to_dict("records")
2
[{'tag': 'techno', 'tracks': 2}, {'tag': 'D&B', 'tracks': 1}]
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from musicwb.store.database import Store

__all__ = ["genre_tag_counts", "log_genre_changes", "track_genres", "write_track_genres"]


def genre_tag_counts(store: Store) -> pd.DataFrame:
    """Every distinct raw genre tag of the tracks, with how many tracks carry it.

    A library repeats a few thousand tags over its tracks: the migration reads each once.

    Returns
    -------
    pandas.DataFrame
        ``tag`` and ``tracks``, the most frequent first (ties by tag).
    """
    return store.df(
        "SELECT tag, count(DISTINCT id) AS tracks FROM "
        "(SELECT id, unnest(genres) AS tag FROM tracks WHERE genres IS NOT NULL) "
        "WHERE tag IS NOT NULL GROUP BY tag ORDER BY tracks DESC, tag"
    )


def track_genres(store: Store) -> pd.DataFrame:
    """The genre list of every track that has one, by track id.

    Returns
    -------
    pandas.DataFrame
        ``id`` and ``genres`` (list of raw tags, as scanned or as last migrated).
    """
    return store.df("SELECT id, genres FROM tracks WHERE genres IS NOT NULL ORDER BY id")


def write_track_genres(store: Store, *, genres: pd.DataFrame, updated_at: datetime) -> int:
    """Replace the genre lists of some tracks.

    Parameters
    ----------
    store : Store
        Open for writing.
    genres : pandas.DataFrame
        ``id`` and ``genres`` (list of str) per track.
    updated_at : datetime
        Written as the tracks' ``updated_at`` (naive UTC).

    Returns
    -------
    int
        Rows updated.
    """
    rows = pd.DataFrame(
        {
            "id": genres["id"].to_numpy(),
            "genres": genres["genres"].to_numpy(),
            "updated_at": updated_at,
        }
    )
    return store.update("tracks", rows, key=["id"])


def log_genre_changes(
    store: Store, *, changes: pd.DataFrame, run_id: str, changed_at: datetime
) -> int:
    """Append the before and after of each changed track to ``genre_changes``.

    Parameters
    ----------
    store : Store
        Open for writing.
    changes : pandas.DataFrame
        ``track_id``, ``genres_before``, ``genres_after``.
    run_id : str
        The migration's run.
    changed_at : datetime
        Naive UTC.

    Returns
    -------
    int
        Rows appended.
    """
    return store.insert("genre_changes", changes.assign(run_id=run_id, changed_at=changed_at))
