"""What a label hunt produces: findings and per-track outcomes (plain values, no I/O), and the
protocols of the parts that produce and record them (:class:`Hunter`, :class:`Recorder`).

Examples
--------
>>> finding = LabelFinding(track_id=7, label="Klockworks", catalog="KW 20", source="title",
...                        confidence=0.7, evidence="the title names the label", accepted=True)
>>> HuntOutcome(track_id=7, status="found", finding=finding).as_dict()["label"]
'Klockworks'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, get_args

from musicwb.store import Store

__all__ = [
    "HUNT_STATUSES",
    "HuntOutcome",
    "HuntStatus",
    "Hunter",
    "LabelFinding",
    "Recorder",
    "merge_agreeing",
]

HuntStatus = Literal["found", "not_found", "failed"]
"""How a hunt ended: a label found, every tier answered without one, or a source failed."""
HUNT_STATUSES: tuple[HuntStatus, ...] = get_args(HuntStatus)
AGREEMENT_BONUS = 0.05
MAX_CONFIDENCE = 0.99


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class LabelFinding:
    """A label for a track, with where it came from, how sure it is and why.

    Attributes
    ----------
    track_id : int
    label : str
    catalog : str or None
    source : str
        The tier that found it: ``library``, ``title``, ``musicbrainz``, ``discogs`` or a
        plug-in's name; ``a+b`` when two tiers agreed.
    confidence : float
        In [0, 0.99].
    evidence : str
        One or more sentences a user can check.
    accepted : bool
        Whether the confidence reached the hunt's ``min_confidence``.
    parts : dict
        The named score parts (see :mod:`musicwb.enrich.match`).
    source_id : str or None
        The release id at the source, when there is one.
    found_at : datetime
        UTC, naive.
    """

    track_id: int
    label: str
    catalog: str | None
    source: str
    confidence: float
    evidence: str
    accepted: bool = False
    parts: dict[str, Any] = field(default_factory=dict, compare=False)
    source_id: str | None = None
    found_at: datetime = field(default_factory=_now, compare=False)


@dataclass(frozen=True)
class HuntOutcome:
    """The result of hunting one track.

    Attributes
    ----------
    track_id : int
    status : {"found", "not_found", "failed"}
        ``found``: an accepted finding; ``not_found``: every tier answered and none was sure
        enough (a finding below the threshold may still be kept for review); ``failed``: no
        accepted finding and at least one source failed after its retries, so trying again
        later may help.
    finding : LabelFinding or None
        The best finding, accepted or not.
    error : str or None
        ``"<tier>: <ErrorType>: message"`` for each failed tier, joined by ``"; "``.
    reasons : tuple of str
        The short reason of each failed tier, naming the service and not the request
        (``"MusicBrainz: cannot reach musicbrainz.org (Name or service not known)"``), so
        that a summary counts equal failures together.
    unreachable : bool
        ``failed`` only because services could not be reached (every failed tier raised
        :class:`~musicwb.enrich.sources.http.SourceUnreachable`): asking again in the same run
        is pointless, a later run may get through.
    tried : tuple of str
        The tiers asked, in order.
    elapsed_s : float
    llm_fallbacks : int
        How often the LLM assist failed and the deterministic path was used.
    """

    track_id: int
    status: HuntStatus
    finding: LabelFinding | None = None
    error: str | None = None
    tried: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    unreachable: bool = False
    elapsed_s: float = 0.0
    llm_fallbacks: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A flat, JSON-friendly view: the outcome with the finding's fields."""
        finding = self.finding
        return {
            "track_id": self.track_id,
            "status": self.status,
            "label": finding.label if finding else None,
            "catalog": finding.catalog if finding else None,
            "source": finding.source if finding else None,
            "confidence": finding.confidence if finding else None,
            "accepted": finding.accepted if finding else False,
            "evidence": finding.evidence if finding else None,
            "error": self.error,
            "reasons": list(self.reasons),
            "tried": list(self.tried),
            "elapsed_s": round(self.elapsed_s, 4),
        }


def merge_agreeing(first: LabelFinding, second: LabelFinding) -> LabelFinding:
    """Two tiers that name the same label: one finding, a little surer than either.

    The confidence is the higher one plus 0.05 (at most 0.99); the evidence of both is kept,
    the catalogue number and release id of the surer one (else of the other).
    """
    surer, other = (first, second) if first.confidence >= second.confidence else (second, first)
    confidence = round(min(surer.confidence + AGREEMENT_BONUS, MAX_CONFIDENCE), 4)
    return replace(
        surer,
        source=f"{other.source}+{surer.source}",
        confidence=confidence,
        catalog=surer.catalog or other.catalog,
        source_id=surer.source_id or other.source_id,
        evidence=f"{other.evidence} {surer.evidence} Both agree (+{AGREEMENT_BONUS}).",
        parts={**surer.parts, "agreement": AGREEMENT_BONUS, "agreeing_source": other.source},
    )


class Hunter(Protocol):
    """Finds the label of one track (thread-safe): :class:`~musicwb.enrich.labels.LabelHunter`
    or a test's stand-in. A hunter may also have ``new_run()``, called when a run starts."""

    def hunt(self, track: Mapping[str, Any]) -> HuntOutcome:
        """The outcome for one track (keys ``id``, ``artist``, ``title``, ...)."""
        ...


class Recorder(Protocol):
    """Writes outcomes to the store, returns the labels filled
    (:func:`~musicwb.enrich.findings.record_outcomes`)."""

    def __call__(self, store: Store, outcomes: Sequence[HuntOutcome], /) -> int: ...
