"""Genre normalisation and genre similarity (pure).

Real genre tags are messy: ``"Alternatif et indé"``, ``"D&B"``, ``"rock; alternative; indie"``,
``"seen live"``, ``"80s"``. :func:`normalise_tag` turns one tag into 0..n canonical genres of our
own vocabulary (``musicwb/genres/vocab/``):

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

Genre similarity of two tracks is ``0.6·cosine + 0.4·Jaccard`` over their genre vectors.
With ``smoothing=s`` (0 < s < 1) each genre also counts ``s**d`` for its ancestor ``d`` steps up
the genre tree, so deep house and house (or deep house and tech house, through house) share
something; the Jaccard is then the weighted one (sum of minima over sum of maxima).
:func:`genre_similarity_to` computes it for a seed against a sparse matrix of a whole library.

Examples
--------
>>> normalise_tag("Alternatif et indé")
['indie']
>>> normalise_tag("rock; Alt Rock; D&B; seen live; 80s")
['rock', 'alternative rock', 'drum and bass']
>>> round(genre_similarity(["deep house"], ["house"], smoothing=0.5), 3)
0.413
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml
from rapidfuzz import fuzz, process

from musicwb.errors import ParameterError
from musicwb.text import fold_words

__all__ = [
    "COSINE_WEIGHT",
    "GenreVocabulary",
    "TagMapping",
    "coverage_report",
    "explain_tag",
    "genre_key",
    "genre_matrix",
    "genre_similarity",
    "genre_similarity_to",
    "genre_vector",
    "load_vocabulary",
    "normalise_genre_column",
    "normalise_tag",
    "normalise_tags",
]

COSINE_WEIGHT = 0.6
"""Weight of the cosine in the genre similarity; the Jaccard gets the rest (0.4)."""

Unknown = Literal["keep", "drop"]

# Methods that end in a canonical genre of the vocabulary (the rest end in nothing or a
# cleaned unknown tag).
VOCABULARY_METHODS = (
    "exact", "alias", "translation", "reordered", "and-split", "compound", "plural", "fuzzy",
    "head",
)
FUZZY_MIN_SCORE = 92.0
"""Least rapidfuzz ratio (0..100) of a misspelt key to a known one ("chrismas" → christmas)."""
_FUZZY_MIN_LENGTH = 8

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


# ---------------------------------------------------------------------------------------------
# Folding


def genre_key(text: str) -> str:
    """The matching key of a genre name: folded, with every space and punctuation removed.

    Parameters
    ----------
    text : str
        A genre name or tag.

    Returns
    -------
    str
        ``"hiphop"`` for "Hip-Hop", "hip hop" and "HIPHOP"; ``"randb"`` for "R&B".

    Examples
    --------
    >>> genre_key("Drum & Bass")
    'drumandbass'
    """
    return fold_words(text).replace(" ", "")


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


# ---------------------------------------------------------------------------------------------
# Vocabulary


@dataclass(frozen=True, eq=False)
class GenreVocabulary:
    """Canonical genres, their tree, aliases, word translations and meta tags.

    Build it with :func:`load_vocabulary` (the package's own files) or
    :meth:`GenreVocabulary.from_directory` (a folder with the same five files).

    Attributes
    ----------
    genres : tuple of str
        Canonical genre names, in the order of ``genres.yaml``.
    parents : Mapping[str, tuple of str]
        Parents of each genre in the tree (several when a genre sits under several).
    aliases : Mapping[str, tuple of str]
        Matching key (:func:`genre_key`) → canonical genres, for canonical names and aliases.
    translations : Mapping[str, str]
        Folded word or phrase → English words ("" drops the word).
    meta_keys : frozenset of str
        Keys of meta tags.
    meta_patterns : tuple of re.Pattern
        Patterns of meta tags, matched against the folded tag.
    """

    genres: tuple[str, ...]
    parents: Mapping[str, tuple[str, ...]]
    aliases: Mapping[str, tuple[str, ...]]
    translations: Mapping[str, str]
    meta_keys: frozenset[str]
    meta_patterns: tuple[re.Pattern[str], ...]
    _canonical_keys: frozenset[str] = field(init=False, repr=False)
    _max_translation_words: int = field(init=False, repr=False)
    _fuzzy_keys: tuple[str, ...] = field(init=False, repr=False)
    _filler_words: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_canonical_keys", frozenset(genre_key(g) for g in self.genres))
        longest = max((len(phrase.split()) for phrase in self.translations), default=1)
        object.__setattr__(self, "_max_translation_words", longest)
        fillers = (w for w, english in self.translations.items() if not english and len(w) >= 4)
        object.__setattr__(self, "_filler_words", tuple(sorted(fillers, key=len, reverse=True)))
        fuzzy_keys = tuple(key for key in self.aliases if len(key) >= _FUZZY_MIN_LENGTH - 1)
        object.__setattr__(self, "_fuzzy_keys", fuzzy_keys)

    def __contains__(self, genre: object) -> bool:
        return isinstance(genre, str) and genre in self.parents

    def __len__(self) -> int:
        return len(self.genres)

    def lookup(self, text: str) -> tuple[str, ...]:
        """Canonical genres for a genre name or alias, ``()`` when unknown.

        Examples
        --------
        >>> load_vocabulary().lookup("D'n'B")
        ('drum and bass',)
        """
        return self.aliases.get(genre_key(text), ())

    def is_canonical_key(self, key: str) -> bool:
        """Whether ``key`` (a :func:`genre_key`) is the key of a canonical genre itself."""
        return key in self._canonical_keys

    def is_meta(self, text: str) -> bool:
        """Whether a tag is a meta tag (listening history, decade, mood, instrument, ...).

        Examples
        --------
        >>> load_vocabulary().is_meta("Seen Live"), load_vocabulary().is_meta("1980's")
        (True, True)
        """
        folded = fold_words(text)
        if folded.replace(" ", "") in self.meta_keys:
            return True
        return any(pattern.search(folded) for pattern in self.meta_patterns)

    def ancestors(self, genre: str) -> dict[str, int]:
        """Every ancestor of a genre with its distance in steps (1 for a parent).

        Examples
        --------
        >>> load_vocabulary().ancestors("deep house")
        {'house': 1, 'electronic': 2}
        """
        distances: dict[str, int] = {}
        frontier = [genre]
        step = 0
        while frontier:
            step += 1
            following = []
            for node in frontier:
                for parent in self.parents.get(node, ()):
                    if parent not in distances and parent != genre:
                        distances[parent] = step
                        following.append(parent)
            frontier = following
        return distances

    @classmethod
    def from_directory(cls, directory: Path | str) -> GenreVocabulary:
        """Read ``genres.yaml``, ``aliases.csv``, ``translations.csv`` and ``meta.txt``.

        Parameters
        ----------
        directory : Path or str
            A folder with the four files in the formats described at the top of each of the
            package's own files.

        Raises
        ------
        ParameterError
            A file is missing or malformed, or an alias points to a genre that is not canonical.
        """
        folder = Path(directory)
        return cls._from_texts(
            {name: _read_text(folder / name) for name in _VOCABULARY_FILES}, origin=str(folder)
        )

    @classmethod
    def _from_texts(cls, texts: Mapping[str, str], *, origin: str) -> GenreVocabulary:
        genres, parents = _parse_tree(texts["genres.yaml"], origin=f"{origin}/genres.yaml")
        aliases: dict[str, tuple[str, ...]] = {genre_key(g): (g,) for g in genres}
        for line_number, alias, targets in _csv_rows(texts["aliases.csv"], columns=2):
            where = f"{origin}/aliases.csv line {line_number}"
            canonical = tuple(t.strip() for t in targets.split("|"))
            unknown = [t for t in canonical if t not in parents]
            if unknown:
                raise ParameterError(
                    f"{where}: alias {alias!r} points to unknown genre {unknown[0]!r}"
                )
            key = genre_key(alias)
            if not key:
                raise ParameterError(f"{where}: alias {alias!r} has no letters or digits")
            if key in aliases and aliases[key] != canonical:
                raise ParameterError(
                    f"{where}: alias {alias!r} maps to {canonical} but its key already maps to "
                    f"{aliases[key]}"
                )
            aliases[key] = canonical
        translations: dict[str, str] = {}
        for _, word, english, *_ in _csv_rows(texts["translations.csv"], columns=3):
            translations[fold_words(word)] = fold_words(english)
        meta_keys: set[str] = set()
        meta_patterns: list[re.Pattern[str]] = []
        for line_number, line in enumerate(texts["meta.txt"].splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("re:"):
                try:
                    meta_patterns.append(re.compile(line[3:].strip()))
                except re.error as exc:
                    raise ParameterError(f"{origin}/meta.txt line {line_number}: {exc}") from exc
            else:
                meta_keys.add(genre_key(line))
        return cls(
            genres=tuple(genres),
            parents=parents,
            aliases=aliases,
            translations=translations,
            meta_keys=frozenset(meta_keys),
            meta_patterns=tuple(meta_patterns),
        )


_VOCABULARY_FILES = ("genres.yaml", "aliases.csv", "translations.csv", "meta.txt")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"genre vocabulary file {path} cannot be read: {exc}") from exc


def _csv_rows(text: str, *, columns: int) -> Iterable[tuple]:
    """(line number, cells...) of a CSV with comment lines and one header row."""
    numbered = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for (number, _), cells in zip(numbered[1:], csv.reader(line for _, line in numbered[1:])):
        cells = [cell.strip() for cell in cells]
        if len(cells) < columns:
            cells += [""] * (columns - len(cells))
        yield (number, *cells)


def _parse_tree(text: str, *, origin: str) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParameterError(f"{origin}: not valid YAML: {exc}") from exc
    order: list[str] = []
    parents: dict[str, list[str]] = {}

    def visit(node: object, parent: str | None) -> None:
        if node is None:
            return
        if isinstance(node, str):
            name = node.strip()
            if name != name.casefold() or not genre_key(name):
                raise ParameterError(f"{origin}: genre {node!r} is not a lowercase name")
            if name not in parents:
                parents[name] = []
                order.append(name)
            if parent is not None and parent not in parents[name] and parent != name:
                parents[name].append(parent)
            return
        if isinstance(node, list):
            for item in node:
                visit(item, parent)
            return
        if isinstance(node, dict):
            for name, children in node.items():
                visit(str(name), parent)
                visit(children, str(name).strip())
            return
        raise ParameterError(f"{origin}: unexpected {type(node).__name__} {node!r} in the tree")

    visit(tree, None)
    keys: dict[str, str] = {}
    for name in order:
        other = keys.setdefault(genre_key(name), name)
        if other != name:
            raise ParameterError(f"{origin}: genres {other!r} and {name!r} have the same key")
    return order, {name: tuple(found) for name, found in parents.items()}


@lru_cache(maxsize=1)
def load_vocabulary() -> GenreVocabulary:
    """The package's own genre vocabulary (read once, then cached).

    Returns
    -------
    GenreVocabulary

    Examples
    --------
    >>> vocabulary = load_vocabulary()
    >>> "deep house" in vocabulary, vocabulary.lookup("DnB")
    (True, ('drum and bass',))
    """
    folder = resources.files("musicwb.genres").joinpath("vocab")
    texts = {name: folder.joinpath(name).read_text(encoding="utf-8") for name in _VOCABULARY_FILES}
    return GenreVocabulary._from_texts(texts, origin="musicwb/genres/vocab")


# ---------------------------------------------------------------------------------------------
# Normalisation


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
        for size in range(min(vocab._max_translation_words, len(words) - i), 0, -1):
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
        if left == [word[:cut]] and right == [word[cut:]]:
            if not (vocab.aliases.get(word[:cut]) and vocab.aliases.get(word[cut:])):
                continue
        for candidate in ([*right, *left], [*left, *right]):
            found = _lookup_words(candidate, vocab)
            if found:
                return found
    return ()


def _strip_filler_suffix(word: str, vocab: GenreVocabulary) -> str:
    """``"epicmusic"`` → ``"epic"``: a glued filler word ("music", "musique", ...) removed."""
    for filler in vocab._filler_words:
        if word.endswith(filler) and len(word) - len(filler) >= 3:
            return word[: -len(filler)]
    return ""


def _fuzzy(key: str, vocab: GenreVocabulary) -> tuple[str, ...]:
    """The genres of the one known key closest to a misspelt key, if it is close enough."""
    if len(key) < _FUZZY_MIN_LENGTH:
        return ()
    best = process.extractOne(
        key, vocab._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE
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


# ---------------------------------------------------------------------------------------------
# Similarity


def _check_smoothing(smoothing: float | None) -> float:
    """The smoothing weight as a float (None is 0, no smoothing)."""
    if smoothing is None:
        return 0.0
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not (
        0.0 <= smoothing < 1.0
    ):
        raise ParameterError(f"smoothing must be a number in [0, 1) or None, got {smoothing!r}")
    return float(smoothing)


def _expansion(
    genre: str, smoothing: float, vocab: GenreVocabulary | None
) -> dict[str, float]:
    weights = {genre: 1.0}
    if smoothing > 0 and vocab is not None:
        for ancestor, distance in vocab.ancestors(genre).items():
            weights[ancestor] = smoothing**distance
    return weights


def genre_matrix(
    track_genres: Sequence[Sequence[str]],
    *,
    genre_names: Sequence[str] | None = None,
    smoothing: float | None = 0.0,
    vocabulary: GenreVocabulary | None = None,
) -> tuple[sp.csr_matrix, list[str]]:
    """Sparse genre vectors of many tracks.

    Parameters
    ----------
    track_genres : sequence of sequence of str
        Canonical genres of each track (normalise them first); ``n_tracks`` rows.
    genre_names : sequence of str, optional
        The columns. Defaults to every genre of ``track_genres`` (and, when smoothing, their
        ancestors), sorted. Genres not among the columns are ignored.
    smoothing : float or None
        0 or None (the default) for plain 0/1 vectors. With ``0 < s < 1`` each genre also counts
        ``s**d`` for its ancestor ``d`` steps up the tree; a track's weights are summed over its
        genres and capped at 1 (two sub-genres of house make a track fully house).
    vocabulary : GenreVocabulary, optional
        The tree for smoothing; defaults to :func:`load_vocabulary`.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix, shape (n_tracks, n_genres), float32
        Weights in [0, 1].
    genre_names : list of str
        The column names, ``n_genres`` of them.

    Raises
    ------
    ParameterError
        ``smoothing`` is outside [0, 1), or a track's genres are a bare string.

    Examples
    --------
    >>> matrix, names = genre_matrix([["house"], ["deep house", "house"], []])
    >>> matrix.shape, names
    ((3, 2), ['deep house', 'house'])
    """
    smoothing = _check_smoothing(smoothing)
    vocab = (vocabulary if vocabulary is not None else load_vocabulary()) if smoothing else None
    # One 0/1 row per track over the distinct genres, times the (distinct genre × column)
    # expansion with the tree weights: the per-track work is only collecting indices.
    distinct: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for row, genres in enumerate(track_genres):
        if isinstance(genres, str):
            raise ParameterError(
                f"track_genres row {row} is a string ({genres!r}); give a list of genres per track"
            )
        for genre in dict.fromkeys(genres):
            indices.append(distinct.setdefault(genre, len(distinct)))
        indptr.append(len(indices))
    expansions = [_expansion(genre, smoothing, vocab) for genre in distinct]
    if genre_names is None:
        names = sorted({name for weights in expansions for name in weights})
    else:
        names = list(dict.fromkeys(genre_names))
    column = {name: index for index, name in enumerate(names)}
    e_rows, e_cols, e_data = [], [], []
    for genre_index, weights in enumerate(expansions):
        for name, weight in weights.items():
            if name in column:
                e_rows.append(genre_index)
                e_cols.append(column[name])
                e_data.append(weight)
    expansion = sp.csr_matrix(
        (np.asarray(e_data, dtype=np.float32), (np.asarray(e_rows, dtype=np.int64),
                                                 np.asarray(e_cols, dtype=np.int64))),
        shape=(len(distinct), len(names)),
    )
    membership = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int64),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, len(distinct)),
    )
    matrix = (membership @ expansion).tocsr().astype(np.float32)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    np.minimum(matrix.data, 1.0, out=matrix.data)
    return matrix, names


def genre_vector(
    genres: Sequence[str],
    genre_names: Sequence[str],
    *,
    smoothing: float | None = 0.0,
    vocabulary: GenreVocabulary | None = None,
) -> np.ndarray:
    """The genre vector of one track over given columns, as :func:`genre_matrix` builds it.

    Parameters
    ----------
    genres : sequence of str
        Canonical genres of the track.
    genre_names : sequence of str
        The columns (``n_genres``), e.g. those returned by :func:`genre_matrix`.
    smoothing, vocabulary
        As in :func:`genre_matrix` (use the same values as for the matrix).

    Returns
    -------
    numpy.ndarray, shape (n_genres,), float32

    Examples
    --------
    >>> genre_vector(["deep house"], ["house", "deep house", "techno"], smoothing=0.5)
    array([0.5, 1. , 0. ], dtype=float32)
    """
    matrix, _ = genre_matrix(
        [list(genres)], genre_names=genre_names, smoothing=smoothing, vocabulary=vocabulary
    )
    return matrix.toarray()[0]


def _row_sums(matrix: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    """Per-row sums of ``values`` laid out like ``matrix.data`` (shape (n_rows,), float64)."""
    sums = np.zeros(matrix.shape[0], dtype=np.float64)
    starts = matrix.indptr[:-1]
    nonempty = np.diff(matrix.indptr) > 0
    if values.size:
        sums[nonempty] = np.add.reduceat(values.astype(np.float64, copy=False), starts[nonempty])
    return sums


def genre_similarity_to(
    seed_vector: np.ndarray | sp.spmatrix,
    matrix: sp.spmatrix | np.ndarray,
    *,
    cosine_weight: float = COSINE_WEIGHT,
) -> np.ndarray:
    """Genre similarity of one seed to every track: ``w·cosine + (1−w)·Jaccard``.

    The Jaccard is the weighted one (sum of element-wise minima over sum of maxima), which is
    the usual set Jaccard for 0/1 vectors. Work is proportional to the number of non-zeros.

    Parameters
    ----------
    seed_vector : numpy.ndarray, shape (n_genres,), or a sparse row
        Non-negative weights of the seed (see :func:`genre_vector`).
    matrix : scipy.sparse matrix or numpy.ndarray, shape (n_tracks, n_genres)
        Non-negative weights of every track (see :func:`genre_matrix`).
    cosine_weight : float
        Weight ``w`` of the cosine, in [0, 1]; 0.6 by default.

    Returns
    -------
    numpy.ndarray, shape (n_tracks,), float64
        Similarities in [0, 1]; 0 for a track or seed without genres.

    Raises
    ------
    ParameterError
        Shapes disagree, weights are negative, or ``cosine_weight`` is outside [0, 1].

    Examples
    --------
    >>> matrix, names = genre_matrix([["house"], ["house", "techno"], ["jazz"]])
    >>> genre_similarity_to(genre_vector(["house"], names), matrix).round(3)
    array([1.   , 0.624, 0.   ])
    """
    if not 0.0 <= cosine_weight <= 1.0:
        raise ParameterError(f"cosine_weight must be in [0, 1], got {cosine_weight!r}")
    dense_seed = seed_vector.toarray() if sp.issparse(seed_vector) else seed_vector
    seed = np.asarray(dense_seed, dtype=np.float64).reshape(-1)
    tracks = sp.csr_matrix(matrix) if not sp.issparse(matrix) else matrix.tocsr()
    if tracks.shape[1] != seed.shape[0]:
        raise ParameterError(
            f"seed_vector has {seed.shape[0]} genres but matrix has {tracks.shape[1]} columns"
        )
    if (seed < 0).any() or (tracks.data < 0).any():
        raise ParameterError("genre weights must be non-negative")
    scores = np.zeros(tracks.shape[0], dtype=np.float64)
    dot = np.asarray(tracks @ seed, dtype=np.float64).reshape(-1)
    # With non-negative weights, a track that shares no genre with the seed (dot 0) has cosine
    # and Jaccard 0: only the tracks that share something need the rest of the work.
    hits = np.flatnonzero(dot > 0)
    if hits.size == 0:
        return scores
    if hits.size * 4 > tracks.shape[0]:  # slicing most rows costs more than it saves
        hits = np.arange(tracks.shape[0])
        shared = tracks
    else:
        shared = tracks[hits]
    data = shared.data.astype(np.float64, copy=False)
    norms = np.sqrt(_row_sums(shared, data * data)) * np.sqrt(seed @ seed)
    cosine = np.divide(dot[hits], norms, out=np.zeros(hits.size), where=norms > 0)
    overlap = _row_sums(shared, np.minimum(data, seed[shared.indices]))
    union = _row_sums(shared, data) + seed.sum() - overlap
    jaccard = np.divide(overlap, union, out=np.zeros(hits.size), where=union > 0)
    scores[hits] = np.clip(cosine_weight * cosine + (1.0 - cosine_weight) * jaccard, 0.0, 1.0)
    return scores


def genre_similarity(
    a: Sequence[str],
    b: Sequence[str],
    *,
    smoothing: float | None = 0.0,
    vocabulary: GenreVocabulary | None = None,
    cosine_weight: float = COSINE_WEIGHT,
) -> float:
    """Genre similarity of two tracks, ``0.6·cosine + 0.4·Jaccard`` of their genre vectors.

    Parameters
    ----------
    a, b : sequence of str
        Canonical genres of each track.
    smoothing : float or None
        0 or None for exact genres only; ``0 < s < 1`` lets a genre count ``s**d`` for its ancestor
        ``d`` steps up the tree (see :func:`genre_matrix`).
    vocabulary : GenreVocabulary, optional
        The tree for smoothing; defaults to :func:`load_vocabulary`.
    cosine_weight : float
        Weight of the cosine; 0.6 by default.

    Returns
    -------
    float
        In [0, 1]; symmetric; 1 for identical non-empty genre sets; 0 when either is empty.

    Examples
    --------
    >>> genre_similarity(["house", "techno"], ["house"])
    0.6242640687119285
    >>> genre_similarity(["deep house"], ["house"])
    0.0
    >>> round(genre_similarity(["deep house"], ["house"], smoothing=0.5), 3)
    0.413
    """
    if isinstance(a, str) or isinstance(b, str):
        raise ParameterError("a and b must be lists of genres, not strings")
    matrix, names = genre_matrix([list(a), list(b)], smoothing=smoothing, vocabulary=vocabulary)
    seed = matrix[0].toarray()[0]
    return float(genre_similarity_to(seed, matrix[1], cosine_weight=cosine_weight)[0])
