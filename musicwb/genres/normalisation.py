"""Messy genre tags to canonical genres of our vocabulary, with the reason for each (pure).

Real genre tags are messy: ``"Alternatif et indé"``, ``"D&B"``, ``"rock; alternative; indie"``,
``"seen live"``, ``"80s"``. :func:`normalise_tag` turns one tag into 0..n canonical genres of our
own vocabulary (:mod:`musicwb.genres.vocabulary`):

1. Folding: case, accents, spaces, hyphens and punctuation do not matter for matching
   (``"Hip-Hop"``, ``"hip hop"`` and ``"HIPHOP"`` are the same key; ``&`` and ``+`` read "and").
2. A tag list is split on ``; , | \\`` and line breaks.
3. Each item is dropped when it is a meta tag (``meta.txt``: listening history, ownership,
   decades and years, moods, instruments), or looked up as it is among the canonical genres
   (``genres.yaml``) and the aliases (``aliases.csv``: synonyms, abbreviations,
   misspellings); "Hip Hop/Rap" and "Techno (Peak Time / Driving)" are names, for example.
4. Otherwise the item loses its bracketed qualifiers and is split on ``/`` and `` - ``; each
   part is looked up again and, failing that, goes through the steps below.
5. A part that is still unknown is translated word by word (``translations.csv``: French,
   German, Dutch, Spanish, Portuguese, Italian), also with its words reversed
   (``"rock alternatif"`` → alternative rock); then two words are read in the other order
   (``"fusion jazz"``); then split on "and" when every piece is a genre;
   then read as two glued words (``"houseelectro"``); then a plural is made singular; then a
   close misspelling of a known name is accepted (rapidfuzz ratio ≥ 92 on keys of 8+
   characters: ``"chrismas"``); then the longest known genre at its end or start is taken
   (``"argentine rock"`` → rock).
6. A part nothing matches is kept in a cleaned form (lowercase, single spaces) when it looks
   like a genre name (a few words, letters, no URL), or dropped with ``unknown="drop"``.
   Keeping it loses nothing a user typed; :func:`coverage_report` lists such tags.

:func:`explain_tag` says how each part was read; :func:`normalise_genre_column` normalises a
whole column (each distinct tag read once).

Examples
--------
>>> normalise_tag("Alternatif et indé")
['indie']
>>> normalise_tag("rock; Alt Rock; D&B; seen live; 80s")
['rock', 'alternative rock', 'drum and bass']
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from musicwb.errors import ParameterError
from musicwb.genres.vocabulary import (
    FUZZY_MIN_LENGTH,
    GenreVocabulary,
    genre_key,
    load_vocabulary,
)
from musicwb.text import fold_words

__all__ = [
    "FUZZY_MIN_SCORE",
    "VOCABULARY_METHODS",
    "TagMapping",
    "Unknown",
    "coverage_report",
    "explain_tag",
    "normalise_genre_column",
    "normalise_tag",
    "normalise_tags",
]

Unknown = Literal["keep", "drop"]
"""What to do with a part of a tag that matches nothing: keep it tidied, or drop it."""

# Methods that end in a canonical genre of the vocabulary (the rest end in nothing or a
# cleaned unknown tag).
VOCABULARY_METHODS = (
    "exact", "alias", "translation", "reordered", "and-split", "compound", "plural", "fuzzy",
    "head",
)
FUZZY_MIN_SCORE = 92.0
"""Least rapidfuzz ratio (0..100) of a misspelt key to a known one ("chrismas" → christmas)."""

_LIST_SEPARATORS = re.compile(r"[;,|\\•·]+")
_GENRE_SEPARATORS = re.compile(r"\s*(?:/|\s-\s)+\s*")
_LINE_BREAKS = re.compile(r"[\n\r\t\v\f\x1c-\x1e\x85\u2028\u2029]+")
_BRACKETS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?|\{[^}]*\}?")
_NOT_DISPLAY = re.compile(r"[^\w\s\-&'.+]|_", re.UNICODE)
_LOOSE_HYPHEN = re.compile(r"(?<!\w)-+|-+(?!\w)", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_URLISH = re.compile(r"https?:|www\.|@|\.(?:com|net|org|fm)\b")
_MAX_UNKNOWN_WORDS = 4
_MAX_UNKNOWN_CHARS = 40
_MAX_RESOLVE_WORDS = 8
_MAX_RESOLVE_CHARS = 80


def _clean_display(text: str) -> str:
    """A tag in a tidy form: lowercase, letters and digits with inner ``& ' . +`` and hyphens
    inside words only, single spaces."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = _LOOSE_HYPHEN.sub(" ", _NOT_DISPLAY.sub(" ", text))
    return " ".join(text.split()).strip(" -&'.+")


