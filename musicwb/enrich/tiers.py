"""The label hunter's tiers: where a label can come from, cheapest first.

Each tier has a ``name`` and ``find(track, *, query, mode, assist) -> LabelFinding | None``;
it raises :class:`~musicwb.errors.SourceError` when a service failed after its retries.

- :class:`LibraryTier`: what the library already knows. The other tracks of the same album
  (same artist) carrying one label give a raw 0.75–0.90; the artist's other tracks at most
  0.75, scaled by how many there are and how many agree (an artist's label is a strong hint,
  not a fact about this track). Only the user's own labels count (tags, metadata CSV, manual),
  never the hunter's earlier guesses, so a wrong guess cannot feed itself.
- :class:`TitleTier`: a label in the title's or file name's brackets (``Track [Armada]``):
  0.60, +0.05 with a catalogue number, +0.05 when the library knows the label already
  (the design's 0.60–0.70 for title parsing).

Calibration
    Given a :class:`~musicwb.enrich.calibration.TierCalibration` (anything with
    ``confidence(raw) -> float`` and ``describe()``), the library and title tiers state the
    precision measured for their raw score instead of the raw score; the parts keep ``raw``
    and the ``calibration`` adjustment. A calibrated library tier proposes the artist's most
    frequent label at any share (:attr:`LibraryTier.CALIBRATED_MIN_SHARE`): the calibrated
    confidence says how weak a split artist's hint is, and the review lists it.
- :class:`SourceTier`: a metadata source (MusicBrainz, Discogs, or a plug-in such as a shop):
  searches by artist and title (1, 2 or 3 query variants by mode), scores every candidate with
  :func:`musicwb.enrich.match.score_candidate`, and reads the label from the candidate, or from
  the release details when the search answer has none (``accurate`` always looks the best
  three up). A plug-in's confidence is capped by its ``max_confidence`` (Beatport 0.95, Juno
  0.90, Traxsource 0.85 in the original system).

Plug-ins
    A plug-in is any object following :class:`~musicwb.enrich.sources.base.Source` (``name``,
    ``search``, ``lookup``), optionally with ``max_confidence``. Pass it to
    :class:`~musicwb.enrich.labels.LabelHunter` directly, or publish a factory
    ``factory(settings) -> Source`` under the entry-point group ``musicwb.label_sources`` and
    name it in ``--sources``. None is enabled by default.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from musicwb.enrich.llm.answers import Assist
from musicwb.enrich.match import (
    MIN_CONFIDENCE,
    Mode,
    TrackQuery,
    query_variants,
    rank_candidates,
    similarity,
)
from musicwb.enrich.outcomes import LabelFinding
from musicwb.enrich.sources.base import Candidate, Source
from musicwb.enrich.sources.http import failure_reason
from musicwb.errors import NotFound, SourceError
from musicwb.text import artist_key, fold, label_key
from musicwb.titles import parse_filename, parse_title

__all__ = [
    "Calibration",
    "LibraryKnowledge",
    "LibraryTier",
    "SourceTier",
    "Tier",
    "TitleTier",
    "TrackRow",
    "same_label",
    "tier_error",
    "tier_reason",
]

TrackRow = Mapping[str, Any]
"""A track as the hunter reads it (a row of :func:`~musicwb.enrich.findings.tracks_to_hunt`)."""

LLM_OVERRIDE_CAP = 0.84
"""The design's ceiling for a fuzzy API match, for a pick the string match did not make."""

RELEASE_TITLE_PENALTY = -0.05
"""A label read from a release named like the track, not from the recording itself."""

NO_LABEL = {"not on label", "none", "self-released", "[no label]", "no label"}
"""Label names that say the release has no label (Discogs writes "Not On Label")."""


class Tier(Protocol):
    """One place a label can come from."""

    name: str

    def find(
        self, track: TrackRow, *, query: TrackQuery | None, mode: Mode, assist: Assist | None
    ) -> LabelFinding | None:
        """The best finding of this tier for the track, or None."""
        ...


def _is_real_label(name: str | None) -> bool:
    return bool(name and name.strip() and fold(name) not in NO_LABEL)


def _album_key(track: Mapping[str, Any]) -> tuple[str, str] | None:
    artist, album = artist_key(track.get("artist")), track.get("album")
    if not artist or not album or not str(album).strip():
        return None
    return artist, fold(str(album))


