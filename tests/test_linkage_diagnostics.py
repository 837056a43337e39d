"""match_diagnostics helpers: the figures a user reads in the notebook, checked against what
they summarise (masked answers, splink's own tables and match weights)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from musicwb.errors import ParameterError
from musicwb.linkage import evaluate, matches_truth
from musicwb.linkage.comparisons import COMPARISONS
from musicwb.linkage.proposals import propose
from musicwb.linkage.tracklists import entries_frame
from musicwb.notebook import match_diagnostics as diagnostics
from musicwb.store import Store


@pytest.fixture(autouse=True)
def _quiet_splink():
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def demo_entries(demo_store) -> pd.DataFrame:
    with Store(demo_store, read_only=True) as store:
        return entries_frame(store)


@pytest.fixture(scope="module")
def evaluated(demo_entries):
    return evaluate(demo_entries, mask_fraction=0.2, seed=0, model_options={"diagnostics": True})


def test_threshold_table_counts_the_first_proposals():
    ranked = pd.DataFrame({
        "slot_id": ["a", "a", "b", "c"], "candidate": ["x", "y", "z", "w"],
        "probability": [0.9, 0.8, 0.4, 0.75], "rank": [1, 2, 1, 1],
    })  # fmt: skip
    truth = pd.Series({"a": "x", "b": "z", "c": "v", "d": "q"})  # d: no candidate at all
    table = diagnostics.threshold_table({"model": ranked}, truth, thresholds=[0.0, 0.7, 0.95])
    assert table["accepted"].tolist() == [3, 2, 0]
    assert table["coverage"].tolist() == [0.75, 0.5, 0.0]
    assert table["precision"].tolist()[:2] == [pytest.approx(2 / 3, abs=1e-4), 0.5]
    assert table["precision"].isna().tolist() == [False, False, True]


def test_targets_table_says_which_targets_are_met(evaluated):
    table = diagnostics.targets_table(evaluated.summary).set_index("measure")
    model, base = evaluated.summary["model"], evaluated.summary["baseline"]
    assert table.loc["top-1 accuracy", "met"] == (model["top1"] > base["top1"])
    error = table.loc["calibration error (mean |predicted - observed| over deciles)"]
    assert error["model"] == model["calibration_error"]
    assert error["met"] == (model["calibration_error"] <= 0.10)
    low, high = model["calibration_error_interval"]
    assert low <= high


def test_readiness_and_paths(tmp_path, demo_entries):
    assert diagnostics.readiness(demo_entries, mask_fraction=0.2) is None
    two_sets = demo_entries[demo_entries["set_id"].isin(demo_entries["set_id"].unique()[:2])]
    reason = diagnostics.readiness(two_sets, mask_fraction=0.2)
    assert reason is not None and "import more tracklists" in reason
    with pytest.raises(ParameterError, match="matches no file"):
        diagnostics.tracklist_paths(str(tmp_path / "*.csv"))
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / "b.csv").write_text("x")
    found = diagnostics.tracklist_paths(f"{tmp_path}/a.csv; {tmp_path}/*.csv")
    assert [p.name for p in found] == ["a.csv", "b.csv"]


def test_set_summary_adds_up(demo_entries):
    sets = diagnostics.set_summary(demo_entries)
    assert sets["entries"].sum() == len(demo_entries)
    assert (sets["known_entries"] + sets["unknown_entries"] == sets["entries"]).all()
    assert sets["unknown_entries"].sum() == int(demo_entries["is_unknown"].sum())


def test_splink_accuracy_table_is_built_from_the_held_out_answers(evaluated):
    labels = diagnostics.masked_labels(evaluated)
    last = evaluated.model_scores["fold"].max()
    held_out = set(evaluated.model_scores.loc[evaluated.model_scores["fold"] == last, "slot_id"])
    assert set(evaluated.pairs["slot_id"].iloc[labels["pair_id_l"]]) == held_out
    table = diagnostics.accuracy_chart(evaluated, output_type="table")
    assert (table["total_clerical_labels"] == len(labels)).all()
    assert (table["p"] == labels["clerical_match_score"].sum()).all()
    lowest = table.sort_values("truth_threshold").iloc[0]  # everything predicted a match
    assert lowest["precision"] == pytest.approx(labels["clerical_match_score"].mean(), abs=0.02)
    for output_type in ("accuracy", "precision_recall"):
        spec = diagnostics.accuracy_chart(evaluated, output_type=output_type).to_dict()
        assert json.dumps(spec)  # inline data, serialisable for the report
    with pytest.raises(ParameterError, match="output_type"):
        diagnostics.accuracy_chart(evaluated, output_type="pie")


def test_model_charts_are_altair_with_every_comparison(evaluated):
    linker = evaluated.model.linker
    for chart in (linker.visualisations.match_weights_chart(),
                  linker.visualisations.m_u_parameters_chart()):  # fmt: skip
        spec = diagnostics.splink_chart(chart).to_dict()
        text = json.dumps(spec)
        for name in ("co_neighbours", "played_around", "dj_relation", "popularity"):
            assert name in text


def test_waterfall_explains_the_proposals_match_weight(demo_entries):
    result = propose(demo_entries, min_confidence=0.0, model_options={"diagnostics": True})
    chosen = diagnostics.chosen_pairs(result.proposals, n=3)
    assert len(chosen) == 3
    spec = diagnostics.waterfall_chart(result.model, chosen).to_dict()
    values = next(iter(spec["datasets"].values())) if "datasets" in spec else spec["data"]["values"]
    weights = result.scores.assign(slot_id=result.scores["slot_id"].astype(str),
                                   candidate=result.scores["candidate"].astype(str))
    expected = chosen.merge(weights, on=["slot_id", "candidate"])["match_weight"].to_numpy()
    for record_number, weight in enumerate(expected):
        parts = [v for v in values if v["record_number"] == record_number]
        prior = [v["log2_bayes_factor"] for v in parts if v["column_name"] == "Prior"]
        comparisons = [v["log2_bayes_factor"] for v in parts
                       if v["column_name"] not in ("Prior", "Final score")]
        assert prior and len(comparisons) == len(COMPARISONS)
        assert prior[0] + sum(comparisons) == pytest.approx(weight, abs=1e-6)
    with pytest.raises(ParameterError, match="diagnostics"):
        plain = propose(demo_entries, min_confidence=0.0)
        diagnostics.waterfall_chart(plain.model, chosen)


def test_proposal_table_joins_the_slot_line(demo_entries):
    result = propose(demo_entries, min_confidence=0.3)
    table = diagnostics.proposal_table(result.proposals, demo_entries)
    assert len(table) == len(result.proposals) > 0
    assert table["raw"].notna().all()
    assert (table["probability"] >= 0.3).all()
    assert np.all(np.diff(table["probability"].to_numpy()) <= 0)
    assert table["evidence"].str.contains("played").any()


def test_masked_labels_match_the_truth(evaluated):
    labels = diagnostics.masked_labels(evaluated)
    truth = evaluated.truth.set_index("slot_id")["artist_key"]
    pairs = evaluated.pairs.iloc[labels["pair_id_l"]]
    assert (labels["clerical_match_score"].to_numpy() == matches_truth(pairs, truth)).all()
