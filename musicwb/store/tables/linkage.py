"""The linkage room's tables: imported tracklists, their import records, proposals, evaluations.

``tracklist_sets`` and ``tracklist_entries`` hold the imported tracklists (one row per set, one
per entry), ``tracklist_imports`` one row per imported file (its hash makes a re-import a
no-op) and ``tracklist_import_errors`` the rows that could not be read. Proposals for unknown
entries live in ``linkage_proposals`` (``tracklist_entries`` is never overwritten by them);
every evaluation run is a row of ``linkage_evaluations``.

Examples
--------
>>> import pandas as pd
>>> from musicwb.store import Store
>>> with Store(":memory:") as store:
...     record_evaluation(store, record=EvaluationRecord(
...         run_id="evaluate-1", created_at=pd.Timestamp("2026-01-01"),
...         parameters={"seed": 1, "source": "store", "backend": "duckdb"},
...         summary={"n_masked": 12, "model": {"top1": 0.5}}))
...     frame = evaluations_frame(store)
>>> frame[["run_id", "source", "seed", "n_masked", "model_top1"]].values.tolist()
[['evaluate-1', 'store', 1, 12, 0.5]]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from musicwb.store.database import Store

__all__ = [
    "EvaluationRecord",
    "ImportRecord",
    "evaluations_frame",
    "is_imported",
    "proposals_frame",
    "record_evaluation",
    "record_import",
    "replace_proposals",
    "tracklist_entries",
    "tracklist_sets",
]


@dataclass(frozen=True)
class ImportRecord:
    """One imported tracklist file, as ``tracklist_imports`` keeps it."""

    file_hash: str
    file_path: str
    format: str
    n_sets: int
    n_entries: int
    n_errors: int
    imported_at: pd.Timestamp


def is_imported(store: Store, *, file_hash: str) -> bool:
    """Whether a file with this SHA-256 was imported before.

    Parameters
    ----------
    store : Store
    file_hash : str
        Hex SHA-256 of the file's bytes.

    Returns
    -------
    bool
    """
    return bool(store.scalar("SELECT count(*) FROM tracklist_imports WHERE file_hash = ?",
                             [file_hash]))


def record_import(
    store: Store,
    *,
    record: ImportRecord,
    sets: pd.DataFrame,
    entries: pd.DataFrame,
    errors: pd.DataFrame,
) -> None:
    """Write one file's sets, entries and malformed rows, and its import record, in one
    transaction (sets and entries upserted on their keys).

    Parameters
    ----------
    store : Store
        Open for writing.
    record : ImportRecord
    sets : pandas.DataFrame
        ``tracklist_sets`` columns.
    entries : pandas.DataFrame
        ``tracklist_entries`` columns.
    errors : pandas.DataFrame
        ``file_path, location, line, reason``.

    Raises
    ------
    StoreError
        Nothing of the file was written (rolled back).
    """
    with store.transaction():
        store.upsert("tracklist_sets", sets, key=["set_id"])
        store.upsert("tracklist_entries", entries, key=["set_id", "position"])
        store.insert("tracklist_import_errors", errors.assign(file_hash=record.file_hash))
        store.insert("tracklist_imports", pd.DataFrame([asdict(record)]))


def tracklist_entries(store: Store) -> pd.DataFrame:
    """Every stored entry: ``set_id, position, raw, artist, title, label, is_unknown``."""
    return store.df("SELECT set_id, position, raw, artist, title, label, is_unknown "
                    "FROM tracklist_entries")


def tracklist_sets(store: Store) -> pd.DataFrame:
    """Every stored set: ``set_id, dj, title, set_date, venue, show_name`` (the last three
    from the mix title, None for formats without one)."""
    return store.df("SELECT set_id, dj, title, set_date, venue, show_name FROM tracklist_sets")


def replace_proposals(store: Store, *, slots: pd.DataFrame, proposals: pd.DataFrame) -> None:
    """Replace the stored proposals of ``slots`` by ``proposals``, in one transaction.

    Parameters
    ----------
    store : Store
        Open for writing.
    slots : pandas.DataFrame
        ``set_id, position`` of every slot proposed for (its earlier proposals go, even when it
        has no new one).
    proposals : pandas.DataFrame
        ``linkage_proposals`` columns.
    """
    with store.transaction():
        store.execute("CREATE OR REPLACE TEMP TABLE lk_proposed (set_id VARCHAR, position INTEGER)")
        store.insert("lk_proposed", slots[["set_id", "position"]])
        store.execute("DELETE FROM linkage_proposals WHERE (set_id, position) IN "
                      "(SELECT set_id, position FROM lk_proposed)")
        store.insert("linkage_proposals", proposals)


def proposals_frame(store: Store, *, min_confidence: float = 0.0) -> pd.DataFrame:
    """The stored proposals with the slot's DJ, set title and raw line, best first.

    Parameters
    ----------
    store : Store
    min_confidence : float, default 0.0
        Only proposals at or above this probability.

    Returns
    -------
    pandas.DataFrame
        ``set_id, dj, set_title, position, raw, rank, artist, probability, tier, evidence,
        run_id``.
    """
    return store.df(
        "SELECT p.set_id, s.dj, s.title AS set_title, p.position, e.raw, p.rank, p.artist, "
        "p.probability, p.tier, p.evidence, p.run_id FROM linkage_proposals p "
        "JOIN tracklist_sets s USING (set_id) "
        "JOIN tracklist_entries e ON e.set_id = p.set_id AND e.position = p.position "
        "WHERE p.probability >= ? ORDER BY p.set_id, p.position, p.rank",
        [min_confidence],
    )


@dataclass(frozen=True)
class EvaluationRecord:
    """One evaluation run, as ``linkage_evaluations`` keeps it.

    Attributes
    ----------
    run_id : str
        ``evaluate-<UTC time>-<random>``.
    created_at : pandas.Timestamp
        Naive, UTC.
    parameters, summary : mapping
        JSON-able (other values are written as strings); the summary must hold no NaN.
    """

    run_id: str
    created_at: pd.Timestamp
    parameters: Mapping[str, Any]
    summary: Mapping[str, Any]


def record_evaluation(store: Store, *, record: EvaluationRecord) -> None:
    """Store one evaluation run, its parameters and summary as JSON (``store`` open for
    writing)."""
    store.insert("linkage_evaluations", pd.DataFrame({
        "run_id": [record.run_id],
        "created_at": [record.created_at],
        "parameters": [json.dumps(record.parameters, default=str)],
        "summary": [json.dumps(record.summary, default=str, allow_nan=False)],
    }))  # fmt: skip


_FIGURES = ", ".join(
    f"CAST(json_extract(summary, '$.{method}.{key}') AS DOUBLE) AS {method}_{key}"
    for method in ("model", "baseline")
    for key in ("top1", "top3", "coverage", "precision_high", "calibration_error")
)


def evaluations_frame(store: Store) -> pd.DataFrame:
    """The stored evaluation runs, newest first, with their headline figures.

    Returns
    -------
    pandas.DataFrame
        ``run_id, created_at, source, backend, mask_fraction, seed, n_masked,`` and for
        ``model`` and ``baseline``: ``*_top1, *_top3, *_coverage, *_precision_high,
        *_calibration_error``.
    """
    return store.df(
        "SELECT run_id, created_at, parameters->>'source' AS source, "
        "parameters->>'backend' AS backend, "
        "CAST(parameters->>'mask_fraction' AS DOUBLE) AS mask_fraction, "
        "CAST(parameters->>'seed' AS INTEGER) AS seed, "
        f"CAST(summary->>'n_masked' AS INTEGER) AS n_masked, {_FIGURES} "
        "FROM linkage_evaluations ORDER BY created_at DESC, run_id"
    )