@dataclass(frozen=True)
class LibraryKnowledge:
    """The user's own labels, by album and by artist.

    Attributes
    ----------
    by_album : dict of (artist key, folded album) to list of (track id, label)
    by_artist : dict of artist key to list of (track id, label)
    labels : frozenset of str
        Every label key the library knows.
    """

    by_album: Mapping[tuple[str, str], list[tuple[int, str]]]
    by_artist: Mapping[str, list[tuple[int, str]]]
    labels: frozenset[str]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> LibraryKnowledge:
        """From rows with ``id``, ``artist``, ``album`` and ``label`` (the user's labels only)."""
        by_album: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        by_artist: dict[str, list[tuple[int, str]]] = defaultdict(list)
        labels = set()
        for row in frame.itertuples(index=False):
            if not _is_real_label(row.label):
                continue
            labels.add(label_key(row.label))
            key = artist_key(row.artist)
            if key:
                by_artist[key].append((int(row.id), row.label))
            album = _album_key({"artist": row.artist, "album": row.album})
            if album:
                by_album[album].append((int(row.id), row.label))
        return cls(dict(by_album), dict(by_artist), frozenset(labels))

    @classmethod
    def empty(cls) -> LibraryKnowledge:
        """Knowledge of an empty library."""
        return cls({}, {}, frozenset())

    def knows_label(self, label: str) -> bool:
        """Whether some track of the library carries this label."""
        return label_key(label) in self.labels


def _dominant(entries: list[tuple[int, str]], *, exclude: int) -> tuple[str, int, int] | None:
    """The most common label among other tracks: (label, its count, all counted)."""
    others = [label for track_id, label in entries if track_id != exclude]
    if not others:
        return None
    counts = Counter(label_key(label) for label in others)
    key, count = counts.most_common(1)[0]
    spelled = Counter(label for label in others if label_key(label) == key).most_common(1)[0][0]
    return spelled, count, len(others)


class Calibration(Protocol):
    """A measured map from a tier's raw score to its precision."""

    def confidence(self, raw: float) -> float:
        """The calibrated confidence of a raw score."""
        ...

    def describe(self) -> str:
        """Where and when it was measured, for the evidence."""
        ...


def _calibrated(
    calibration: Calibration | None, raw: float, parts: dict, evidence: str
) -> tuple[float, dict, str]:
    """(confidence, parts, evidence) of a raw score, calibrated when a calibration is given."""
    raw = round(raw, 4)
    if calibration is None:
        return raw, parts, evidence
    confidence = calibration.confidence(raw)
    parts = {**parts, "raw": raw, "calibration": round(confidence - raw, 4)}
    return (
        confidence,
        parts,
        f"{evidence} Raw {raw:.2f}, {calibration.describe()}: {confidence:.2f}.",
    )


