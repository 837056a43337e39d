"""The evidence of a proposal reads as a person would say it (issue 16)."""

from __future__ import annotations

import pandas as pd

from musicwb.linkage.proposals import evidence_sentences

SETS = pd.DataFrame(
    {"dj": ["Jonah Vale", "Ben Klock"],
     "set_title": ["2024-07-25 - Jonah Vale @ Halle Nord, Hamburg", "Berghain closing"]},
    index=pd.Index(["s1", "s2"], name="set_id"),
)  # fmt: skip


def _pair(**changes: object) -> dict:
    pair = {"candidate": "mira solenne", "co_neighbour_sets": 3, "co_example_set": "s1",
            "co_example_neighbour": "kasimir lowe", "co_example_side": -1, "sandwich_sets": 0,
            "dj_is_candidate": False, "artist_played_before": False,
            "artist_played_after": False, "label_match_before": False,
            "label_match_after": False, "dj_label_owner": False, "dj_sets_with_candidate": 1,
            "support_sets": 39}  # fmt: skip
    return pair | changes


def _said(pair: dict, *, dj: str = "Mira Solenne") -> list[str]:
    artists = {"mira solenne": "Mira Solenne", "kasimir lowe": "Kasimir Lowe"}
    return evidence_sentences(pair, artists=artists, labels={}, sets=SETS, dj=dj)


def test_a_set_whose_title_names_its_dj_is_not_named_twice() -> None:
    said = _said(_pair())
    assert said[0] == ("played before Kasimir Lowe in the set 2024-07-25 - Jonah Vale @ "
                       "Halle Nord, Hamburg (and 2 more sets)")
    other = _said(_pair(co_example_set="s2"))
    assert other[0].startswith("played before Kasimir Lowe in Ben Klock's set Berghain closing")


def test_a_dj_playing_their_own_tracks_and_plurals() -> None:
    said = _said(_pair(dj_is_candidate=True, dj_sets_with_candidate=8))
    assert "Mira Solenne plays their own tracks in 8 other sets" in said
    said = _said(_pair(), dj="Pelle Marten")
    assert "Pelle Marten plays Mira Solenne in 1 other set" in said
