"""The label hunter's store edge: which tracks to hunt, what the library knows, and writing
outcomes (tables ``label_findings`` and ``label_hunts``, migration 005).

A finding fills ``tracks.label`` only when it is accepted and the track carries no label of
the user's own: an empty label, or one an earlier hunt wrote (``label_source`` starting with
``hunt:``) with a lower confidence. Tags and metadata-CSV labels are never overwritten.

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:               # doctest: +SKIP
...     findings_frame(store).head()
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from musicwb.enrich.outcomes import HuntOutcome
from musicwb.enrich.tiers import LibraryKnowledge
from musicwb.store import Store

__all__ = [
    "HUNTER_SOURCE_PREFIX",
    "findings_frame",
    "hunts_frame",
    "library_knowledge",
    "record_outcomes",
    "tracks_to_hunt",
]

HUNTER_SOURCE_PREFIX = "hunt:"
TRACK_COLUMNS = "id, path, artist, title, album, label, label_source, duration, added_at, added_run"


def tracks_to_hunt(
    store: Store,
    *,
    limit: int | None = None,
    skip_with_labels: bool = False,
    track_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """The tracks a hunt works on, in id order.

    Parameters
    ----------
    store : Store
    limit : int, optional
        At most this many.
    skip_with_labels : bool, default False
        Leave out tracks that have a label (of any source).
    track_ids : sequence of int, optional
        Only these tracks.

    Returns
    -------
    list of dict
        Keys ``id``, ``path``, ``artist``, ``title``, ``album``, ``label``, ``label_source``,
        ``duration``, ``added_at``, ``added_run``.
    """
    where, params = [], []
    if skip_with_labels:
        where.append("label IS NULL")
    if track_ids is not None:
        where.append("list_contains(?, id)")
        params.append([int(track_id) for track_id in track_ids])
    sql = f"SELECT {TRACK_COLUMNS} FROM tracks"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    frame = store.df(sql, params or None)
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def library_knowledge(store: Store) -> LibraryKnowledge:
    """The user's own labels (not the hunter's) by album and artist."""
    frame = store.df(
        "SELECT id, artist, album, label FROM tracks WHERE label IS NOT NULL "
        "AND coalesce(label_source, '') NOT LIKE ?",
        [HUNTER_SOURCE_PREFIX + "%"],
    )
    return LibraryKnowledge.from_frame(frame)


def _finding_rows(outcomes: Iterable[HuntOutcome], run_id: str | None) -> pd.DataFrame:
    rows = [
        {
            "track_id": o.track_id,
            "run_id": run_id,
            "label": o.finding.label,
            "catalog": o.finding.catalog,
            "source": o.finding.source,
            "source_id": o.finding.source_id,
            "confidence": o.finding.confidence,
            "accepted": o.finding.accepted,
            "applied": False,
            "evidence": o.finding.evidence,
            "parts": json.dumps(o.finding.parts, default=str, sort_keys=True),
            "found_at": o.finding.found_at,
        }
        for o in outcomes
        if o.finding is not None
    ]
    return pd.DataFrame(rows)


def _hunt_rows(outcomes: Sequence[HuntOutcome], run_id: str | None) -> pd.DataFrame:
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    return pd.DataFrame(
        {
            "track_id": [o.track_id for o in outcomes],
            "run_id": [run_id] * len(outcomes),
            "status": [o.status for o in outcomes],
            "tried": [list(o.tried) for o in outcomes],
            "error": [o.error for o in outcomes],
            "reasons": [list(o.reasons) or None for o in outcomes],
            "elapsed_s": [float(o.elapsed_s) for o in outcomes],
            "hunted_at": [now] * len(outcomes),
        }
    )


def record_outcomes(
    store: Store, outcomes: Sequence[HuntOutcome], *, run_id: str | None = None
) -> int:
    """Write outcomes and their findings; fill labels where the user has none.

    Runs in ``store.transaction()``, which joins a caller's transaction, so a caller can write
    the outcomes and its own bookkeeping atomically.

    Parameters
    ----------
    store : Store
    outcomes : sequence of HuntOutcome
    run_id : str, optional
        The hunt's run (see :mod:`musicwb.store.runs`).

    Returns
    -------
    int
        The number of tracks whose label was filled or improved.
    """
    outcomes = list(outcomes)
    if not outcomes:
        return 0
    findings = _finding_rows(outcomes, run_id)
    with store.transaction():
        store.insert("label_hunts", _hunt_rows(outcomes, run_id))
        if findings.empty:
            return 0
        accepted = findings[findings["accepted"]]
        applied = 0
        if not accepted.empty:
            current = store.df(
                "SELECT t.id AS track_id, t.label AS current_label, t.label_source AS "
                "current_source, t.label_confidence AS current_confidence FROM tracks t "
                "JOIN (SELECT unnest(?) AS id) AS wanted ON wanted.id = t.id",
                [accepted["track_id"].astype("int64").tolist()],
            )
            joined = accepted.merge(current, on="track_id", how="inner")
            ours = joined["current_source"].fillna("").str.startswith(HUNTER_SOURCE_PREFIX)
            empty = joined["current_label"].isna()
            weaker = ours & ~(joined["current_confidence"] >= joined["confidence"])
            fill = joined[empty | weaker].drop_duplicates("track_id", keep="last")
            if not fill.empty:
                now = pd.Timestamp.now(tz="UTC").tz_localize(None)
                sources = HUNTER_SOURCE_PREFIX + fill["source"]
                store.update(
                    "tracks",
                    pd.DataFrame(
                        {
                            "id": fill["track_id"].to_numpy(),
                            "label": fill["label"].to_numpy(),
                            "label_source": sources.to_numpy(),
                            "label_confidence": fill["confidence"].to_numpy(),
                            "updated_at": now,
                        }
                    ),
                    key=["id"],
                )
                with_catalog = fill[fill["catalog"].notna()]
                if not with_catalog.empty:
                    store.execute(
                        "UPDATE tracks SET catalog_number = c.catalog, catalog_number_source = c.src, "
                        "catalog_number_confidence = c.conf FROM (SELECT unnest(?) AS id, unnest(?) AS "
                        "catalog, unnest(?) AS src, unnest(?) AS conf) AS c WHERE tracks.id = c.id "
                        "AND (tracks.catalog_number IS NULL OR tracks.catalog_number_source LIKE 'hunt:%')",
                        [
                            with_catalog["track_id"].astype("int64").tolist(),
                            with_catalog["catalog"].tolist(),
                            (HUNTER_SOURCE_PREFIX + with_catalog["source"]).tolist(),
                            with_catalog["confidence"].astype(float).tolist(),
                        ],
                    )
                findings.loc[
                    findings["accepted"] & findings["track_id"].isin(fill["track_id"]), "applied"
                ] = True
                applied = len(fill)
        store.insert("label_findings", findings)
    return applied


def _equal_filters(conditions: dict[str, Any]) -> tuple[str, list[Any]]:
    """``WHERE a = ? AND b = ?`` for the columns whose value is given (None: no filter)."""
    given = {column: value for column, value in conditions.items() if value is not None}
    clause = " AND ".join(f"{column} = ?" for column in given)
    return (f"WHERE {clause}" if clause else ""), list(given.values())


def findings_frame(
    store: Store, *, run_id: str | None = None, accepted: bool | None = None
) -> pd.DataFrame:
    """Findings with the track's artist and title, newest first.

    Parameters
    ----------
    run_id : str, optional
        Only this hunt's findings.
    accepted : bool, optional
        Only accepted (True) or only below-threshold (False) findings.
    """
    clause, params = _equal_filters({"f.run_id": run_id, "f.accepted": accepted})
    return store.df(
        "SELECT f.track_id, t.artist, t.title, f.label, f.catalog, f.source, f.confidence, "
        "f.accepted, f.applied, f.evidence, f.parts, f.found_at, f.run_id "
        f"FROM label_findings f LEFT JOIN tracks t ON t.id = f.track_id {clause} "
        "ORDER BY f.found_at DESC, f.track_id",
        params or None,
    )


def hunts_frame(
    store: Store, *, run_id: str | None = None, status: str | None = None
) -> pd.DataFrame:
    """Hunt outcomes with the track's artist and title (``status='failed'``: the error table)."""
    clause, params = _equal_filters({"h.run_id": run_id, "h.status": status})
    return store.df(
        "SELECT h.track_id, t.artist, t.title, h.status, h.tried, h.error, h.elapsed_s, "
        f"h.hunted_at, h.run_id FROM label_hunts h LEFT JOIN tracks t ON t.id = h.track_id {clause} "
        "ORDER BY h.hunted_at DESC, h.track_id",
        params or None,
    )
