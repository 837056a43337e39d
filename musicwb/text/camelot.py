"""Musical keys as Camelot codes: parsing, names, mixing compatibility, estimation from chroma.

A code is ``(number − 1)·2 + (1 for B/major)``, so the 24 keys are 0…23 and −1 is unknown. The
Krumhansl–Kessler key profiles here are the package's only copy (the sonic towers use them
for their key strength).

Examples
--------
>>> camelot_name(camelot_code("A minor"))
'8A'
"""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "MAJOR_PROFILE",
    "MINOR_PROFILE",
    "camelot_code",
    "camelot_compatible",
    "camelot_name",
    "estimate_camelot",
]

_PITCH = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_CAMELOT = re.compile(r"^0?(1[0-2]|[1-9])\s*([ab])$")
_OPEN_KEY = re.compile(r"^0?(1[0-2]|[1-9])\s*([md])$")
_MUSICAL = re.compile(r"^([a-g])\s*([#♯b♭]?)\s*(m|min|minor|maj|major|dur|moll)?$")
# Krumhansl–Kessler key profiles (major, minor), tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _code(number: int, major: bool) -> int:
    return (number - 1) * 2 + int(major)


def _camelot_of_pitch(pitch: int, *, major: bool) -> int:
    tonic_major = pitch if major else (pitch + 3) % 12
    return _code((7 * tonic_major + 7) % 12 + 1, major)


def camelot_code(key: str | None) -> int:
    """A key as a Camelot code ``(number − 1)·2 + (1 for B/major)``, −1 when unknown.

    Accepts Camelot (``"8A"``), Open Key (``"1m"``, ``"1d"``) and musical names (``"Am"``,
    ``"A minor"``, ``"F#"``, ``"Dbmaj"``).

    Examples
    --------
    >>> [camelot_name(camelot_code(k)) for k in ("8A", "Am", "C", "1d", "F#m", "zz")]
    ['8A', '8A', '8B', '8B', '11A', None]
    """
    if not isinstance(key, str):
        return -1
    text = key.strip().casefold()
    if match := _CAMELOT.match(text):
        return _code(int(match[1]), match[2] == "b")
    if match := _OPEN_KEY.match(text):
        return _code((int(match[1]) + 6) % 12 + 1, match[2] == "d")
    if match := _MUSICAL.match(text):
        pitch = _PITCH[match[1]] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(match[2], 0)
        minor = match[3] in {"m", "min", "minor", "moll"}
        return _camelot_of_pitch(pitch % 12, major=not minor)
    return -1


def camelot_name(code: int) -> str | None:
    """``"8A"`` for a Camelot code, None for −1."""
    if code < 0:
        return None
    return f"{code // 2 + 1}{'B' if code % 2 else 'A'}"


def camelot_compatible(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """Whether keys mix: same key, ±1 on the wheel with the same letter, or relative key.

    Unknown keys (−1) are compatible with everything.

    Examples
    --------
    >>> camelot_compatible(camelot_code("8A"), np.array([camelot_code(k) for k in ("9A", "8B", "9B", "3A")]))
    array([ True,  True, False, False])
    """
    a, b = np.asarray(a), np.asarray(b)
    number_a, number_b = a // 2, b // 2
    step = (number_a - number_b) % 12
    same_letter = (a % 2) == (b % 2)
    ok = (a == b) | (same_letter & ((step == 1) | (step == 11))) | (number_a == number_b)
    return ok | (a < 0) | (b < 0)


def estimate_camelot(chroma: np.ndarray) -> np.ndarray:
    """Keys from 12-bin chroma profiles (C first), by the Krumhansl–Kessler key profiles.

    Parameters
    ----------
    chroma : ndarray, shape (n, 12)
        E.g. the ``chroma_median`` of the artifact's raw harmony features.

    Returns
    -------
    ndarray, shape (n,), int64
        Camelot codes (−1 where the chroma is flat or not finite).

    Examples
    --------
    >>> c_major = np.array([[1, 0, .5, 0, .8, .6, 0, .9, 0, .5, 0, .3]])
    >>> camelot_name(int(estimate_camelot(c_major)[0]))
    '8B'
    """
    chroma = np.asarray(chroma, dtype=np.float64)
    centred = chroma - chroma.mean(axis=1, keepdims=True)
    spread = np.linalg.norm(centred, axis=1)
    profiles, codes = [], []
    for major, profile in ((True, MAJOR_PROFILE), (False, MINOR_PROFILE)):
        for tonic in range(12):
            rolled = np.roll(profile, tonic)
            profiles.append((rolled - rolled.mean()) / np.linalg.norm(rolled - rolled.mean()))
            codes.append(_camelot_of_pitch(tonic, major=major))
    scores = centred @ np.array(profiles).T
    best = np.asarray(codes)[np.argmax(scores, axis=1)]
    return np.where((spread > 1e-9) & np.isfinite(spread), best, -1).astype(np.int64)
