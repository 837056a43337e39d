"""Artist and label keys: one spelling per artist, whatever the tracklist wrote.

``Âme & Dixon``, ``AME and dixon`` and ``Ame x Dixon`` are one key, ``ame & dixon``; the
featuring part is split off (``Emptyset Feat. Cornelius Harris`` → ``emptyset``). Pure
functions; no I/O.

Examples
--------
>>> artist_key("Âme and Dixon feat. Jo")
'ame & dixon'
>>> artist_members("Ben Klock vs. Marcel Dettmann")
('ben klock', 'marcel dettmann')
"""

from __future__ import annotations

import re
from functools import lru_cache

from musicwb.text.folding import fold

__all__ = ["artist_key", "artist_members", "catalogue_key", "label_key"]

_FEATURING = re.compile(r"\s*[\(\[]?\b(?:feat\.?|ft\.?|featuring|with)\s+.*$", re.IGNORECASE)
_JOINERS = re.compile(r"\s+(?:&|and|x|vs\.?|versus|\+|b2b|,)\s+|\s*,\s*", re.IGNORECASE)
_UNKNOWN = {"", "id", "?", "??", "unknown", "unknown artist", "n/a"}


@lru_cache(maxsize=200_000)
def artist_members(credit: str | None) -> tuple[str, ...]:
    """The folded names of the main artists of a credit, featuring part removed.

    Parameters
    ----------
    credit : str or None
        An artist credit as written.

    Returns
    -------
    tuple of str
        Empty for a missing or unknown credit ("ID", "?").
    """
    if credit is None or credit.strip().casefold() in _UNKNOWN:
        return ()
    main = _FEATURING.sub("", credit.strip())
    parts = [fold(part) for part in _JOINERS.split(main)]
    members = tuple(part for part in parts if part and part not in _UNKNOWN)
    return members


def artist_key(credit: str | None) -> str | None:
    """One key per artist credit: the folded main artists joined by ``" & "``.

    Parameters
    ----------
    credit : str or None

    Returns
    -------
    str or None
        None for a missing or unknown credit.
    """
    members = artist_members(credit)
    return " & ".join(members) if members else None


def label_key(label: str | None) -> str | None:
    """The folded label name, without a trailing "Records"/"Recordings"/"Music".

    >>> label_key("Ostgut Ton Records")
    'ostgut ton'
    """
    if label is None:
        return None
    folded = re.sub(r"\s+(?:records|recordings|music|rec)$", "", fold(label))
    return folded or None


_CATALOGUE_ALLOWED = re.compile(r"[\w\s\-./#:]+")
CATALOGUE_MAX = 40


def catalogue_key(catalogue: str | None) -> str | None:
    """The normal form of a catalogue number: letters and digits only, upper case.

    ``cat 012``, ``CAT-012`` and ``cat012`` are one catalogue number, ``CAT012``; the display
    form is kept beside it by whoever stores it. Leading zeros are kept (``CAT12`` is another).

    Parameters
    ----------
    catalogue : str or None

    Returns
    -------
    str or None
        None for a missing or blank value.

    Raises
    ------
    ValueError
        A value that is no catalogue number: longer than 40 characters, characters other than
        letters, digits, spaces and ``- . / # :``, or nothing but punctuation.

    Examples
    --------
    >>> catalogue_key("cat 012"), catalogue_key("CAT-012"), catalogue_key("cat012")
    ('CAT012', 'CAT012', 'CAT012')
    >>> catalogue_key("  ") is None
    True
    """
    if catalogue is None or not str(catalogue).strip():
        return None
    text = str(catalogue).strip()
    if len(text) > CATALOGUE_MAX or not _CATALOGUE_ALLOWED.fullmatch(text):
        raise ValueError(f"not a catalogue number: {text[:60]!r}")
    key = "".join(ch for ch in text if ch.isalnum()).upper()
    if not key:
        raise ValueError(f"not a catalogue number: {text!r} has no letter or digit")
    return key
