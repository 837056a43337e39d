"""What the store holds, as small tables for the notebooks: ``Store -> DataFrame``.

Each function runs one read-only query and returns an aggregated, sorted frame that a notebook
shows as a table or hands to :mod:`musicwb.charts`. Nothing here writes, prints or draws.
Missing values are kept visible: a track without an artist counts under ``(no artist)``, one
without a label under ``(no label)``, so totals always add up to the number of tracks.

Examples
--------
>>> import tempfile, pathlib
>>> from musicwb.store import Store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
>>> with Store(path) as store:
...     int(library_totals(store).set_index("measure").loc["tracks", "value"])
0
"""

from __future__ import annotations

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store

__all__ = [
    "NO_ARTIST",
    "NO_LABEL",
    "NO_VALUE",
    "duration_histogram",
    "format_counts",
    "genre_counts",
    "label_coverage",
    "library_totals",
    "sample_rate_counts",
    "top_labels",
    "tracklist_set_summary",
    "tracks_missing_label",
    "tracks_per_album",
    "tracks_per_artist",
    "unknown_entries",
]

NO_ARTIST = "(no artist)"
NO_LABEL = "(no label)"
NO_VALUE = "(unknown)"


def _positive_int(value: object, *, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def _limit_clause(limit: int | None, *, name: str = "limit") -> str:
    return "" if limit is None else f" LIMIT {_positive_int(limit, name=name)}"


def library_totals(store: Store) -> pd.DataFrame:
    """Headline counts of the store.

    Parameters
    ----------
    store : Store

    Returns
    -------
    pandas.DataFrame
        One row per measure (``tracks``, ``artists``, ``albums``, ``labels``, ``genres``,
        ``tracklist sets``, ``tracklist entries``, ``unknown entries``, ``truth rows``,
        ``scan errors``); columns ``measure`` (str) and ``value`` (int).

    Examples
    --------
    >>> library_totals(store)  # doctest: +SKIP
                  measure  value
    0              tracks    240
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
    totals = row.iloc[0].astype("int64")
    return pd.DataFrame({"measure": totals.index, "value": totals.to_numpy()})


def label_coverage(store: Store) -> pd.DataFrame:
    """How many tracks have a record label, split by where the label came from.

    Parameters
    ----------
    store : Store

    Returns
    -------
    pandas.DataFrame
        One row per (``status``, ``label_source``): ``status`` is ``"with label"`` or
        ``"without label"``; ``label_source`` is the recorded source (``"(unknown)"`` when a
        label has none, ``"(no label)"`` for tracks without a label); ``tracks`` (int) and
        ``share`` (float, fraction of all tracks). Sorted with labelled tracks first.

    Examples
    --------
    >>> label_coverage(store)  # doctest: +SKIP
              status label_source  tracks  share
    0     with label         tags     180   0.75
    1  without label   (no label)      60   0.25
    """
    frame = store.df(
        f"""
        SELECT
            CASE WHEN nullif(trim(label), '') IS NULL THEN 'without label' ELSE 'with label' END
                AS status,
            CASE WHEN nullif(trim(label), '') IS NULL THEN '{NO_LABEL}'
                 ELSE coalesce(label_source, '{NO_VALUE}') END AS label_source,
            count(*) AS tracks
        FROM tracks
        GROUP BY ALL
        ORDER BY status, tracks DESC, label_source
        """
    )
    frame["tracks"] = frame["tracks"].astype("int64")
    total = frame["tracks"].sum()
    frame["share"] = frame["tracks"] / total if total else 0.0
    return frame


def top_labels(store: Store, *, limit: int | None = 20) -> pd.DataFrame:
    """The labels with the most tracks.

    Parameters
    ----------
    store : Store
    limit : int or None, default 20
        At most this many labels; ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``label`` (str), ``tracks`` (int), ``artists`` (int); most tracks first.
    """
    return store.df(
        """
        SELECT label, count(*) AS tracks, count(DISTINCT artist) AS artists
        FROM tracks WHERE nullif(trim(label), '') IS NOT NULL
        GROUP BY label ORDER BY tracks DESC, label
        """
        + _limit_clause(limit)
    )


def tracks_missing_label(store: Store, *, limit: int | None = 50) -> pd.DataFrame:
    """Tracks without a record label: the label hunter's work list.

    Parameters
    ----------
    store : Store
    limit : int or None, default 50
        At most this many tracks; ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``artist``, ``title``, ``album``, ``path``; sorted by artist, title.
    """
    return store.df(
        """
        SELECT id, artist, title, album, path
        FROM tracks WHERE nullif(trim(label), '') IS NULL
        ORDER BY artist NULLS LAST, title NULLS LAST, id
        """
        + _limit_clause(limit)
    )


def tracklist_set_summary(store: Store) -> pd.DataFrame:
    """Each DJ set with its number of entries, unknown entries and known answers.

    Parameters
    ----------
    store : Store

    Returns
    -------
    pandas.DataFrame
        One row per set: ``set_id``, ``dj``, ``title``, ``source``, ``entries``,
        ``known_entries``, ``unknown_entries`` (int), ``unknown_share`` (float) and
        ``truth_rows`` (int, unknown entries whose identity is known). Most unknowns first.
    """
    frame = store.df(
        """
        SELECT s.set_id, s.dj, s.title, s.source,
               count(e.position) AS entries,
               count(e.position) FILTER (WHERE NOT e.is_unknown) AS known_entries,
               count(e.position) FILTER (WHERE e.is_unknown) AS unknown_entries,
               (SELECT count(*) FROM tracklist_truth t WHERE t.set_id = s.set_id) AS truth_rows
        FROM tracklist_sets s LEFT JOIN tracklist_entries e USING (set_id)
        GROUP BY ALL
        ORDER BY unknown_entries DESC, s.set_id
        """
    )
    for column in ("entries", "known_entries", "unknown_entries", "truth_rows"):
        frame[column] = frame[column].astype("int64")
    frame["unknown_share"] = (
        frame["unknown_entries"] / frame["entries"].where(frame["entries"] > 0)
    ).fillna(0.0)
    return frame


def unknown_entries(store: Store, *, limit: int | None = 50) -> pd.DataFrame:
    """Unknown tracklist entries ("ID - ID", "?", "Artist - ID") with their answer if known.

    Parameters
    ----------
    store : Store
    limit : int or None, default 50
        At most this many entries; ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``set_id``, ``position``, ``raw``, ``artist``, ``title``, ``label``,
        ``truth_artist``, ``truth_title``, ``truth_label`` (the truth columns are missing
        values where nothing is known); sorted by set and position.
    """
    return store.df(
        """
        SELECT e.set_id, e.position, e.raw, e.artist, e.title, e.label,
               t.artist AS truth_artist, t.title AS truth_title, t.label AS truth_label
        FROM tracklist_entries e LEFT JOIN tracklist_truth t USING (set_id, position)
        WHERE e.is_unknown
        ORDER BY e.set_id, e.position
        """
        + _limit_clause(limit)
    )


def format_counts(store: Store) -> pd.DataFrame:
    """Tracks per audio format.

    Returns
    -------
    pandas.DataFrame
        Columns ``format`` (str, ``"(unknown)"`` when not recorded), ``tracks`` (int),
        ``hours`` (float, total duration); most tracks first.
    """
    return store.df(
        f"""
        SELECT coalesce(format, '{NO_VALUE}') AS format, count(*) AS tracks,
               coalesce(sum(duration), 0) / 3600.0 AS hours
        FROM tracks GROUP BY ALL ORDER BY tracks DESC, format
        """
    )


def sample_rate_counts(store: Store) -> pd.DataFrame:
    """Tracks per sample rate.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample_rate`` (str, e.g. ``"44100 Hz"``, ``"(unknown)"``) and ``tracks``
        (int); ascending sample rate, unknown last.
    """
    return store.df(
        f"""
        SELECT coalesce(sample_rate::VARCHAR || ' Hz', '{NO_VALUE}') AS sample_rate,
               count(*) AS tracks
        FROM tracks GROUP BY tracks.sample_rate ORDER BY tracks.sample_rate NULLS LAST
        """
    )


def duration_histogram(store: Store, *, bin_s: float = 30.0) -> pd.DataFrame:
    """Track durations counted in bins of equal width.

    Parameters
    ----------
    store : Store
    bin_s : float, default 30.0
        Width of a bin in seconds (> 0).

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin: ``bin_start_s``, ``bin_end_s`` (float, seconds) and
        ``tracks`` (int); ascending. Tracks without a duration are not counted.

    Examples
    --------
    >>> duration_histogram(store, bin_s=60)  # doctest: +SKIP
       bin_start_s  bin_end_s  tracks
    0        120.0      180.0      12
    """
    if isinstance(bin_s, bool) or not isinstance(bin_s, int | float) or not bin_s > 0:
        raise ParameterError(f"bin_s must be a positive number of seconds, got {bin_s!r}")
    frame = store.df(
        """
        SELECT floor(duration / $bin) * $bin AS bin_start_s, count(*) AS tracks
        FROM tracks WHERE duration IS NOT NULL
        GROUP BY ALL ORDER BY bin_start_s
        """,
        {"bin": float(bin_s)},
    )
    frame["bin_start_s"] = frame["bin_start_s"].astype("float64")
    frame.insert(1, "bin_end_s", frame["bin_start_s"] + float(bin_s))
    frame["tracks"] = frame["tracks"].astype("int64")
    return frame


def tracks_per_artist(store: Store, *, limit: int | None = 25) -> pd.DataFrame:
    """The artists with the most tracks.

    Parameters
    ----------
    store : Store
    limit : int or None, default 25
        At most this many artists; ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``artist`` (str, ``"(no artist)"`` for missing), ``tracks``, ``albums``,
        ``labels`` (int); most tracks first.
    """
    return store.df(
        f"""
        SELECT coalesce(artist, '{NO_ARTIST}') AS artist, count(*) AS tracks,
               count(DISTINCT album) AS albums, count(DISTINCT label) AS labels
        FROM tracks GROUP BY ALL ORDER BY tracks DESC, artist
        """
        + _limit_clause(limit)
    )


def tracks_per_album(store: Store, *, limit: int | None = 25) -> pd.DataFrame:
    """The albums with the most tracks (an album is an artist and an album title).

    Parameters
    ----------
    store : Store
    limit : int or None, default 25
        At most this many albums; ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``artist``, ``album`` (str), ``tracks`` (int), ``minutes`` (float); most
        tracks first. Tracks without an album are left out.
    """
    return store.df(
        f"""
        SELECT coalesce(artist, '{NO_ARTIST}') AS artist, album, count(*) AS tracks,
               coalesce(sum(duration), 0) / 60.0 AS minutes
        FROM tracks WHERE nullif(trim(album), '') IS NOT NULL
        GROUP BY ALL ORDER BY tracks DESC, artist, album
        """
        + _limit_clause(limit)
    )


def genre_counts(store: Store, *, limit: int | None = 25) -> pd.DataFrame:
    """Tracks per genre (a track with several genres counts once for each).

    Parameters
    ----------
    store : Store
    limit : int or None, default 25
        At most this many genres; ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``genre`` (str), ``tracks`` and ``artists`` (int); most tracks first.
        Tracks without genres are not counted.
    """
    return store.df(
        """
        SELECT genre, count(*) AS tracks, count(DISTINCT artist) AS artists
        FROM (SELECT unnest(genres) AS genre, artist FROM tracks)
        WHERE nullif(trim(genre), '') IS NOT NULL
        GROUP BY genre ORDER BY tracks DESC, genre
        """
        + _limit_clause(limit)
    )
