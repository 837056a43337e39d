"""The label review's SQL: the user's decisions, catalogue numbers, tier calibrations
(migration 012), and the ``manual`` label columns of ``tracks``.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/labels.duckdb") as store:
...     track_label(store=store, track_id=1), len(calibration_rows(store=store))
(None, 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from musicwb.store.database import Store

__all__ = [
    "MANUAL_SOURCE",
    "TrackLabel",
    "calibration_rows",
    "catalogue_rows",
    "clear_hunted_label",
    "decisions",
    "insert_calibrations",
    "insert_decision",
    "latest_findings",
    "rejected_labels",
    "search_catalogue",
    "set_manual_label",
    "track_label",
    "upsert_catalogue_numbers",
    "user_labelled_tracks",
]

MANUAL_SOURCE = "manual"
"""``tracks.label_source`` and ``catalog_number_source`` of the user's decision."""

_CATALOGUE_KEY_SQL = "upper(regexp_replace({}, '[^\\pL\\pN]', '', 'g'))"


@dataclass(frozen=True)
class TrackLabel:
    """A track's stored label and catalogue number with their sources."""

    track_id: int
    artist: str | None
    title: str | None
    label: str | None
    label_source: str | None
    label_confidence: float | None
    catalog_number: str | None
    catalog_number_source: str | None


def track_label(*, store: Store, track_id: int) -> TrackLabel | None:
    """The track's label columns, or None when the library has no such track."""
    rows = store.rows(
        "SELECT id, artist, title, label, label_source, label_confidence, catalog_number, "
        "catalog_number_source FROM tracks WHERE id = ?",
        [int(track_id)],
    )
    return TrackLabel(*rows[0]) if rows else None


def latest_findings(*, store: Store, track_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Every track's findings, newest first, with the track's current label columns.

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``label``, ``catalog``, ``source``, ``confidence``,
        ``accepted``, ``evidence``, ``parts``, ``found_at``, ``run_id``, ``current_label``,
        ``current_source``.
    """
    sql = (
        "SELECT f.track_id, t.artist, t.title, f.label, f.catalog, f.source, f.confidence, "
        "f.accepted, f.evidence, f.parts, f.found_at, f.run_id, t.label AS current_label, "
        "t.label_source AS current_source FROM label_findings f "
        "JOIN tracks t ON t.id = f.track_id"
    )
    params: list[Any] = []
    if track_ids is not None:
        sql += " WHERE list_contains(?, f.track_id)"
        params.append([int(i) for i in track_ids])
    return store.df(sql + " ORDER BY f.found_at DESC, f.track_id", params or None)


def insert_decision(
    *,
    store: Store,
    track_id: int,
    decision: str,
    label: str | None,
    label_key: str | None,
    catalogue: str | None,
    finding_source: str | None,
    finding_confidence: float | None,
    now: datetime,
) -> None:
    """Append one of the user's decisions (``accepted`` or ``rejected``)."""
    store.execute(
        "INSERT INTO label_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [int(track_id), decision, label, label_key, catalogue, finding_source,
         finding_confidence, now],
    )  # fmt: skip


def decisions(*, store: Store, decision: str | None = None) -> pd.DataFrame:
    """The user's decisions, oldest first (only ``accepted`` or ``rejected`` ones if asked)."""
    sql = "SELECT * FROM label_decisions"
    if decision is None:
        return store.df(sql + " ORDER BY decided_at, track_id")
    return store.df(sql + " WHERE decision = ? ORDER BY decided_at, track_id", [decision])


