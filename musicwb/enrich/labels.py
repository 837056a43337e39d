"""The label hunter: ask the tiers in order, stop at the first confident answer.

Tiers, cheapest first (see :mod:`musicwb.enrich.tiers`): ``library`` (the user's labels of the
same album or artist), ``title`` (a label in the title's brackets), ``musicbrainz``,
``discogs``, then plug-ins. A tier whose label agrees with an earlier, less certain finding
makes it surer (:func:`~musicwb.enrich.outcomes.merge_agreeing`). A source that fails after
its retries does not stop the hunt: the others are asked, and if no accepted answer comes the
outcome is ``failed`` (worth retrying) rather than ``not_found``. A service whose host cannot
be reached is marked down by its HTTP policy after the first such answer: the hunts after it
fail at once with the same reason (:attr:`HuntOutcome.reasons`) instead of waiting for retries.
:meth:`LabelHunter.new_run` asks it again.

Modes: ``fast`` (one search per source), ``balanced`` (two query variants), ``accurate``
(three variants and the full release details of the best three candidates).

The optional LLM assist (:mod:`musicwb.enrich.llm`, any OpenAI-compatible endpoint set in the
environment) adds query variants, picks among close candidates and maps a release's several
labels; every failure of it falls back to the deterministic path and is counted.

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/hunter.duckdb") as store:
...     hunter = make_hunter(store, sources=["title"], llm=None)
...     outcome = hunter.hunt({"id": 1, "artist": "Trevino",
...                            "title": "Sombre Tones [Klockworks - KW 20]"})
>>> outcome.status, outcome.finding.label, outcome.finding.catalog
('not_found', 'Klockworks', 'KW 20')
>>> outcome.finding.confidence  # a title alone is below the threshold: kept for review
0.65
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal, get_args

from musicwb.config import Settings, get_settings
from musicwb.enrich.calibration import latest_calibrations
from musicwb.enrich.findings import library_knowledge, record_outcomes, tracks_to_hunt
from musicwb.enrich.llm.answers import Assist
from musicwb.enrich.llm.assist import LlmAssist
from musicwb.enrich.match import MIN_CONFIDENCE, Mode, query_from_track
from musicwb.enrich.outcomes import HuntOutcome, LabelFinding, merge_agreeing
from musicwb.enrich.review import rejected_label_keys
from musicwb.enrich.sources import make_sources
from musicwb.enrich.sources.base import Source
from musicwb.enrich.sources.http import SourceUnreachable
from musicwb.enrich.sources.llm import LlmError
from musicwb.enrich.tiers import (
    Calibration,
    LibraryKnowledge,
    LibraryTier,
    SourceTier,
    Tier,
    TitleTier,
    same_label,
    tier_error,
    tier_reason,
)
from musicwb.errors import ParameterError, SourceError
from musicwb.store import Store
from musicwb.text import label_key

__all__ = [
    "DEFAULT_TIERS",
    "MODES",
    "PLUGIN_GROUP",
    "HuntOutcome",
    "LabelFinding",
    "LabelHunter",
    "available_plugins",
    "make_hunter",
    "record_outcomes",
    "tracks_to_hunt",
]

MODES: tuple[Mode, ...] = get_args(Mode)
DEFAULT_TIERS = ("library", "title", "musicbrainz", "discogs")
PLUGIN_GROUP = "musicwb.label_sources"


class LabelHunter:
    """Hunts the label of one track at a time through the tiers.

    Parameters
    ----------
    tiers : sequence of Tier or Source
        In the order they are asked; a bare :class:`~musicwb.enrich.sources.base.Source` (a
        plug-in, a test source) is wrapped in a :class:`~musicwb.enrich.tiers.SourceTier`.
    mode : {"fast", "balanced", "accurate"}, default "balanced"
    min_confidence : float, default 0.7
        A finding at or above it is accepted and ends the hunt.
    llm : LlmAssist or None
        The optional assist; None (the default) uses the deterministic path only.
    rejected : mapping of int to set of str, optional
        Label keys the user rejected per track id: a tier's finding of one is passed over.

    Notes
    -----
    :meth:`hunt` keeps no state between calls, so one hunter may serve several threads; the
    sources' HTTP policy and cache are thread-safe.
    """

    def __init__(
        self,
        *,
        tiers: Sequence[Tier],
        mode: Mode = "balanced",
        min_confidence: float = MIN_CONFIDENCE,
        llm: Assist | None = None,
        rejected: Mapping[int, frozenset[str]] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ParameterError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not 0.0 < min_confidence <= 1.0:
            raise ParameterError(f"min_confidence must be in (0, 1], got {min_confidence}")
        self.tiers: list[Tier] = [
            tier if hasattr(tier, "find") else SourceTier(tier) for tier in tiers
        ]
        if not self.tiers:
            raise ParameterError("the label hunter needs at least one tier")
        self.mode = mode
        self.min_confidence = float(min_confidence)
        self.llm = llm
        self.rejected = dict(rejected or {})

    @property
    def tier_names(self) -> list[str]:
        """The tiers' names, in order."""
        return [tier.name for tier in self.tiers]

    def _ask(
        self, tier: Tier, track: Mapping[str, Any], query: Any
    ) -> tuple[LabelFinding | None, int]:
        """One tier's finding, with the LLM assist if any; (finding, LLM fallbacks)."""
        if self.llm is None or not isinstance(tier, SourceTier):
            return tier.find(track, query=query, mode=self.mode, assist=None), 0

        try:
            return tier.find(track, query=query, mode=self.mode, assist=self.llm), 0
        except LlmError:
            # The services' answers are cached, so asking again without the assist is cheap.
            return tier.find(track, query=query, mode=self.mode, assist=None), 1

    def new_run(self) -> None:
        """Forget the services marked down (unreachable) in an earlier run: ask them again."""
        for tier in self.tiers:
            policy = getattr(getattr(tier, "source", None), "policy", None)
            reset = getattr(policy, "reset_unreachable", None)
            if reset is not None:
                reset()

    def flush_caches(self) -> None:
        """Write the services' pending cached answers to the store."""
        for tier in self.tiers:
            cache = getattr(getattr(tier, "source", None), "cache", None)
            if cache is not None:
                cache.flush()

    def hunt(self, track: Mapping[str, Any]) -> HuntOutcome:
        """Hunt one track's label.

        Parameters
        ----------
        track : mapping
            A row of :func:`~musicwb.enrich.findings.tracks_to_hunt` (at least ``id``, and
            ``artist``, ``title``, ``album``, ``duration``, ``path`` where known).

        Returns
        -------
        HuntOutcome
        """
        started = time.perf_counter()
        track_id = int(track["id"])
        query = query_from_track(track)
        best: LabelFinding | None = None
        errors: list[str] = []
        reasons: list[str] = []
        unreachable_only = True
        tried: list[str] = []
        fallbacks = 0
        for tier in self.tiers:
            tried.append(tier.name)
            try:
                finding, used_fallback = self._ask(tier, track, query)
            except SourceError as exc:
                errors.append(tier_error(tier, exc))
                reasons.append(tier_reason(tier, exc))
                unreachable_only &= isinstance(exc, SourceUnreachable)
                continue
            fallbacks += used_fallback
            if finding is None or label_key(finding.label) in self.rejected.get(track_id, ()):
                continue
            if best is not None and same_label(best.label, finding.label):
                best = merge_agreeing(best, finding)
            elif best is None or finding.confidence > best.confidence:
                best = finding
            if best.confidence >= self.min_confidence:
                break
        if best is not None:
            best = replace(best, accepted=best.confidence >= self.min_confidence)
        if best is not None and best.accepted:
            status = "found"
        else:
            status = "failed" if errors else "not_found"
        return HuntOutcome(
            track_id=track_id,
            status=status,
            finding=best,
            error="; ".join(errors) or None,
            reasons=tuple(reasons),
            unreachable=status == "failed" and unreachable_only,
            tried=tuple(tried),
            elapsed_s=time.perf_counter() - started,
            llm_fallbacks=fallbacks,
        )


