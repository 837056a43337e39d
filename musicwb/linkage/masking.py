"""Hiding known answers: the masked entries an evaluation (or a proposal run) learns from.

Known entries whose artist is played in at least two other sets are eligible; a random share
of them loses its artist and label and becomes an unknown slot whose answer is known.

Examples
--------
>>> import pandas as pd
>>> entries = pd.DataFrame({"set_id": ["s1", "s2", "s3", "s1"], "position": [1, 1, 1, 2],
...                         "artist_key": ["a", "a", "a", "b"], "label_key": [None] * 4})
>>> masked, truth = mask_known(entries, fraction=0.5, seed=0)
>>> int(masked.is_slot.sum()), truth.columns.tolist()
(2, ['slot_id', 'set_id', 'position', 'artist_key', 'label_key'])
>>> matches_truth(pd.DataFrame({"slot_id": ["s1#1"], "candidate": ["a"]}),
...               pd.Series({"s1#1": "a"})).tolist()
[True]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError

__all__ = ["mask_known", "matches_truth"]


def mask_known(
    entries: pd.DataFrame,
    *,
    fraction: float,
    seed: int,
    min_other_sets: int = 2,
    round_number: int = 0,
    among: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hide the artist and label of a random share of the eligible known entries.

    Parameters
    ----------
    entries : pandas.DataFrame
        From :func:`musicwb.linkage.tracklists.with_keys`.
    fraction : float
        In (0, 1): the share of eligible entries to hide.
    seed : int
    min_other_sets : int, default 2
        Eligible: the artist is played in at least this many *other* sets.
    round_number : int, default 0
        Round ``r`` hides entries none of the rounds ``0 … r−1`` (same seed) hid, so
        several rounds evaluate disjoint answers; ``(r + 1) · fraction`` must be at most 1.
    among : pandas.Series of bool, optional
        Aligned with ``entries``: only these entries may be hidden (the sets a user evaluates
        on); the others stay known, as context.

    Returns
    -------
    masked : pandas.DataFrame
        ``entries`` with ``is_slot`` (True exactly for the hidden ones) and their
        ``artist_key``/``label_key`` set to None.
    truth : pandas.DataFrame
        ``slot_id, set_id, position, artist_key, artist, label_key, label`` of the hidden
        entries (``artist`` and ``label`` when ``entries`` has them).
    """
    if not 0 < fraction < 1:
        raise ParameterError(f"mask fraction must be between 0 and 1, not {fraction}")
    known = entries["artist_key"].notna()
    sets_per_artist = entries[known].groupby("artist_key")["set_id"].nunique()
    other_sets = entries["artist_key"].map(sets_per_artist).fillna(0) - 1
    allowed = known & (other_sets >= min_other_sets)
    if among is not None:
        allowed &= among.to_numpy(bool)
    eligible = np.flatnonzero(allowed)
    if (round_number + 1) * fraction > 1 + 1e-9:
        raise ParameterError(
            f"{round_number + 1} rounds of mask fraction {fraction} would hide more than "
            "every eligible entry"
        )
    rng = np.random.default_rng(seed)
    size = round(fraction * len(eligible))
    remaining = eligible
    for _ in range(round_number + 1):
        chosen = rng.choice(remaining, size=min(size, len(remaining)), replace=False)
        remaining = np.setdiff1d(remaining, chosen)
    masked = entries.copy()
    masked["is_slot"] = False
    shown = [c for c in ("artist", "label_key", "label") if c in entries.columns]
    truth = entries.iloc[np.sort(chosen)][["set_id", "position", "artist_key", *shown]].copy()
    truth.insert(0, "slot_id", truth["set_id"] + "#" + truth["position"].astype(str))
    column = masked.columns.get_indexer(["artist_key", "label_key", "is_slot"])
    masked.iloc[chosen, column[0]] = None
    masked.iloc[chosen, column[1]] = None
    masked.iloc[chosen, column[2]] = True
    return masked, truth.reset_index(drop=True)


def matches_truth(frame: pd.DataFrame, truth: pd.Series) -> np.ndarray:
    """Whether each row's ``candidate`` is the true artist of its ``slot_id``.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``slot_id`` and ``candidate`` (strings or categoricals).
    truth : pandas.Series
        Index ``slot_id``, values the true artist key.

    Returns
    -------
    numpy.ndarray of bool, shape (len(frame),)
    """
    expected = np.asarray(frame["slot_id"].map(truth), dtype=object)
    return np.asarray(frame["candidate"], dtype=object) == expected
