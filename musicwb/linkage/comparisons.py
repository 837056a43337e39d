"""The splink settings of the linkage model: its comparisons, written with splink's own creators.

Each candidate pair is one slot record (left) and one candidate-profile record (right) sharing
a ``pair_id``, the pair's features on both sides. A comparison's levels are conditions on the
left record's features (``sandwich_sets_l >= 2``): splink's level library compares two values
(``x_l`` against ``x_r``) and has no level for a threshold on one record, so the levels are
:class:`splink.comparison_level_library.CustomLevel` inside a
:class:`splink.comparison_library.CustomComparison`, with the library's ``NullLevel`` (the
features are never null, but splink wants the level) and ``ElseLevel``.

Examples
--------
>>> settings = splink_settings(prior=0.01).create_settings_dict("duckdb")
>>> settings["blocking_rules_to_generate_predictions"][0]["blocking_rule"]
'l."pair_id" = r."pair_id"'
>>> [level["label_for_charts"] for level in settings["comparisons"][-1]["comparison_levels"]]
['missing', 'first or last tenth', 'none of these']
>>> adjusted = splink_settings(prior=0.01, term_frequency=0.5).create_settings_dict("duckdb")
>>> sorted({c["output_column_name"] for c in adjusted["comparisons"]
...         for level in c["comparison_levels"] if level.get("tf_adjustment_column")})
['cooccurrence', 'neighbours']
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

__all__ = [
    "COMPARISONS",
    "POPULARITY_SENSITIVE",
    "Comparison",
    "splink_comparison",
    "splink_settings",
]


@dataclass(frozen=True)
class Comparison:
    """A comparison of the model.

    Attributes
    ----------
    name : str
        ``mw_<name>`` is its part of the match weight in the predictions.
    column : str
        The feature its null level checks.
    levels : tuple of (str, str)
        ``(SQL condition over the slot record, label for charts)``, strongest first; an else
        level closes them.
    term_frequency : float, default 0
        The weight of splink's term-frequency adjustment on the candidate at every level but
        the else level (0: none). A popular artist is played near anything, so its evidence
        counts less than a rare one's: the level's Bayes factor is multiplied by
        ``(u / tf(candidate)) ** term_frequency``, ``tf`` the candidate's share of the plays.
    """

    name: str
    column: str
    levels: tuple[tuple[str, str], ...]
    term_frequency: float = 0.0
    term_frequency_floor: float = 0.0


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("dj_history", "dj_history_rank", (
        ("dj_history_rank_l = 1", "the DJ's most played other artist"),
        ("dj_history_rank_l BETWEEN 2 AND 3", "among the DJ's 3 most played"),
        ("dj_history_rank_l BETWEEN 4 AND 10", "among the DJ's 10 most played"),
        ("dj_history_rank_l BETWEEN 11 AND 50", "among the DJ's 50 most played"),
        ("dj_history_rank_l > 50", "in the DJ's other sets"),
    )),
    Comparison("neighbours", "neighbours_rank", (
        ("neighbours_rank_l = 1", "the artist most played near the neighbours elsewhere"),
        ("neighbours_rank_l BETWEEN 2 AND 3", "among the 3 most played near the neighbours"),
        ("neighbours_rank_l BETWEEN 4 AND 10", "among the 10 most played near the neighbours"),
        ("neighbours_rank_l BETWEEN 11 AND 40", "among the 40 most played near the neighbours"),
        ("neighbours_rank_l > 40", "played near the neighbours elsewhere"),
    )),
    Comparison("cooccurrence", "cooccurrence_rank", (
        ("cooccurrence_rank_l BETWEEN 1 AND 3", "among the 3 artists of the most similar sets"),
        ("cooccurrence_rank_l BETWEEN 4 AND 10", "among the 10 artists of the most similar sets"),
        ("cooccurrence_rank_l BETWEEN 11 AND 40", "among the 40 artists of the most similar sets"),
        ("cooccurrence_rank_l > 40", "played in similar sets"),
    )),
    Comparison("label_mates", "label_mates_rank", (
        ("label_mates_rank_l BETWEEN 1 AND 3", "among the 3 main artists of the labels around"),
        ("label_mates_rank_l BETWEEN 4 AND 20", "among the 20 main artists of the labels around"),
        ("label_mates_rank_l > 20", "releases on a label played around"),
    )),
    Comparison("co_neighbours", "sandwich_sets", (
        ("sandwich_sets_l >= 2", "between the same two neighbours in 2+ other sets"),
        ("sandwich_sets_l = 1", "between the same two neighbours in 1 other set"),
        ("co_neighbour_sets_l >= 3", "next to the same neighbours in 3+ other sets"),
        ("co_neighbour_sets_l = 2", "next to the same neighbours in 2 other sets"),
        ("co_neighbour_sets_l = 1", "next to the same neighbours in 1 other set"),
    )),
    Comparison("played_around", "artist_played_before", (
        ("artist_played_before_l AND artist_played_after_l",
              "played before and after the slot"),
        ("artist_played_before_l OR artist_played_after_l",
              "played before or after the slot"),
        ("same_set_plays_l > 0", "played elsewhere in the set"),
    )),
    Comparison("labels_around", "label_match_before", (
        ("label_match_before_l AND label_match_after_l",
              "own labels played before and after"),
        ("label_match_before_l OR label_match_after_l", "own label played before or after"),
    )),
    Comparison("dj_relation", "dj_is_candidate", (
        ("dj_is_candidate_l", "the DJ is the artist"),
        ("dj_label_owner_l", "releases on a label of the DJ"),
    )),
    Comparison("popularity", "support_sets", (
        ("support_sets_l >= 50", "played in 50+ sets"),
        ("support_sets_l >= 10", "played in 10-49 sets"),
        ("support_sets_l >= 4", "played in 4-9 sets"),
    )),
    Comparison("set_position", "position_fraction", (
        ("position_fraction_l <= 0.1 OR position_fraction_l >= 0.9", "first or last tenth"),
    )),
)  # fmt: skip


def _with_term_frequency(level: cll.CustomLevel, *, weight: float, floor: float
                         ) -> cll.CustomLevel:
    if not weight:
        return level
    # the levels are thresholds, not exact matches: splink must apply the adjustment anyway
    return level.configure(tf_adjustment_column="candidate", tf_adjustment_weight=weight,
                           tf_minimum_u_value=floor or None,
                           disable_tf_exact_match_detection=True)


def splink_comparison(comparison: Comparison) -> cl.CustomComparison:
    """One :class:`Comparison` as splink's ``CustomComparison``: null level, its levels, else."""
    levels = [
        cll.NullLevel(comparison.column).configure(label_for_charts="missing"),
        *(_with_term_frequency(cll.CustomLevel(condition, label_for_charts=label),
                               weight=comparison.term_frequency,
                               floor=comparison.term_frequency_floor)
          for condition, label in comparison.levels),
        cll.ElseLevel().configure(label_for_charts="none of these"),
    ]  # fmt: skip
    return cl.CustomComparison(comparison_levels=levels,
                               output_column_name=comparison.name)


