"""Reviewing the label hunter's findings: the work behind ``musicwb labels review|accept|reject|
search`` and the label_hunting notebook's review table.

A finding below the acceptance threshold waits for the user. Accepting it (or giving a label
of one's own) makes it the track's label with source ``manual`` and confidence 1.0; no hunt,
tier, cool-down or re-scan overwrites a manual value (see
:func:`~musicwb.enrich.findings.record_outcomes` and
:func:`~musicwb.library.fields.keep_curated`). Rejecting it records the decision: that label is
never proposed to that track again, and a label the hunter had filled with it is emptied.

Catalogue numbers are kept as written and in a normal form (:func:`normalise_catalogue`); a
track may have several, and :func:`search_catalogue` finds tracks by any spelling.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/review.duckdb") as store:
...     len(review_queue(store))
0
>>> normalise_catalogue("cat 012") == normalise_catalogue("CAT-012") == "CAT012"
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import pandas as pd

from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.tables import labels as tables
from musicwb.store.tables.labels import MANUAL_SOURCE
from musicwb.text import catalogue_key, label_key

__all__ = [
    "MANUAL_SOURCE",
    "REVIEW_COLUMNS",
    "Decision",
    "accept_label",
    "catalogue_numbers",
    "catalogue_rows_of",
    "normalise_catalogue",
    "reject_label",
    "rejected_label_keys",
    "review_queue",
    "search_catalogue",
]

REVIEW_COLUMNS = (
    "track_id", "artist", "title", "label", "catalog", "source", "confidence", "evidence",
    "found_at", "run_id",
)  # fmt: skip
"""The columns of :func:`review_queue`."""

DecisionKind = Literal["accepted", "rejected"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Decision:
    """What the user decided about one track's label.

    Attributes
    ----------
    track_id : int
    decision : {"accepted", "rejected"}
    label : str
        The label accepted or rejected.
    catalogues : tuple of str
        Catalogue numbers accepted with it (display form).
    previous_label : str or None
        The track's label before the decision.
    cleared : bool
        A reject emptied a label the hunter had filled with the rejected label.
    """

    track_id: int
    decision: DecisionKind
    label: str
    catalogues: tuple[str, ...] = ()
    previous_label: str | None = None
    cleared: bool = False

    def describe(self) -> str:
        """One line for the terminal."""
        if self.decision == "accepted":
            cats = f" [{', '.join(self.catalogues)}]" if self.catalogues else ""
            return f"track {self.track_id}: label {self.label}{cats} accepted (manual, 1.0)"
        cleared = "; the label the hunter had filled is emptied" if self.cleared else ""
        return f"track {self.track_id}: label {self.label} rejected{cleared}"

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly values (the ``--json`` output)."""
        return {
            "track_id": self.track_id,
            "decision": self.decision,
            "label": self.label,
            "catalogues": list(self.catalogues),
            "previous_label": self.previous_label,
            "cleared": self.cleared,
        }


def normalise_catalogue(catalogue: str) -> str:
    """The normal form of a catalogue number given by a user.

    Parameters
    ----------
    catalogue : str

    Returns
    -------
    str
        Letters and digits, upper case (see :func:`musicwb.text.catalogue_key`).

    Raises
    ------
    ParameterError
        Empty, too long, or characters a catalogue number does not have.

    Examples
    --------
    >>> normalise_catalogue(" kw-20 ")
    'KW20'
    """
    try:
        key = catalogue_key(catalogue)
    except ValueError as exc:
        raise ParameterError(f"--catalogue: {exc}") from exc
    if key is None:
        raise ParameterError("--catalogue: an empty catalogue number")
    return key


