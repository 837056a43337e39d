"""Our own genre vocabulary: canonical genres, their tree, aliases, translations, meta tags.

The files live in ``musicwb/genres/vocab/``:

- ``genres.yaml``: the canonical genres as a tree (a genre may sit under several parents);
- ``aliases.csv``: synonyms, abbreviations and misspellings → canonical genres;
- ``translations.csv``: words of French, German, Dutch, Spanish, Portuguese and Italian tags →
  English words ("" drops a filler word such as "musique");
- ``meta.txt``: meta tags (listening history, ownership, decades and years, moods,
  instruments), as keys or ``re:`` patterns.

:func:`load_vocabulary` reads them once; :func:`genre_key` is the matching key every lookup
uses (case, accents, spaces, hyphens and punctuation do not matter; ``&`` and ``+`` read "and").

Examples
--------
>>> vocabulary = load_vocabulary()
>>> vocabulary.lookup("Hip-Hop"), vocabulary.is_meta("seen live")
(('hip hop',), True)
>>> genre_key("R&B")
'randb'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from musicwb.errors import ParameterError
from musicwb.text import fold_words

__all__ = ["FUZZY_MIN_LENGTH", "GenreVocabulary", "genre_key", "load_vocabulary"]

FUZZY_MIN_LENGTH = 8
"""Shortest key a misspelling is looked for (shorter keys are too alike to guess)."""


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
    max_translation_words : int
        Most words of a phrase in ``translations`` (derived).
    fuzzy_keys : tuple of str
        The alias keys long enough for a misspelling to be matched to them (derived).
    filler_words : tuple of str
        Words that translate to nothing ("musique"), longest first (derived).
    """

    genres: tuple[str, ...]
    parents: Mapping[str, tuple[str, ...]]
    aliases: Mapping[str, tuple[str, ...]]
    translations: Mapping[str, str]
    meta_keys: frozenset[str]
    meta_patterns: tuple[re.Pattern[str], ...]
    _canonical_keys: frozenset[str] = field(init=False, repr=False)
    max_translation_words: int = field(init=False, repr=False)
    fuzzy_keys: tuple[str, ...] = field(init=False, repr=False)
    filler_words: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_canonical_keys", frozenset(genre_key(g) for g in self.genres))
        longest = max((len(phrase.split()) for phrase in self.translations), default=1)
        object.__setattr__(self, "max_translation_words", longest)
        fillers = (w for w, english in self.translations.items() if not english and len(w) >= 4)
        object.__setattr__(self, "filler_words", tuple(sorted(fillers, key=len, reverse=True)))
        fuzzy_keys = tuple(key for key in self.aliases if len(key) >= FUZZY_MIN_LENGTH - 1)
        object.__setattr__(self, "fuzzy_keys", fuzzy_keys)

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

