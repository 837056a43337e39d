"""What the store holds, as small tables for the notebooks: ``Store -> DataFrame``.

Each function runs one read-only query of :mod:`musicwb.store.tables.library` and returns an
aggregated, sorted frame that a notebook shows as a table or hands to :mod:`musicwb.charts`.
Nothing here writes, prints or draws. Missing values are kept visible: a track without an artist
counts under ``(no artist)``, one without a label under ``(no label)``, so totals always add up
to the number of tracks.

The ranked lists (:func:`top_labels`, :func:`tracks_missing_label`, :func:`unknown_entries`,
:func:`tracks_per_artist`, :func:`tracks_per_album`, :func:`genre_counts`) take ``limit``: at
most this many rows (a whole number of at least 1), ``None`` for all; a bad limit is a
:class:`~musicwb.errors.ParameterError`.

Examples
--------
>>> from tempfile import mkdtemp
>>> from musicwb.store import Store
>>> empty = Store(f"{mkdtemp()}/overview.duckdb")
>>> int(library_totals(empty).set_index("measure").loc["tracks", "value"])
0
>>> top_labels(empty, limit=5).columns.tolist()
['label', 'tracks', 'artists']
>>> empty.close()
"""

from __future__ import annotations

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.tables import library as library_tables
from musicwb.store.tables.library import NO_ARTIST, NO_LABEL, NO_VALUE

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


def _int_columns(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = frame[column].astype("int64")
    return frame


def library_totals(store: Store) -> pd.DataFrame:
    """Headline counts of the store.

    Returns
    -------
    pandas.DataFrame
        One row per measure (``tracks``, ``artists``, ``albums``, ``labels``, ``genres``,
        ``tracklist sets``, ``tracklist entries``, ``unknown entries``, ``truth rows``,
        ``scan errors``); columns ``measure`` (str) and ``value`` (int).
    """
    totals = library_tables.headline_counts(store)
    return pd.DataFrame(
        {"measure": list(totals), "value": pd.Series(list(totals.values()), dtype="int64")}
    )


def label_coverage(store: Store) -> pd.DataFrame:
    """How many tracks have a record label, split by where the label came from.

    Returns
    -------
    pandas.DataFrame
        One row per (``status``, ``label_source``): ``status`` is ``"with label"`` or
        ``"without label"``; ``label_source`` is the recorded source (``"(unknown)"`` when a
        label has none, ``"(no label)"`` for tracks without a label); ``tracks`` (int) and
        ``share`` (float, fraction of all tracks). Sorted with labelled tracks first.
    """
    frame = _int_columns(library_tables.overview_frame(store, query="label_coverage"), "tracks")
    total = frame["tracks"].sum()
    frame["share"] = frame["tracks"] / total if total else 0.0
    return frame


def top_labels(store: Store, *, limit: int | None = 20) -> pd.DataFrame:
    """The labels with the most tracks: ``label`` (str), ``tracks``, ``artists`` (int)."""
    return library_tables.overview_frame(store, query="top_labels", limit=limit)


def tracks_missing_label(store: Store, *, limit: int | None = 50) -> pd.DataFrame:
    """Tracks without a record label, the label hunter's work list: ``id``, ``artist``,
    ``title``, ``album``, ``path``; sorted by artist, title."""
    return library_tables.overview_frame(store, query="tracks_missing_label", limit=limit)


def tracklist_set_summary(store: Store) -> pd.DataFrame:
    """Each DJ set with its number of entries, unknown entries and known answers.

    Returns
    -------
    pandas.DataFrame
        One row per set: ``set_id``, ``dj``, ``title``, ``source``, ``entries``,
        ``known_entries``, ``unknown_entries`` (int), ``unknown_share`` (float) and
        ``truth_rows`` (int, unknown entries whose identity is known). Most unknowns first.
    """
    frame = _int_columns(
        library_tables.overview_frame(store, query="tracklist_sets"),
        "entries",
        "known_entries",
        "unknown_entries",
        "truth_rows",
    )
    frame["unknown_share"] = (
        frame["unknown_entries"] / frame["entries"].where(frame["entries"] > 0)
    ).fillna(0.0)
    return frame


def unknown_entries(store: Store, *, limit: int | None = 50) -> pd.DataFrame:
    """Unknown tracklist entries ("ID - ID", "?", "Artist - ID") with their answer if known:
    ``set_id``, ``position``, ``raw``, ``artist``, ``title``, ``label``, ``truth_artist``,
    ``truth_title``, ``truth_label`` (missing where nothing is known); by set and position."""
    return library_tables.overview_frame(store, query="unknown_entries", limit=limit)


def format_counts(store: Store) -> pd.DataFrame:
    """Tracks per audio format: ``format`` (str, ``"(unknown)"`` when not recorded),
    ``tracks`` (int), ``hours`` (float, total duration); most tracks first."""
    return library_tables.overview_frame(store, query="format_counts")


def sample_rate_counts(store: Store) -> pd.DataFrame:
    """Tracks per sample rate: ``sample_rate`` (str, e.g. ``"44100 Hz"``, ``"(unknown)"``) and
    ``tracks`` (int); ascending sample rate, unknown last."""
    return library_tables.overview_frame(store, query="sample_rate_counts")


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

    Raises
    ------
    ParameterError
        ``bin_s`` is not a positive number.
    """
    if isinstance(bin_s, bool) or not isinstance(bin_s, int | float) or not bin_s > 0:
        raise ParameterError(f"bin_s must be a positive number of seconds, got {bin_s!r}")
    frame = library_tables.duration_bins(store, bin_s=float(bin_s))
    frame["bin_start_s"] = frame["bin_start_s"].astype("float64")
    frame.insert(1, "bin_end_s", frame["bin_start_s"] + float(bin_s))
    return _int_columns(frame, "tracks")


def tracks_per_artist(store: Store, *, limit: int | None = 25) -> pd.DataFrame:
    """The artists with the most tracks: ``artist`` (str, ``"(no artist)"`` for missing),
    ``tracks``, ``albums``, ``labels`` (int)."""
    return library_tables.overview_frame(store, query="tracks_per_artist", limit=limit)


def tracks_per_album(store: Store, *, limit: int | None = 25) -> pd.DataFrame:
    """The albums (an artist and an album title) with the most tracks: ``artist``, ``album``
    (str), ``tracks`` (int), ``minutes`` (float). Tracks without an album are left out."""
    return library_tables.overview_frame(store, query="tracks_per_album", limit=limit)


def genre_counts(store: Store, *, limit: int | None = 25) -> pd.DataFrame:
    """Tracks per genre (a track with several genres counts once for each): ``genre`` (str),
    ``tracks`` and ``artists`` (int). Tracks without genres are not counted."""
    return library_tables.overview_frame(store, query="genre_counts", limit=limit)