def rejected_labels(*, store: Store, track_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """``track_id``, ``label_key`` of the labels the user rejected for a track (the latest
    decision on that label counts: accepting it later lifts the rejection)."""
    if not store.has_table("label_decisions"):  # a read-only store from before migration 012
        return pd.DataFrame({"track_id": [], "label_key": []})
    sql = (
        "SELECT track_id, label_key FROM label_decisions WHERE label_key IS NOT NULL "
        "QUALIFY decision = 'rejected' AND row_number() OVER "
        "(PARTITION BY track_id, label_key ORDER BY decided_at DESC) = 1"
    )
    if track_ids is None:
        return store.df(sql)
    return store.df(
        f"SELECT * FROM ({sql}) WHERE list_contains(?, track_id)", [[int(i) for i in track_ids]]
    )


def set_manual_label(
    *, store: Store, track_id: int, label: str, catalogue: str | None, now: datetime
) -> None:
    """The user's label (and catalogue number, when given): source ``manual``, confidence 1."""
    store.execute(
        "UPDATE tracks SET label = ?, label_source = ?, label_confidence = 1.0, "
        "updated_at = ? WHERE id = ?",
        [label, MANUAL_SOURCE, now, int(track_id)],
    )
    if catalogue is not None:
        store.execute(
            "UPDATE tracks SET catalog_number = ?, catalog_number_source = ?, "
            "catalog_number_confidence = 1.0 WHERE id = ?",
            [catalogue, MANUAL_SOURCE, int(track_id)],
        )


def clear_hunted_label(*, store: Store, track_id: int, label: str, now: datetime) -> bool:
    """Empty the track's label (and the hunter's catalogue numbers of it) when the hunter
    wrote it with this spelling; True when it did."""
    hunted = store.scalar(
        "SELECT count(*) FROM tracks WHERE id = ? AND label = ? AND label_source LIKE 'hunt:%'",
        [int(track_id), label],
    )
    if not hunted:
        return False
    store.execute(
        "UPDATE tracks SET label = NULL, label_source = NULL, label_confidence = NULL, "
        "updated_at = ? WHERE id = ?",
        [now, int(track_id)],
    )
    store.execute(
        "UPDATE tracks SET catalog_number = NULL, catalog_number_source = NULL, "
        "catalog_number_confidence = NULL WHERE id = ? AND catalog_number_source LIKE 'hunt:%'",
        [int(track_id)],
    )
    store.execute(
        "DELETE FROM catalogue_numbers WHERE track_id = ? AND label = ? AND source LIKE 'hunt:%'",
        [int(track_id), label],
    )
    return True


def upsert_catalogue_numbers(*, store: Store, rows: pd.DataFrame) -> int:
    """Add catalogue numbers (``track_id``, ``catalogue``, ``catalogue_key``, ``label``,
    ``source``, ``confidence``, ``added_at``); a known (track, key) keeps the user's
    (``manual``) row and takes any other."""
    if rows.empty:
        return 0
    rows = rows.drop_duplicates(["track_id", "catalogue_key"], keep="last")
    with store.transaction():
        manual = store.df(
            "SELECT track_id, catalogue_key FROM catalogue_numbers WHERE source = ?",
            [MANUAL_SOURCE],
        )
        if not manual.empty and (rows["source"] != MANUAL_SOURCE).any():
            kept = rows.merge(manual, on=["track_id", "catalogue_key"], how="left", indicator=True)
            rows = rows[
                (kept["_merge"] == "left_only").to_numpy() | (rows["source"] == MANUAL_SOURCE)
            ]
        return store.upsert("catalogue_numbers", rows, key=["track_id", "catalogue_key"])


def catalogue_rows(*, store: Store, track_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The catalogue numbers table (of some tracks), by track and number."""
    sql = "SELECT * FROM catalogue_numbers"
    if track_ids is None:
        return store.df(sql + " ORDER BY track_id, catalogue_key")
    return store.df(
        sql + " WHERE list_contains(?, track_id) ORDER BY track_id, catalogue_key",
        [[int(i) for i in track_ids]],
    )


def search_catalogue(*, store: Store, key: str, prefix: bool = False) -> pd.DataFrame:
    """Tracks carrying a catalogue number of this normal form, in the catalogue table or in
    ``tracks.catalog_number`` (a scan's tags, a CSV).

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``label``, ``catalogue``, ``catalogue_key``,
        ``source``, by track id; one row per track and number.
    """
    condition = "LIKE ? || '%'" if prefix else "= ?"
    track_key = _CATALOGUE_KEY_SQL.format("t.catalog_number")
    if not store.has_table("catalogue_numbers"):  # read-only, from before migration 012
        return store.df(
            "SELECT t.id AS track_id, t.artist, t.title, t.label, t.catalog_number AS "
            f"catalogue, {track_key} AS catalogue_key, t.catalog_number_source AS source "
            f"FROM tracks t WHERE t.catalog_number IS NOT NULL AND {track_key} {condition} "
            "ORDER BY track_id",
            [key],
        )
    return store.df(
        "SELECT DISTINCT ON (track_id, catalogue_key) * FROM ("
        "SELECT c.track_id, t.artist, t.title, coalesce(c.label, t.label) AS label, "
        "c.catalogue, c.catalogue_key, c.source FROM catalogue_numbers c "
        f"JOIN tracks t ON t.id = c.track_id WHERE c.catalogue_key {condition} "
        "UNION ALL SELECT t.id, t.artist, t.title, t.label, t.catalog_number, "
        f"{track_key}, t.catalog_number_source FROM tracks t "
        f"WHERE t.catalog_number IS NOT NULL AND {track_key} {condition}) AS found "
        "ORDER BY track_id, catalogue_key",
        [key, key],
    )


def user_labelled_tracks(*, store: Store) -> pd.DataFrame:
    """Tracks whose label is the user's own (tags, metadata CSV, manual; not the hunter's):
    ``id``, ``artist``, ``album``, ``title``, ``path``, ``label``."""
    return store.df(
        "SELECT id, artist, album, title, path, label FROM tracks "
        "WHERE label IS NOT NULL AND trim(label) <> '' "
        "AND coalesce(label_source, '') NOT LIKE 'hunt:%' ORDER BY id"
    )


def insert_calibrations(*, store: Store, rows: pd.DataFrame) -> int:
    """Append measured calibrations (rows of ``label_calibrations``)."""
    return store.insert("label_calibrations", rows)


def calibration_rows(*, store: Store, latest: bool = False) -> pd.DataFrame:
    """Stored calibrations, newest first (only each tier's latest if asked)."""
    if not store.has_table("label_calibrations"):
        return pd.DataFrame(
            columns=[
                "calibration_id",
                "tier",
                "corpus",
                "measured_at",
                "sample_size",
                "precision",
                "mapping",
                "heldout",
            ]
        )
    sql = "SELECT * FROM label_calibrations"
    if latest:
        sql += " QUALIFY row_number() OVER (PARTITION BY tier ORDER BY measured_at DESC) = 1"
    return store.df(sql + " ORDER BY measured_at DESC, tier")
