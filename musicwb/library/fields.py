"""Where each metadata field of a track comes from, and which source wins.

Every field of :data:`METADATA_FIELDS` is stored with ``<field>_source`` and
``<field>_confidence``. A scan fills them from the tags (``tags``); where the artist or the
title is missing, from the file name (``filename``, read by
:func:`musicwb.titles.parse_filename`, with its confidence); a metadata CSV given to the scan
overrides both (``metadata_csv``). When a known file is read again, fields that came from
elsewhere (a CSV, MusicBrainz, a manual edit) are kept unless the CSV says otherwise; a
``manual`` field (the user's decision, ``musicwb labels accept``) is kept even then, as it is
newer than any CSV. Pure functions on dicts and DataFrames; no I/O.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from musicwb.library.reading import TrackReading
from musicwb.titles import parse_filename

__all__ = [
    "CSV_CONFIDENCE",
    "MANUAL_SOURCE",
    "METADATA_FIELDS",
    "SCAN_SOURCES",
    "TAG_CONFIDENCE",
    "apply_csv",
    "differs",
    "field_columns",
    "guess_from_filename",
    "is_missing",
    "keep_curated",
    "reading_row",
]

METADATA_FIELDS = (
    "artist",
    "title",
    "album",
    "label",
    "catalog_number",
    "genres",
    "bpm",
    "key",
    "isrc",
)
"""Fields of ``tracks`` that carry ``<field>_source`` and ``<field>_confidence``."""

SCAN_SOURCES = frozenset({"tags", "filename"})
"""Sources a re-read of the file may overwrite; anything else was curated and is kept."""

MANUAL_SOURCE = "manual"
"""The user's own decision: not even a metadata CSV overwrites it."""

TAG_CONFIDENCE = 1.0
"""Confidence of a field read from the file's tags."""

CSV_CONFIDENCE = 1.0
"""Confidence of a field given by a metadata CSV (a person's word)."""


def field_columns() -> list[str]:
    """``artist, artist_source, artist_confidence, title, ...`` for every metadata field."""
    return [
        f"{name}{suffix}" for name in METADATA_FIELDS for suffix in ("", "_source", "_confidence")
    ]


def _set_field(row: dict, name: str, value: object, *, source: str, confidence: float) -> None:
    row[name], row[f"{name}_source"], row[f"{name}_confidence"] = value, source, confidence


def reading_row(
    reading: TrackReading, *, size: int, mtime: float, csv: pd.DataFrame | None
) -> dict:
    """The ``tracks`` row of a file read: tags, then the file name, then the metadata CSV.

    Parameters
    ----------
    reading : TrackReading
        A successful reading (``reading.ok``).
    size, mtime : int, float
        From the folder listing.
    csv : pandas.DataFrame or None
        Metadata CSV values indexed by path (see :func:`apply_csv`).

    Returns
    -------
    dict
        ``path, size, mtime, content_hash``, the technical columns and, for every field of
        :data:`METADATA_FIELDS`, its value, source and confidence (None when unknown).

    Examples
    --------
    >>> reading = TrackReading(path="/m/Trevino - Sombre Tones.wav", tags={"bpm": 132.0})
    >>> row = reading_row(reading, size=10, mtime=1.0, csv=None)
    >>> row["artist"], row["artist_source"], row["bpm_source"]
    ('Trevino', 'filename', 'tags')
    """
    row: dict[str, Any] = {
        "path": reading.path,
        "size": size,
        "mtime": mtime,
        "content_hash": reading.content_hash,
        **reading.technical,
    }
    for name in METADATA_FIELDS:
        value = reading.tags.get(name)
        found = value is not None
        row[name] = value
        row[f"{name}_source"] = "tags" if found else None
        row[f"{name}_confidence"] = TAG_CONFIDENCE if found else None
    if row["artist"] is None or row["title"] is None:
        for name, (value, confidence) in guess_from_filename(Path(reading.path).stem).items():
            if row[name] is None:
                _set_field(row, name, value, source="filename", confidence=confidence)
    if csv is not None and reading.path in csv.index:
        apply_csv(row, csv.loc[reading.path])
    return row


