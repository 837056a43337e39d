"""The tag-writing tables: ``tag_writes``, and the ``tracks`` values a tag write reads.

Examples
--------
>>> from tempfile import mkdtemp
>>> store = Store(f"{mkdtemp()}/tags.duckdb")
>>> insert_tag_write(store, row={"run_id": "r1", "path": "/m/a.mp3", "outcome": "skipped",
...                              "reason": "gone", "message": "the file is gone"})
>>> tag_write_rows(store, run_id="r1")[["path", "outcome", "reason"]]
       path  outcome reason
0  /m/a.mp3  skipped   gone
>>> store.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from musicwb.store.database import Store

__all__ = [
    "TAG_WRITE_COLUMNS",
    "insert_tag_write",
    "latest_file_states",
    "set_tag_write_outcome",
    "tag_candidates",
    "tag_write_rows",
]

TAG_WRITE_COLUMNS = (
    "run_id",
    "path",
    "track_id",
    "format",
    "outcome",
    "reason",
    "message",
    "changes",
    "undoes",
    "size_before",
    "mtime_before",
    "size_after",
    "mtime_after",
    "recorded_at",
)
"""The columns of :func:`tag_write_rows` without the saved tag bytes, in order."""

_SAVED = ("layout", "original_tags", "original_digest", "written_tags_digest")


def tag_candidates(store: Store, *, min_confidence: float) -> pd.DataFrame:
    """Tracks with a label or catalogue number of at least ``min_confidence``, by path.

    Returns
    -------
    pandas.DataFrame
        ``id, path, size, mtime, missing`` and ``label, catalog_number`` with their
        ``_source`` and ``_confidence`` columns.
    """
    return store.df(
        """
        SELECT id, path, size, mtime, missing_since IS NOT NULL AS missing,
               label, label_source, label_confidence,
               catalog_number, catalog_number_source, catalog_number_confidence
        FROM tracks
        WHERE (nullif(trim(label), '') IS NOT NULL AND label_confidence >= $min)
           OR (nullif(trim(catalog_number), '') IS NOT NULL AND catalog_number_confidence >= $min)
        ORDER BY path
        """,
        {"min": float(min_confidence)},
    )


def latest_file_states(store: Store, *, paths: Sequence[str]) -> pd.DataFrame:
    """Size and mtime of each path as the latest tag write or undo left it (``written`` or
    ``restored`` rows): ``path, size_after, mtime_after``; paths never written have no row."""
    return store.df(
        """
        SELECT path, arg_max(size_after, recorded_at) AS size_after,
               arg_max(mtime_after, recorded_at) AS mtime_after
        FROM tag_writes
        WHERE outcome IN ('written', 'restored') AND list_contains(?::VARCHAR[], path)
        GROUP BY path
        """,
        [list(paths)],
    )


def insert_tag_write(store: Store, *, row: dict) -> None:
    """Record one file of a tag write or undo run (``recorded_at`` is set to now, UTC).

    Parameters
    ----------
    store : Store
        Open for writing.
    row : dict
        ``run_id, path, outcome`` and any other column of ``tag_writes`` (``original_tags``
        as bytes, ``changes`` and ``layout`` as JSON text).
    """
    values = {**row, "recorded_at": datetime.now(UTC).replace(tzinfo=None)}
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    store.execute(f"INSERT INTO tag_writes ({columns}) VALUES ({marks})", list(values.values()))


def tag_write_rows(
    store: Store, *, run_id: str, outcome: str | None = None, saved: bool = False
) -> pd.DataFrame:
    """The files of one run, by path: :data:`TAG_WRITE_COLUMNS` (and, with ``saved``, the
    saved ``layout, original_tags, original_digest, written_tags_digest``), only those with
    ``outcome`` if given."""
    columns = [*TAG_WRITE_COLUMNS, *(_SAVED if saved else ())]
    selected = ", ".join(
        f"CAST({c} AS VARCHAR) AS {c}" if c in ("changes", "layout") else c for c in columns
    )
    sql = f"SELECT {selected} FROM tag_writes WHERE run_id = ?"
    params: list[object] = [run_id]
    if outcome is not None:
        sql += " AND outcome = ?"
        params.append(outcome)
    return store.df(sql + " ORDER BY path", params)


def set_tag_write_outcome(
    store: Store, *, run_id: str, path: str, outcome: str, reason: str | None, message: str | None
) -> None:
    """Change the outcome of one recorded file (a write recorded, then not done)."""
    store.execute(
        "UPDATE tag_writes SET outcome = ?, reason = ?, message = ? WHERE run_id = ? AND path = ?",
        [outcome, reason, message, run_id, path],
    )
