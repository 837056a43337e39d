"""match_diagnostics helpers: the figures a user reads in the notebook, checked against what
they summarise (masked answers, splink's own tables and match weights)."""

from __future__ import annotations

import json

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

pytestmark = pytest.mark.usefixtures("quiet_splink")


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
    table = diagnostics.targets_table(summary=evaluated.summary)
    targets = evaluated.summary["targets"]
    assert table["target"].tolist() == [t["target"] for t in targets]
    verdicts = {True: "met", False: "MISSED", None: "not applicable"}
    assert table["verdict"].tolist() == [verdicts[t["met"]] for t in targets]
    assert "top-1 accuracy" not in table["target"].tolist()  # the old, model-vs-seed targets
    # the calibration error says how much of it sampling noise alone gives on these answers
    note = table.set_index("target").loc["weighted calibration error", "note"]
    n = evaluated.summary["model"]["n_slots"]
    assert "a perfectly calibrated model shows " in note and f"on these {n} answers" in note


def _summary() -> dict:
    """A small hand-made summary with the keys the notebook reads."""
    side = {"top1": 0.0834, "top3": 0.1247, "coverage": 0.0, "precision": None,
            "precision_high": None, "n_high": 0, "precision_medium": None, "n_medium": 0,
            "calibration_error": 0.108}
    return {
        "model": side,
        "baselines": {"seed_formula": {**side, "top1": 0.0081, "top3": 0.0116},
                      "dj_history": {**side, "top1": 0.0563, "top3": 0.0754},
                      "neighbours": {**side, "top1": 0.0223, "top3": 0.0531}},
        "strongest_baseline": "dj_history",
        "model_vs_strongest": {"top1": 1.481, "top3": 1.654},
        "candidates": {"k": 150, "recall": {"dj_history": 0.2461, "neighbours": 0.3109,
                                            "cooccurrence": 0.472, "sandwich": 0.0028,
                                            "union": 0.4998}},
        "topk": {"k": [1, 2, 3], "model": [0.08, 0.11, 0.12], "seed_formula": [0.01, 0.01, 0.01],
                 "dj_history": [0.06, 0.07, 0.08], "neighbours": [0.02, 0.04, 0.05]},
        "precision_coverage": [{"coverage": 0.05, "precision": 0.2989, "threshold": 0.2304},
                               {"coverage": 1.0, "precision": 0.0834, "threshold": 0.0191}],
        "by_dj_group": [
            {"group": "10+ sets", "n_slots": 0, "model_top1": None, "seed_formula_top1": None,
             "dj_history_top1": None, "neighbours_top1": None},
            {"group": "1 set", "n_slots": 3825, "model_top1": 0.0795,
             "seed_formula_top1": 0.0052, "dj_history_top1": 0.0533, "neighbours_top1": 0.0214},
        ],
        "labels": {"n_slots": 7447, "top1": 0.1427, "top3": 0.2298, "coverage": 0.0114,
                   "precision": 0.8235, "truth_in_candidates": 0.6047,
                   "dj_label_history_top1": 0.076, "neighbour_labels_top1": 0.0936,
                   "calibration_error": 0.0328},
        "targets": [
            {"target": "true artist among the candidates", "goal": "≥ 0.55", "value": 0.4998,
             "met": False},
            {"target": "top-1 against the strongest baseline", "goal": "≥ 1.25", "value": 1.481,
             "met": True},
            {"target": "high tier precision (0 proposals; counts from 30)", "goal": "≥ 0.8",
             "value": None, "met": None},
        ],
    }


def test_targets_table_reads_values_and_verdicts():
    table = diagnostics.targets_table(summary=_summary())
    assert table.values.tolist() == [
        ["true artist among the candidates", "≥ 0.55", "0.500", "MISSED", ""],
        ["top-1 against the strongest baseline", "≥ 1.25", "1.48×", "met", ""],
        ["high tier precision (0 proposals; counts from 30)", "≥ 0.8", "—", "not applicable",
         ""],
    ]
    assert diagnostics.targets_table(summary={"targets": []}).empty


def test_recall_table_and_chart_put_the_union_last():
    summary = _summary()
    table = diagnostics.recall_table(summary=summary)
    assert table["candidate source"].tolist() == [
        "co-occurrence", "neighbours elsewhere", "DJ history", "sandwich",
        "all sources (union, k = 150)"]
    assert table["recall"].tolist() == ["47.2%", "31.1%", "24.6%", "0.3%", "50.0%"]
    spec = diagnostics.recall_chart(summary=summary).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert {v["kind"] for v in values} == {"one source", "all sources (union, k = 150)"}
    assert len(values) == 5