def _sanitise(text: str) -> str:
    """NFKC text with control, format, private-use and unassigned characters as spaces."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)


@dataclass(frozen=True)
class TagMapping:
    """How one part of a tag was read.

    Attributes
    ----------
    part : str
        The part of the tag (after splitting a composite tag).
    genres : tuple of str
        What it became: canonical genres, a cleaned unknown tag, or nothing.
    method : str
        ``exact``, ``alias``, ``translation``, ``reordered``, ``and-split``, ``compound``,
        ``plural``, ``fuzzy``, ``head`` (a canonical genre), ``unknown`` (kept as cleaned
        text), ``meta`` or ``dropped``.
    """

    part: str
    genres: tuple[str, ...]
    method: str

    @property
    def mapped(self) -> bool:
        """Whether the part became at least one canonical genre."""
        return self.method in VOCABULARY_METHODS and bool(self.genres)


def _check_unknown(unknown: str) -> None:
    if unknown not in ("keep", "drop"):
        raise ParameterError(f"unknown must be 'keep' or 'drop', got {unknown!r}")


def explain_tag(tag: str, *, vocabulary: GenreVocabulary | None = None) -> list[TagMapping]:
    """How a tag is read, part by part (what :func:`normalise_tag` does, with the reasons).

    Parameters
    ----------
    tag : str
        One raw tag, possibly composite.
    vocabulary : GenreVocabulary, optional
        Defaults to :func:`load_vocabulary`.

    Returns
    -------
    list of TagMapping
        One entry per part; empty for an empty tag.

    Raises
    ------
    ParameterError
        ``tag`` is not a string.

    Examples
    --------
    >>> [(m.genres, m.method) for m in explain_tag("Rock alternatif / favourites")]
    [(('alternative rock',), 'translation'), ((), 'meta')]
    """
    if not isinstance(tag, str):
        raise ParameterError(f"tag must be a string, got {type(tag).__name__}: {tag!r}")
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    text = _LINE_BREAKS.sub(";", unicodedata.normalize("NFKC", tag))  # one tag per line
    text = " ".join(_sanitise(text).split())
    mappings: list[TagMapping] = []
    for piece in _LIST_SEPARATORS.split(text):
        if fold_words(piece):
            mappings.extend(_explain_piece(piece, vocab))
    return mappings


def _explain_piece(text: str, vocab: GenreVocabulary) -> list[TagMapping]:
    """One item of a tag list; a slash or a spaced dash may still join several genres."""
    whole = _direct(text, vocab)  # "Hip Hop/Rap", "Breaks / Breakbeat / UK Bass" are names
    if whole is not None:
        return [whole]
    unbracketed = " ".join(_BRACKETS.sub(" ", text).split())
    if unbracketed != text and fold_words(unbracketed):
        whole = _direct(unbracketed, vocab)
        if whole is not None:
            return [whole]
    source = unbracketed if fold_words(unbracketed) else text
    parts = [part for part in _GENRE_SEPARATORS.split(source) if fold_words(part)]
    return [_resolve(part, vocab) for part in parts]


def _direct(text: str, vocab: GenreVocabulary) -> TagMapping | None:
    """A mapping when the whole text is a meta tag, a canonical genre or an alias."""
    if vocab.is_meta(text):
        return TagMapping(text, (), "meta")
    key = genre_key(text)
    found = vocab.aliases.get(key)
    if found:
        return TagMapping(text, found, "exact" if vocab.is_canonical_key(key) else "alias")
    return None


def _lookup_words(words: Sequence[str], vocab: GenreVocabulary) -> tuple[str, ...]:
    return vocab.aliases.get("".join(words), ()) if words else ()


def _translate(words: Sequence[str], vocab: GenreVocabulary) -> list[str]:
    """Words translated phrase by phrase (longest phrase first), filler words dropped."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(vocab.max_translation_words, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            if phrase in vocab.translations:
                out.extend(vocab.translations[phrase].split())
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _resolve(part: str, vocab: GenreVocabulary) -> TagMapping:
    direct = _direct(part, vocab)
    if direct is not None:
        return direct
    words = fold_words(part).split()
    translated = _translate(words, vocab)
    if translated != words:
        for candidate in (translated, translated[::-1]):
            found = _lookup_words(candidate, vocab)
            if found:
                return TagMapping(part, found, "translation")
        if not translated:
            return TagMapping(part, (), "dropped")
    if len(translated) > _MAX_RESOLVE_WORDS or len(part) > _MAX_RESOLVE_CHARS:
        # a sentence, not a tag: the word-level steps below grow with its length squared
        return TagMapping(part, (), "dropped")
    if len(translated) == 2:
        found = _lookup_words(translated[::-1], vocab)
        if found:
            return TagMapping(part, found, "reordered")
    if "and" in translated:
        pieces = " ".join(translated).split(" and ")
        if len(pieces) > 1 and all(p.strip() for p in pieces):
            found_pieces = [_lookup_words(p.split(), vocab) for p in pieces]
            if all(found_pieces):
                return TagMapping(part, _unique(g for f in found_pieces for g in f), "and-split")
    if len(translated) == 1:
        found = _compound(translated[0], vocab)
        if found:
            return TagMapping(part, found, "compound")
        stem = _strip_filler_suffix(translated[0], vocab)
        if stem:
            inner = _resolve(stem, vocab)
            return TagMapping(part, inner.genres, inner.method)
    if translated and len(translated[-1]) > 3 and translated[-1].endswith("s"):
        found = _lookup_words([*translated[:-1], translated[-1][:-1]], vocab)
        if found:
            return TagMapping(part, found, "plural")
    found = _fuzzy("".join(translated), vocab)
    if found:
        return TagMapping(part, found, "fuzzy")
    found = _head(translated, vocab)
    if found:
        return TagMapping(part, found, "head")
    cleaned = _clean_display(part)
    if cleaned and cleaned != part and _clean_display(cleaned) == cleaned:
        # The tidy form can split words that the raw form glued together ("0\bOI" → "0 oi"):
        # resolve it too, so normalising a normalised tag changes nothing.
        again = _resolve(cleaned, vocab)
        if again.genres or again.method != "unknown":
            return TagMapping(part, again.genres, again.method)
    if _plausible(cleaned):
        return TagMapping(part, (cleaned,), "unknown")
    return TagMapping(part, (), "dropped")