def available_plugins() -> dict[str, Any]:
    """Plug-in factories published under the ``musicwb.label_sources`` entry-point group."""
    from importlib.metadata import entry_points

    return {point.name: point for point in entry_points(group=PLUGIN_GROUP)}


def _check_sources(names: Sequence[str]) -> list[str]:
    plugins = available_plugins()
    known = [*DEFAULT_TIERS, *sorted(plugins)]
    wrong = [name for name in names if name not in known]
    if wrong:
        raise ParameterError(
            f"unknown label source(s) {', '.join(map(repr, wrong))}; choose from {', '.join(known)}"
        )
    if not names:
        raise ParameterError("at least one label source is needed")
    return list(dict.fromkeys(names))


def make_hunter(
    store: Store,
    *,
    settings: Settings | None = None,
    mode: Mode = "balanced",
    sources: Sequence[str] | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    musicbrainz_host: str | None = None,
    musicbrainz_https: bool | None = None,
    discogs_base_url: str | None = None,
    llm: Assist | Literal["auto"] | None = "auto",
    knowledge: LibraryKnowledge | None = None,
    calibrations: Mapping[str, Calibration] | None = None,
) -> LabelHunter:
    """A hunter over the store's library knowledge and the configured services.

    Parameters
    ----------
    store : Store
        Read for the library knowledge; the services' answers are cached in it.
    settings : Settings, optional
        ``get_settings()`` when omitted (contact, rate limits, Discogs token, LLM endpoint).
    mode : {"fast", "balanced", "accurate"}
    sources : sequence of str or str, optional
        Tier names in order (or one comma-separated string): ``library``, ``title``, ``musicbrainz``, ``discogs`` and
        plug-in names (:func:`available_plugins`); default the first four.
    min_confidence : float, default 0.7
    musicbrainz_host, musicbrainz_https, discogs_base_url
        Where the services are, when not the settings' (a mirror, a replay server).
    llm : "auto", None or LlmAssist
        ``"auto"``: the assist when the environment configures an endpoint
        (``MUSICWB_LLM_BASE_URL`` and ``MUSICWB_LLM_MODEL``), else none.
    knowledge : LibraryKnowledge, optional
        Read from the store when omitted.
    calibrations : mapping of str to Calibration, optional
        Per tier name (``library``, ``title``); default the store's latest
        (:func:`~musicwb.enrich.calibration.latest_calibrations`: the library tier falls back
        to the dev corpus's measurement). Pass ``{}`` for the raw scores.

    Returns
    -------
    LabelHunter

    Raises
    ------
    ParameterError
        An unknown mode or source name.
    """
    if settings is None:
        settings = get_settings()
    if isinstance(sources, str):
        sources = [name.strip() for name in sources.split(",") if name.strip()]
    names = _check_sources(list(sources) if sources is not None else list(DEFAULT_TIERS))
    if knowledge is None:
        knowledge = library_knowledge(store) if {"library", "title"} & set(names) else None
    if calibrations is None:
        calibrations = latest_calibrations(store)
    tiers: list[Tier] = []
    services: dict[str, Source] = {}
    if {"musicbrainz", "discogs"} & set(names):
        musicbrainz, discogs = make_sources(
            settings,
            store=store,
            musicbrainz_host=musicbrainz_host,
            musicbrainz_https=musicbrainz_https,
            discogs_base_url=discogs_base_url,
        )
        services = {"musicbrainz": musicbrainz, "discogs": discogs}
    plugins = available_plugins()
    for name in names:
        if name == "library":
            tiers.append(
                LibraryTier(
                    knowledge or LibraryKnowledge.empty(), calibration=calibrations.get(name)
                )
            )
        elif name == "title":
            tiers.append(TitleTier(knowledge, calibration=calibrations.get(name)))
        elif name in services:
            tiers.append(SourceTier(services[name]))
        else:
            tiers.append(SourceTier(plugins[name].load()(settings)))
    if llm == "auto":
        llm = LlmAssist.from_settings(settings)
    return LabelHunter(
        tiers=tiers,
        mode=mode,
        min_confidence=min_confidence,
        llm=llm,
        rejected=rejected_label_keys(store),
    )