class LibraryTier:
    """Labels the user's library already holds for the same album or artist.

    Parameters
    ----------
    knowledge : LibraryKnowledge
    calibration : Calibration, optional
        States measured precision instead of the raw score (see the module docstring).
    min_share : float, optional
        The share of the artist's other tracks the most frequent label needs: default
        :attr:`MIN_SHARE` uncalibrated, :attr:`CALIBRATED_MIN_SHARE` calibrated.
    """

    name = "library"
    ALBUM_BASE, ALBUM_STEP, ALBUM_MAX = 0.75, 0.05, 0.90
    ARTIST_BASE, ARTIST_SPAN, ARTIST_FULL = 0.50, 0.25, 6
    MIN_SHARE = 0.8
    CALIBRATED_MIN_SHARE = 0.0

    def __init__(
        self,
        knowledge: LibraryKnowledge,
        *,
        calibration: Calibration | None = None,
        min_share: float | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.calibration = calibration
        if min_share is None:
            min_share = self.MIN_SHARE if calibration is None else self.CALIBRATED_MIN_SHARE
        self.min_share = float(min_share)

    def find(
        self, track: TrackRow, *, query: TrackQuery | None, mode: Mode, assist: Assist | None
    ) -> LabelFinding | None:
        track_id = int(track["id"])
        album = _album_key(track)
        if album and album in self.knowledge.by_album:
            found = _dominant(self.knowledge.by_album[album], exclude=track_id)
            if found and found[1] / found[2] >= self.MIN_SHARE:
                label, count, total = found
                confidence = min(self.ALBUM_BASE + self.ALBUM_STEP * (count - 1), self.ALBUM_MAX)
                return self._finding(
                    track_id,
                    label,
                    confidence=confidence,
                    evidence=f"{count} of {total} other track(s) of the album "
                    f"'{track.get('album')}' by {track.get('artist')} carry {label}.",
                    parts={"album_tracks": count, "album_share": round(count / total, 4)},
                )
        key = artist_key(track.get("artist"))
        if key and key in self.knowledge.by_artist:
            found = _dominant(self.knowledge.by_artist[key], exclude=track_id)
            if found and found[2] >= 2 and found[1] / found[2] >= self.min_share:
                label, count, total = found
                share = count / total
                confidence = (
                    self.ARTIST_BASE
                    + self.ARTIST_SPAN * share * min(count, self.ARTIST_FULL) / self.ARTIST_FULL
                )
                return self._finding(
                    track_id,
                    label,
                    confidence=confidence,
                    evidence=f"{count} of {total} other track(s) by {track.get('artist')} "
                    f"carry {label}.",
                    parts={"artist_tracks": count, "artist_share": round(share, 4)},
                )
        return None

    def _finding(
        self, track_id: int, label: str, *, confidence: float, evidence: str, parts: dict
    ) -> LabelFinding:
        confidence, parts, evidence = _calibrated(self.calibration, confidence, parts, evidence)
        return LabelFinding(
            track_id=track_id,
            label=label,
            catalog=None,
            source=self.name,
            confidence=confidence,
            evidence=evidence,
            parts=parts,
        )


class TitleTier:
    """A label named in the title's or the file name's brackets."""

    name = "title"
    BASE, CATALOG_BONUS, KNOWN_BONUS = 0.60, 0.05, 0.05

    def __init__(
        self, knowledge: LibraryKnowledge | None = None, *, calibration: Calibration | None = None
    ) -> None:
        self.knowledge = knowledge or LibraryKnowledge.empty()
        self.calibration = calibration

    def find(
        self, track: TrackRow, *, query: TrackQuery | None, mode: Mode, assist: Assist | None
    ) -> LabelFinding | None:
        texts = []
        if track.get("title"):
            texts.append(
                ("title", track["title"], parse_title(str(track["title"]), source="store"))
            )
        if track.get("path"):
            texts.append(("file name", track["path"], parse_filename(str(track["path"]))))
        for where, text, parsed in texts:
            if not _is_real_label(parsed.label):
                continue
            parts = {"base": self.BASE}
            if parsed.catalog:
                parts["catalog"] = self.CATALOG_BONUS
            if self.knowledge.knows_label(parsed.label):
                parts["known_label"] = self.KNOWN_BONUS
            shown = str(text).rsplit("/", 1)[-1]
            confidence, parts, evidence = _calibrated(
                self.calibration,
                sum(parts.values()),
                parts,
                f"The {where} names the label: '{shown}'."
                + (" The library knows this label." if "known_label" in parts else ""),
            )
            return LabelFinding(
                track_id=int(track["id"]),
                label=parsed.label,
                catalog=parsed.catalog,
                source=self.name,
                confidence=confidence,
                evidence=evidence,
                parts=parts,
            )
        return None


def _describe_parts(parts: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name} {value:+.2f}"
        if name in {"label_hint", "compilation", "gate", "release_title"}
        else f"{name} {value:.2f}"
        for name, value in parts.items()
        if isinstance(value, int | float)
    )