def _compound(word: str, vocab: GenreVocabulary) -> tuple[str, ...]:
    """Two glued words, each a genre word or a translated word, read in either order."""
    for cut in range(3, len(word) - 2):
        left = _translate([word[:cut]], vocab)
        right = _translate([word[cut:]], vocab)
        untranslated = left == [word[:cut]] and right == [word[cut:]]
        if untranslated and not (vocab.aliases.get(word[:cut]) and vocab.aliases.get(word[cut:])):
            continue
        for candidate in ([*right, *left], [*left, *right]):
            found = _lookup_words(candidate, vocab)
            if found:
                return found
    return ()


def _strip_filler_suffix(word: str, vocab: GenreVocabulary) -> str:
    """``"epicmusic"`` → ``"epic"``: a glued filler word ("music", "musique", ...) removed."""
    for filler in vocab.filler_words:
        if word.endswith(filler) and len(word) - len(filler) >= 3:
            return word[: -len(filler)]
    return ""


def _fuzzy(key: str, vocab: GenreVocabulary) -> tuple[str, ...]:
    """The genres of the one known key closest to a misspelt key, if it is close enough."""
    if len(key) < FUZZY_MIN_LENGTH:
        return ()
    best = process.extractOne(
        key, vocab.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE
    )
    return vocab.aliases[best[0]] if best else ()


