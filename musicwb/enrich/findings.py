"""The label hunter's store edge: which tracks to hunt, what the library knows, and writing
outcomes (tables ``label_findings`` and ``label_hunts``, migration 005).

A finding fills ``tracks.label`` only when it is accepted and the track carries no label of
the user's own: an empty label, or one an earlier hunt wrote (``label_source`` starting with
``hunt:``) with a lower confidence. Tags, metadata-CSV and ``manual`` labels (the user's
decisions, :mod:`musicwb.enrich.review`) are never overwritten, and a finding of a label the
user rejected for the track is not recorded at all.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/findings.duckdb") as store:
...     list(findings_frame(store).columns[:4]), tracks_to_hunt(store)
(['track_id', 'artist', 'title', 'label'], [])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import pandas as pd

from musicwb.enrich.outcomes import HuntOutcome
from musicwb.enrich.review import catalogue_rows_of, rejected_label_keys
from musicwb.enrich.tiers import LibraryKnowledge
from musicwb.store import Store
from musicwb.store.tables import enrich as tables
from musicwb.store.tables import labels as label_tables
from musicwb.store.tables.enrich import HUNTER_SOURCE_PREFIX, HuntTrack
from musicwb.text import label_key

__all__ = [
    "HUNTER_SOURCE_PREFIX",
    "findings_frame",
    "hunts_frame",
    "library_knowledge",
    "record_outcomes",
    "tracks_to_hunt",
]


def tracks_to_hunt(
    store: Store,
    *,
    limit: int | None = None,
    skip_with_labels: bool = False,
    track_ids: Sequence[int] | None = None,
) -> list[HuntTrack]:
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
    list of HuntTrack
        ``id``, ``path``, ``artist``, ``title``, ``album``, ``label``, ``label_source``,
        ``duration``, ``added_at``, ``added_run``.
    """
    frame = tables.tracks_for_hunt(
        store=store, limit=limit, skip_with_labels=skip_with_labels, track_ids=track_ids
    )
    frame = frame.astype(object).where(frame.notna(), None)
    return [HuntTrack(**record) for record in frame.to_dict("records")]


def library_knowledge(store: Store) -> LibraryKnowledge:
    """The user's own labels (not the hunter's) by album and artist."""
    return LibraryKnowledge.from_frame(tables.user_labels(store=store))


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
        tables.insert_hunts(store=store, rows=_hunt_rows(outcomes, run_id))
        if not findings.empty:
            # The hunter skips rejected labels already; a worker started before the user's
            # decision does not know it, so the store's edge checks again.
            rejected = rejected_label_keys(store, track_ids=findings["track_id"].tolist())
            keep = [
                label_key(label) not in rejected.get(int(track_id), ())
                for track_id, label in zip(findings["track_id"], findings["label"])
            ]
            findings = findings[keep]
        if findings.empty:
            return 0
        accepted = findings[findings["accepted"]]
        applied = 0
        if not accepted.empty:
            current = tables.current_labels(store=store, track_ids=accepted["track_id"])
            joined = accepted.merge(current, on="track_id", how="inner")
            ours = joined["current_source"].fillna("").str.startswith(HUNTER_SOURCE_PREFIX)
            manual = joined["current_source"].eq(label_tables.MANUAL_SOURCE)
            empty = joined["current_label"].isna() & ~manual
            weaker = ours & ~(joined["current_confidence"] >= joined["confidence"])
            fill = joined[empty | weaker].drop_duplicates("track_id", keep="last")
            if not fill.empty:
                now = pd.Timestamp.now(tz="UTC").tz_localize(None)
                sources = HUNTER_SOURCE_PREFIX + fill["source"]
                tables.apply_labels(
                    store=store,
                    rows=pd.DataFrame(
                        {
                            "id": fill["track_id"].to_numpy(),
                            "label": fill["label"].to_numpy(),
                            "label_source": sources.to_numpy(),
                            "label_confidence": fill["confidence"].to_numpy(),
                            "updated_at": now,
                        }
                    ),
                )
                with_catalog = fill[fill["catalog"].notna()]
                label_tables.upsert_catalogue_numbers(
                    store=store,
                    rows=catalogue_rows_of(
                        with_catalog["track_id"].tolist(), with_catalog["catalog"].tolist(),
                        labels=with_catalog["label"].tolist(),
                        sources=(HUNTER_SOURCE_PREFIX + with_catalog["source"]).tolist(),
                        confidences=with_catalog["confidence"].tolist(), now=now,
                    ),
                )  # fmt: skip
                if not with_catalog.empty:
                    tables.apply_catalog_numbers(
                        store=store,
                        track_ids=with_catalog["track_id"],
                        catalogs=with_catalog["catalog"].tolist(),
                        sources=(HUNTER_SOURCE_PREFIX + with_catalog["source"]).tolist(),
                        confidences=with_catalog["confidence"].tolist(),
                    )
                findings.loc[
                    findings["accepted"] & findings["track_id"].isin(fill["track_id"]), "applied"
                ] = True
                applied = len(fill)
        tables.insert_findings(store=store, rows=findings)
    return applied


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
    return tables.findings(store=store, run_id=run_id, accepted=accepted)


def hunts_frame(
    store: Store, *, run_id: str | None = None, status: str | None = None
) -> pd.DataFrame:
    """Hunt outcomes with the track's artist and title (``status='failed'``: the error table)."""
    return tables.hunts(store=store, run_id=run_id, status=status)
