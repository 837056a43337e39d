"""Evaluation runs kept in the store: every ``identify evaluate`` (and match_diagnostics) run
becomes one row of ``linkage_evaluations``, so figures can be compared across runs.

A row holds the run id, when it ran, the parameters (mask fraction, seed, window, support,
folds, plus where the tracklists came from and the backend) and the whole summary (model and
baseline figures, calibration tables) as JSON.

Examples
--------
>>> with Store(path) as store:                                   # doctest: +SKIP
...     run_id = save_evaluation(store, result, source="store", backend="duckdb")
...     evaluations_frame(store)[["run_id", "model_top1", "baseline_top1"]]
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from musicwb.linkage.evaluate import EvaluationResult
    from musicwb.store import Store

__all__ = ["evaluation_row", "evaluations_frame", "save_evaluation"]


def evaluation_row(
    summary: dict[str, Any], *, source: str, backend: str = "duckdb", run_id: str | None = None
) -> pd.DataFrame:
    """One ``linkage_evaluations`` row for an evaluation summary (pure).

    Parameters
    ----------
    summary : dict
        :attr:`EvaluationResult.summary`.
    source : str
        Where the tracklists came from: ``"store"`` or the file paths.
    backend : str, default "duckdb"
    run_id : str, optional
        Default: ``evaluate-<UTC time>-<random>``.

    Returns
    -------
    pandas.DataFrame
        Shape (1, 4): ``run_id, created_at, parameters, summary`` (JSON text).

    Examples
    --------
    >>> row = evaluation_row({"parameters": {"seed": 1}, "model": {}}, source="store")
    >>> json.loads(row.parameters[0])["source"]
    'store'
    """
    now = pd.Timestamp.now(tz="UTC")
    run_id = run_id or f"evaluate-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    parameters = {**summary.get("parameters", {}), "source": source, "backend": backend}
    return pd.DataFrame({
        "run_id": [run_id],
        "created_at": [now.tz_localize(None)],
        "parameters": [json.dumps(parameters, default=str)],
        "summary": [json.dumps(summary, default=str, allow_nan=False)],
    })  # fmt: skip


def save_evaluation(
    store: Store, result: EvaluationResult | dict[str, Any], *, source: str,
    backend: str = "duckdb",
) -> str:
    """Store one evaluation run in ``linkage_evaluations``; return its run id.

    Parameters
    ----------
    store : Store
        Open for writing.
    result : EvaluationResult or dict
        The result of :func:`musicwb.linkage.evaluate.evaluate` or its ``summary``.
    source : str
        ``"store"`` or the tracklist files evaluated.
    backend : str, default "duckdb"

    Returns
    -------
    str
    """
    summary = result if isinstance(result, dict) else result.summary
    row = evaluation_row(summary, source=source, backend=backend)
    store.insert("linkage_evaluations", row)
    return str(row["run_id"].iloc[0])


def evaluations_frame(store: Store) -> pd.DataFrame:
    """The stored evaluation runs, newest first, with their headline figures.

    Returns
    -------
    pandas.DataFrame
        ``run_id, created_at, source, backend, mask_fraction, seed, n_masked,`` and for
        ``model`` and ``baseline``: ``*_top1, *_top3, *_coverage, *_precision_high,
        *_calibration_error``.
    """
    figures = ", ".join(
        f"CAST(json_extract(summary, '$.{method}.{key}') AS DOUBLE) AS {method}_{key}"
        for method in ("model", "baseline")
        for key in ("top1", "top3", "coverage", "precision_high", "calibration_error")
    )
    return store.df(
        "SELECT run_id, created_at, parameters->>'source' AS source, "
        "parameters->>'backend' AS backend, "
        "CAST(parameters->>'mask_fraction' AS DOUBLE) AS mask_fraction, "
        "CAST(parameters->>'seed' AS INTEGER) AS seed, "
        f"CAST(summary->>'n_masked' AS INTEGER) AS n_masked, {figures} "
        "FROM linkage_evaluations ORDER BY created_at DESC, run_id"
    )
