"""The cool-down queue: tracks that found no label yet, retried on the time scale of releases.

A promo played as "ID - ID" today is often released one to three months later, so a track the
label hunter could not identify (``not_found``) or could not ask about (a source failed on every
attempt) is parked here and sent back to the work queue when its time has come.

Scheduling is pure (:func:`base_delay_days`, :func:`schedule`); the store operations
(:func:`park`, :func:`migrate`, :func:`process`, :func:`stats`, :func:`summary_frame`,
:func:`due_frame`) take the time as a ``now`` parameter, so tests run months in milliseconds.

Strategies (delays in days; ``retry_count`` is the number of retries already made):

- ``fixed``: 90 every time;
- ``exponential``: 30 → 60 → 120 → 240, then 240;
- ``adaptive``: a base of 90, 60 when the track carries a label hint (a label of lower standing,
  e.g. parsed from its title), 45 when the track was added less than 30 days ago; ×1.5 after the
  first retry, ×2.0 after the second and later ones; at most 365.

Every delay gets ±10% jitter (so a thousand tracks parked together do not all come back on the
same day) and is at least one day. After :data:`MAX_RETRIES` retries a track is permanently
failed: :func:`process` no longer sends it back, but a manual re-queue
(:func:`musicwb.enrich.queue.enqueue_tracks`) still does, for one more try.

Examples
--------
>>> import numpy as np
>>> base_delay_days("exponential", retry_count=2)
120.0
>>> base_delay_days("adaptive", retry_count=1, track_age_days=10)
67.5
>>> frame = schedule(pd.DataFrame({"retry_count": [0, 5]}), strategy="fixed",
...                  now=datetime(2026, 1, 1), rng=np.random.default_rng(0))
>>> frame["permanently_failed"].tolist()
[False, True]
>>> bool(81 <= frame["delay_days"][0] <= 99)
True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store

__all__ = [
    "DEFAULT_STRATEGY",
    "JITTER",
    "MAX_RETRIES",
    "MIN_DELAY_DAYS",
    "STRATEGIES",
    "base_delay_days",
    "due_frame",
    "last_failure_reasons",
    "migrate",
    "park",
    "plan_parking",
    "process",
    "process_due",
    "schedule",
    "stats",
    "summary_frame",
    "utc_now",
    "write_parking",
]

STRATEGIES = ("fixed", "exponential", "adaptive")
DEFAULT_STRATEGY = "adaptive"
MAX_RETRIES = 5
JITTER = 0.10
MIN_DELAY_DAYS = 1.0
MAX_ADAPTIVE_DAYS = 365.0
FIXED_DAYS = 90.0
EXPONENTIAL_DAYS = (30.0, 60.0, 120.0, 240.0)
ADAPTIVE_BASE_DAYS = 90.0
ADAPTIVE_LABEL_HINT_DAYS = 60.0
ADAPTIVE_NEW_TRACK_DAYS = 45.0
NEW_TRACK_AGE_DAYS = 30.0
ADAPTIVE_FACTORS = (1.0, 1.5, 2.0)

# Cool-down rows in these states count as "in cool-down" (process or a manual re-queue acts).
PARKED_STATES = ("waiting", "permanent")


def utc_now() -> datetime:
    """The current UTC time as a naive datetime (the store's TIMESTAMP columns are naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _check_strategy(strategy: str) -> str:
    if strategy not in STRATEGIES:
        raise ParameterError(f"cool-down strategy must be one of {STRATEGIES}, got {strategy!r}")
    return strategy


def base_delay_days(
    strategy: str,
    *,
    retry_count: int,
    label_hint: bool = False,
    track_age_days: float | None = None,
) -> float:
    """The delay before the next retry, in days, before jitter.

    Parameters
    ----------
    strategy : {"fixed", "exponential", "adaptive"}
    retry_count : int
        Retries already made (0 when the track enters the cool-down for the first time).
    label_hint : bool, default False
        The track carries a label of lower standing (adaptive: 60 days instead of 90).
    track_age_days : float, optional
        Days since the track was added (adaptive: 45 days when under 30).

    Returns
    -------
    float

    Examples
    --------
    >>> [base_delay_days("exponential", retry_count=k) for k in range(5)]
    [30.0, 60.0, 120.0, 240.0, 240.0]
    >>> base_delay_days("adaptive", retry_count=2, label_hint=True)
    120.0
    """
    _check_strategy(strategy)
    if retry_count < 0:
        raise ParameterError(f"retry_count must be >= 0, got {retry_count}")
    if strategy == "fixed":
        return FIXED_DAYS
    if strategy == "exponential":
        return EXPONENTIAL_DAYS[min(retry_count, len(EXPONENTIAL_DAYS) - 1)]
    base = ADAPTIVE_BASE_DAYS
    if label_hint:
        base = ADAPTIVE_LABEL_HINT_DAYS
    if track_age_days is not None and track_age_days < NEW_TRACK_AGE_DAYS:
        base = min(base, ADAPTIVE_NEW_TRACK_DAYS)
    factor = ADAPTIVE_FACTORS[min(retry_count, len(ADAPTIVE_FACTORS) - 1)]
    return min(base * factor, MAX_ADAPTIVE_DAYS)


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def schedule(
    entries: pd.DataFrame,
    *,
    strategy: str,
    now: datetime,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """When each entry is retried next: base delay, ±10% jitter, at least one day.

    Parameters
    ----------
    entries : pandas.DataFrame
        One row per track (shape ``(n, k)``) with ``retry_count``; optional ``label_hint``
        (bool) and ``track_age_days`` (float, NaN when unknown).
    strategy : {"fixed", "exponential", "adaptive"}
    now : datetime
        The time of parking (naive UTC).
    rng : numpy.random.Generator or int, optional
        The jitter's random source (a seed for reproducible schedules).

    Returns
    -------
    pandas.DataFrame
        ``entries`` with ``delay_days``, ``next_retry_at`` (NaT when permanently failed) and
        ``permanently_failed`` added (shape ``(n, k + 3)``).

    Examples
    --------
    >>> out = schedule(pd.DataFrame({"retry_count": [0]}), strategy="exponential",
    ...                now=datetime(2026, 1, 1), rng=1)
    >>> bool(27 <= out["delay_days"][0] <= 33)
    True
    """
    _check_strategy(strategy)
    out = entries.copy()
    retries = out["retry_count"].astype(int).to_numpy()
    hints = out["label_hint"].eq(True).to_numpy() if "label_hint" in out else None
    ages = out["track_age_days"].astype(float).to_numpy() if "track_age_days" in out else None
    base = np.array(
        [
            base_delay_days(
                strategy,
                retry_count=int(retries[i]),
                label_hint=bool(hints[i]) if hints is not None else False,
                track_age_days=None if ages is None or np.isnan(ages[i]) else float(ages[i]),
            )
            for i in range(len(out))
        ],
        dtype=float,
    )
    jitter = _rng(rng).uniform(-JITTER, JITTER, size=len(out))
    delay = np.maximum(base * (1.0 + jitter), MIN_DELAY_DAYS)
    permanent = retries >= MAX_RETRIES
    out["delay_days"] = np.where(permanent, np.nan, delay)
    out["next_retry_at"] = pd.Timestamp(now) + pd.to_timedelta(out["delay_days"], unit="D")
    out["permanently_failed"] = permanent
    return out


# -- store operations ------------------------------------------------------------------------


def park(
    store: Store,
    entries: pd.DataFrame,
    *,
    now: datetime,
    strategy: str = DEFAULT_STRATEGY,
    rng: np.random.Generator | int | None = None,
) -> int:
    """Put tracks into the cool-down (or back into it after a retry found nothing again).

    A track already in the cool-down keeps its strategy and retry count; a new one starts at
    retry 0 with ``strategy``. Joins the caller's transaction.

    Parameters
    ----------
    store : Store
        Open for writing.
    entries : pandas.DataFrame
        ``track_id``, ``reason`` (``"not_found"`` or ``"failed"``), ``last_error`` (str or
        None), optional ``label_hint`` (bool).
    now : datetime
    strategy : str, default "adaptive"
        For tracks entering the cool-down for the first time.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    int
        Tracks parked (waiting or permanently failed); tracks no longer in the library are
        left out.
    """
    _check_strategy(strategy)
    if entries.empty:
        return 0
    known = store.df(
        "SELECT t.id AS track_id, t.label IS NOT NULL AS has_label, t.added_at, "
        "c.strategy, c.retry_count, c.entered_at, c.history "
        "FROM tracks t LEFT JOIN enrich_cooldown c ON c.track_id = t.id "
        "WHERE t.id IN (SELECT unnest(?::BIGINT[]))",
        [[int(i) for i in entries["track_id"]]],
    )
    planned = plan_parking(
        entries.merge(known, on="track_id", how="inner"), now=now, strategy=strategy, rng=rng
    )
    return write_parking(store, planned)


def plan_parking(
    entries: pd.DataFrame,
    *,
    now: datetime,
    strategy: str = DEFAULT_STRATEGY,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """The cool-down rows for tracks to park (pure: what :func:`park` writes).

    Parameters
    ----------
    entries : pandas.DataFrame
        One row per track (shape ``(n, k)``): ``track_id``, ``reason``, ``last_error``,
        ``has_label``, ``added_at``, and the track's current cool-down row if any
        (``strategy``, ``retry_count``, ``entered_at``, ``history``; null when new).
        Optional ``label_hint``.
    now : datetime
    strategy : str, default "adaptive"
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    pandas.DataFrame
        Rows of ``enrich_cooldown`` (shape ``(n, 12)``), with ``is_new`` (no row yet).
    """
    _check_strategy(strategy)
    frame = entries.reset_index(drop=True).copy()
    frame["is_new"] = frame["entered_at"].isna()
    frame["strategy"] = frame["strategy"].where(frame["strategy"].notna(), strategy)
    frame["retry_count"] = pd.to_numeric(frame["retry_count"]).fillna(0).astype(int)
    hint = frame["label_hint"].eq(True) if "label_hint" in frame else False
    frame["label_hint"] = frame["has_label"].eq(True) | hint
    age = pd.Timestamp(now) - pd.to_datetime(frame["added_at"])
    frame["track_age_days"] = age.dt.total_seconds() / 86400
    generator = _rng(rng)
    parts = [
        schedule(group, strategy=name, now=now, rng=generator)
        for name, group in frame.groupby("strategy", sort=True)
    ]
    planned = pd.concat(parts, ignore_index=True) if parts else frame
    history = [
        _append_history(old, at=now, retry=retry, delay=delay, reason=reason)
        for old, retry, delay, reason in zip(
            planned["history"],
            planned["retry_count"],
            planned["delay_days"],
            planned["reason"],
            strict=True,
        )
    ]
    return pd.DataFrame(
        {
            "track_id": planned["track_id"].astype("int64"),
            "strategy": planned["strategy"].astype(str),
            "reason": planned["reason"],
            "retry_count": planned["retry_count"].astype("int32"),
            "next_retry_at": pd.to_datetime(planned["next_retry_at"]),
            "last_error": planned["last_error"],
            "permanently_failed": planned["permanently_failed"].astype(bool),
            "state": np.where(planned["permanently_failed"], "permanent", "waiting"),
            "entered_at": pd.to_datetime(planned["entered_at"]).fillna(pd.Timestamp(now)),
            "updated_at": pd.Timestamp(now),
            "history": history,
            "is_new": planned["is_new"].astype(bool),
        }
    )


def write_parking(store: Store, planned: pd.DataFrame) -> int:
    """Write rows of :func:`plan_parking`: new ones inserted, known ones updated (bulk)."""
    if planned.empty:
        return 0
    is_new = planned["is_new"]
    rows = planned.drop(columns="is_new")
    with store.transaction():
        if is_new.any():
            store.insert("enrich_cooldown", rows[is_new])
        if (~is_new).any():
            store.update(
                "enrich_cooldown", rows[~is_new].drop(columns="entered_at"), key=["track_id"]
            )
    return len(rows)


def _append_history(old: Any, *, at: datetime, retry: int, delay: float, reason: str) -> str:
    history = json.loads(old) if isinstance(old, str) and old else []
    history.append(
        {
            "at": pd.Timestamp(at).isoformat(),
            "retry": int(retry),
            "delay_days": None if pd.isna(delay) else round(float(delay), 4),
            "reason": reason,
        }
    )
    return json.dumps(history)


def migrate(
    store: Store,
    *,
    now: datetime,
    strategy: str = DEFAULT_STRATEGY,
    rng: np.random.Generator | int | None = None,
    track_ids: Sequence[int] | None = None,
) -> int:
    """Park the tracks that enrichment left without a label and that are not in cool-down yet.

    Two kinds: queue items finished as ``not_found`` or ``failed`` (the worker parks these
    itself; this catches items finished by a worker told not to park, or before the cool-down
    existed), and tracks never queued whose latest label hunt (``musicwb hunt-labels``, the
    ``label_hunts`` table) ended ``not_found`` or ``failed`` and that still have no label.

    Parameters
    ----------
    store : Store
    now : datetime
    strategy : str, default "adaptive"
    rng : numpy.random.Generator or int, optional
    track_ids : sequence of int, optional
        Only these tracks.

    Returns
    -------
    int
        Tracks parked.
    """
    queued = (
        "SELECT q.track_id, q.state AS reason, q.last_error FROM enrich_queue q "
        "LEFT JOIN enrich_cooldown c ON c.track_id = q.track_id "
        "WHERE q.state IN ('not_found', 'failed') "
        "AND (c.track_id IS NULL OR c.state IN ('queued', 'resolved'))"
    )
    hunted = (
        "SELECT h.track_id, h.status AS reason, h.error AS last_error FROM ("
        "SELECT track_id, status, error, row_number() OVER "
        "(PARTITION BY track_id ORDER BY hunted_at DESC) AS latest FROM label_hunts) h "
        "JOIN tracks t ON t.id = h.track_id "
        "WHERE h.latest = 1 AND h.status IN ('not_found', 'failed') "
        "AND (t.label IS NULL OR trim(t.label) = '') "
        "AND NOT EXISTS (SELECT 1 FROM enrich_queue q WHERE q.track_id = h.track_id) "
        "AND NOT EXISTS (SELECT 1 FROM enrich_cooldown c WHERE c.track_id = h.track_id)"
    )
    sql = f"SELECT * FROM ({queued} UNION ALL {hunted}) AS finished"
    parameters: list[Any] = []
    if track_ids is not None:
        sql += " WHERE track_id IN (SELECT unnest(?::BIGINT[]))"
        parameters.append([int(i) for i in track_ids])
    with store.transaction():
        entries = store.df(sql + " ORDER BY track_id", parameters or None)
        return park(store, entries, now=now, strategy=strategy, rng=rng)


def process(store: Store, *, now: datetime) -> int:
    """Send the tracks whose retry time has come back to the work queue.

    Each goes in with the cool-down priority, its attempts reset, and its retry count raised by
    one; permanently failed tracks stay. One transaction.

    Returns
    -------
    int
        Tracks re-queued.
    """
    return len(process_due(store, now=now))


def process_due(store: Store, *, now: datetime) -> list[int]:
    """:func:`process`, returning the ids of the tracks re-queued (in the order they fell due)."""
    from musicwb.enrich.queue import COOLDOWN_PRIORITY, enqueue_tracks

    with store.transaction():
        due = [
            int(row[0])
            for row in store.rows(
                "SELECT track_id FROM enrich_cooldown WHERE state = 'waiting' "
                "AND next_retry_at <= ? ORDER BY next_retry_at, track_id",
                [now],
            )
        ]
        if not due:
            return []
        store.execute(
            "UPDATE enrich_cooldown SET state = 'queued', retry_count = retry_count + 1, "
            "updated_at = ? WHERE track_id IN (SELECT unnest(?::BIGINT[]))",
            [now, due],
        )
        enqueue_tracks(store, due, priority=COOLDOWN_PRIORITY, reason="cooldown", now=now)
    return due


def last_failure_reasons(store: Store, track_ids: Sequence[int]) -> dict[str, int]:
    """Why the given tracks failed the last time they were hunted, counted per short reason.

    A track whose latest hunt did not fail counts nothing; a failed hunt recorded before short
    reasons were kept counts its full error.

    Parameters
    ----------
    store : Store
    track_ids : sequence of int

    Returns
    -------
    dict of str to int
        Most frequent first.

    Examples
    --------
    >>> last_failure_reasons(store, [3, 5])  # doctest: +SKIP
    {'MusicBrainz: cannot reach musicbrainz.org (Name or service not known)': 2}
    """
    from collections import Counter

    ids = sorted({int(i) for i in track_ids})
    if not ids:
        return {}
    rows = store.rows(
        "SELECT status, reasons, error FROM label_hunts "
        "WHERE track_id IN (SELECT unnest(?::BIGINT[])) "
        "QUALIFY row_number() OVER (PARTITION BY track_id ORDER BY hunted_at DESC) = 1",
        [ids],
    )
    counts: Counter[str] = Counter()
    for status, reasons, error in rows:
        if status == "failed":
            counts.update(reasons or [error or "unknown"])
    return dict(counts.most_common())


def stats(store: Store, *, now: datetime) -> dict[str, Any]:
    """The cool-down at a glance.

    Returns
    -------
    dict
        ``total`` (waiting or permanently failed), ``ready`` (due now), ``waiting`` (due
        later), ``permanently_failed``, ``queued`` (sent back, not finished yet),
        ``resolved``, ``next_retry_at`` (ISO time of the next future retry, or None),
        ``average_retries`` (mean retry count of the tracks in cool-down, or None) and
        ``strategies`` (the rows of :func:`summary_frame` as dicts).
    """
    row = store.df(
        "SELECT "
        "count(*) FILTER (WHERE state IN ('waiting', 'permanent')) AS total, "
        "count(*) FILTER (WHERE state = 'waiting' AND next_retry_at <= ?) AS ready, "
        "count(*) FILTER (WHERE state = 'waiting' AND next_retry_at > ?) AS waiting, "
        "count(*) FILTER (WHERE state = 'permanent') AS permanently_failed, "
        "count(*) FILTER (WHERE state = 'queued') AS queued, "
        "count(*) FILTER (WHERE state = 'resolved') AS resolved, "
        "min(next_retry_at) FILTER (WHERE state = 'waiting' AND next_retry_at > ?) "
        "AS next_retry_at, "
        "avg(retry_count) FILTER (WHERE state IN ('waiting', 'permanent')) AS average_retries "
        "FROM enrich_cooldown",
        [now, now, now],
    ).iloc[0]
    next_retry = row["next_retry_at"]
    average = row["average_retries"]
    summary = summary_frame(store, now=now)
    summary["next_retry_at"] = summary["next_retry_at"].map(
        lambda value: None if pd.isna(value) else pd.Timestamp(value).isoformat()
    )
    return {
        "total": int(row["total"]),
        "ready": int(row["ready"]),
        "waiting": int(row["waiting"]),
        "permanently_failed": int(row["permanently_failed"]),
        "queued": int(row["queued"]),
        "resolved": int(row["resolved"]),
        "next_retry_at": None if pd.isna(next_retry) else pd.Timestamp(next_retry).isoformat(),
        "average_retries": None if pd.isna(average) else round(float(average), 3),
        "strategies": summary.to_dict(orient="records"),
    }


def summary_frame(store: Store, *, now: datetime) -> pd.DataFrame:
    """One row per strategy: how many tracks wait, are due, gave up; when the next is due.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``total``, ``ready``, ``waiting``, ``permanently_failed``,
        ``average_retries``, ``next_retry_at`` (shape ``(n_strategies, 7)``).
    """
    frame = store.df(
        "SELECT strategy, "
        "count(*) FILTER (WHERE state IN ('waiting', 'permanent')) AS total, "
        "count(*) FILTER (WHERE state = 'waiting' AND next_retry_at <= ?) AS ready, "
        "count(*) FILTER (WHERE state = 'waiting' AND next_retry_at > ?) AS waiting, "
        "count(*) FILTER (WHERE state = 'permanent') AS permanently_failed, "
        "round(avg(retry_count) FILTER (WHERE state IN ('waiting', 'permanent')), 3) "
        "AS average_retries, "
        "min(next_retry_at) FILTER (WHERE state = 'waiting' AND next_retry_at > ?) "
        "AS next_retry_at "
        "FROM enrich_cooldown GROUP BY strategy ORDER BY strategy",
        [now, now, now],
    )
    for column in ("total", "ready", "waiting", "permanently_failed"):
        frame[column] = frame[column].astype(int)
    return frame


def due_frame(store: Store) -> pd.DataFrame:
    """The tracks waiting in the cool-down and when each is due (for the retry chart).

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``strategy``, ``reason``, ``retry_count``, ``next_retry_at``,
        ``due_date`` (the day) — one row per waiting track, ordered by ``next_retry_at``.
    """
    frame = store.df(
        "SELECT track_id, strategy, reason, retry_count, next_retry_at, "
        "CAST(next_retry_at AS DATE) AS due_date FROM enrich_cooldown "
        "WHERE state = 'waiting' ORDER BY next_retry_at, track_id"
    )
    return frame
