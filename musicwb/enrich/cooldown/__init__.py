"""The cool-down: tracks that found no label yet, retried on the time scale of releases.

A promo played as "ID - ID" today is often released one to three months later, so a track the
label hunter could not identify (``not_found``) or could not ask about (a source failed on every
attempt) is parked and sent back to the work queue when its time has come.

This module is the schedule, pure: the strategies and dates (:func:`base_delay_days`,
:func:`schedule`, :func:`plan_parking`). The store side, :mod:`musicwb.enrich.cooldown.parking`
(:func:`park`, :func:`migrate`, :func:`process`, :func:`stats`, :func:`summary_frame`,
:func:`due_frame`), is loaded lazily as attributes of this module. Everything takes the time
as a ``now`` parameter, so tests run months in milliseconds.

Strategies (delays in days; ``retry_count`` is the number of retries already made):

- ``fixed``: 90 every time;
- ``exponential``: 30 → 60 → 120 → 240, then 240;
- ``adaptive``: a base of 90, 60 when the track carries a label hint (a label of lower standing,
  e.g. parsed from its title), 45 when the track was added less than 30 days ago; ×1.5 after the
  first retry, ×2.0 after the second and later ones; at most 365.

Every delay gets ±10% jitter (so a thousand tracks parked together do not all come back on the
same day) and is at least one day. After :data:`MAX_RETRIES` retries a track is permanently
failed: :func:`~musicwb.enrich.cooldown.parking.process` no longer sends it back, but a manual re-queue
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
from datetime import UTC, datetime
from typing import Literal, get_args

import lazy_loader as lazy
import numpy as np
import pandas as pd

from musicwb.errors import ParameterError

# The store side is a submodule that builds on the queue, which builds on this schedule:
# attached lazily, so importing the schedule never imports the store side.
__getattr__, __dir__, _store_side = lazy.attach_stub(__name__, __file__)

__all__ = [
    "DEFAULT_STRATEGY",
    "JITTER",
    "MAX_RETRIES",
    "MIN_DELAY_DAYS",
    "STRATEGIES",
    "Strategy",
    "base_delay_days",
    "plan_parking",
    "schedule",
    "utc_now",
]
__all__.extend(_store_side)  # musicwb.enrich.cooldown.parking, attached lazily

Strategy = Literal["fixed", "exponential", "adaptive"]
"""A cool-down strategy."""
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
DEFAULT_STRATEGY: Strategy = "adaptive"
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


def _check_strategy(strategy: str) -> Strategy:
    if strategy not in STRATEGIES:
        raise ParameterError(f"cool-down strategy must be one of {STRATEGIES}, got {strategy!r}")
    return strategy


def base_delay_days(
    strategy: Strategy,
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
    strategy: Strategy,
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


def plan_parking(
    entries: pd.DataFrame,
    *,
    now: datetime,
    strategy: Strategy = DEFAULT_STRATEGY,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """The cool-down rows for tracks to park (what
    :func:`~musicwb.enrich.cooldown.parking.park` writes).

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


def _append_history(old: str | None, *, at: datetime, retry: int, delay: float, reason: str) -> str:
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
