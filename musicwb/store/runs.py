"""Run records: one row in the store's ``runs`` table per scan, batch or other long job.

A run gets a sortable id when it starts (``20261122-061500-scan-ab12``: UTC time, kind, and
the fraction of the second in 4 hex digits, so runs of a kind sort by start time and two runs
in the same second differ), a row with status ``"running"``, and its
final status and JSON summary when it finishes. A run that still says ``"running"`` long after
it started was killed without a chance to record its end.

Statuses in use: ``"running"``, ``"ok"``, ``"failed"``, ``"interrupted"`` (any lower-case word
is accepted, so other jobs can add their own).

Examples
--------
>>> import tempfile, pathlib
>>> from musicwb.store import Store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
>>> with Store(path) as store:
...     run_id = start_run(store, kind="scan", parameters={"root": "/music"})
...     finish_run(store, run_id, status="ok", summary={"scanned": 3})
...     last_run(store, kind="scan")["summary"]
{'scanned': 3}
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from musicwb.errors import ParameterError, StoreError
from musicwb.store.database import Store

__all__ = [
    "RUN_STATUSES",
    "RecordedRun",
    "finish_run",
    "last_run",
    "recorded_run",
    "runs_frame",
    "start_run",
]

RUN_STATUSES = ("running", "ok", "failed", "interrupted")
"""The statuses musicwb itself writes; other lower-case words are accepted too."""

_WORD = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_word(value: str, *, name: str) -> str:
    if not isinstance(value, str) or not _WORD.match(value):
        raise ParameterError(
            f"run {name} must be a lower-case word (letters, digits, _), got {value!r}"
        )
    return value


def _to_json(value: dict, *, name: str) -> str:
    if not isinstance(value, dict):
        raise ParameterError(f"run {name} must be a dict, got {type(value).__name__}")
    # Paths, timestamps and numpy numbers become strings or numbers rather than failing.
    return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _now() -> datetime:
    # The store's TIMESTAMP columns are naive; runs record UTC.
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(store: Store, *, kind: str, parameters: dict) -> str:
    """Record the start of a run and return its new id.

    Parameters
    ----------
    store : Store
        Open for writing.
    kind : str
        What runs: ``"scan"``, ``"batch"``, ... (a lower-case word).
    parameters : dict
        The run's inputs, stored as JSON (non-JSON values such as paths become strings).

    Returns
    -------
    str
        ``YYYYMMDD-HHMMSS-<kind>-<4 hex>``, in UTC; ids of a kind sort by start time.

    Raises
    ------
    ParameterError
        ``kind`` is not a lower-case word, or ``parameters`` is not a dict.

    Examples
    --------
    >>> import re, tempfile, pathlib
    >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb") as store:
    ...     run_id = start_run(store, kind="scan", parameters={"root": "/music"})
    >>> bool(re.fullmatch(r"[0-9]{8}-[0-9]{6}-scan-[0-9a-f]{4}", run_id))  # e.g. 20261122-061500-scan-ab12
    True
    """
    _check_word(kind, name="kind")
    parameters_json = _to_json(parameters, name="parameters")
    started = _now()
    # The suffix is the time within the second in 16 µs steps (4 hex digits), so ids of one
    # kind sort by start time even within a second; a taken suffix moves to the next step.
    step = started.microsecond // 16
    while True:
        run_id = f"{started:%Y%m%d-%H%M%S}-{kind}-{step:04x}"
        if not store.scalar("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]):
            break
        step += 1
    row = pd.DataFrame(
        {
            "run_id": [run_id],
            "kind": [kind],
            "started_at": [started],
            "status": ["running"],
            "parameters": [parameters_json],
        }
    )
    store.insert("runs", row)
    return run_id


def finish_run(store: Store, run_id: str, *, status: str, summary: dict) -> None:
    """Record the end of a run: its status, finish time and summary.

    Parameters
    ----------
    store : Store
        Open for writing.
    run_id : str
        From :func:`start_run`.
    status : str
        ``"ok"``, ``"failed"``, ``"interrupted"``, or another lower-case word.
    summary : dict
        What the run did, stored as JSON.

    Raises
    ------
    ParameterError
        No run has that id, or ``status``/``summary`` are malformed.
    """
    _check_word(status, name="status")
    summary_json = _to_json(summary, name="summary")
    exists = store.scalar("SELECT count(*) FROM runs WHERE run_id = ?", [run_id])
    if not exists:
        raise ParameterError(f"no run with id {run_id!r} in store {store.path}")
    row = pd.DataFrame(
        {
            "run_id": [run_id],
            "finished_at": [_now()],
            "status": [status],
            "summary": [summary_json],
        }
    )
    store.update("runs", row, key=["run_id"])


def _decode(record: dict) -> dict:
    for column in ("parameters", "summary"):
        text = record.get(column)
        record[column] = json.loads(text) if isinstance(text, str) else None
    for column in ("started_at", "finished_at"):
        value = record.get(column)
        record[column] = (
            None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()
        )
    return record


def last_run(store: Store, *, kind: str, status: str | None = None) -> dict | None:
    """The most recently started run of a kind (optionally with a given status).

    Parameters
    ----------
    store : Store
    kind : str
        E.g. ``"scan"``.
    status : str, optional
        Only runs with this status (e.g. ``"ok"`` for the last completed one).

    Returns
    -------
    dict or None
        Keys ``run_id, kind, started_at, finished_at, status, parameters, summary``
        (``parameters`` and ``summary`` decoded from JSON), or None when there is no such run.
    """
    _check_word(kind, name="kind")
    sql = (
        "SELECT run_id, kind, started_at, finished_at, status, "
        "CAST(parameters AS VARCHAR) AS parameters, CAST(summary AS VARCHAR) AS summary "
        "FROM runs WHERE kind = ?"
    )
    params: list[Any] = [kind]
    if status is not None:
        sql += " AND status = ?"
        params.append(_check_word(status, name="status"))
    frame = store.df(sql + " ORDER BY started_at DESC, run_id DESC LIMIT 1", params)
    if frame.empty:
        return None
    return _decode(frame.iloc[0].to_dict())


def runs_frame(store: Store, *, kind: str | None = None) -> pd.DataFrame:
    """All runs (of one kind, if given), newest first, with summary and parameters as JSON text.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id, kind, started_at, finished_at, status, parameters, summary``;
        one row per run.
    """
    sql = (
        "SELECT run_id, kind, started_at, finished_at, status, "
        "CAST(parameters AS VARCHAR) AS parameters, CAST(summary AS VARCHAR) AS summary FROM runs"
    )
    params: list[Any] = []
    if kind is not None:
        sql += " WHERE kind = ?"
        params.append(_check_word(kind, name="kind"))
    return store.df(sql + " ORDER BY started_at DESC, run_id DESC", params)


def _no_summary() -> Mapping[str, Any]:
    return {}


@dataclass
class RecordedRun:
    """A run in progress, as :func:`recorded_run` hands it to the job.

    Attributes
    ----------
    run_id : str
        The run's id (:func:`start_run`).
    summary : callable
        Returns the summary to record, whichever way the run ends; the job sets it to a
        function of its own counters, so an interrupted run records how far it got.
    status : str
        The status recorded when the job returns normally (``"ok"`` unless the job says
        otherwise).
    """

    run_id: str
    summary: Callable[[], Mapping[str, Any]] = field(default=_no_summary)
    status: str = "ok"


@contextlib.contextmanager
def recorded_run(store: Store, *, kind: str, parameters: dict) -> Iterator[RecordedRun]:
    """Record a job as a run: started on entry, finished however the block ends.

    The block's normal end records ``run.status`` (``"ok"``); Ctrl-C records
    ``"interrupted"``; any other exception records ``"failed"`` with the error in the
    summary. The exception goes on; if the store cannot record the failure, a note on the
    original exception says so, and the run stays ``"running"``.

    Parameters
    ----------
    store : Store
        Open for writing.
    kind : str
        What runs (a lower-case word).
    parameters : dict
        The run's inputs.

    Yields
    ------
    RecordedRun

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
    >>> with Store(path) as store:
    ...     with recorded_run(store, kind="scan", parameters={}) as run:
    ...         run.summary = lambda: {"scanned": 3}
    ...     last_run(store, kind="scan")["status"]
    'ok'
    """
    run = RecordedRun(run_id=start_run(store, kind=kind, parameters=parameters))
    try:
        yield run
    except KeyboardInterrupt:
        _finish_quietly(store, run, status="interrupted", summary=dict(run.summary()))
        raise
    except BaseException as exc:
        summary = {**run.summary(), "error": f"{type(exc).__name__}: {exc}"}
        _finish_quietly(store, run, status="failed", summary=summary, cause=exc)
        raise
    finish_run(store, run.run_id, status=run.status, summary=dict(run.summary()))


def _finish_quietly(
    store: Store,
    run: RecordedRun,
    *,
    status: str,
    summary: dict,
    cause: BaseException | None = None,
) -> None:
    # The job's own exception is the one the user needs; a store that cannot record the end
    # of the run only adds a note to it.
    try:
        finish_run(store, run.run_id, status=status, summary=summary)
    except StoreError as store_exc:
        if cause is not None:
            cause.add_note(f"the run {run.run_id} could not be recorded as {status}: {store_exc}")
