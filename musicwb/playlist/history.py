"""Play history: which tracks were played when, for the recently-played filter of playlists.

The store's ``play_history`` table (migration 007) holds one row per play: ``track_id``,
``played_at`` (UTC, no time zone) and ``source`` (where the play came from: ``"rekordbox"``,
``"scrobble"``, ``"playlist"``, ...). :func:`record_plays` appends plays in bulk and keeps one row
when the same play is recorded twice; :func:`recently_played` answers "which tracks were played
in the last ``days`` days", which :func:`musicwb.playlist.build.make_playlist` leaves out.

A store that has no ``play_history`` table yet (opened read-only before migration 007) has
played nothing.

Examples
--------
>>> import tempfile, pathlib, pandas as pd
>>> from musicwb.store import Store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
>>> plays = pd.DataFrame({"track_id": [3, 5], "played_at": ["2026-11-20 22:00", "2026-10-01"]})
>>> with Store(path) as store:
...     record_plays(store, plays, source="rekordbox")
...     sorted(recently_played(store, days=14, now="2026-11-22"))
2
[3]
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store.database import Store
from musicwb.store.tables.playlist import (
    HISTORY_COLUMNS,
    HISTORY_TABLE,
    add_plays,
    played_track_ids,
    recorded_plays,
)

__all__ = ["HISTORY_TABLE", "play_history", "prepare_plays", "recently_played", "record_plays"]

Instant = datetime | pd.Timestamp | str
"""A time: a datetime, a pandas Timestamp or a date string (aware times are converted to UTC)."""


def _utc_naive(values: pd.Series, *, name: str) -> pd.Series:
    """Timestamps as naive UTC: aware ones are converted, naive ones are taken as UTC."""
    try:
        parsed = pd.to_datetime(values, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{name}: cannot read the times as dates: {exc}") from exc
    if parsed.isna().any():
        rows = list(values.index[parsed.isna()][:5])
        raise ParameterError(f"{name}: rows {rows} have no time")
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def _instant(value: Instant | None, *, name: str) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{name} must be a time, got {value!r}") from exc
    if stamp is pd.NaT:
        raise ParameterError(f"{name} must be a time, got {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def prepare_plays(frame: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check and tidy plays for the ``play_history`` table (pure).

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n, 2 or 3)
        Columns ``track_id`` (integers), ``played_at`` (datetimes or date strings; aware times
        are converted to UTC, naive ones are taken as UTC) and, optionally, ``source``.
    source : str, optional
        The source of every play when ``frame`` has no ``source`` column.

    Returns
    -------
    pandas.DataFrame, shape (m, 3), m <= n
        ``track_id`` int64, ``played_at`` naive UTC, ``source`` str; repeated plays once.

    Raises
    ------
    ParameterError
        A column is missing, a track id is not an integer, a time cannot be read, or there is
        no source.

    Examples
    --------
    >>> plays = pd.DataFrame({"track_id": [1, 1], "played_at": ["2026-01-01T23:00:00+01:00"] * 2})
    >>> prepare_plays(plays, source="test").to_dict("records")
    [{'track_id': 1, 'played_at': Timestamp('2026-01-01 22:00:00'), 'source': 'test'}]
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"plays must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in ("track_id", "played_at") if c not in frame.columns]
    if missing:
        raise ParameterError(f"plays need the column(s) {missing}; got {list(frame.columns)}")
    if "source" not in frame.columns and not source:
        raise ParameterError("plays need a source: a 'source' column or source=...")
    ids = pd.to_numeric(frame["track_id"], errors="coerce")
    bad = ids.isna() | (ids != ids.round())
    if bad.any():
        raise ParameterError(
            f"plays: track_id must be whole numbers; rows {list(frame.index[bad][:5])} are not"
        )
    sources = frame["source"] if "source" in frame.columns else pd.Series(source, index=frame.index)
    if sources.isna().any() or (sources.astype(str).str.strip() == "").any():
        if not source:
            raise ParameterError("plays: some rows have no source and no source=... was given")
        sources = sources.where(sources.notna() & (sources.astype(str).str.strip() != ""), source)
    tidy = pd.DataFrame(
        {
            "track_id": ids.astype("int64"),
            "played_at": _utc_naive(frame["played_at"], name="plays: played_at"),
            "source": sources.astype(str).str.strip(),
        }
    )
    return tidy.drop_duplicates(list(HISTORY_COLUMNS)).reset_index(drop=True)


def record_plays(store: Store, frame: pd.DataFrame, *, source: str | None = None) -> int:
    """Append plays to the store's ``play_history`` in one statement; known plays are skipped.

    Parameters
    ----------
    store : Store
        Opened for writing.
    frame : pandas.DataFrame, shape (n, 2 or 3)
        ``track_id``, ``played_at`` and optionally ``source`` (see :func:`prepare_plays`).
    source : str, optional
        The source of plays without one.

    Returns
    -------
    int
        The number of plays that were new.

    Raises
    ------
    ParameterError
        See :func:`prepare_plays`.
    StoreError
        The store is read-only.
    """
    tidy = prepare_plays(frame, source=source)
    if tidy.empty:
        return 0
    return add_plays(store, plays=tidy)


def recently_played(store: Store, *, days: float, now: Instant | None = None) -> set[int]:
    """The ids of the tracks played in the ``days`` days up to ``now``.

    Parameters
    ----------
    store : Store
        May be read-only; without a ``play_history`` table nothing was played.
    days : float
        The lookback (``PlaylistParams.recent_days``, 14 by default); 0 means no lookback
        (an empty set).
    now : datetime or str, optional
        The end of the window (default: the current time, UTC). Plays after it do not count.

    Returns
    -------
    set of int

    Raises
    ------
    ParameterError
        ``days`` is negative or not a number, or ``now`` is not a time.
    """
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not days >= 0:
        raise ParameterError(f"days must be a number >= 0, got {days!r}")
    end = _instant(now, name="now")
    if days == 0:
        return set()
    return played_track_ids(store, start=end - timedelta(days=days), end=end)


def play_history(store: Store, *, since: Instant | None = None) -> pd.DataFrame:
    """The recorded plays, newest first.

    Parameters
    ----------
    store : Store
    since : datetime or str, optional
        Only plays at or after this time (UTC).

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``played_at``, ``source``; no rows without a ``play_history`` table.
    """
    return recorded_plays(store, since=None if since is None else _instant(since, name="since"))