#: The comparisons whose evidence a popular artist gets by chance: where the term-frequency
#: adjustment applies when it is asked for (``term_frequency`` of :func:`splink_settings`).
POPULARITY_SENSITIVE = ("neighbours", "cooccurrence")


def splink_settings(
    *, prior: float, retain_matching_columns: bool = False, term_frequency: float = 0.0
) -> SettingsCreator:
    """The splink settings: link_only on ``pair_id`` with the :data:`COMPARISONS`.

    Parameters
    ----------
    prior : float
        ``probability_two_random_records_match`` among blocked pairs: about
        (slots with their artist among the candidates) / (candidate pairs).
    term_frequency : float, default 0
        Weight of splink's term-frequency adjustment on the candidate in the
        :data:`POPULARITY_SENSITIVE` comparisons (0: none). Off by default: on seed 0 of the
        DJ Mix dev corpus every weight tried lowered top-1 (0.0833 without; 0.0515 at 1.0,
        0.0805-0.0820 at 0.5 with a floor on u), because the answer is more often a popular
        artist than the co-occurrence alone says.
    retain_matching_columns : bool, default False
        Keep the compared feature columns in the predictions: splink's waterfall and
        accuracy charts need them; a million-entry run does not.

    Returns
    -------
    splink.SettingsCreator
    """
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="pair_id",
        probability_two_random_records_match=prior,
        blocking_rules_to_generate_predictions=[block_on("pair_id")],
        comparisons=[
            splink_comparison(replace(comparison, term_frequency=term_frequency)
                              if comparison.name in POPULARITY_SENSITIVE else comparison)
            for comparison in COMPARISONS
        ],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=retain_matching_columns,
        additional_columns_to_retain=["slot_id", "candidate"],
    )