def catalogue_rows_of(
    track_ids: Sequence[int],
    catalogues: Sequence[str | None],
    *,
    labels: Sequence[str | None],
    sources: Sequence[str],
    confidences: Sequence[float | None],
    now: datetime | None = None,
) -> pd.DataFrame:
    """Rows of the catalogue numbers table; values that are no catalogue number are left out
    (a source's odd field must not stop a hunt).

    Examples
    --------
    >>> rows = catalogue_rows_of([1, 1, 2], ["KW 20", "kw-20", "???"], labels=[None] * 3,
    ...                          sources=["tags"] * 3, confidences=[1.0] * 3)
    >>> rows[["track_id", "catalogue", "catalogue_key"]].values.tolist()
    [[1, 'KW 20', 'KW20'], [1, 'kw-20', 'KW20']]
    """
    now = now or _now()
    rows = []
    for track_id, catalogue, label, source, confidence in zip(
        track_ids, catalogues, labels, sources, confidences, strict=True
    ):
        try:
            key = catalogue_key(catalogue)
        except ValueError:
            continue
        if key is None:
            continue
        rows.append({
            "track_id": int(track_id), "catalogue": str(catalogue).strip(),
            "catalogue_key": key, "label": label, "source": source,
            "confidence": None if confidence is None else float(confidence), "added_at": now,
        })  # fmt: skip
    columns = ["track_id", "catalogue", "catalogue_key", "label", "source", "confidence",
               "added_at"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def rejected_label_keys(
    store: Store, *, track_ids: Sequence[int] | None = None
) -> dict[int, frozenset[str]]:
    """The label keys the user rejected, per track."""
    frame = tables.rejected_labels(store=store, track_ids=track_ids)
    found: dict[int, set[str]] = {}
    for track_id, key in frame.itertuples(index=False):
        found.setdefault(int(track_id), set()).add(key)
    return {track_id: frozenset(keys) for track_id, keys in found.items()}


def _awaiting(store: Store, track_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Each track's newest finding that is not rejected, where the track has no label of the
    user's own."""
    frame = tables.latest_findings(store=store, track_ids=track_ids)
    if frame.empty:
        return frame
    rejected = rejected_label_keys(store, track_ids=track_ids)
    keys = frame["label"].map(label_key)
    is_rejected = [
        key in rejected.get(int(track_id), ()) for track_id, key in zip(frame["track_id"], keys)
    ]
    source = frame["current_source"].fillna("")
    users_own = frame["current_label"].notna() & ~source.str.startswith("hunt:")
    frame = frame[~pd.Series(is_rejected, index=frame.index) & ~users_own]
    return frame.drop_duplicates("track_id", keep="first")


def review_queue(
    store: Store, *, below: float | None = None, limit: int | None = None
) -> pd.DataFrame:
    """The findings waiting for the user's decision, least certain last.

    Each track's newest finding that was not accepted by its hunt (or, with ``below``, whose
    confidence is under it), that the user did not reject, on a track whose label is not the
    user's own (empty, or filled by the hunter).

    Parameters
    ----------
    store : Store
    below : float, optional
        List findings under this confidence instead of the hunts' own threshold.
    limit : int, optional
        At most this many rows.

    Returns
    -------
    pandas.DataFrame
        :data:`REVIEW_COLUMNS`, by confidence (highest first), then track id.
    """
    if below is not None and not 0.0 < below <= 1.0:
        raise ParameterError(f"--below must be in (0, 1], got {below}")
    if limit is not None and limit < 1:
        raise ParameterError(f"--limit must be at least 1, got {limit}")
    frame = _awaiting(store)
    if frame.empty:
        return pd.DataFrame(columns=list(REVIEW_COLUMNS))
    waiting = frame["confidence"] < below if below is not None else ~frame["accepted"]
    frame = frame[waiting].sort_values(["confidence", "track_id"], ascending=[False, True])
    frame = frame[list(REVIEW_COLUMNS)].reset_index(drop=True)
    return frame if limit is None else frame.head(limit)


def _track(store: Store, track_id: int) -> tables.TrackLabel:
    track = tables.track_label(store=store, track_id=track_id)
    if track is None:
        raise ParameterError(f"TRACK_ID: no track {track_id} in the library")
    return track


def accept_label(
    store: Store,
    track_id: int,
    *,
    label: str | None = None,
    catalogues: Sequence[str] = (),
    now: datetime | None = None,
) -> Decision:
    """Make a label the track's own: source ``manual``, confidence 1.0.

    Parameters
    ----------
    store : Store
        Opened for writing.
    track_id : int
    label : str, optional
        The label; default the track's newest finding that is not rejected.
    catalogues : sequence of str, optional
        Catalogue numbers of the release (the first is the track's ``catalog_number``); by
        default the finding's, when the label is the finding's.
    now : datetime, optional

    Returns
    -------
    Decision

    Raises
    ------
    ParameterError
        No such track; no label given and no finding to accept; a malformed catalogue number.
    """
    now = now or _now()
    track = _track(store, track_id)
    given = [c.strip() for c in catalogues]
    for catalogue in given:
        normalise_catalogue(catalogue)
    if label is not None and not label.strip():
        raise ParameterError("--label: an empty label")
    label, finding = _decided_label(
        store, track_id, label,
        no_finding=f"track {track_id} has no finding to accept: give the label with --label",
    )  # fmt: skip
    if not given and finding is not None and isinstance(finding["catalog"], str):
        given = [finding["catalog"]]
    with store.transaction():
        tables.set_manual_label(
            store=store, track_id=track_id, label=label, catalogue=given[0] if given else None,
            now=now,
        )  # fmt: skip
        tables.upsert_catalogue_numbers(
            store=store,
            rows=catalogue_rows_of(
                [track_id] * len(given), given, labels=[label] * len(given),
                sources=[MANUAL_SOURCE] * len(given), confidences=[1.0] * len(given), now=now,
            ),
        )  # fmt: skip
        tables.insert_decision(
            store=store, track_id=track_id, decision="accepted", label=label,
            label_key=label_key(label), catalogue=", ".join(given) or None,
            finding_source=finding["source"] if finding is not None else None,
            finding_confidence=float(finding["confidence"]) if finding is not None else None,
            now=now,
        )  # fmt: skip
    return Decision(
        track_id=int(track_id), decision="accepted", label=label, catalogues=tuple(given),
        previous_label=track.label,
    )  # fmt: skip


def _awaiting_finding(store: Store, track_id: int) -> pd.Series | None:
    frame = tables.latest_findings(store=store, track_ids=[track_id])
    rejected = rejected_label_keys(store, track_ids=[track_id]).get(int(track_id), frozenset())
    for _, row in frame.iterrows():
        if label_key(row["label"]) not in rejected:
            return row
    return None


def _decided_label(
    store: Store, track_id: int, label: str | None, *, no_finding: str
) -> tuple[str, pd.Series | None]:
    """The label a decision is about, stripped: ``label``, else the track's awaiting finding's
    (none: ParameterError ``no_finding``); with that finding when the label is its."""
    finding = _awaiting_finding(store, track_id)
    if label is None:
        if finding is None:
            raise ParameterError(no_finding)
        label = str(finding["label"])
    label = label.strip()
    if finding is not None and label_key(str(finding["label"])) == label_key(label):
        return label, finding
    return label, None


def reject_label(
    store: Store, track_id: int, *, label: str | None = None, now: datetime | None = None
) -> Decision:
    """Reject a label for a track: it is never proposed to that track again.

    Parameters
    ----------
    store : Store
        Opened for writing.
    track_id : int
    label : str, optional
        Default the track's newest finding that is not rejected yet.
    now : datetime, optional

    Returns
    -------
    Decision
        ``cleared`` when the hunter had filled the track's label with it (now emptied).

    Raises
    ------
    ParameterError
        No such track, or no label given and no finding to reject.
    """
    now = now or _now()
    track = _track(store, track_id)
    label, finding = _decided_label(
        store, track_id, label, no_finding=f"track {track_id} has no finding to reject"
    )
    if not label:
        raise ParameterError("--label: an empty label")
    with store.transaction():
        cleared = tables.clear_hunted_label(
            store=store, track_id=track_id, label=track.label or "", now=now
        ) if label_key(track.label) == label_key(label) else False  # fmt: skip
        tables.insert_decision(
            store=store, track_id=track_id, decision="rejected", label=label,
            label_key=label_key(label), catalogue=None,
            finding_source=finding["source"] if finding is not None else None,
            finding_confidence=float(finding["confidence"]) if finding is not None else None,
            now=now,
        )  # fmt: skip
    return Decision(
        track_id=int(track_id), decision="rejected", label=label, previous_label=track.label,
        cleared=cleared,
    )  # fmt: skip


def search_catalogue(store: Store, catalogue: str, *, prefix: bool = False) -> pd.DataFrame:
    """Tracks with this catalogue number, however it is spelled.

    Parameters
    ----------
    store : Store
    catalogue : str
        Any spelling (``cat 012``, ``CAT-012``).
    prefix : bool, default False
        Numbers that start with it (``KW`` finds ``KW 20`` and ``KW 21``).

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``artist``, ``title``, ``label``, ``catalogue`` (as written),
        ``catalogue_key``, ``source``.
    """
    return tables.search_catalogue(store=store, key=normalise_catalogue(catalogue), prefix=prefix)


def catalogue_numbers(store: Store, *, track_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The catalogue numbers stored per track (several per track where known)."""
    return tables.catalogue_rows(store=store, track_ids=track_ids)