def _head(words: Sequence[str], vocab: GenreVocabulary) -> tuple[str, ...]:
    """The longest known genre at the end of the words (a modifier before it), else at the start."""
    if len(words) < 2:
        return ()
    for start in range(1, len(words)):
        found = _lookup_words(words[start:], vocab)
        if found:
            return found
    for stop in range(len(words) - 1, 0, -1):
        found = _lookup_words(words[:stop], vocab)
        if found:
            return found
    return ()


def _plausible(cleaned: str) -> bool:
    """Whether an unknown tag looks like a genre name worth keeping."""
    return (
        0 < len(cleaned) <= _MAX_UNKNOWN_CHARS
        and len(cleaned.split()) <= _MAX_UNKNOWN_WORDS
        and len(_LETTER.findall(cleaned)) >= 2
        and not _URLISH.search(cleaned)
    )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def normalise_tag(
    tag: str, *, vocabulary: GenreVocabulary | None = None, unknown: Unknown = "keep"
) -> list[str]:
    """Canonical genres for one raw tag (0..n: composite tags split, meta tags dropped).

    Parameters
    ----------
    tag : str
        One raw tag, e.g. ``"Alternatif et indé"`` or ``"rock; alternative; indie"``.
    vocabulary : GenreVocabulary, optional
        Defaults to :func:`load_vocabulary`.
    unknown : {"keep", "drop"}
        What to do with a part that matches nothing: keep it in a cleaned form (lowercase,
        single spaces) when it looks like a genre name, or drop it.

    Returns
    -------
    list of str
        Genres in the order they appear, without repeats.

    Raises
    ------
    ParameterError
        ``tag`` is not a string, or ``unknown`` is not "keep" or "drop".

    Examples
    --------
    >>> normalise_tag("alternativ und indie"), normalise_tag("d&b"), normalise_tag("seen live")
    (['indie'], ['drum and bass'], [])
    >>> normalise_tag("Rock; Alternative; Indie")
    ['rock', 'alternative rock', 'indie']
    """
    _check_unknown(unknown)
    genres: list[str] = []
    for mapping in explain_tag(tag, vocabulary=vocabulary):
        if mapping.mapped or (unknown == "keep" and mapping.method == "unknown"):
            genres.extend(mapping.genres)
    return list(_unique(genres))


def normalise_tags(
    tags: Iterable[str], *, vocabulary: GenreVocabulary | None = None, unknown: Unknown = "keep"
) -> list[str]:
    """Canonical genres for several raw tags of one track, in order, without repeats.

    Parameters
    ----------
    tags : iterable of str
        The raw tags of one track.
    vocabulary, unknown
        As in :func:`normalise_tag`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> normalise_tags(["Techno", "tecno", "Minimal Techno", "2010s"])
    ['techno', 'minimal']
    """
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    genres: list[str] = []
    for tag in tags:
        genres.extend(normalise_tag(tag, vocabulary=vocab, unknown=unknown))
    return list(_unique(genres))


def _missing(value: object) -> bool:
    """None, NaN, pandas' NA or NaT: what a DataFrame column holds for a missing value."""
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, (float, np.floating)) and math.isnan(value))
    )


