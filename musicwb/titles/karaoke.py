"""Karaoke and video-title specifics: noise removal, compilations, the performer phrases.

The five families of karaoke titles:

1. ``Artist - Title (Karaoke ...)``: the order is a convention of the channel, so ambiguous;
2. ``Title (Originally Performed By Artist)``, ``Title in the Style of "Artist"``: explicit;
3. ``Title - Artist (Instrumental)`` / ``(No Lead Vocal)``: title first;
4. legacy ``artist_title.cdg`` files;
5. noise around all of them: Karaoke Version, with Lyrics, HD, Sing King, Zoom Karaoke, KaraFun,
   Stingray, MR, No Lead Vocal, TJ노래방, emoji.
"""

from __future__ import annotations

import re

from musicwb.titles.text import split_outside_brackets
from musicwb.titles.vocabulary import (
    COMPILATION_RE,
    COPYRIGHT_RE,
    KARAOKE_MARKER_RE,
    KARAOKE_NOISE_RE,
    NOTE_ONLY_RE,
)

__all__ = [
    "is_compilation",
    "is_noise_only",
    "performer_phrase",
    "remove_noise",
    "title_first_hint",
]

_FILLER = re.compile(r"(?i)(?<![\w])(?:with|by|from|the|in|and|&|on|for|of)(?![\w])")
_PUNCTUATION_ONLY = re.compile(r"^[\s\-_:,.|/!()\[\]{}*~+]*$")
_INNER_GROUP = re.compile(r"\s*[(\[{](?P<content>[^()\[\]{}]*)[)\]}]")
_NOISE_ALTERNATION = KARAOKE_NOISE_RE.pattern
_TRAILING_NOISE = re.compile(
    rf"(?:[\s\-_:,|/]*(?:{_NOISE_ALTERNATION}))+[\s\-_:,|/]*$", re.IGNORECASE
)
_LEADING_NOISE = re.compile(rf"^\s*(?:(?:{_NOISE_ALTERNATION})\s*)+[-:|]\s+", re.IGNORECASE)
_TITLE_FIRST = re.compile(r"(?i)\(\s*instrumental\s*\)|no lead vocal|as populari[sz]ed by")
_PHRASE_NAMES = {
    "originally performed by": "karaoke_performed_by",
    "in the style of": "karaoke_style_of",
    "as popularized by": "karaoke_popularized_by",
    "as popularised by": "karaoke_popularized_by",
    "as made famous by": "karaoke_made_famous_by",
    "made famous by": "karaoke_made_famous_by",
    "as performed by": "karaoke_performed_by",
}
_QUOTED_START = re.compile(r'^["“”](?P<quoted>[^"“”]+)["“”](?P<rest>.*)$')
_ARTIST_END = re.compile(
    rf"\s*(?:\||\s-\s|[(\[]|(?<![\w])(?:{_NOISE_ALTERNATION})(?![\w]))", re.IGNORECASE
)


def is_noise_only(text: str) -> bool:
    """Whether ``text`` holds only karaoke or video noise ("Karaoke with Lyrics", "HD", "MR")."""
    if NOTE_ONLY_RE.match(text):
        return True
    if not KARAOKE_NOISE_RE.search(text):
        return False
    rest = _FILLER.sub(" ", KARAOKE_NOISE_RE.sub(" ", text))
    return bool(_PUNCTUATION_ONLY.match(rest))


def is_compilation(text: str) -> bool:
    """Whether a video title is a compilation or channel promo rather than one song.

    >>> is_compilation("3 HOURS NON STOP KARAOKE PARTY with @Stingray Karaoke")
    True
    >>> is_compilation("Adele - Rolling In The Deep (Karaoke with Lyrics)")
    False
    """
    return bool(COMPILATION_RE.search(text)) and not COPYRIGHT_RE.match(text)


def title_first_hint(text: str) -> bool:
    """Whether a dash title follows the "Title - Artist (Instrumental)" convention."""
    return bool(_TITLE_FIRST.search(text))


def _drop_noise_groups(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return " " if is_noise_only(match["content"]) else match[0]

    previous = None
    while previous != text:
        previous, text = text, _INNER_GROUP.sub(replace, text)
    return text


def _strip_edges(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        stripped = _TRAILING_NOISE.sub("", text).strip()
        # Strip the whole part after the separator only when it names karaoke: "Fernando -
        # KARAOKE VERSION" loses it, "India.Arie - Video" keeps its title.
        if stripped and (" - " in stripped or " - " not in text
                         or KARAOKE_MARKER_RE.search(text[len(stripped):])):
            text = stripped
        stripped = _LEADING_NOISE.sub("", text).strip()
        if stripped:
            text = stripped
    return text.strip(" -_|:,")


def remove_noise(text: str) -> tuple[str, list[str]]:
    """Remove karaoke and video noise from a title.

    Parameters
    ----------
    text : str
        A normalised title, e.g. ``"Artist - Song (Official Video) [HD] karaoke with lyrics"``.

    Returns
    -------
    core : str
        The title without noise groups, noise segments and noise at either end
        (``"Artist - Song"``); the text itself when removing would leave nothing.
    segments : list of str
        The non-noise pieces of a ``" _ "``-separated title (``"CAKE _ I Will Survive"``), in
        order; one piece otherwise.

    Examples
    --------
    >>> remove_noise("Paul Kelly - Firewood and Candles (Karaoke Version) with Lyrics HD")
    ('Paul Kelly - Firewood and Candles', ['Paul Kelly - Firewood and Candles'])
    """
    cleaned = _drop_noise_groups(text)
    pieces = [p for p in split_outside_brackets(cleaned, " | ") if p and not is_noise_only(p)]
    cleaned = " | ".join(pieces) if pieces else cleaned
    segments = [
        _strip_edges(p)
        for p in split_outside_brackets(cleaned, " _ ")
        if p and not is_noise_only(p)
    ]
    segments = [s for s in segments if s]
    if not segments:
        core = text.strip()
        return core, [core]
    return " _ ".join(segments), segments


def performer_phrase(text: str) -> tuple[str, str, str] | None:
    """Find "Title in the Style of "Artist"" and the other explicit performer phrases.

    Returns
    -------
    (title, artist, pattern) or None
        The raw title part, the artist (quotes and trailing noise removed) and the pattern name
        (``karaoke_style_of``, ``karaoke_performed_by``, ...).

    Examples
    --------
    >>> performer_phrase('Demons in the Style of "Imagine Dragons" karaoke video with lyrics')
    ('Demons', 'Imagine Dragons', 'karaoke_style_of')
    """
    match = COPYRIGHT_RE.match(text)
    if not match:
        return None
    title = match["title"]
    artist_part = match["artist"].strip()
    quoted = _QUOTED_START.match(artist_part)
    if quoted and (not quoted["rest"].strip() or is_noise_only(quoted["rest"])
                   or _ARTIST_END.match(quoted["rest"])):
        artist = quoted["quoted"]
    else:
        end = _ARTIST_END.search(artist_part)
        artist = artist_part[: end.start()] if end and end.start() > 0 else artist_part
    artist = artist.strip(" -,|:")
    if artist.endswith(")") and artist.count(")") > artist.count("("):
        artist = artist[:-1].rstrip()
    title = _strip_edges(_drop_noise_groups(title.rstrip(" ([-,|:")))
    title = title.strip(" -,|:")
    if len(title) >= 2 and title[0] in "\"“" and title[-1] in "\"”":
        title = title[1:-1].strip()
    if not title or not artist:
        return None
    return title, artist, _PHRASE_NAMES[match["phrase"].lower()]
