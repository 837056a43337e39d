"""Folding text into matching keys: the package's one place for case, accents and spacing.

Three strengths, one core (:func:`strip_marks`):

- :func:`fold_spaces`: Unicode compatibility forms, case and runs of white space only; for cache
  keys of queries, where ``"Daft\u00a0PUNK"`` and ``"daft punk"`` are one question.
- :func:`fold`: also accents and punctuation; for artist and label keys.
- :func:`fold_words`: also ``&``/``+`` read as "and" and apostrophes dropped; for genre names,
  where ``"Drum & Bass"`` and ``"drum and bass"`` are one genre.

Pure functions; no I/O.

Examples
--------
>>> fold("  Âme   (DE) ")
'ame de'
>>> fold_words("Rock 'n' Roll & Blues")
'rock n roll and blues'
>>> fold_spaces("  Daft\\u00a0PUNK ")
'daft punk'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold", "fold_spaces", "fold_words", "strip_marks"]

_NOISE = re.compile(r"[^\w&\s]")
_SPACES = re.compile(r"\s+")
_AMPERSAND = re.compile(r"\s*[&+]\s*")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def strip_marks(text: str) -> str:
    """The text decomposed (NFKD) without its combining marks: ``"Âme"`` → ``"Ame"``.

    >>> strip_marks("Âme Ø")
    'Ame Ø'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower case, accents and marks removed, punctuation dropped, spaces collapsed.

    ``&`` is kept (it joins artists); ``ø`` becomes ``o``.

    >>> fold("  Âme   (DE) ")
    'ame de'
    """
    plain = strip_marks(text).replace("\u00f8", "o").replace("\u00d8", "o").casefold()
    return _SPACES.sub(" ", _NOISE.sub(" ", plain)).strip()


def fold_words(text: str) -> str:
    """Case- and accent-folded text, ``&``/``+`` read as "and", punctuation as spaces.

    >>> fold_words("Drum & Bass"), fold_words("Rock'n'Roll")
    ('drum and bass', 'rocknroll')
    """
    stripped = strip_marks(text).casefold()
    stripped = stripped.replace("'", "").replace("’", "").replace("`", "")
    stripped = _AMPERSAND.sub(" and ", stripped)
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def fold_spaces(text: str | None) -> str:
    """Compatibility forms (NFKC), case folding, and runs of white space as one space.

    ``None`` folds to ``""``.

    >>> fold_spaces("  Daft\\u00a0PUNK "), fold_spaces(None)
    ('daft punk', '')
    """
    if text is None:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())
