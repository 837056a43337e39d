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

__all__ = ["artist_key", "artist_members", "label_key"]

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
