"""What playlists read from the store: track labels, tempo, durations, and the play history.

Playlists only read the store, except :func:`add_plays` (the ``play_history`` table, migration
007). A store opened read-only before migration 007 has no ``play_history`` table: it has
played nothing.

Examples
--------
>>> import tempfile, pathlib, datetime as dt, pandas as pd
>>> from musicwb.store import Store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
>>> plays = pd.DataFrame({"track_id": [3, 5], "source": "test",
...                       "played_at": [dt.datetime(2026, 11, 20), dt.datetime(2026, 10, 1)]})
>>> with Store(path) as store:
...     add_plays(store, plays=plays)
...     played_track_ids(store, start=dt.datetime(2026, 11, 1), end=dt.datetime(2026, 11, 22))
2
{3}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from musicwb.store.database import Store

__all__ = [
    "HISTORY_COLUMNS",
    "HISTORY_TABLE",
    "TrackStanding",
    "add_plays",
    "analysed_track_count",
    "played_track_ids",
    "recorded_plays",
    "stored_tempo",
    "track_durations",
    "track_labels",
    "track_standing",
]

HISTORY_TABLE = "play_history"
"""The table of plays: one row per (``track_id``, ``played_at``, ``source``)."""

HISTORY_COLUMNS = ("track_id", "played_at", "source")


# -- tracks -----------------------------------------------------------------------------------


def track_labels(store: Store) -> pd.DataFrame:
    """Artist, title, path, key tag and missing mark of every track, for a playlist context.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``path``, ``key`` (as tagged) and
        ``missing_since`` (set when a scan found the file gone); one row per track.
    """
    return store.df("SELECT id AS track_id, artist, title, path, key, missing_since FROM tracks")


@dataclass(frozen=True)
class TrackStanding:
    """What the store knows of one track that decides whether it can be in a playlist.

    Attributes
    ----------
    path : str
    missing_since : datetime or None
        When a scan found its file gone.
    analysed : bool
        Whether it has sonic features.
    content_flag, content_reason : str or None
        Why its features say it is not music (``silence``, ``near_silence``, ``steady_tone``).
    """

    path: str
    missing_since: datetime | None
    analysed: bool
    content_flag: str | None
    content_reason: str | None


def track_standing(store: Store, *, track_id: int) -> TrackStanding | None:
    """The file and features of one track, or None when the store has no such track.

    Used to say why a seed is not in the artifact (missing file, not analysed, flagged).
    """
    rows = store.rows(
        "SELECT t.path, t.missing_since, f.track_id IS NOT NULL, f.content_flag, "
        "f.content_reason FROM tracks t LEFT JOIN sonic_features f ON f.track_id = t.id "
        "WHERE t.id = ?",
        [int(track_id)],
    )
    return TrackStanding(*rows[0]) if rows else None


def track_durations(store: Store, *, track_ids: Sequence[int]) -> pd.DataFrame:
    """The duration in seconds of the tracks of a playlist (for ``#EXTINF`` lines).

    Returns
    -------
    pandas.DataFrame
        ``track_id`` and ``duration`` (missing when unknown), for the ids the store has.
    """
    return store.df(
        "SELECT id AS track_id, duration FROM tracks WHERE list_contains(?, id)",
        [[int(track_id) for track_id in track_ids]],
    )


# -- sonic features ---------------------------------------------------------------------------


def stored_tempo(store: Store) -> pd.DataFrame | None:
    """The tempo of every analysed track, from its sonic features (artifacts without rhythm).

    Returns
    -------
    pandas.DataFrame or None
        ``track_id`` and ``bpm``; None when the store has no sonic features table.
    """
    if not store.has_table("sonic_features"):
        return None
    return store.df("SELECT track_id, bpm FROM sonic_features")


def analysed_track_count(store: Store, *, include_flagged: bool) -> int:
    """How many analysed tracks a playlist may use: file present, not flagged as not music.

    Parameters
    ----------
    store : Store
    include_flagged : bool
        Count the tracks flagged as silence, near-silence or a steady tone too.

    Returns
    -------
    int
    """
    flagged = "TRUE" if include_flagged else "f.content_flag IS NULL"
    return int(
        store.scalar(
            "SELECT count(*) FROM sonic_features f JOIN tracks t ON t.id = f.track_id "
            f"WHERE t.missing_since IS NULL AND {flagged}"
        )
    )


# -- play history -----------------------------------------------------------------------------


def add_plays(store: Store, *, plays: pd.DataFrame) -> int:
    """Append plays in one statement; a play already recorded is kept once.

    Parameters
    ----------
    store : Store
        Open for writing.
    plays : pandas.DataFrame
        :data:`HISTORY_COLUMNS`, ``played_at`` naive UTC.

    Returns
    -------
    int
        How many plays were new.
    """
    with store.transaction():
        before = int(store.scalar(f"SELECT count(*) FROM {HISTORY_TABLE}"))
        store.upsert(HISTORY_TABLE, plays, key=list(HISTORY_COLUMNS))
        after = int(store.scalar(f"SELECT count(*) FROM {HISTORY_TABLE}"))
    return after - before


def played_track_ids(store: Store, *, start: datetime, end: datetime) -> set[int]:
    """The tracks played after ``start`` and at or before ``end`` (naive UTC).

    Parameters
    ----------
    store : Store
    start, end : datetime

    Returns
    -------
    set of int
        Empty when the store has no ``play_history`` table.
    """
    if not store.has_table(HISTORY_TABLE):
        return set()
    rows = store.rows(
        f"SELECT DISTINCT track_id FROM {HISTORY_TABLE} WHERE played_at > ? AND played_at <= ?",
        [start, end],
    )
    return {int(track_id) for (track_id,) in rows}


def recorded_plays(store: Store, *, since: datetime | None = None) -> pd.DataFrame:
    """The recorded plays, newest first.

    Parameters
    ----------
    store : Store
    since : datetime, optional
        Only plays at or after this time (naive UTC).

    Returns
    -------
    pandas.DataFrame
        :data:`HISTORY_COLUMNS`; no rows without a ``play_history`` table.
    """
    if not store.has_table(HISTORY_TABLE):
        return pd.DataFrame(
            {
                "track_id": pd.Series(dtype="int64"),
                "played_at": pd.Series(dtype="datetime64[us]"),
                "source": pd.Series(dtype="object"),
            }
        )
    columns = ", ".join(HISTORY_COLUMNS)
    if since is None:
        return store.df(f"SELECT {columns} FROM {HISTORY_TABLE} ORDER BY played_at DESC")
    return store.df(
        f"SELECT {columns} FROM {HISTORY_TABLE} WHERE played_at >= ? ORDER BY played_at DESC",
        [since],
    )
