"""The splink model against the baseline: on the demo library (answers known) and on real
MixesDB tracklists (known entries masked). Figures are printed; run with -s to see them."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from musicwb.linkage import evaluate, evaluate_files, mask_known, matches_truth
from musicwb.linkage.baseline import baseline_scores
from musicwb.linkage.features import candidate_features
from musicwb.linkage.model import LinkageModel
from musicwb.linkage.proposals import identify, proposals_frame
from musicwb.linkage.tracklists import entries_frame
from musicwb.store import Store
from musicwb.text import artist_key

pytestmark = pytest.mark.usefixtures("quiet_splink")


def _figures(summary: dict) -> str:
    keep = ("top1", "top3", "coverage", "precision", "precision_high", "n_high",
            "calibration_error", "calibration_error_weighted", "calibration_error_interval")
    return json.dumps({m: {k: summary[m][k] for k in keep} for m in ("model", "baseline")}
                      | {"equal_coverage": summary["equal_coverage"]})


@pytest.fixture(scope="module")
def demo_entries(demo_store) -> pd.DataFrame:
    with Store(demo_store, read_only=True) as store:
        return entries_frame(store)


def test_model_beats_baseline_on_masked_demo_entries(demo_entries):
    result = evaluate(demo_entries, mask_fraction=0.2, seed=0)
    print("demo:", _figures(result.summary))
    model, base = result.summary["model"], result.summary["baseline"]
    assert model["top1"] > base["top1"]
    assert model["top3"] > base["top3"]
    equal = result.summary["equal_coverage"]
    assert equal["model_top1"] >= equal["baseline_top1"]
    assert equal["model_top3"] >= equal["baseline_top3"]
    assert set(result.model_scores.slot_id) == set(result.truth.slot_id)


def test_proposals_for_demo_unknowns_against_the_truth(demo_store, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store, path)
    with Store(path) as store:
        entries_before = store.df("SELECT * FROM tracklist_entries ORDER BY set_id, position")
        result = identify(store, min_confidence=0.0, top_k=3)
        truth = store.df("SELECT set_id, position, artist FROM tracklist_truth")
        stored = proposals_frame(store)
        entries_after = store.df("SELECT * FROM tracklist_entries ORDER BY set_id, position")
        strict = identify(store, min_confidence=0.7, write=False)
    pd.testing.assert_frame_equal(entries_before, entries_after)  # known data untouched
    assert len(stored) == len(result.proposals) > 0
    assert stored.evidence.map(len).min() >= 1
    assert (strict.proposals.probability >= 0.7).all()
    truth["key"] = truth.artist.map(artist_key)
    truth["slot_id"] = truth.set_id + "#" + truth.position.astype(str)
    answers = truth.set_index("slot_id").key
    slots = answers.index.intersection(result.scores.slot_id.unique())
    top = result.scores[(result.scores["rank"] == 1) & result.scores.slot_id.isin(slots)]
    model_top1 = float((top.candidate == top.slot_id.map(answers)).mean())
    base = baseline_scores(result.pairs)
    base_top = base[(base["rank"] == 1) & base.slot_id.isin(slots)]
    base_top1 = float((base_top.candidate == base_top.slot_id.map(answers)).sum()) / len(slots)
    print(f"demo unknown slots: {len(slots)}; top-1 model {model_top1:.3f}, "
          f"baseline {base_top1:.3f}")
    assert model_top1 >= base_top1
    assert model_top1 > 1 / result.pairs.groupby("slot_id", observed=True).size().mean()  # far above chance


def test_real_mixesdb_targets(shared_data):
    files = sorted((shared_data / "djsets" / "mixesdb").glob("*.csv"))
    # Five rounds of 20%: every eligible known entry (1,018) is hidden once, with 80% of
    # the other entries known around it, as in one round of the protocol.
    result = evaluate_files(files, fmt="mixesdb", mask_fraction=0.2, seed=0, rounds=5)
    summary = result.summary
    print("mixesdb:", _figures(summary))
    print("mixesdb calibration:\n" + result.calibration_frame().to_string(index=False))
    model, base, equal = summary["model"], summary["baseline"], summary["equal_coverage"]
    assert summary["n_masked"] > 1000
    # Met: better ranking overall and at the baseline's coverage; calibrated.
    assert model["top1"] > base["top1"] and model["top3"] > base["top3"]
    assert equal["model_top1"] > equal["baseline_top1"]
    assert equal["model_top3"] > equal["baseline_top3"]
    assert model["calibration_error_weighted"] <= 0.05
    assert model["precision"] >= 0.7  # the few accepted (medium tier) proposals
    # Met, on very few proposals: the high tier holds 1 (seed 0; 7 and 2 with seeds 1 and 2,
    # all right), ~0.1-0.7% of the slots. The artist is among the candidates of only ~64% of
    # the slots, and the most confident wrong answers include the DJ's own aliases (Luke
    # Slater / Planetary Assault Systems / L.B. Dub Corp), which co-occurrence cannot tell
    # apart; see the match_diagnostics notebook.
    assert model["n_high"] >= 1 and model["precision_high"] >= 0.80
    print(f"high tier: {model['n_high']} proposal(s), precision {model['precision_high']}; "
          f"artist among the candidates for {summary['truth_in_candidates']:.1%} of "
          f"{summary['n_masked']} masked slots")


@pytest.mark.xfail(strict=True, reason=(
    "missed since issue 13: the unweighted mean gap over deciles is 0.104 (target 0.10; "
    "weighted 0.028). The model now reaches the sparse top deciles, where 2-6 proposals per "
    "decile (several of them the DJ's own aliases) decide the mean; the previous model "
    "stayed below them."
))
def test_real_mixesdb_unweighted_calibration(shared_data):
    files = sorted((shared_data / "djsets" / "mixesdb").glob("*.csv"))
    result = evaluate_files(files, fmt="mixesdb", mask_fraction=0.2, seed=0, rounds=5,
                            labels=False)
    assert result.summary["model"]["calibration_error"] <= 0.10


@pytest.mark.slow
def test_same_model_on_spark_local_mode(demo_entries, tmp_path):
    pyspark = pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from splink import SparkAPI

    spark = (pyspark.sql.SparkSession.builder.master("local[1]")
             .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
             .getOrCreate())  # fmt: skip
    spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))  # splink breaks lineage
    masked, truth = mask_known(demo_entries, fraction=0.2, seed=0)
    pairs = candidate_features(masked)
    is_match = pd.Series(matches_truth(pairs, truth.set_index("slot_id").artist_key))
    # u from every pair on both: a sample (or splink's early stop, which takes chunks in the
    # backend's hash order) would differ between the backends by chance, not by a fault
    exact_u = {"u_min_count": None, "u_max_pairs": 1e9}
    duck = LinkageModel(**exact_u).fit_predict(pairs, is_match=is_match, keep_top=None)
    on_spark = LinkageModel(db_api=SparkAPI(spark_session=spark), **exact_u).fit_predict(
        pairs, is_match=is_match, keep_top=None)
    duck[["slot_id", "candidate"]] = duck[["slot_id", "candidate"]].astype(str)
    merged = duck.merge(on_spark, on=["slot_id", "candidate"], suffixes=("_duck", "_spark"))
    assert len(merged) == len(pairs)
    assert merged.match_weight_duck.to_numpy() == pytest.approx(
        merged.match_weight_spark.to_numpy(), abs=0.05)