class SourceTier:
    """A metadata source searched by artist and title (see the module docstring).

    Parameters
    ----------
    source : Source
    max_confidence : float, optional
        Caps the confidence (default: the source's ``max_confidence`` attribute, else 0.99).
    search_limit : int, default 10
        Candidates asked for per search.
    """

    def __init__(
        self, source: Source, *, max_confidence: float | None = None, search_limit: int = 10
    ) -> None:
        self.source = source
        self.name = source.name
        self.max_confidence = float(
            max_confidence
            if max_confidence is not None
            else getattr(source, "max_confidence", 0.99)
        )
        self.search_limit = search_limit

    def _variants(
        self, query: TrackQuery, *, mode: Mode, assist: Assist | None
    ) -> list[tuple[str, str]]:
        variants = query_variants(query, mode=mode)
        if assist is not None:
            extra = assist.query_variants(artist=query.artist, title=query.title)
            for variant in extra[:2]:
                pair = (variant.artist, variant.title)
                if all(pair) and pair not in variants:
                    variants.append(pair)
        return variants

    def _search(
        self,
        variants: list[tuple[str, str]],
        *,
        search: Callable[..., list[Candidate]] | None = None,
    ) -> list[Candidate]:
        search = search or self.source.search
        seen: dict[tuple[str, str, str], Candidate] = {}
        for artist, title in variants:
            try:
                found = search(artist, title, limit=self.search_limit)
            except NotFound:
                continue
            for candidate in found:
                seen.setdefault((candidate.source_id, candidate.artist, candidate.title), candidate)
        return list(seen.values())

    def _label_of(
        self, track: Mapping[str, Any], candidate: Candidate, *, mode: Mode, assist: Assist | None
    ) -> tuple[str | None, str | None, str]:
        """(label, catalogue, where it was read) for a candidate."""
        if mode != "accurate" and _is_real_label(candidate.label):
            return candidate.label, candidate.catalog, "search answer"
        try:
            details = self.source.lookup(candidate.source_id)
        except NotFound:
            return (
                (candidate.label, candidate.catalog, "search answer")
                if _is_real_label(candidate.label)
                else (None, None, "")
            )
        labels = [(name, catalog) for name, catalog in details.labels if _is_real_label(name)]
        if not labels:
            return None, None, ""
        if len(labels) > 1 and assist is not None:
            mapped = assist.map_release(track=dict(track), release=details)
            if mapped is not None and _is_real_label(getattr(mapped, "label", None)):
                return mapped.label, mapped.catalog, "release details (LLM-mapped)"
        return labels[0][0], labels[0][1], "release details"

    def find(
        self, track: TrackRow, *, query: TrackQuery | None, mode: Mode, assist: Assist | None
    ) -> LabelFinding | None:
        if query is None:
            return None
        variants = self._variants(query, mode=mode, assist=assist)
        found = self._best(track, query, self._search(variants), mode=mode, assist=assist)
        search_releases = getattr(self.source, "search_releases", None)
        if (found is None or found.confidence < MIN_CONFIDENCE) and search_releases is not None:
            # DJ tracks often come out as a single or EP named after the track: the release
            # search finds those when no recording answer names a label.
            releases = self._search(variants[:1], search=search_releases)
            by_release = self._best(
                track, query, releases, mode=mode, assist=None, adjust=RELEASE_TITLE_PENALTY
            )
            if by_release is not None and (
                found is None or by_release.confidence > found.confidence
            ):
                found = by_release
        return found

    def _best(
        self,
        track: Mapping[str, Any],
        query: TrackQuery,
        candidates: list[Candidate],
        *,
        mode: Mode,
        assist: Assist | None,
        adjust: float = 0.0,
    ) -> LabelFinding | None:
        ranked = rank_candidates(query, candidates)
        if not ranked:
            return None
        chosen = ranked[: 3 if mode == "accurate" else 1]
        llm_part: float | None = None
        overrides = False
        if assist is not None and len(ranked) > 1:
            selection = assist.select_candidate(
                track=dict(track), candidates=[candidate for candidate, _ in ranked[:10]]
            )
            if selection.index is not None and 0 <= selection.index < min(len(ranked), 10):
                llm_part = float(selection.confidence)
                overrides = selection.index != 0
                chosen = [ranked[selection.index]]
        best: LabelFinding | None = None
        for candidate, score in chosen:
            label, catalog, where = self._label_of(track, candidate, mode=mode, assist=assist)
            if not label:
                continue
            parts: dict[str, Any] = dict(score.parts)
            confidence = score.confidence
            if adjust:
                parts["release_title"] = adjust
                confidence += adjust
            if llm_part is not None:
                parts["llm"] = llm_part
                if overrides:
                    # The model chose against the string match: a fuzzy answer, capped as such.
                    confidence = min(0.5 * confidence + 0.5 * llm_part, LLM_OVERRIDE_CAP)
            confidence = round(min(confidence, self.max_confidence), 4)
            if best is not None and best.confidence >= confidence:
                continue
            on = f" on '{candidate.release_title}'" if candidate.release_title else ""
            best = LabelFinding(
                track_id=int(track["id"]),
                label=label,
                catalog=catalog,
                source=self.name,
                confidence=confidence,
                evidence=f"{self.name}: '{candidate.title}' by {candidate.artist}{on} "
                f"(id {candidate.source_id}), label {label}"
                + (f" [{catalog}]" if catalog else "")
                + f" from the {where}; {_describe_parts(parts)}.",
                parts=parts,
                source_id=candidate.source_id,
            )
        return best


def same_label(a: str | None, b: str | None) -> bool:
    """Whether two label spellings name the same label ("Ostgut Ton" / "Ostgut Ton Records")."""
    if not a or not b:
        return False
    return label_key(a) == label_key(b) or similarity(a, b) >= 0.9


def tier_error(tier: Tier, exc: SourceError) -> str:
    """How a failed tier is recorded: ``"<tier>: <ErrorType>: message"``."""
    return f"{tier.name}: {type(exc).__name__}: {exc}"


def tier_reason(tier: Tier, exc: SourceError) -> str:
    """The short reason of a failed tier, for counting: the service's own (``"MusicBrainz:
    HTTP 503 after 5 tries"``) when the HTTP policy gave one, else
    ``"<tier>: <ErrorType>: message"``."""
    return failure_reason(exc, prefix=tier.name)