def test_comparison_table_reads_shares_counts_and_missing_figures():
    summary = _summary()
    frame = pd.DataFrame([{"method": name, **figures} for name, figures in
                          {"model": summary["model"], **summary["baselines"]}.items()])
    table = diagnostics.comparison_table(frame=frame, strongest="dj_history")
    assert table["method"].tolist() == ["model (splink)", "seed formula",
                                        "DJ history (strongest baseline)", "neighbours"]
    assert table["top-1 accuracy"].tolist() == ["8.3%", "0.8%", "5.6%", "2.2%"]
    assert table["precision (accepted)"].tolist() == ["—"] * 4
    assert table["high tier"].tolist() == ["0"] * 4
    assert table["calibration error (unweighted)"].tolist() == ["0.108"] * 4
    text = diagnostics.strongest_baseline_text(summary=summary)
    assert "DJ history" in text and "1.48× its top-1" in text and "1.65× its top-3" in text


def test_baseline_topk_and_group_charts_name_every_method():
    summary = _summary()
    names = {"model (splink)", "seed formula", "DJ history", "neighbours"}
    bars = diagnostics.baselines_chart(summary=summary)
    assert set(bars.data["method"]) == names and set(bars.data["measure"]) == {"top-1", "top-3"}
    assert "1.48×" in bars.to_dict()["title"]["subtitle"]
    topk = diagnostics.topk_chart(summary=summary)
    assert set(topk.data["method"]) == names and len(topk.data) == 12
    groups = diagnostics.dj_group_chart(summary=summary)
    assert groups.data["group"].unique().tolist() == ["1 set (3,825 slots)"]  # empty: left out
    assert set(groups.data["method"]) == names
    for chart in (bars, topk, groups):
        assert chart.to_dict()["encoding"]["color"]["title"] == "method"  # a named legend
    table = diagnostics.dj_group_table(summary=summary)
    assert table.values.tolist() == [["10+ sets", "0", "—", "—", "—", "—"],
                                     ["1 set", "3,825", "8.0%", "0.5%", "5.3%", "2.1%"]]


def test_precision_coverage_chart_marks_the_threshold():
    spec = diagnostics.precision_coverage_chart(
        summary=_summary(), at_threshold={"coverage": 0.0, "precision": None}, threshold=0.7
    ).to_dict()
    texts = [v for values in spec["datasets"].values() for v in values if "label" in v]
    assert texts[0]["label"] == "threshold 0.70: coverage 0.0%, precision —"
    assert texts[0]["coverage"] == 0.0


def test_label_table_and_text():
    summary = _summary()
    table = diagnostics.label_table(summary=summary)
    assert table.values.tolist() == [["label proposals", "14.3%"],
                                     ["DJ's label history", "7.6%"],
                                     ["neighbours' labels", "9.4%"]]
    text = diagnostics.label_text(summary=summary)
    assert "7,447 masked slots" in text and "precision 82.3%" in text


def test_readable_frame_rounds_and_fills():
    frame = pd.DataFrame({"method": ["model", "baseline"], "gap": [0.105263157894736848, np.nan],
                          "n": [3, 4], "at": pd.to_datetime(["2026-12-05 22:55:29.492298"] * 2)})
    readable = diagnostics.readable_frame(frame=frame)
    assert readable.values.tolist() == [["model (splink)", 0.105, 3, "2026-12-05 22:55:29"],
                                        ["seed formula", "—", 4, "2026-12-05 22:55:29"]]
    assert frame["gap"].isna().sum() == 1  # the input is not changed


def test_evaluation_entries_mask_only_the_evaluated_sets(demo_entries):
    sets = demo_entries["set_id"].unique()
    own = demo_entries[demo_entries["set_id"] == sets[0]]
    context = demo_entries[demo_entries["set_id"] != sets[0]]
    entries, evaluate_sets = diagnostics.evaluation_entries(entries=context, evaluated=own)
    assert evaluate_sets == [sets[0]] and len(entries) == len(demo_entries)
    again, _ = diagnostics.evaluation_entries(entries=demo_entries, evaluated=own)
    assert len(again) == len(demo_entries)  # a set in both counts once
    assert diagnostics.readiness(entries, mask_fraction=0.2, evaluate_sets=evaluate_sets) is not None
    assert diagnostics.readiness(entries, mask_fraction=0.2) is None


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
    # a reader's name per set (DJ and date), one bar each: no key like "demo-mira-solenne-2"
    assert sets["set"].is_unique
    first = demo_entries.drop_duplicates("set_id").set_index("set_id")
    for name, set_id in zip(sets["set"], sets["set_id"], strict=True):
        assert name.startswith(f"{first.at[set_id, 'dj']}, {first.at[set_id, 'set_date']}")
        assert set_id not in name


def test_two_sets_of_one_dj_on_one_night_keep_two_bars():
    entries = pd.DataFrame({
        "set_id": ["a", "a", "b"], "position": [1, 2, 1], "dj": ["Mira"] * 3,
        "set_title": ["Warm-up", "Warm-up", "Closing"], "set_date": ["2024-06-11"] * 3,
        "artist_key": ["x", None, "y"], "is_unknown": [False, True, False],
    })  # fmt: skip
    sets = diagnostics.set_summary(entries)
    assert sets["set"].tolist() == ["Mira, 2024-06-11", "Mira, 2024-06-11 (2)"]


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
