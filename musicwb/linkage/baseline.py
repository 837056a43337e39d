"""The baselines the splink model is compared with: the original weighted formula, and two
one-line heuristics a user would try first.

``seed_formula``

``P = 0.5·occurrence + 0.3·label + 0.2·DJ`` per (slot, candidate), where

- occurrence = min(1, co_neighbour_sets / 3): the share of "seen next to the same neighbours
  in other sets" evidence, saturating at three sets;
- label = 1 if a label played just before or after the slot is one of the candidate's labels;
- DJ = 1 if the DJ is the candidate or releases on one of the candidate's labels.

A candidate needs at least ``min_occurrences`` (2) co-neighbour sets; a proposal needs
``P ≥ min_probability`` (0.60).

``dj_history``
    The artist the DJ plays in most of their other sets (probability: the share of those sets
    that play it).
``neighbours``
    The artist most played within the window of the slot's neighbours in other sets
    (probability: its share of that source's evidence for the slot).

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

from typing import Literal, get_args

import numpy as np
import pandas as pd

__all__ = [
    "BASELINES",
    "MIN_OCCURRENCES",
    "MIN_PROBABILITY",
    "WEIGHTS",
    "Baseline",
    "baseline_scores",
    "heuristic_scores",
]

Baseline = Literal["seed_formula", "dj_history", "neighbours"]
BASELINES: tuple[Baseline, ...] = get_args(Baseline)

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


def _ranked(scored: pd.DataFrame) -> pd.DataFrame:
    scored = scored.sort_values(["slot_id", "probability", "candidate"],
                                ascending=[True, False, True])
    scored["rank"] = scored.groupby("slot_id", observed=True).cumcount() + 1
    return scored.reset_index(drop=True)


def heuristic_scores(pairs: pd.DataFrame, *, kind: Baseline, keep_top: int | None = None
                     ) -> pd.DataFrame:
    """Rank each slot's candidates by one baseline.

    Parameters
    ----------
    pairs : pandas.DataFrame
        From :func:`musicwb.linkage.features.candidate_features`.
    kind : {"seed_formula", "dj_history", "neighbours"}
    keep_top : int, optional
        Keep only each slot's best ``keep_top`` candidates.

    Returns
    -------
    pandas.DataFrame
        ``slot_id, candidate, probability, rank`` (and ``accepted`` for the seed formula),
        only the candidates the baseline has evidence for.

    Examples
    --------
    >>> pairs = pd.DataFrame({"slot_id": ["s#2", "s#2"], "candidate": ["a", "b"],
    ...     "dj_sets_with_candidate": [1, 3], "dj_other_sets": [4, 4],
    ...     "dj_is_candidate": [False, False]})
    >>> heuristic_scores(pairs, kind="dj_history")[["candidate", "probability", "rank"]].values.tolist()
    [['b', 0.75, 1], ['a', 0.25, 2]]
    """
    if kind == "seed_formula":
        scored = baseline_scores(pairs)
        return scored if keep_top is None else scored[scored["rank"] <= keep_top]
    if kind == "dj_history":
        kept = pairs[(pairs["dj_sets_with_candidate"] > 0) | pairs["dj_is_candidate"]]
        share = kept["dj_sets_with_candidate"] / kept["dj_other_sets"].clip(lower=1)
        probability = share.clip(upper=1.0).to_numpy(float)
    else:
        kept = pairs[pairs["neighbour_score"] > 0]
        total = kept.groupby("slot_id", observed=True)["neighbour_score"].transform("sum")
        probability = (kept["neighbour_score"] / total).to_numpy(float)
    scored = pd.DataFrame({"slot_id": kept["slot_id"].to_numpy(),
                           "candidate": kept["candidate"].to_numpy(),
                           "probability": np.round(probability, 6)})
    scored = _ranked(scored)
    return scored if keep_top is None else scored[scored["rank"] <= keep_top].reset_index(drop=True)