def normalise_genre_column(
    values: Iterable[str | Sequence[str] | None],
    *,
    vocabulary: GenreVocabulary | None = None,
    unknown: Unknown = "keep",
) -> list[list[str]]:
    """Normalise a genre column: one list of canonical genres per row.

    Parameters
    ----------
    values : iterable of (str, sequence of str, None)
        One value per track: a raw (possibly composite) tag string, a list or array of tags
        (as DuckDB returns ``VARCHAR[]``), or a missing value (None, NaN, ``pd.NA``), which
        becomes an empty list. Numbers are read as text
        (a year is a meta tag and is dropped).
    vocabulary, unknown
        As in :func:`normalise_tag`.

    Returns
    -------
    list of list of str
        Same length as ``values``.

    Raises
    ------
    ParameterError
        A value is of another type (the message names its row).

    Examples
    --------
    >>> normalise_genre_column(["House; Deep House", None, ["Hip-Hop", "seen live"]])
    [['house', 'deep house'], [], ['hip hop']]
    """
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    _check_unknown(unknown)
    # A library repeats the same few thousand tags over millions of rows: read each once.
    seen: dict[str, list[str]] = {}

    def read(tag: str) -> list[str]:
        if tag not in seen:
            seen[tag] = normalise_tag(tag, vocabulary=vocab, unknown=unknown)
        return seen[tag]

    out: list[list[str]] = []
    for row, value in enumerate(values):
        if _missing(value):
            out.append([])
        elif isinstance(value, str):
            out.append(list(read(value)))
        elif isinstance(value, (int, float, np.integer, np.floating)):
            out.append(list(read(str(value))))
        elif isinstance(value, (Sequence, np.ndarray)):
            tags = [t for t in value if not _missing(t)]
            bad = [t for t in tags if not isinstance(t, str)]
            if bad:
                raise ParameterError(
                    f"genre value in row {row} holds a {type(bad[0]).__name__}: {bad[0]!r}"
                )
            out.append(list(_unique(genre for tag in tags for genre in read(tag))))
        else:
            raise ParameterError(
                f"genre value in row {row} must be a string, a list of strings or None, "
                f"got {type(value).__name__}: {value!r}"
            )
    return out


def coverage_report(
    tags: Iterable[str], *, vocabulary: GenreVocabulary | None = None
) -> dict[str, object]:
    """How many raw tags map to at least one canonical genre, and which do not.

    Parameters
    ----------
    tags : iterable of str
        Raw tags (each counted once per occurrence).
    vocabulary : GenreVocabulary, optional
        Defaults to :func:`load_vocabulary`.

    Returns
    -------
    dict
        ``total``; ``mapped`` (at least one canonical genre) and ``mapped_fraction``;
        ``meta`` (dropped as meta tags, nothing else); ``unmapped`` (the other tags, a list);
        ``by_method`` (count of tags per first method that produced a genre, or per
        ``meta``/``unknown``/``dropped``).

    Examples
    --------
    >>> report = coverage_report(["Deep House", "seen live", "zzq wobble"])
    >>> report["mapped"], report["meta"], report["unmapped"]
    (1, 1, ['zzq wobble'])
    """
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    total = mapped = meta = 0
    unmapped: list[str] = []
    by_method: dict[str, int] = {}
    for tag in tags:
        total += 1
        mappings = explain_tag(tag, vocabulary=vocab)
        winners = [m for m in mappings if m.mapped]
        if winners:
            mapped += 1
            method = winners[0].method
        elif mappings and all(m.method == "meta" for m in mappings):
            meta += 1
            method = "meta"
        else:
            unmapped.append(tag)
            method = "unknown" if any(m.method == "unknown" for m in mappings) else "dropped"
        by_method[method] = by_method.get(method, 0) + 1
    return {
        "total": total,
        "mapped": mapped,
        "mapped_fraction": mapped / total if total else 0.0,
        "meta": meta,
        "unmapped": unmapped,
        "by_method": dict(sorted(by_method.items(), key=lambda item: -item[1])),
    }

