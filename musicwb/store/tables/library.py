"""The library's tables: ``tracks`` and ``scan_errors``, and the store-wide counts of the overview.

Every statement of the library, the demo's scan checks and :mod:`musicwb.overview` that names a
table of the schema is here; the rooms above call these functions with values and get values,
frames or small frozen dataclasses back.

Examples
--------
>>> from tempfile import mkdtemp
>>> new = Store(f"{mkdtemp()}/tables.duckdb")
>>> count_tracks(new), next_track_id(new), headline_counts(new)["scan errors"]
(TrackCounts(tracks=0, missing=0), 1, 0)
>>> new.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store.database import Store

__all__ = [
    "NO_ARTIST",
    "NO_LABEL",
    "NO_VALUE",
    "SCAN_ERROR_COLUMNS",
    "OverviewQuery",
    "TrackCounts",
    "TracksOutside",
    "count_tracks",
    "delete_track_rows",
    "delete_tracks_at",
    "duration_bins",
    "headline_counts",
    "insert_scan_errors",
    "insert_tracks",
    "known_tracks",
    "next_track_id",
    "overview_frame",
    "scan_error_rows",
    "set_missing_since",
    "track_fields",
    "track_id_tables",
    "track_rows",
    "tracks_outside",
    "update_tracks",
]

NO_ARTIST = "(no artist)"
"""How a track without an artist is counted in the overview."""
NO_LABEL = "(no label)"
"""How a track without a label is counted in the overview."""
NO_VALUE = "(unknown)"
"""How a missing format, sample rate or label source is counted in the overview."""

OverviewQuery = Literal[
    "label_coverage",
    "top_labels",
    "tracks_missing_label",
    "tracklist_sets",
    "unknown_entries",
    "format_counts",
    "sample_rate_counts",
    "tracks_per_artist",
    "tracks_per_album",
    "genre_counts",
]
"""The read-only overview queries :func:`overview_frame` runs."""

_OVERVIEW_SQL: dict[OverviewQuery, str] = {
    "label_coverage": f"""
        SELECT
            CASE WHEN nullif(trim(label), '') IS NULL THEN 'without label' ELSE 'with label' END
                AS status,
            CASE WHEN nullif(trim(label), '') IS NULL THEN '{NO_LABEL}'
                 ELSE coalesce(label_source, '{NO_VALUE}') END AS label_source,
            count(*) AS tracks
        FROM tracks
        GROUP BY ALL
        ORDER BY status, tracks DESC, label_source
    """,
    "top_labels": """
        SELECT label, count(*) AS tracks, count(DISTINCT artist) AS artists
        FROM tracks WHERE nullif(trim(label), '') IS NOT NULL
        GROUP BY label ORDER BY tracks DESC, label
    """,
    "tracks_missing_label": """
        SELECT id, artist, title, album, path
        FROM tracks WHERE nullif(trim(label), '') IS NULL
        ORDER BY artist NULLS LAST, title NULLS LAST, id
    """,
    "tracklist_sets": """
        SELECT s.set_id, s.dj, s.title, s.source,
               count(e.position) AS entries,
               count(e.position) FILTER (WHERE NOT e.is_unknown) AS known_entries,
               count(e.position) FILTER (WHERE e.is_unknown) AS unknown_entries,
               (SELECT count(*) FROM tracklist_truth t WHERE t.set_id = s.set_id) AS truth_rows
        FROM tracklist_sets s LEFT JOIN tracklist_entries e USING (set_id)
        GROUP BY ALL
        ORDER BY unknown_entries DESC, s.set_id
    """,
    "unknown_entries": """
        SELECT e.set_id, e.position, e.raw, e.artist, e.title, e.label,
               t.artist AS truth_artist, t.title AS truth_title, t.label AS truth_label
        FROM tracklist_entries e LEFT JOIN tracklist_truth t USING (set_id, position)
        WHERE e.is_unknown
        ORDER BY e.set_id, e.position
    """,
    "format_counts": f"""
        SELECT coalesce(format, '{NO_VALUE}') AS format, count(*) AS tracks,
               coalesce(sum(duration), 0) / 3600.0 AS hours
        FROM tracks GROUP BY ALL ORDER BY tracks DESC, format
    """,
    "sample_rate_counts": f"""
        SELECT coalesce(sample_rate::VARCHAR || ' Hz', '{NO_VALUE}') AS sample_rate,
               count(*) AS tracks
        FROM tracks GROUP BY tracks.sample_rate ORDER BY tracks.sample_rate NULLS LAST
    """,
    "tracks_per_artist": f"""
        SELECT coalesce(artist, '{NO_ARTIST}') AS artist, count(*) AS tracks,
               count(DISTINCT album) AS albums, count(DISTINCT label) AS labels
        FROM tracks GROUP BY ALL ORDER BY tracks DESC, artist
    """,
    "tracks_per_album": f"""
        SELECT coalesce(artist, '{NO_ARTIST}') AS artist, album, count(*) AS tracks,
               coalesce(sum(duration), 0) / 60.0 AS minutes
        FROM tracks WHERE nullif(trim(album), '') IS NOT NULL
        GROUP BY ALL ORDER BY tracks DESC, artist, album
    """,
    "genre_counts": """
        SELECT genre, count(*) AS tracks, count(DISTINCT artist) AS artists
        FROM (SELECT unnest(genres) AS genre, artist FROM tracks)
        WHERE nullif(trim(genre), '') IS NOT NULL
        GROUP BY genre ORDER BY tracks DESC, genre
    """,
}


@dataclass(frozen=True)
class TrackCounts:
    """How many tracks the store holds, and how many of them have a missing file."""

    tracks: int
    missing: int


# -- the overview (read-only counts) --------------------------------------------------------


def headline_counts(store: Store) -> dict[str, int]:
    """The store's headline counts: tracks, artists, albums, labels, genres, sets and errors.

    Parameters
    ----------
    store : Store
        Read-only is enough.

    Returns
    -------
    dict of str to int
        Keys ``tracks, artists, albums, labels, genres, tracklist sets, tracklist entries,
        unknown entries, truth rows, scan errors``, in that order.
    """
    row = store.df(
        """
        SELECT
            (SELECT count(*) FROM tracks) AS "tracks",
            (SELECT count(DISTINCT artist) FROM tracks) AS "artists",
            (SELECT count(DISTINCT (artist, album)) FROM tracks WHERE album IS NOT NULL)
                AS "albums",
            (SELECT count(DISTINCT nullif(trim(label), '')) FROM tracks) AS "labels",
            (SELECT count(DISTINCT g) FROM (SELECT unnest(genres) AS g FROM tracks)) AS "genres",
            (SELECT count(*) FROM tracklist_sets) AS "tracklist sets",
            (SELECT count(*) FROM tracklist_entries) AS "tracklist entries",
            (SELECT count(*) FROM tracklist_entries WHERE is_unknown) AS "unknown entries",
            (SELECT count(*) FROM tracklist_truth) AS "truth rows",
            (SELECT count(*) FROM scan_errors) AS "scan errors"
        """
    )
    return {str(name): int(value) for name, value in row.iloc[0].items()}


def overview_frame(store: Store, *, query: OverviewQuery, limit: int | None = None) -> pd.DataFrame:
    """The rows of one overview query, sorted, at most ``limit`` of them.

    Parameters
    ----------
    store : Store
        Read-only is enough.
    query : OverviewQuery
        Which query (see :mod:`musicwb.overview` for the columns of each).
    limit : int or None, default None
        At most this many rows (a whole number of at least 1); ``None`` for all.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ParameterError
        ``query`` is not an overview query, or ``limit`` is not a whole number of at least 1.
    """
    if query not in _OVERVIEW_SQL:
        raise ParameterError(f"no overview query {query!r}; one of {', '.join(_OVERVIEW_SQL)}")
    sql = _OVERVIEW_SQL[query]
    if limit is None:
        return store.df(sql)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ParameterError(f"limit must be a whole number of at least 1, got {limit!r}")
    return store.df(f"{sql} LIMIT {limit}")


def duration_bins(store: Store, *, bin_s: float) -> pd.DataFrame:
    """Tracks per duration bin of ``bin_s`` seconds: ``bin_start_s``, ``tracks``, ascending.

    Tracks without a duration are not counted; empty bins have no row.
    """
    return store.df(
        """
        SELECT floor(duration / $bin) * $bin AS bin_start_s, count(*) AS tracks
        FROM tracks WHERE duration IS NOT NULL
        GROUP BY ALL ORDER BY bin_start_s
        """,
        {"bin": float(bin_s)},
    )


# -- listing -------------------------------------------------------------------------------

SCAN_ERROR_COLUMNS = ("path", "reason", "message", "run_id", "recorded_at")
"""The columns of :func:`scan_error_rows`, in order."""


def track_rows(
    store: Store, *, limit: int | None = None, missing_only: bool = False
) -> pd.DataFrame:
    """The tracks by id (the lowest ``limit`` ids; only those with ``missing_since`` set if
    ``missing_only``): ``id, path, artist, title, album, label, duration, format, missing``."""
    sql = (
        "SELECT id, path, artist, title, album, label, duration, format, "
        "missing_since IS NOT NULL AS missing FROM tracks"
    )
    if missing_only:
        sql += " WHERE missing_since IS NOT NULL"
    sql += " ORDER BY id"
    if limit is None:
        return store.df(sql)
    return store.df(sql + " LIMIT ?", [int(limit)])


def count_tracks(store: Store) -> TrackCounts:
    """How many tracks the store holds, and how many have ``missing_since`` set."""
    total, missing = store.rows("SELECT count(*), count(missing_since) FROM tracks")[0]
    return TrackCounts(tracks=int(total), missing=int(missing))


def scan_error_rows(store: Store, *, run_id: str | None) -> pd.DataFrame:
    """Scan errors: ``path, reason, message, run_id, recorded_at``.

    Parameters
    ----------
    store : Store
        Read-only is enough.
    run_id : str or None
        The errors of this scan, sorted by path; ``None`` for every scan's, newest scan first.
    """
    columns = ", ".join(SCAN_ERROR_COLUMNS)
    if run_id is None:
        return store.df(f"SELECT {columns} FROM scan_errors ORDER BY run_id DESC, path")
    return store.df(f"SELECT {columns} FROM scan_errors WHERE run_id = ? ORDER BY path", [run_id])


def known_tracks(store: Store) -> pd.DataFrame:
    """What a scan compares files with: ``id, path, size, mtime, content_hash, missing_since``."""
    return store.df("SELECT id, path, size, mtime, content_hash, missing_since FROM tracks")


@dataclass(frozen=True)
class TracksOutside:
    """The tracks whose path is not under a folder: how many, and the first path of them."""

    count: int
    example: str | None


def tracks_outside(store: Store, *, folder_prefix: str) -> TracksOutside:
    """The tracks whose path does not start with ``folder_prefix`` (a folder and its separator)."""
    count, example = store.rows(
        "SELECT count(*), min(path) FROM tracks WHERE NOT starts_with(path, ?)", [folder_prefix]
    )[0]
    return TracksOutside(count=int(count), example=example)


# -- writing -------------------------------------------------------------------------------


def next_track_id(store: Store) -> int:
    """The id the next new track gets: one more than the highest (1 in an empty store)."""
    return int(store.scalar("SELECT coalesce(max(id), 0) + 1 FROM tracks"))


def insert_tracks(store: Store, *, rows: pd.DataFrame) -> int:
    """Insert new tracks (``rows`` with their ``id``); returns how many."""
    return store.insert("tracks", rows)


def update_tracks(store: Store, *, rows: pd.DataFrame) -> int:
    """Update the tracks ``rows`` names by ``id`` (only the columns it has); returns how many."""
    return store.update("tracks", rows, key=["id"])


def insert_scan_errors(store: Store, *, rows: pd.DataFrame) -> int:
    """Insert scan errors (``path, reason, message, run_id, recorded_at``); returns how many."""
    return store.insert("scan_errors", rows)


def track_fields(store: Store, *, ids: Sequence[int], columns: Sequence[str]) -> pd.DataFrame:
    """The ``id`` and ``columns`` of the tracks ``ids`` as stored (in no particular order)."""
    selected = ", ".join(["id", *columns])
    return store.df(f"SELECT {selected} FROM tracks WHERE list_contains(?, id)", [list(ids)])


def set_missing_since(
    store: Store, *, gone: Sequence[int], found: Sequence[int], now: datetime
) -> None:
    """Set ``missing_since`` of the ``gone`` tracks to ``now`` and clear it for ``found`` ones."""
    if not (gone or found):
        return
    with store.transaction():
        if found:
            store.execute(
                "UPDATE tracks SET missing_since = NULL WHERE list_contains(?, id)", [list(found)]
            )
        if gone:
            store.execute(
                "UPDATE tracks SET missing_since = ? WHERE list_contains(?, id)", [now, list(gone)]
            )


def track_id_tables(store: Store) -> list[str]:
    """The tables other than ``tracks`` with a ``track_id`` column (rows that name a track)."""
    return [
        name
        for (name,) in store.rows(
            "SELECT c.table_name FROM information_schema.columns AS c "
            "JOIN information_schema.tables AS t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.column_name = 'track_id' AND c.table_schema = 'main' "
            "AND t.table_type = 'BASE TABLE' AND c.table_name <> 'tracks' "
            "ORDER BY c.table_name"
        )
    ]


def delete_track_rows(store: Store, *, ids: Sequence[int]) -> dict[str, int]:
    """Delete tracks and every row of a :func:`track_id_tables` table naming them, at once.

    Parameters
    ----------
    store : Store
        Open for writing.
    ids : sequence of int
        The tracks to delete.

    Returns
    -------
    dict of str to int
        Rows deleted per table, ``"tracks"`` last; tables with none are left out.

    Raises
    ------
    StoreError
        A delete failed: the transaction is rolled back and nothing is deleted.
    """
    deleted: dict[str, int] = {}
    wanted = list(ids)
    with store.transaction():
        targets = [(name, "track_id") for name in track_id_tables(store)]
        for table, column in [*targets, ("tracks", "id")]:
            where = f"WHERE list_contains(?, {column})"
            count = int(store.scalar(f"SELECT count(*) FROM {table} {where}", [wanted]))
            if count:
                store.execute(f"DELETE FROM {table} {where}", [wanted])
                deleted[table] = count
    return deleted


def delete_tracks_at(store: Store, *, paths: Sequence[str]) -> None:
    """Delete the tracks at these paths (only the ``tracks`` rows)."""
    if paths:
        store.execute("DELETE FROM tracks WHERE list_contains(?::VARCHAR[], path)", [list(paths)])
