"""The original weighted formula, kept to compare the splink model against.

``P = 0.5·occurrence + 0.3·label + 0.2·DJ`` per (slot, candidate), where

- occurrence = min(1, co_neighbour_sets / 3): the share of "seen next to the same neighbours
  in other sets" evidence, saturating at three sets;
- label = 1 if a label played just before or after the slot is one of the candidate's labels;
- DJ = 1 if the DJ is the candidate or releases on one of the candidate's labels.

A candidate needs at least ``min_occurrences`` (2) co-neighbour sets; a proposal needs
``P ≥ min_probability`` (0.60).

Examples
--------
>>> import pandas as pd
>>> pairs = pd.DataFrame({"slot_id": ["s#2"], "candidate": ["c"], "co_neighbour_sets": [3],
...     "label_match_before": [True], "label_match_after": [False],
...     "dj_is_candidate": [False], "dj_label_owner": [False]})
>>> float(baseline_scores(pairs).probability.iloc[0])
0.8
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MIN_OCCURRENCES", "MIN_PROBABILITY", "WEIGHTS", "baseline_scores"]

WEIGHTS = {"occurrence": 0.5, "label": 0.3, "dj": 0.2}
MIN_PROBABILITY = 0.60
MIN_OCCURRENCES = 2


def baseline_scores(
    pairs: pd.DataFrame, *, min_occurrences: int = MIN_OCCURRENCES
) -> pd.DataFrame:
    """Score candidate pairs with the weighted formula, ranked within each slot.

    Parameters
    ----------
    pairs : pandas.DataFrame
        From :func:`musicwb.linkage.features.candidate_features`.
    min_occurrences : int, default 2
        Candidates seen next to the same neighbours in fewer sets are dropped.

    Returns
    -------
    pandas.DataFrame
        ``slot_id, candidate, occurrence, label, dj, probability, rank, accepted`` for the
        candidates that pass ``min_occurrences``; ``accepted`` is ``probability ≥ 0.60``.
    """
    kept = pairs[pairs["co_neighbour_sets"] >= min_occurrences]
    scored = pd.DataFrame({
        "slot_id": kept["slot_id"].to_numpy(),
        "candidate": kept["candidate"].to_numpy(),
        "occurrence": np.minimum(1.0, kept["co_neighbour_sets"].to_numpy() / 3.0),
        "label": (kept["label_match_before"] | kept["label_match_after"]).to_numpy(float),
        "dj": (kept["dj_is_candidate"] | kept["dj_label_owner"]).to_numpy(float),
    })  # fmt: skip
    scored["probability"] = (
        WEIGHTS["occurrence"] * scored["occurrence"]
        + WEIGHTS["label"] * scored["label"]
        + WEIGHTS["dj"] * scored["dj"]
    ).round(6)
    scored = scored.sort_values(["slot_id", "probability", "candidate"],
                                ascending=[True, False, True])
    scored["rank"] = scored.groupby("slot_id", observed=True).cumcount() + 1
    scored["accepted"] = scored["probability"] >= MIN_PROBABILITY
    return scored.reset_index(drop=True)
