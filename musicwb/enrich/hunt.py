"""A label hunt over the library: the work behind ``musicwb hunt-labels``.

Outcomes are written as they come, in one small transaction at most every ``commit_every_s``
(a track that took that long is written at once), and whatever is finished is written when the
hunt is interrupted, so an interrupted hunt loses nothing that was finished; a store opened with
``hold_open=False`` is opened only for those writes, so other processes use it in between. The
services' answers are cached in the store, so running the same hunt again makes no request.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/hunt.duckdb") as store:  # an empty library
...     summary = hunt_labels(store, limit=100, mode="fast", sources=["library", "title"],
...                           progress=False)
>>> summary.as_dict()["processed"], summary.run_id.split("-")[2]
(0, 'hunt_labels')
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from musicwb.config import Settings
from musicwb.enrich.findings import record_outcomes, tracks_to_hunt
from musicwb.enrich.labels import LabelHunter, make_hunter
from musicwb.enrich.match import MIN_CONFIDENCE, Mode
from musicwb.enrich.outcomes import HuntOutcome
from musicwb.errors import ParameterError
from musicwb.store import Store
from musicwb.store.runs import recorded_run

__all__ = ["HuntSummary", "hunt_labels"]


@dataclass
class HuntSummary:
    """What a hunt did.

    Attributes
    ----------
    processed : int
        Tracks hunted.
    labels_found : int
        Tracks with an accepted finding.
    by_source : dict of str to int
        Accepted findings per source (``title+musicbrainz`` when two tiers agreed).
    failed : int
        Tracks where a source failed after its retries and nothing was accepted.
    not_found : int
    applied : int
        Tracks whose stored label was filled (never one of the user's own).
    below_threshold : int
        Findings kept for review, under ``min_confidence``.
    interrupted : bool
    run_id : str
    failure_reasons : dict of str to int
        Failed tier answers per short reason, most frequent first
        (``{"MusicBrainz: cannot reach musicbrainz.org (Name or service not known)": 3}``);
        a track whose label a later tier found still counts the tier that failed.
    """

    processed: int = 0
    labels_found: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    not_found: int = 0
    applied: int = 0
    below_threshold: int = 0
    interrupted: bool = False
    run_id: str = ""
    llm_fallbacks: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: HuntOutcome) -> None:
        """Count one track's outcome (not its source or failure reasons)."""
        self.processed += 1
        self.llm_fallbacks += outcome.llm_fallbacks
        if outcome.status == "found":
            self.labels_found += 1
        elif outcome.status == "failed":
            self.failed += 1
        else:
            self.not_found += 1
        if outcome.finding is not None and not outcome.finding.accepted:
            self.below_threshold += 1

    @property
    def success_rate(self) -> float:
        """labels_found / processed (0 for an empty hunt)."""
        return round(self.labels_found / self.processed, 4) if self.processed else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-friendly values (the ``--json`` output)."""
        return {
            "processed": self.processed,
            "labels_found": self.labels_found,
            "by_source": dict(sorted(self.by_source.items())),
            "failed": self.failed,
            "not_found": self.not_found,
            "success_rate": self.success_rate,
            "applied": self.applied,
            "below_threshold": self.below_threshold,
            "llm_fallbacks": self.llm_fallbacks,
            "interrupted": self.interrupted,
            "run_id": self.run_id,
            "failure_reasons": dict(self.failure_reasons),
        }

    def describe(self) -> str:
        """One paragraph for the terminal."""
        sources = ", ".join(f"{name} {count}" for name, count in sorted(self.by_source.items()))
        text = (
            f"hunted {self.processed} track(s): {self.labels_found} label(s) found "
            f"({self.success_rate:.0%}){f' — {sources}' if sources else ''}; "
            f"{self.not_found} not found, {self.failed} failed; {self.applied} stored label(s) "
            f"filled; {self.below_threshold} finding(s) below the threshold kept for review"
        )
        return text + (" (interrupted: run it again to go on)" if self.interrupted else "")


def hunt_labels(
    store: Store,
    *,
    limit: int | None = None,
    skip_with_labels: bool = False,
    mode: Mode = "balanced",
    sources: Sequence[str] | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    track_ids: Sequence[int] | None = None,
    hunter: LabelHunter | None = None,
    settings: Settings | None = None,
    progress: bool = True,
    commit_every_s: float = 1.0,
    **service_locations: Any,
) -> HuntSummary:
    """Hunt the labels of the library's tracks and store every outcome.

    Parameters
    ----------
    store : Store
        Opened for writing.
    limit : int, optional
        At most this many tracks.
    skip_with_labels : bool, default False
        Leave out tracks that have a label.
    mode, sources, min_confidence
        See :func:`~musicwb.enrich.labels.make_hunter`.
    track_ids : sequence of int, optional
        Only these tracks.
    hunter : LabelHunter, optional
        Use this hunter instead of building one.
    settings : Settings, optional
    progress : bool, default True
        A tqdm bar on stderr.
    commit_every_s : float, default 1.0
        Write the finished outcomes when this long has passed since the last write (0: after
        every track). Opening a store per statement costs tens of milliseconds, so fast tiers
        write many tracks at a time; a rate-limited service takes longer than this per track,
        and each outcome is written as it comes.
    **service_locations
        ``musicbrainz_host``, ``musicbrainz_https``, ``discogs_base_url`` for
        :func:`~musicwb.enrich.labels.make_hunter`.

    Returns
    -------
    HuntSummary

    Raises
    ------
    ParameterError
        A negative ``commit_every_s`` (and see :func:`~musicwb.enrich.labels.make_hunter`).
    """
    if commit_every_s < 0:
        raise ParameterError(f"commit_every_s must be >= 0, got {commit_every_s}")
    if hunter is None:
        hunter = make_hunter(
            store,
            settings=settings,
            mode=mode,
            sources=sources,
            min_confidence=min_confidence,
            **service_locations,
        )
    tracks = tracks_to_hunt(
        store, limit=limit, skip_with_labels=skip_with_labels, track_ids=track_ids
    )
    parameters = {
        "limit": limit,
        "skip_with_labels": skip_with_labels,
        "mode": hunter.mode,
        "sources": hunter.tier_names,
        "min_confidence": hunter.min_confidence,
        "calibrations": {
            tier.name: tier.calibration.describe()
            for tier in hunter.tiers
            if getattr(tier, "calibration", None) is not None
        },
    }
    summary = HuntSummary()
    by_source: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    hunter.new_run()
    finished: list[HuntOutcome] = []
    last_write = time.monotonic()

    def write() -> None:
        nonlocal last_write
        if finished:
            summary.applied += record_outcomes(store, finished, run_id=summary.run_id)
            finished.clear()
        last_write = time.monotonic()

    with recorded_run(store, kind="hunt_labels", parameters=parameters) as run:
        summary.run_id = run.run_id
        run.summary = summary.as_dict
        try:
            for track in tqdm(tracks, desc="hunting labels", unit="track", disable=not progress):
                outcome = hunter.hunt(track)
                finished.append(outcome)
                if time.monotonic() - last_write >= commit_every_s:
                    write()
                summary.count(outcome)
                by_source.update([outcome.finding.source] if outcome.status == "found" else [])
                reasons.update(outcome.reasons)
        except KeyboardInterrupt:
            summary.interrupted = True
            raise
        finally:
            write()  # what was finished stays finished, even when interrupted
            summary.by_source = dict(by_source)
            summary.failure_reasons = dict(reasons.most_common())
            hunter.flush_caches()
    return summary
