"""Writing a scan's results into the store: one transaction per batch of files.

New tracks are inserted with the next free ids, re-read and moved ones updated (keeping
curated fields, see :func:`musicwb.library.fields.keep_curated`), and unreadable files get
``scan_errors`` rows. All writes are bulk writes of DataFrames through :class:`Store`.
:func:`mark_missing` sets and clears ``tracks.missing_since``; :func:`prune_tracks` deletes
tracks with every row that names them.

Examples
--------
>>> from tempfile import mkdtemp
>>> from musicwb.library.listing import scan_errors_frame
>>> store = Store(f"{mkdtemp()}/write.duckdb")
>>> error = {"path": "/music/x.flac", "reason": "truncated", "message": "ends early"}
>>> write_batch(store, run_id="scan-1", new_rows=[], changed_rows=[], moved_rows=[],
...             errors=[error, error])
>>> scan_errors_frame(store, last_run_only=False)[["path", "reason", "run_id"]]
            path     reason  run_id
0  /music/x.flac  truncated  scan-1
>>> prune_tracks(store, ids=[])
{}
>>> store.close()
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from musicwb.errors import StoreError
from musicwb.library.fields import (
    METADATA_FIELDS,
    apply_csv,
    differs,
    field_columns,
    is_missing,
    keep_curated,
)
from musicwb.store import Store
from musicwb.store.tables import library as library_tables

__all__ = [
    "apply_csv_to_unchanged",
    "batches",
    "mark_missing",
    "prune_tracks",
    "write_batch",
]


def batches(items: list, *, size: int) -> Iterator[list]:
    """Consecutive slices of ``items`` of at most ``size`` items.

    >>> list(batches([1, 2, 3], size=2))
    [[1, 2], [3]]
    """
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now() -> datetime:
    # The store's TIMESTAMP columns are naive; scans record UTC, as runs do.
    return datetime.now(UTC).replace(tzinfo=None)


def write_batch(
    store: Store,
    *,
    run_id: str,
    new_rows: list[dict],
    changed_rows: list[dict],
    moved_rows: list[dict],
    errors: list[dict],
) -> None:
    """Write one batch in one transaction: new tracks, re-read and moved ones, error rows.

    Parameters
    ----------
    store : Store
        Open for writing.
    run_id : str
        The scan's run: ``added_run`` of new tracks, ``run_id`` of error rows.
    new_rows : list of dict
        Rows of :func:`~musicwb.library.fields.reading_row` without ``id``; they get the next
        free ids in order.
    changed_rows, moved_rows : list of dict
        Rows with the ``id`` of the known track; moved rows also change its ``path``.
    errors : list of dict
        ``path, reason, message``; one row per path is kept.
    """
    if not (new_rows or changed_rows or moved_rows or errors):
        return
    now = _now()
    updates = []
    for rows, with_path in ((changed_rows, False), (moved_rows, True)):
        if not rows:
            continue
        frame = pd.DataFrame(rows)
        frame = keep_curated(frame, _existing_fields(store, frame["id"].tolist()))
        frame["updated_at"] = now
        updates.append(frame if with_path else frame.drop(columns=["path"]))
    with store.transaction():
        if new_rows:
            frame = pd.DataFrame(new_rows)
            first_id = library_tables.next_track_id(store)
            frame.insert(0, "id", np.arange(first_id, first_id + len(frame), dtype="int64"))
            frame["added_run"] = run_id
            frame["added_at"] = now
            frame["updated_at"] = now
            library_tables.insert_tracks(store, rows=_typed(frame))
        for frame in updates:
            library_tables.update_tracks(store, rows=_typed(frame))
        if errors:
            frame = pd.DataFrame(errors).drop_duplicates("path", keep="first")
            frame["run_id"] = run_id
            frame["recorded_at"] = now
            library_tables.insert_scan_errors(store, rows=frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Give all-empty columns a type DuckDB can cast from (object columns of None are fine)."""
    frame = frame.copy()
    for name in ("bpm", "duration"):
        if name in frame.columns:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in METADATA_FIELDS:
        column = f"{name}_confidence"
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for name in ("sample_rate", "channels"):
        if name in frame.columns:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("Int32")
    return frame


def apply_csv_to_unchanged(
    store: Store, *, unchanged: pd.DataFrame, csv: pd.DataFrame, batch_size: int
) -> int:
    """Write CSV values into unchanged tracks where they differ.

    Parameters
    ----------
    store : Store
        Open for writing.
    unchanged : pandas.DataFrame
        ``id, path`` of the tracks the scan did not read again and the CSV names.
    csv : pandas.DataFrame
        Matched CSV values indexed by path (:func:`~musicwb.library.metadata_csv.match_csv`).
    batch_size : int
        Tracks per transaction.

    Returns
    -------
    int
        The number of tracks changed.
    """
    changed = 0
    for batch in batches(unchanged[["id", "path"]].to_dict("records"), size=batch_size):
        existing = _existing_fields(store, [int(item["id"]) for item in batch]).set_index("id")
        rows = []
        for item in batch:
            before = existing.loc[int(item["id"])].to_dict()
            after = dict(before)
            apply_csv(after, csv.loc[item["path"]])
            if any(differs(before[c], after[c]) for c in field_columns()):
                rows.append({"id": int(item["id"]), **after})
        if rows:
            frame = pd.DataFrame(rows)
            frame["updated_at"] = _now()
            with store.transaction():
                library_tables.update_tracks(store, rows=_typed(frame))
            changed += len(rows)
    return changed


def _existing_fields(store: Store, ids: list[int]) -> pd.DataFrame:
    """The field columns of the tracks ``ids`` as stored (genres as lists)."""
    frame = library_tables.track_fields(store, ids=ids, columns=field_columns())
    frame["genres"] = [None if is_missing(g) else list(g) for g in frame["genres"]]
    return frame


def mark_missing(store: Store, *, gone: list[int], found: list[int]) -> None:
    """Set ``missing_since`` of tracks whose file is gone and clear it where it is back.

    Parameters
    ----------
    store : Store
        Open for writing.
    gone : list of int
        Tracks newly found missing: ``missing_since`` becomes now (UTC).
    found : list of int
        Tracks that were missing and whose file was found again: ``missing_since`` is cleared.
    """
    library_tables.set_missing_since(store, gone=gone, found=found, now=_now())


def prune_tracks(store: Store, *, ids: list[int]) -> dict[str, int]:
    """Delete tracks and every row of another table that names them, in one transaction.

    The other tables are those with a ``track_id`` column
    (:func:`musicwb.store.tables.library.track_id_tables`): sonic features and errors, label
    findings and hunts, the enrichment queue and cool-down, play history, genre changes, and
    any table a later migration adds.

    Parameters
    ----------
    store : Store
        Open for writing.
    ids : list of int
        The tracks to delete.

    Returns
    -------
    dict of str to int
        Rows deleted per table, ``"tracks"`` included; tables with none are left out.

    Raises
    ------
    StoreError
        A delete failed (a constraint, the disk): the transaction is rolled back and nothing
        is deleted.
    """
    if not ids:
        return {}
    try:
        return library_tables.delete_track_rows(store, ids=ids)
    except StoreError as exc:
        raise StoreError(
            f"pruning {len(ids)} missing track(s) failed, nothing was deleted (they stay "
            f"flagged missing); fix the cause and scan with --prune again: {exc}"
        ) from exc
