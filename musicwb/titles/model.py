"""The result of title parsing, :class:`ParsedTitle`, and its explainable confidence."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from musicwb.titles.vocabulary import CONFIDENCE_BANDS

__all__ = ["RESULT_KEYS", "ParsedTitle", "score"]


@dataclass(frozen=True, slots=True)
class ParsedTitle:
    """One parsed title: who, what, which version, which release, how sure.

    Attributes
    ----------
    input : str
        The text as given.
    artist : str or None
        The artist credit as written, featured artists included ("Emptyset Feat. Cornelius
        Harris"), as MixesDB and Beatport write it. None when absent or unknown ("ID", "?").
    title : str or None
        The title without the mix group, label and notes; other brackets stay
        ("The Chair And The Chairmaker EP (A1)"), a featuring part too, as written ("So Far
        Gone (feat. Brianna Lempesis)"; the names are also in ``featured``). None when absent
        or unknown.
    mix : str or None
        The version in the last mix-like group: "Original Mix", "Adam Beyer Remix".
    remixer : str or None
        The person named in ``mix`` ("Adam Beyer"); None for generic mixes.
    featured : tuple of str
        Featured artists found in the artist credit or the title.
    label, catalog : str or None
        From ``[Label - CAT]``, ``[Label]``, ``(Label Records)``; a catalogue number carries
        a digit.
    youtube_id : str or None
        From the ``---ID`` (PiKaraoke) or ``[ID]`` (yt-dlp) forms.
    is_unknown : bool
        The track is not identified: "ID - ID", "ID", "?", "Artist - ID", "? [Unreleased]".
    pattern : str
        The rule that matched, e.g. ``artist_dash_title``, ``karaoke_style_of``, ``title_only``.
    confidence : float
        In [0, 1]; the sum of ``confidence_parts`` kept inside the band of the pattern.
    confidence_parts : tuple of (str, float)
        ``("base", 0.62)`` first, then named adjustments (``label_bracket``, ``ambiguous_order``,
        ``band_limit`` when the sum was clipped to the band).
    main_artist : str or None
        ``artist`` without its featuring part ("Emptyset").
    title_with_mix : str or None
        ``title`` followed by the mix group as written: what MixesDB's title column holds
        without the label ("Transport (Carl Craig Remix) (DJ Deep & Roman Poncet Rework)").
    notes : tuple of str
        Non-label bracket notes: "Unreleased", "Free Download", "Premiere", "HD".
    played_over : bool
        A tracklist line marked ``w/`` ("w/ deadmau5 - Monophobia"): the track was played over
        the one before it.
    """

    input: str
    artist: str | None
    title: str | None
    mix: str | None
    remixer: str | None
    featured: tuple[str, ...]
    label: str | None
    catalog: str | None
    youtube_id: str | None
    is_unknown: bool
    pattern: str
    confidence: float
    confidence_parts: tuple[tuple[str, float], ...]
    main_artist: str | None = None
    title_with_mix: str | None = None
    notes: tuple[str, ...] = ()
    played_over: bool = False

    @classmethod
    def manual(
        cls,
        *,
        artist: str | None,
        title: str | None,
        mix: str | None = None,
        label: str | None = None,
        catalog: str | None = None,
        featured: tuple[str, ...] = (),
    ) -> ParsedTitle:
        """A title entered or corrected by a person: pattern "manual", confidence 1.0.

        >>> ParsedTitle.manual(artist="Trevino", title="Sombre Tones").confidence
        1.0
        """
        confidence, parts = score("manual", 1.0, [])
        return cls(
            input=" - ".join(part for part in (artist, title) if part), artist=artist,
            title=title, mix=mix, remixer=None, featured=tuple(featured), label=label,
            catalog=catalog, youtube_id=None, is_unknown=False, pattern="manual",
            confidence=confidence, confidence_parts=parts, main_artist=artist,
            title_with_mix=f"{title} ({mix})" if title and mix else title,
        )

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values (lists for tuples, a dict for the parts)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "confidence_parts":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[item.name] = value
        return out


#: The keys of :meth:`ParsedTitle.as_dict`, in order.
RESULT_KEYS: tuple[str, ...] = tuple(item.name for item in fields(ParsedTitle))


def score(
    band: str, base: float, adjustments: list[tuple[str, float]]
) -> tuple[float, tuple[tuple[str, float], ...]]:
    """Add a base and named adjustments and keep the sum inside a confidence band.

    Parameters
    ----------
    band : str
        A key of :data:`~musicwb.titles.vocabulary.CONFIDENCE_BANDS` ("standard", ...).
    base : float
        The base of the pattern.
    adjustments : list of (str, float)
        Named adjustments (``("label_bracket", 0.03)``).

    Returns
    -------
    confidence : float
        Rounded to 2 decimals, inside the band.
    parts : tuple of (str, float)
        ``("base", base)``, the adjustments, and ``("band_limit", delta)`` when the sum was
        clipped, so that the parts always add up to the confidence.

    Examples
    --------
    >>> confidence, parts = score("standard", 0.62, [("label", 0.03), ("mix_named", 0.06)])
    >>> confidence, parts[-1]
    (0.69, ('band_limit', -0.02))
    """
    low, high = CONFIDENCE_BANDS[band]
    parts = [("base", round(base, 2)), *((name, round(value, 2)) for name, value in adjustments)]
    total = round(sum(value for _, value in parts), 2)
    clipped = min(max(total, low), high)
    if clipped != total:
        parts.append(("band_limit", round(clipped - total, 2)))
    return round(clipped, 2), tuple(parts)