def apply_csv(row: dict, values: pd.Series) -> None:
    """Override the fields of ``row`` (in place) with the non-empty values of one CSV row,
    except a :data:`MANUAL_SOURCE` field.

    Examples
    --------
    >>> row = {"label": "Mine", "label_source": "manual", "label_confidence": 1.0}
    >>> apply_csv(row, pd.Series({"label": "From CSV", "album": "EP"}))
    >>> row["label"], row["album_source"]
    ('Mine', 'metadata_csv')
    """
    for name, value in values.items():
        if not is_missing(value) and row.get(f"{name}_source") != MANUAL_SOURCE:
            _set_field(row, name, value, source="metadata_csv", confidence=CSV_CONFIDENCE)


def keep_curated(rows: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Keep fields of known tracks that came from elsewhere than a scan, unless the CSV says.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows read again, with ``id`` and the :func:`field_columns`.
    existing : pandas.DataFrame
        The same tracks as the store holds them (``id`` and the field columns).

    Returns
    -------
    pandas.DataFrame
        ``rows`` with curated fields (source not in :data:`SCAN_SOURCES`) taken from
        ``existing``, except where the new source is ``metadata_csv`` and the old one is not
        :data:`MANUAL_SOURCE`.
    """
    existing = existing.set_index("id").loc[rows["id"]]
    rows = rows.copy()
    for name in METADATA_FIELDS:
        old_source = existing[f"{name}_source"].to_numpy(dtype=object)
        keep = np.array([not is_missing(s) and s not in SCAN_SOURCES for s in old_source])
        keep &= (rows[f"{name}_source"].to_numpy(dtype=object) != "metadata_csv") | (
            old_source == MANUAL_SOURCE
        )
        if keep.any():
            for column in (name, f"{name}_source", f"{name}_confidence"):
                values = rows[column].to_numpy(dtype=object).copy()
                values[keep] = existing[column].to_numpy(dtype=object)[keep]
                rows[column] = values
    return rows


def is_missing(value: object) -> bool:
    """None or NA; a list (genres) is never missing, even when empty."""
    if value is None:
        return True
    if isinstance(value, list | tuple | np.ndarray):
        return False
    return bool(pd.isna(value))


def differs(a: object, b: object) -> bool:
    """Whether two field values differ (NA equals NA; lists and arrays compare by items)."""
    if is_missing(a) or is_missing(b):
        return is_missing(a) != is_missing(b)
    if isinstance(a, list | tuple | np.ndarray) or isinstance(b, list | tuple | np.ndarray):
        return list(a) != list(b)
    return a != b


# -- file names ----------------------------------------------------------------------------


def guess_from_filename(stem: str) -> dict[str, tuple[str, float]]:
    """Artist, title, label and catalogue number from a file name, by the title parser.

    A thin adapter over :func:`musicwb.titles.parse_filename`, which drops a leading track
    number (``01.``, ``01 -``, but not ``808 State``), YouTube ids and noise such as ``[HD]``,
    reads a ``[Label - CAT]`` bracket, and gives nothing for unidentified names (``ID - ID``).
    Every field found gets the parser's confidence (``Artist - Title``: 0.60-0.69; a title
    alone: 0.20-0.39). The title keeps its mix group (``Title (Original Mix)``), as tags
    write it.

    Parameters
    ----------
    stem : str
        The file name without its extension.

    Returns
    -------
    dict
        Field name (``artist``, ``title``, ``label``, ``catalog_number``) to ``(value,
        confidence)``, for the fields found; empty for an empty or unidentified name.

    Examples
    --------
    >>> guess_from_filename("03. Trevino - Sombre Tones")
    {'artist': ('Trevino', 0.62), 'title': ('Sombre Tones', 0.62)}
    >>> guess_from_filename("field_recording")
    {'title': ('field recording', 0.3)}
    >>> guess_from_filename("Trevino - Sombre Tones [Klockworks - KW 20]")["catalog_number"]
    ('KW 20', 0.67)
    """
    # In a music file name without spaces, underscores are spaces: "field_recording" is a
    # title, not the karaoke "artist_title" form the parser reads for a single underscore.
    parsed = parse_filename(stem if " " in stem else stem.replace("_", " "))
    found = {
        "artist": parsed.artist,
        "title": parsed.title_with_mix,
        "label": parsed.label,
        "catalog_number": parsed.catalog,
    }
    return {name: (value, parsed.confidence) for name, value in found.items() if value}
