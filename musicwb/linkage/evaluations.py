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

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from musicwb.linkage.backends import Backend
from musicwb.store import Store
from musicwb.store.tables import linkage as tables

if TYPE_CHECKING:
    from musicwb.linkage.evaluate import EvaluationResult

__all__ = ["evaluations_frame", "save_evaluation"]


def save_evaluation(
    store: Store,
    result: EvaluationResult | Mapping[str, Any],
    *,
    source: str,
    backend: Backend = "duckdb",
    run_id: str | None = None,
) -> str:
    """Store one evaluation run in ``linkage_evaluations``; return its run id.

    Parameters
    ----------
    store : Store
        Open for writing.
    result : EvaluationResult or mapping
        The result of :func:`musicwb.linkage.evaluate.evaluate` or its ``summary``.
    source : str
        ``"store"`` or the tracklist files evaluated.
    backend : {"duckdb", "spark"}, default "duckdb"
    run_id : str, optional
        Default: ``evaluate-<UTC time>-<random>``.

    Returns
    -------
    str

    Examples
    --------
    >>> with Store(":memory:") as store:
    ...     run_id = save_evaluation(store, {"parameters": {"seed": 1}}, source="store")
    ...     evaluations_frame(store)[["source", "backend", "seed"]].values.tolist()
    [['store', 'duckdb', 1]]
    """
    summary = result if isinstance(result, Mapping) else result.summary
    now = pd.Timestamp.now(tz="UTC")
    run_id = run_id or f"evaluate-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    parameters = {**summary.get("parameters", {}), "source": source, "backend": backend}
    tables.record_evaluation(store, run_id=run_id, created_at=now.tz_localize(None),
                             parameters=parameters, summary=summary)
    return run_id


def evaluations_frame(store: Store) -> pd.DataFrame:
    """The stored evaluation runs, newest first, with their headline figures.

    Returns
    -------
    pandas.DataFrame
        ``run_id, created_at, source, backend, mask_fraction, seed, n_masked,`` and for
        ``model`` and ``baseline``: ``*_top1, *_top3, *_coverage, *_precision_high,
        *_calibration_error``.
    """
    return tables.evaluations_frame(store)
