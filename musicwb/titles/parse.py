"""Parsing one title or file name into a :class:`~musicwb.titles.model.ParsedTitle`.

The steps, each a small pure function:

1. normalise (HTML entities, dashes, invisible marks, spaces) and take off a YouTube ID;
2. karaoke and video titles: compilations, explicit performer phrases, noise removal;
3. split artist and title at the first separator outside brackets (" - ", then weak ones);
4. peel the trailing bracket groups of the title into label/catalogue, mix, notes;
5. featured artists, remixer, unknown entries ("ID - ID", "?", "Artist - ID");
6. a confidence from the band of the pattern plus named adjustments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from musicwb.errors import ParameterError
from musicwb.titles.fields import classify_tail, remixer_of, split_featured
from musicwb.titles.karaoke import (
    is_compilation,
    is_noise_only,
    performer_phrase,
    remove_noise,
    title_first_hint,
)
from musicwb.titles.model import RESULT_KEYS, ParsedTitle, score
from musicwb.titles.text import (
    extract_youtube_id,
    join_groups,
    peel_trailing_groups,
    split_outside_brackets,
    strip_symbols,
    tidy_text,
)
from musicwb.titles.vocabulary import (
    KARAOKE_MARKER_RE,
    MEDIA_EXTENSION_RE,
    UNKNOWN_TOKENS,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SOURCES",
    "TitleSource",
    "is_unknown_entry",
    "parse_filename",
    "parse_title",
    "parse_titles",
    "parse_titles_frame",
]

TitleSource = Literal["auto", "tracklist", "store", "filename", "karaoke"]
"""Where a title comes from: what :func:`parse_title` expects of it (``auto``: guess)."""

SOURCES: tuple[TitleSource, ...] = get_args(TitleSource)
"""Accepted values of the ``source`` hint."""

_WEAK_DASH = re.compile(r"^(?P<left>.*?\S)(?:- | -)(?P<right>\S.*)$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_CJK_DASH = re.compile(r"^(?P<left>[^\s-][^-]*?)-(?P<right>[^-]+?)(?:-.*)?$")
_BY = re.compile(r"^(?P<title>.+?)\s+by\s+(?P<artist>[^()\[\]]+)$", re.IGNORECASE)
_COLON = re.compile(r"^(?P<title>[^:]+?)\s*:\s+(?P<artist>[^:]+)$")
# "01. ", "1) ", "01 - ", zero-padded "01 ", "01_-_", "01-": never "50 Cent" or "808 State".
_TRACK_NUMBER = re.compile(
    r"^(?:\d{1,3}\s*[.)]\s+|\d{1,3}\s+-\s+|0\d\s+|\d{1,3}_-_|\d{1,3}-(?=\S))"
)
# A tracklist's time or minute prefix: "[05]", "[114]", "[22:11]", "[1:02:03]", "[0??]", "[12.30]".
_TIME_PREFIX = re.compile(r"^\[[\d?]{1,3}(?:[:.][\d?]{1,2}){0,2}\]\s*")
# "w/ Artist - Title": played over the track before (a mash-up or an acapella on top).
_PLAYED_OVER = re.compile(r"^w/\s*", re.IGNORECASE)
_UNKNOWN_START = re.compile(r"^\?+(?:\s|$)")
_PATH_SEPARATORS = re.compile(r"[\\/]")
_WORD_UNDERSCORE = re.compile(r"(?<=\w)_(?=\w)")


@dataclass(slots=True)
class _Split:
    """Artist and title part of one title, and how they were found."""

    artist: str | None
    rest: str
    pattern: str
    band: str
    base: float
    adjustments: list[tuple[str, float]] = field(default_factory=list)


def _is_unknown_token(text: str | None) -> bool:
    if text is None:
        return True
    lowered = text.strip().lower()
    return not lowered or lowered in UNKNOWN_TOKENS or bool(_UNKNOWN_START.match(lowered))


def _looks_like_filename(text: str) -> bool:
    return bool(MEDIA_EXTENSION_RE.search(text))


def _split_dash(core: str, *, clean: bool, karaoke: bool, hint_source: str) -> _Split | None:
    pieces = [p for p in split_outside_brackets(core, " - ") if p]
    if clean:
        kept = [p for p in pieces if not is_noise_only(p)]
        # "Drake - Karaoke": a title that is itself a noise word stays a title.
        if len(kept) >= 2 or len(pieces) != 2 or is_noise_only(pieces[0]):
            pieces = kept
    if len(pieces) < 2:
        return None
    artist, rest = pieces[0], " - ".join(pieces[1:])
    if not karaoke:
        return _Split(artist, rest, "artist_dash_title", "standard", 0.62)
    adjustments = [("karaoke_context", 0.02), ("ambiguous_order", -0.04)]
    if title_first_hint(hint_source):
        return _Split(rest, artist, "karaoke_title_dash_artist", "standard", 0.64, adjustments)
    return _Split(artist, rest, "karaoke_artist_dash_title", "standard", 0.64, adjustments)


def _split_weak(core: str, segments: list[str], *, clean: bool, karaoke: bool) -> _Split | None:
    marker = [("karaoke_context", 0.02)] if karaoke else []
    if len(segments) == 2 and " - " not in core.replace(" _ ", "|"):
        return _Split(segments[0], segments[1], "underscore_separator", "weak_separator", 0.48,
                      marker)
    if clean:
        match = _BY.match(core)
        if match:
            return _Split(match["artist"], match["title"], "title_by_artist", "weak_separator",
                          0.52, [*marker, ("explicit_by", 0.03)])
        match = _COLON.match(core)
        if match and karaoke:
            return _Split(match["artist"], match["title"], "title_colon_artist", "weak_separator",
                          0.52, [*marker, ("channel_convention", 0.02)])
    match = _WEAK_DASH.match(core)
    if match:
        return _Split(match["left"], match["right"], "weak_dash", "weak_separator", 0.50, marker)
    if _CJK.search(core):
        match = _CJK_DASH.match(core)
        if match:
            # Chinese KTV files put the song first: "容易受傷的女人-王靖雯-伴奏".
            return _Split(match["right"], match["left"], "cjk_title_dash_artist", "weak_separator",
                          0.48, [*marker, ("ambiguous_order", -0.04)])
    return None


def _split(text: str, *, source: TitleSource, karaoke: bool) -> _Split:
    if karaoke or "by" in text.lower():
        found = performer_phrase(text)
        if found:
            title, artist, pattern = found
            return _Split(artist, title, pattern, "copyright_phrase", 0.85)
    clean = karaoke or source == "filename"
    if clean and "_" in text:
        text = _WORD_UNDERSCORE.sub(" ", text)  # "Artist_Name - Song_Title"
    core, segments = remove_noise(text) if clean else (text, [text])
    core = core.strip(" -|")
    split = _split_dash(core, clean=clean, karaoke=karaoke, hint_source=text)
    if split is None:
        split = _split_weak(core, segments, clean=clean, karaoke=karaoke)
    if split is None:
        return _Split(None, core, "title_only", "title_only", 0.30)
    if split.pattern == "underscore_separator" and source == "filename":
        split.pattern = "legacy_artist_underscore_title"
    return split


def _nothing(
    original: str, pattern: str, *, is_unknown: bool, youtube_id: str | None = None
) -> ParsedTitle:
    confidence, parts = score("nothing", 0.0, [])
    return ParsedTitle(
        input=original, artist=None, title=None, mix=None, remixer=None, featured=(),
        label=None, catalog=None, youtube_id=youtube_id, is_unknown=is_unknown, pattern=pattern,
        confidence=confidence, confidence_parts=parts,
    )


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] in "\"“'" and text[-1] in "\"”'" and text.count(text[0]) == 2:
        return text[1:-1].strip()
    return text


def _tracklist_prefixes(text: str) -> tuple[str, bool]:
    """``text`` without its time prefix and ``w/`` mark, and whether it had the mark.

    >>> _tracklist_prefixes("[1:02:03] w/ deadmau5 - Monophobia")
    ('deadmau5 - Monophobia', True)
    """
    text = _TIME_PREFIX.sub("", text, count=1)
    marked = _PLAYED_OVER.match(text)
    return (text[marked.end():], True) if marked else (text, False)


def _parse_normalised(
    original: str, text: str, *, source: TitleSource, youtube_id: str | None
) -> ParsedTitle:
    played_over = False
    if source == "tracklist":
        text, played_over = _tracklist_prefixes(text)
    text, found_id = extract_youtube_id(text, letters_only=source == "filename")
    youtube_id = youtube_id or found_id
    if not text.strip(" -_|:.,"):
        return _nothing(original, "empty", is_unknown=False, youtube_id=youtube_id)
    if _is_unknown_token(text) and text.strip().lower() in UNKNOWN_TOKENS:
        return _nothing(original, "unknown", is_unknown=True, youtube_id=youtube_id)
    karaoke = source == "karaoke" or (
        source in ("auto", "filename") and bool(KARAOKE_MARKER_RE.search(text)))
    if karaoke:
        text = strip_symbols(text)
        if is_compilation(text):
            return _nothing(original, "compilation", is_unknown=False, youtube_id=youtube_id)
        if is_noise_only(text):
            return _nothing(original, "noise_only", is_unknown=False, youtube_id=youtube_id)

    split = _split(text, source=source, karaoke=karaoke)
    head, groups = peel_trailing_groups(split.rest)
    tail = classify_tail(groups, store_listing=source == "store",
                         letters_only_ids=source == "filename") if head else classify_tail([])
    if not head:
        head, groups = split.rest, []
    title = join_groups(head, list(tail.title_groups)) if head else None
    if title and karaoke:
        title = _unquote(title)
    mix = tail.mix_group.content if tail.mix_group else None
    title_with_mix = join_groups(title, [tail.mix_group]) if title and tail.mix_group else title

    artist = split.artist.strip() if split.artist else None
    artist_unknown = artist is not None and _is_unknown_token(artist)
    if artist_unknown:
        artist = None
    # A store listing names a release: "Unknown" there is a real title, not a tracklist gap.
    title_unknown = _is_unknown_token(head) and (source != "store" or not head.strip())
    main_artist, featured_in_artist = split_featured(artist)
    _, featured_in_title = split_featured(title_with_mix)
    featured = tuple(dict.fromkeys(featured_in_artist + featured_in_title))

    adjustments = list(split.adjustments)
    pattern, band, base = split.pattern, split.band, split.base
    if title_unknown:
        title = title_with_mix = None
        if artist is None:
            pattern, band, base, adjustments = "unknown", "nothing", 0.0, []
        else:
            pattern, band, base, adjustments = "artist_unknown_title", "title_only", 0.25, []
    else:
        if artist_unknown:
            pattern, band, base, adjustments = "unknown_artist_title", "title_only", 0.30, []
        if tail.label:
            where = "label_bracket" if tail.label_from == "square" else "label_round"
            adjustments.append((where, 0.03))
        if tail.catalog:
            adjustments.append(("catalog", 0.02))
        if mix:
            adjustments.append(("mix_named", 0.03))
    confidence, parts = score(band, base, adjustments)
    return ParsedTitle(
        input=original,
        artist=artist,
        title=title,
        mix=mix,
        remixer=remixer_of(mix),
        featured=featured,
        label=tail.label,
        catalog=tail.catalog,
        youtube_id=youtube_id or tail.youtube_id,
        is_unknown=title_unknown,
        pattern=pattern,
        confidence=confidence,
        confidence_parts=parts,
        main_artist=main_artist,
        title_with_mix=title_with_mix,
        notes=tail.notes,
        played_over=played_over,
    )


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ParameterError(f"source={source!r}: expected one of {', '.join(SOURCES)}")


def parse_title(text: str, *, source: TitleSource = "auto") -> ParsedTitle:
    """Parse a track title, tracklist line, store title, video title or file name.

    Parameters
    ----------
    text : str
        One title, e.g. ``"Trevino - Sombre Tones [Klockworks - KW 20]"``.
    source : {"auto", "tracklist", "store", "filename", "karaoke"}
        Where the text comes from. ``"tracklist"`` never looks for karaoke noise and drops a
        leading time ("[05]", "[1:02:03]") and ``w/`` mark (``played_over``); ``"store"``
        reads "Artist - Title (Mix) [Label]" listings, whose last round group is always the
        mix; ``"filename"`` strips the extension, track numbers and underscores; ``"auto"``
        recognises file names by their extension and karaoke titles by their markers.

    Returns
    -------
    ParsedTitle
        Never raises on odd text: what cannot be parsed comes back with ``pattern`` "empty",
        "title_only" or "compilation" and a low confidence.

    Raises
    ------
    ParameterError
        When ``text`` is not a string or ``source`` is not one of the values above.

    Examples
    --------
    >>> parsed = parse_title("Faithless \u2013 We Come 1 (Adam Beyer Remix) [CHEEKY]")
    >>> parsed.artist, parsed.title, parsed.mix, parsed.remixer, parsed.label
    ('Faithless', 'We Come 1', 'Adam Beyer Remix', 'Adam Beyer', 'CHEEKY')
    >>> parse_title("Stef Mendesidis - ? [Unreleased]").is_unknown
    True
    """
    if not isinstance(text, str):
        raise ParameterError(f"text must be a string, got {type(text).__name__}")
    _check_source(source)
    normalised = tidy_text(text)
    if source == "filename" or (source in ("auto", "karaoke") and _looks_like_filename(normalised)):
        return _parse_filename(text, normalised)
    return _parse_normalised(text, normalised, source=source, youtube_id=None)


def _parse_filename(original: str, normalised: str) -> ParsedTitle:
    stem = _PATH_SEPARATORS.split(normalised)[-1]
    stem = MEDIA_EXTENSION_RE.sub("", stem).strip()
    stem, youtube_id = extract_youtube_id(stem, letters_only=True)
    if "_" in stem:
        if " " not in stem and stem.count("_") == 1:
            stem = stem.replace("_", " _ ")  # legacy "artist_title.cdg"
        else:
            stem = re.sub(r"(?<! )_(?! )", " ", stem)
    stem = tidy_text(_TRACK_NUMBER.sub("", stem, count=1) or stem)
    return _parse_normalised(original, stem, source="filename", youtube_id=youtube_id)


def parse_filename(path_or_stem: str) -> ParsedTitle:
    """Parse a music or karaoke file name.

    Strips folders, a known media extension (``.mp3``, ``.cdg``, ...), a YouTube ID
    (``---ID`` or ``[ID]``), underscores and a leading track number ("01 - ", "01. ").

    Parameters
    ----------
    path_or_stem : str
        ``"/songs/Artist - Song [dQw4w9WgXcQ].mp4"``, ``"01. Artist - Title.flac"``,
        ``"artist_title.cdg"``.

    Returns
    -------
    ParsedTitle

    Examples
    --------
    >>> parsed = parse_filename("/songs/Artist - Song---dQw4w9WgXcQ.mp4")
    >>> parsed.artist, parsed.title, parsed.youtube_id
    ('Artist', 'Song', 'dQw4w9WgXcQ')
    """
    if not isinstance(path_or_stem, str):
        raise ParameterError(f"path_or_stem must be a string, got {type(path_or_stem).__name__}")
    return _parse_filename(path_or_stem, tidy_text(path_or_stem))


def parse_titles(texts: Iterable[str], *, source: TitleSource = "auto") -> list[ParsedTitle]:
    """Parse many titles (see :func:`parse_title`); the order is kept.

    >>> [p.artist for p in parse_titles(["A - B", "ID - ID"])]
    ['A', None]
    """
    _check_source(source)
    return [parse_title(text, source=source) for text in texts]


def parse_titles_frame(texts: Iterable[str], *, source: TitleSource = "auto") -> pd.DataFrame:
    """Parse many titles into a DataFrame, one row per title, columns :data:`RESULT_KEYS`.

    Parameters
    ----------
    texts : iterable of str
        Titles, e.g. a column of a tracklist table.
    source : str
        As for :func:`parse_title`.

    Returns
    -------
    pandas.DataFrame
        Shape (n_titles, len(RESULT_KEYS)); ``featured`` and ``notes`` hold lists,
        ``confidence_parts`` dicts.

    Examples
    --------
    >>> parse_titles_frame(["Trevino - Sombre Tones [Klockworks - KW 20]"])[["artist", "label"]]
        artist       label
    0  Trevino  Klockworks
    """
    import pandas as pd  # titles parse without pandas; only the frame needs it

    rows = [parsed.as_dict() for parsed in parse_titles(texts, source=source)]
    return pd.DataFrame(rows, columns=list(RESULT_KEYS))


def is_unknown_entry(text: str) -> bool:
    """Whether a tracklist entry stands for an unidentified track.

    True for "ID - ID", "ID", "?", "Artist - ID", "Artist - ?", "? [Unreleased]", "Unknown".

    >>> is_unknown_entry("ID - ID"), is_unknown_entry("Trevino - Sombre Tones")
    (True, False)
    """
    return parse_title(text, source="tracklist").is_unknown
