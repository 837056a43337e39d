"""Text helpers of title parsing: normalisation, bracket-aware splitting, trailing groups.

All functions are pure and work on one string; the regular expressions are compiled once.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "BracketGroup",
    "extract_youtube_id",
    "is_youtube_id",
    "join_groups",
    "peel_trailing_groups",
    "split_outside_brackets",
    "strip_symbols",
    "tidy_text",
]

# Dashes that people and sites use as the artist–title separator, mapped to "-".
_DASHES = dict.fromkeys(
    map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"
)
# Invisible marks (left-to-right/right-to-left marks, zero-width characters, BOM): dropped.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
_TRANSLATION = {**_DASHES, **_INVISIBLE, ord("\u00a0"): " ", ord("\u2009"): " ",
                ord("\u202f"): " ", ord("\t"): " ", ord("\u3000"): " "}
_SPACES = re.compile(r"\s+")
_OPEN = "([{"
_CLOSE = ")]}"
_PAIR = {")": "(", "]": "[", "}": "{"}

_YOUTUBE_ID = r"[A-Za-z0-9_-]{11}"
_YOUTUBE_DASHES_RE = re.compile(rf"-{{3}}(?P<id>{_YOUTUBE_ID})$")
_YOUTUBE_BRACKET_RE = re.compile(rf"\s*\[(?P<id>{_YOUTUBE_ID})\]$")


@dataclass(frozen=True, slots=True)
class BracketGroup:
    """One bracketed group at the end of a title: ``(Adam Beyer Remix)`` or ``[Token - 20RD]``.

    Attributes
    ----------
    opener : str
        ``"("``, ``"["`` or ``"{"``.
    content : str
        The text inside the brackets, trimmed.
    """

    opener: str
    content: str

    @property
    def raw(self) -> str:
        """The group as written, with its brackets."""
        return f"{self.opener}{self.content}{_CLOSE[_OPEN.index(self.opener)]}"


def tidy_text(text: str) -> str:
    """Unescape HTML entities, unify dashes and spaces, drop invisible marks.

    Parameters
    ----------
    text : str
        A title as published (may hold ``&amp;``, ``&quot;``, en dashes, U+200E marks).

    Returns
    -------
    str
        The same title on one line, trimmed, with single spaces and ASCII hyphens.

    Examples
    --------
    >>> tidy_text("Faithless \u2013 We Come 1 &amp; more\u200e")
    'Faithless - We Come 1 & more'
    """
    if "&" in text:
        text = html.unescape(text)
    text = text.translate(_TRANSLATION)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


def strip_symbols(text: str) -> str:
    """Replace emoji and other pictographs (Unicode category So) by spaces.

    >>> strip_symbols("Artist - Song \U0001f3a4\U0001f3b5")
    'Artist - Song'
    """
    if text.isascii():
        return text
    cleaned = "".join(" " if unicodedata.category(ch) in ("So", "Cs", "Co") else ch for ch in text)
    return _SPACES.sub(" ", cleaned).strip()


def split_outside_brackets(text: str, separator: str) -> list[str]:
    """Split ``text`` on ``separator`` wherever it is not inside brackets.

    ``"Ø [Phase] - Binary Opposition [Token - 20RD]"`` splits into the artist and the rest, not
    inside ``[Token - 20RD]``.

    Parameters
    ----------
    text : str
        The normalised title.
    separator : str
        The separator, e.g. ``" - "``.

    Returns
    -------
    list of str
        The pieces, each trimmed; one piece when the separator does not occur outside brackets.

    Examples
    --------
    >>> split_outside_brackets("A [x - y] - B - C", " - ")
    ['A [x - y]', 'B', 'C']
    """
    if separator not in text:
        return [text]
    if "(" not in text and "[" not in text and "{" not in text:
        return [piece.strip() for piece in text.split(separator)]
    pieces: list[str] = []
    start = 0
    index = text.find(separator)
    while index >= 0:
        prefix = text[:index]
        depth = sum(prefix.count(o) for o in _OPEN) - sum(prefix.count(c) for c in _CLOSE)
        if depth <= 0:
            pieces.append(text[start:index].strip())
            start = index + len(separator)
        index = text.find(separator, index + len(separator))
    pieces.append(text[start:].strip())
    return pieces


def peel_trailing_groups(text: str) -> tuple[str, list[BracketGroup]]:
    """Split a title into its head and the balanced bracket groups at its end.

    Parameters
    ----------
    text : str
        A normalised title part, e.g. ``"Transport (Carl Craig Remix) [Tresor - 298]"``.

    Returns
    -------
    head : str
        The text before the trailing groups.
    groups : list of BracketGroup
        The trailing groups in reading order (possibly empty). Nested brackets stay inside
        their group (``[[PIAS] Recordings]``); an unbalanced end stops the peeling.

    Examples
    --------
    >>> head, groups = peel_trailing_groups("Transport (Carl Craig Remix) [Tresor - 298]")
    >>> head, [g.raw for g in groups]
    ('Transport', ['(Carl Craig Remix)', '[Tresor - 298]'])
    """
    groups: list[BracketGroup] = []
    rest = text.rstrip()
    while rest and rest[-1] in _CLOSE:
        depth = 0
        opened_at = -1
        for index in range(len(rest) - 1, -1, -1):
            char = rest[index]
            if char in _CLOSE:
                depth += 1
            elif char in _OPEN:
                depth -= 1
                if depth == 0:
                    opened_at = index
                    break
        if opened_at < 0 or rest[opened_at] != _PAIR[rest[-1]]:
            break
        groups.append(BracketGroup(rest[opened_at], rest[opened_at + 1 : -1].strip()))
        rest = rest[:opened_at].rstrip()
    groups.reverse()
    return rest, groups


def join_groups(head: str, groups: list[BracketGroup]) -> str:
    """Write a head and its groups back as one string (inverse of :func:`peel_trailing_groups`)."""
    return " ".join([head, *(group.raw for group in groups)]).strip() if groups else head


def is_youtube_id(token: str, *, letters_only: bool = True) -> bool:
    """Whether ``token`` looks like a YouTube video ID rather than a word or a label.

    Eleven characters of ``[A-Za-z0-9_-]`` with a digit, ``-`` or ``_`` ("dQw4w9WgXcQ"); with
    ``letters_only`` also eleven letters with an inner capital, which about one real ID in ten
    is, but so are label names such as "StereoRoyal": only file names allow it.
    """
    if len(token) != 11 or not re.fullmatch(_YOUTUBE_ID, token):
        return False
    if any(ch.isdigit() or ch in "-_" for ch in token):
        return True
    if not letters_only:
        return False
    inner = token[1:]
    return any(ch.isupper() for ch in inner) and any(ch.islower() for ch in inner)


def extract_youtube_id(text: str, *, letters_only: bool = True) -> tuple[str, str | None]:
    """Remove a trailing YouTube ID in PiKaraoke's ``---ID`` or yt-dlp's ``[ID]`` form.

    Parameters
    ----------
    text : str
        A file stem or title without extension.
    letters_only : bool
        Accept IDs of eleven letters (see :func:`is_youtube_id`); only sensible for file names.

    Returns
    -------
    rest : str
        The text without the ID.
    youtube_id : str or None
        The 11-character ID, or None when there is none.

    Examples
    --------
    >>> extract_youtube_id("Artist - Song---dQw4w9WgXcQ")
    ('Artist - Song', 'dQw4w9WgXcQ')
    >>> extract_youtube_id("Artist - Song [dQw4w9WgXcQ]")
    ('Artist - Song', 'dQw4w9WgXcQ')
    """
    for pattern in (_YOUTUBE_DASHES_RE, _YOUTUBE_BRACKET_RE):
        match = pattern.search(text)
        if match and is_youtube_id(match["id"], letters_only=letters_only):
            return text[: match.start()].rstrip(), match["id"]
    return text, None
