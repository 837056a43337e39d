"""Evaluation runs kept in the store: every ``identify evaluate`` (and match_diagnostics) run
becomes one row of ``linkage_evaluations``, so figures can be compared across runs.

A row holds the run id, when it ran, the parameters (mask fraction, seed, window, support,
folds, plus where the tracklists came from and the backend) and the whole summary (model and
baseline figures, calibration tables) as JSON.

Examples
--------
>>> with Store(":memory:") as store:
...     run_id = save_evaluation(store, {"parameters": {"seed": 1}, "n_masked": 12},
...                              source="store", backend="duckdb")
...     evaluations_frame(store)[["source", "seed", "n_masked"]].values.tolist()
[['store', 1, 12]]
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

import pandas as pd

from musicwb.linkage.backends import Backend, db_api_factory
from musicwb.linkage.evaluation import EvaluationResult, evaluate, evaluate_files
from musicwb.linkage.scoring import FitKeywords
from musicwb.linkage.tracklist_files import Format
from musicwb.linkage.tracklists import entries_frame
from musicwb.store import Store
from musicwb.store.tables import linkage as tables
from musicwb.store.tables.linkage import evaluations_frame

__all__ = ["StoredEvaluation", "evaluate_and_save", "evaluations_frame", "save_evaluation"]


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
        The result of :func:`musicwb.linkage.evaluation.evaluate` or its ``summary``.
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
    record = tables.EvaluationRecord(run_id=run_id, created_at=now.tz_localize(None),
                                     parameters=parameters, summary=summary)
    tables.record_evaluation(store, record=record)
    return run_id


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation and the id it is stored under."""

    result: EvaluationResult
    run_id: str


def evaluate_and_save(
    store_path: Path,
    *,
    files: Sequence[Path],
    fmt: Format,
    backend: Backend = "duckdb",
    rounds: int = 1,
    evaluate_on: Sequence[Path] = (),
    **options: Unpack[FitKeywords],
) -> StoredEvaluation:
    """Evaluate on tracklist files (or, without files, on the store's tracklists) and store
    the run, as ``musicwb identify evaluate`` does.

    The store is opened for writing first, so a store locked by another writer fails before
    the evaluation rather than after it; it is read without the lock while evaluating.

    Parameters
    ----------
    store_path : Path
    files : sequence of Path
        Tracklist files; empty for the store's own tracklists.
    fmt : {"mixesdb", "json", "csv", "djmix"}
        The files' format.
    backend : {"duckdb", "spark"}, default "duckdb"
    rounds : int, default 1
        As for :func:`~musicwb.linkage.evaluation.evaluate`.
    evaluate_on : sequence of Path, default ()
        Mask only entries of the sets in these files (same format); ``files`` (or the
        store's tracklists) are the context.
    **options
        ``mask_fraction``, ``seed``, ``k``, ... (:class:`~musicwb.linkage.scoring.FitOptions`);
        ``db_api_factory`` comes from ``backend``.

    Returns
    -------
    StoredEvaluation
    """
    with Store(store_path):
        pass  # a locked store fails now, not after the evaluation
    options["db_api_factory"] = db_api_factory(backend)
    if files or evaluate_on:
        context = None
        if not files:
            with Store(store_path, read_only=True) as opened:
                context = entries_frame(opened)
        result = evaluate_files(files, fmt=fmt, rounds=rounds, evaluate_on=evaluate_on,
                                context=context, **options)
    else:
        with Store(store_path, read_only=True) as opened:
            result = evaluate(entries_frame(opened), rounds=rounds, **options)
    source = "; ".join(str(path) for path in files) or "store"
    if evaluate_on:
        source += "; evaluated on " + ", ".join(str(path) for path in evaluate_on)
    with Store(store_path) as opened:
        run_id = save_evaluation(opened, result, source=source, backend=backend)
    return StoredEvaluation(result, run_id)
