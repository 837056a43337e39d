"""Candidate features on a tiny hand-made tracklist whose answer is known."""

from __future__ import annotations

import pandas as pd
import pytest

from musicwb.errors import ParameterError
from musicwb.linkage.baseline import baseline_scores
from musicwb.linkage.features import FEATURE_COLUMNS, candidate_features


def _entries() -> pd.DataFrame:
    # Zed's promo is played between Alpha and Bravo in three sets; in set s1 it is "ID - ID".
    # Dee is a DJ who produces (on Lab, Zed's label too); Once is played in one set only.
    sets = {
        "s1": ("dee", [("alpha", "lab"), (None, None), ("bravo", "other"), ("dee", "lab"),
                       ("once", None)]),
        "s2": ("dee", [("alpha", "lab"), ("zed", "lab"), ("bravo", "other"), ("carla", None)]),
        "s3": ("eve", [("carla", None), ("alpha", "lab"), ("zed", "lab"), ("bravo", "other")]),
        "s4": ("eve", [("alpha", None), ("zed", None), ("bravo", None), ("dee", "lab")]),
    }
    rows = [
        {"set_id": set_id, "position": i, "dj_key": dj, "artist_key": artist, "label_key": label,
         "is_unknown": artist is None}
        for set_id, (dj, entries) in sets.items()
        for i, (artist, label) in enumerate(entries, start=1)
    ]
    return pd.DataFrame(rows)


def _pair(pairs: pd.DataFrame, candidate: str) -> pd.Series:
    return pairs[pairs.candidate == candidate].set_index("candidate").loc[candidate]


def test_the_promo_artist_is_a_candidate_with_its_evidence():
    pairs = candidate_features(_entries(), window=1)
    assert set(pairs.slot_id) == {"s1#2"}
    zed = _pair(pairs, "zed")
    assert zed.co_neighbour_sets == 3  # next to Alpha (after) / Bravo (before) in s2, s3, s4
    assert zed.co_example_set == "s2" and zed.co_example_side in (1, -1)
    assert bool(zed.label_match_before) and not bool(zed.label_match_after)  # Alpha (Lab) before, Bravo (other) after
    assert bool(zed.dj_label_owner)  # Dee releases on Lab too
    assert not bool(zed.dj_is_candidate)
    assert zed.support_sets == 3 and zed.dj_sets_with_candidate == 1


def test_the_same_sequence_played_again():
    pairs = candidate_features(_entries(), window=1)
    sandwiches = pairs.set_index("candidate")["sandwich_sets"].astype(int).to_dict()
    assert sandwiches.pop("zed") == 3  # Alpha → Zed → Bravo in s2, s3 and s4
    assert set(sandwiches.values()) == {0}


def test_the_dj_neighbours_and_support():
    pairs = candidate_features(_entries(), window=2)
    dee = _pair(pairs, "dee")
    assert bool(dee.dj_is_candidate) and bool(dee.artist_played_after)
    alpha = _pair(pairs, "alpha")
    assert bool(alpha.artist_played_before) and not bool(alpha.artist_played_after)
    assert "once" not in set(pairs.candidate)  # played in one set: below min support 2
    assert set(FEATURE_COLUMNS) <= set(pairs.columns)
    assert pairs.position_fraction.iloc[0] == pytest.approx(0.25)


def test_baseline_ranks_the_promo_artist_first():
    ranked = baseline_scores(candidate_features(_entries(), window=2))
    top = ranked[ranked["rank"] == 1].iloc[0]
    assert top.candidate == "zed"
    assert top.probability == pytest.approx(0.5 * 1 + 0.3 * 1 + 0.2 * 1)
    assert bool(top.accepted)


def test_an_exploding_blocking_is_refused_before_generating():
    with pytest.raises(ParameterError, match="max_pairs=3.*window"):
        candidate_features(_entries(), window=2, max_pairs=3)
