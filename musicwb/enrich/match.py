"""Scoring a source's candidates against a track, with named parts a user can read.

Pure functions: a :class:`TrackQuery` (what the library knows about the track) and a
:class:`~musicwb.enrich.sources.base.Candidate` (what a source answered) give a
:class:`MatchScore`: a confidence in [0, 0.99] and the parts it was made of.

How the confidence is made
    The weighted mean of the similarities that can be measured (rapidfuzz, 0–1): artist 0.4,
    title 0.4 (mix words aside), mix 0.1, duration 0.1 (left out, and the weights renormalised,
    when either side has no length). Then adjustments: +0.05 when the candidate's label agrees
    with a label hint from the title, −0.03 when it disagrees, −0.15 for a compilation or DJ
    mix (its label is rarely the original release's). An artist or title below 0.7 caps the
    confidence at 0.6: a famous title by another artist is not a match, however long it is.

Examples
--------
>>> from musicwb.enrich.sources.base import Candidate
>>> query = TrackQuery(artist="Trash80", title="Icarus", duration_s=None)
>>> found = Candidate(source="discogs", source_id="1346442", artist="Trash80", title="Icarus",
...                   label="8bitpeoples", catalog="8BP086")
>>> score = score_candidate(query, found)
>>> score.confidence, score.parts["artist"]
(0.99, 1.0)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from musicwb.enrich.sources.base import Candidate
from musicwb.titles import parse_title

__all__ = [
    "MIN_CONFIDENCE",
    "WEIGHTS",
    "MatchScore",
    "Mode",
    "TrackQuery",
    "best_label",
    "query_from_track",
    "query_variants",
    "rank_candidates",
    "score_candidate",
    "similarity",
    "split_mix",
]

Mode = Literal["fast", "balanced", "accurate"]
"""How hard the hunter searches: 1, 2 or 3 query variants (accurate also reads release details)."""
MIN_CONFIDENCE = 0.7
WEIGHTS: Mapping[str, float] = {"artist": 0.4, "title": 0.4, "mix": 0.1, "duration": 0.1}
GATE = 0.7
GATED_CAP = 0.6
LABEL_AGREES = 0.05
LABEL_DISAGREES = -0.03
COMPILATION_PENALTY = -0.15
MAX_CONFIDENCE = 0.99
DURATION_EXACT_S = 2.0
DURATION_WORST_S = 30.0

_TRAILING_GROUP = re.compile(r"\s*[\(\[]([^()\[\]]+)[\)\]]\s*$")
_MIX_WORDS = re.compile(
    r"\b(mix|remix|edit|dub|rework|version|vip|bootleg|instrumental|remaster(ed)?|radio|extended|"
    r"club|original|reprise|process|interpretation|refix|flip)\b",
    re.IGNORECASE,
)
_ORIGINAL = {"original mix", "original", "original version"}
_FEATURING = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s+.*$", re.IGNORECASE)
_COMPILATION_WORDS = ("compilation", "dj-mix", "dj mix", "mixed")


@dataclass(frozen=True)
class TrackQuery:
    """What the library knows about a track, as the matcher needs it.

    Attributes
    ----------
    artist, title : str
        The title without its mix part (see :func:`split_mix`).
    mix : str or None
        E.g. ``"Adam Beyer Remix"``; None when the title names none.
    duration_s : float or None
    label_hint, catalog_hint : str or None
        A label (and catalogue number) read from the title's brackets.
    """

    artist: str
    title: str
    mix: str | None = None
    duration_s: float | None = None
    label_hint: str | None = None
    catalog_hint: str | None = None


@dataclass(frozen=True)
class MatchScore:
    """How well a candidate fits a track: the confidence and the parts it was made of."""

    confidence: float
    parts: dict[str, float] = field(default_factory=dict)

    def accepted(self, min_confidence: float = MIN_CONFIDENCE) -> bool:
        """Whether the confidence reaches ``min_confidence``."""
        return self.confidence >= min_confidence


def similarity(a: str | None, b: str | None) -> float:
    """Fuzzy similarity of two names in [0, 1] (case, accents and punctuation folded).

    The best of rapidfuzz's plain ratio and token-set ratio, so that word order and an extra
    word on one side ("The Persuader" / "Persuader") cost little.

    >>> similarity("Ø [Phase]", "ø [phase]")
    1.0
    >>> similarity("Trevino", "Marcus Intalex") < 0.5
    True
    """
    left, right = default_process(a or ""), default_process(b or "")
    if not left or not right:
        return 0.0
    return round(max(fuzz.ratio(left, right), fuzz.token_set_ratio(left, right)) / 100.0, 4)


def split_mix(title: str) -> tuple[str, str | None]:
    """Split a trailing mix group off a title.

    >>> split_mix("We Come 1 (Adam Beyer Remix)")
    ('We Come 1', 'Adam Beyer Remix')
    >>> split_mix("Binary Opposition")
    ('Binary Opposition', None)
    """
    title = title.strip()
    match = _TRAILING_GROUP.search(title)
    if match and _MIX_WORDS.search(match.group(1)):
        return title[: match.start()].strip(), match.group(1).strip()
    return title, None


def _main_artist(artist: str) -> str:
    return _FEATURING.sub("", artist).strip()


def query_from_track(track: Mapping[str, Any]) -> TrackQuery | None:
    """A query from a store row (``artist``, ``title``, ``duration``), or None if unusable.

    The title goes through the title parser, so ``"Sombre Tones [Klockworks - KW 20]"`` gives
    the title ``Sombre Tones``, the label hint ``Klockworks`` and the catalogue ``KW 20``; a
    track without a usable artist and title (or an "ID - ID" promo) gives None.

    >>> query_from_track({"artist": "Trevino", "title": "Sombre Tones [Klockworks - KW 20]"})
    TrackQuery(artist='Trevino', title='Sombre Tones', mix=None, duration_s=None, \
label_hint='Klockworks', catalog_hint='KW 20')
    """
    artist = (track.get("artist") or "").strip()
    raw_title = (track.get("title") or "").strip()
    if not raw_title:
        return None
    parsed = parse_title(raw_title, source="store")
    title = parsed.title or raw_title
    if not artist:
        artist = parsed.artist or ""
    if not artist or parsed.is_unknown:
        return None
    base, mix = split_mix(title)
    duration = track.get("duration")
    return TrackQuery(
        artist=artist,
        title=base,
        mix=parsed.mix or mix,
        duration_s=float(duration) if duration is not None and not math.isnan(duration) else None,
        label_hint=parsed.label,
        catalog_hint=parsed.catalog,
    )


def query_variants(query: TrackQuery, *, mode: Mode) -> list[tuple[str, str]]:
    """The (artist, title) searches a mode makes: 1 (fast), 2 (balanced) or 3 (accurate).

    Variants: as tagged with the mix; the main artist (featured artists dropped) and the title
    without its mix; the main artist and the title's first words before a dash or slash.
    Duplicates are dropped, so a plain track may need fewer searches.

    >>> query_variants(TrackQuery("A ft. B", "Song", mix="X Remix"), mode="accurate")
    [('A ft. B', 'Song (X Remix)'), ('A', 'Song')]
    """
    full_title = f"{query.title} ({query.mix})" if query.mix else query.title
    main = _main_artist(query.artist)
    candidates = [(query.artist, full_title), (main, query.title)]
    short = re.split(r"\s+[-/]\s+", query.title)[0].strip()
    candidates.append((main, short))
    wanted = {"fast": 1, "balanced": 2, "accurate": 3}[mode]
    unique: list[tuple[str, str]] = []
    for pair in candidates[:wanted]:
        if pair not in unique and all(pair):
            unique.append(pair)
    return unique


def _is_compilation(candidate: Candidate) -> bool:
    words = [*candidate.formats, str(candidate.extra.get("release_type") or "")]
    words += [str(kind) for kind in candidate.extra.get("secondary_types") or ()]
    return any(term in word.lower() for word in words for term in _COMPILATION_WORDS)


def _mix_similarity(wanted: str | None, found: str | None) -> float:
    if wanted is None and found is None:
        return 1.0
    if wanted is None or found is None:
        other = (wanted or found or "").lower()
        return 0.9 if other in _ORIGINAL else 0.4
    return similarity(wanted, found)


def _duration_similarity(wanted: float | None, found: float | None) -> float | None:
    if wanted is None or found is None or wanted <= 0 or found <= 0:
        return None
    gap = abs(wanted - found)
    if gap <= DURATION_EXACT_S:
        return 1.0
    return round(
        max(0.0, 1.0 - (gap - DURATION_EXACT_S) / (DURATION_WORST_S - DURATION_EXACT_S)), 4
    )


def score_candidate(query: TrackQuery, candidate: Candidate) -> MatchScore:
    """Score one candidate against a track (see the module docstring for the formula).

    Returns
    -------
    MatchScore
        ``parts`` holds ``artist``, ``title``, ``mix``, ``duration`` (when measurable) and the
        adjustments that applied (``label_hint``, ``compilation``, ``gate``).
    """
    found_title, found_mix = split_mix(candidate.title)
    parts: dict[str, float] = {
        "artist": max(
            similarity(query.artist, candidate.artist),
            similarity(_main_artist(query.artist), _main_artist(candidate.artist)),
        ),
        "title": similarity(query.title, found_title),
        "mix": _mix_similarity(query.mix, found_mix),
    }
    duration = _duration_similarity(query.duration_s, candidate.duration_s)
    if duration is not None:
        parts["duration"] = duration
    weight = sum(WEIGHTS[name] for name in parts)
    confidence = sum(WEIGHTS[name] * value for name, value in parts.items()) / weight
    if query.label_hint and candidate.label:
        agrees = similarity(query.label_hint, candidate.label) >= 0.85
        parts["label_hint"] = LABEL_AGREES if agrees else LABEL_DISAGREES
        confidence += parts["label_hint"]
    if _is_compilation(candidate):
        parts["compilation"] = COMPILATION_PENALTY
        confidence += COMPILATION_PENALTY
    if min(parts["artist"], parts["title"]) < GATE and confidence > GATED_CAP:
        parts["gate"] = round(GATED_CAP - confidence, 4)
        confidence = GATED_CAP
    return MatchScore(confidence=round(min(max(confidence, 0.0), MAX_CONFIDENCE), 4), parts=parts)


def rank_candidates(
    query: TrackQuery, candidates: Iterable[Candidate]
) -> list[tuple[Candidate, MatchScore]]:
    """Candidates with their scores, best first (ties: those carrying a label first).

    Returns
    -------
    list of (Candidate, MatchScore)
    """
    scored = [(candidate, score_candidate(query, candidate)) for candidate in candidates]
    return sorted(scored, key=lambda pair: (-pair[1].confidence, pair[0].label is None))


def best_label(
    scored: Sequence[tuple[Candidate, MatchScore]],
) -> tuple[Candidate, MatchScore] | None:
    """The best-scored candidate that names a label, or None."""
    return next(((c, s) for c, s in scored if c.label), None)
