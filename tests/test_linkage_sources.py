"""Unknown tracks at scale (issue 13): candidate sources and their recall, the k cap, the
baselines beside the model, masking only the sets a user evaluates on, labels in `identify`,
and the DJ Mix dev corpus end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.linkage import evaluate, evaluate_files, mask_known
from musicwb.linkage.features import SOURCES, candidate_features, source_recall
from musicwb.linkage.tracklists import entries_from_files
from musicwb.store import Store

pytestmark = pytest.mark.usefixtures("quiet_splink")


def _entries(sets: dict[str, tuple[str, list[tuple[str | None, str | None]]]]) -> pd.DataFrame:
    rows = [
        {"set_id": set_id, "position": i, "dj_key": dj, "artist_key": artist,
         "label_key": label, "is_unknown": artist is None}
        for set_id, (dj, entries) in sets.items()
        for i, (artist, label) in enumerate(entries, start=1)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _ranks(pairs: pd.DataFrame, candidate: str) -> dict[str, int]:
    row = pairs[pairs.candidate == candidate].iloc[0]
    return {source: int(row[f"{source}_rank"]) for source in SOURCES}


def test_each_source_finds_what_only_it_can_see():
    entries = _entries({
        # the slot: DJ "dee", between Alpha (label Lab) and Bravo
        "s1": ("dee", [("alpha", "lab"), (None, None), ("bravo", None), ("dee", None)]),
        # Dee's other sets: Hist is Dee's regular (history only)
        "s2": ("dee", [("hist", None), ("xray", None), ("dee", None)]),
        "s3": ("dee", [("hist", None), ("yank", None)]),
        # Near is played two tracks from Alpha elsewhere (neighbours only, not adjacent)
        "s4": ("eve", [("alpha", None), ("pad", None), ("near", None)]),
        "s5": ("fay", [("near", None), ("pad", None), ("alpha", None)]),
        # Mate releases on Lab (label-mates only), in sets of nobody involved
        "s6": ("gus", [("mate", "lab"), ("zulu", None)]),
        "s7": ("hal", [("mate", "lab"), ("zulu", None)]),
        # Sand is played between Alpha and Bravo elsewhere
        "s8": ("ivy", [("alpha", None), ("sand", None), ("bravo", None)]),
        "s9": ("jo", [("alpha", None), ("sand", None), ("bravo", None)]),
    })  # fmt: skip
    pairs = candidate_features(entries, window=1)
    assert set(pairs.slot_id) == {"s1#2"}
    assert _ranks(pairs, "hist")["dj_history"] in (1, 2)  # tied with the DJ, played in s2
    assert _ranks(pairs, "hist")["neighbours"] == 0
    assert _ranks(pairs, "mate")["label_mates"] >= 1
    assert _ranks(pairs, "mate")["dj_history"] == 0
    sand = _ranks(pairs, "sand")
    assert sand["sandwich"] == 1 and sand["neighbours"] >= 1
    assert _ranks(pairs, "dee")["same_set"] >= 1  # the DJ is played later in the same set
    assert int(pairs.loc[pairs.candidate == "sand", "sandwich_sets"].iloc[0]) == 2
    # "near" is two positions from Alpha: outside window 1, inside window 2 (it is a candidate
    # at window 1 all the same, from the sets like this one)
    assert _ranks(pairs, "near")["neighbours"] == 0 and _ranks(pairs, "near")["cooccurrence"]
    assert _ranks(candidate_features(entries, window=2), "near")["neighbours"] >= 1


def test_k_caps_the_candidates_of_every_slot_and_keeps_the_strongest():
    # one slot whose set shares artists with 30 other sets of 30 artists each
    sets = {"s0": ("dj", [(f"a{j}", None) for j in range(5)] + [(None, None)])}
    for i in range(30):
        sets[f"t{i}"] = (f"other{i}", [(f"a{j}", None) for j in range(5)]
                         + [(f"b{(i + j) % 40}", None) for j in range(25)])  # fmt: skip
    entries = _entries(sets)
    wide = candidate_features(entries, k=1000)
    narrow = candidate_features(entries, k=10)
    assert len(wide) > 10 and len(narrow) == 10
    assert narrow.fused_rank.max() == 10
    assert set(narrow.candidate.astype(str)) <= set(wide.candidate.astype(str))
    for source in SOURCES:  # every source's best candidate survives the cap
        best = wide.loc[wide[f"{source}_rank"] == 1, "candidate"].astype(str)
        assert set(best) <= set(narrow.candidate.astype(str))


def test_source_recall_counts_the_true_artist_per_source_and_for_the_union():
    entries = _entries({
        "s1": ("dee", [("alpha", "lab"), ("zed", "lab"), ("bravo", None)]),
        "s2": ("dee", [("alpha", "lab"), ("zed", "lab"), ("bravo", None)]),
        "s3": ("eve", [("alpha", None), ("zed", None), ("bravo", None)]),
        "s4": ("fay", [("alpha", None), ("zed", None), ("bravo", None)]),
    })
    masked = entries.copy()
    masked["is_slot"] = (masked.set_id == "s1") & (masked.position == 2)
    masked.loc[masked.is_slot, ["artist_key", "label_key"]] = None
    truth = pd.DataFrame({"slot_id": ["s1#2"], "artist_key": ["zed"]})
    with Store(":memory:") as engine:
        candidate_features(masked, window=1, store=engine, keep_tables=True)
        recall = source_recall(engine, truth)
    assert recall["sandwich"] == recall["dj_history"] == recall["union"] == 1.0
    assert recall["same_set"] == 0.0  # Zed is played nowhere else in s1
    assert set(recall) == {*SOURCES, "union"}


def test_mask_only_the_sets_evaluated_on():
    entries = _entries({f"s{i}": ("dj", [("a", None), ("b", None), ("c", None)])
                        for i in range(6)})
    among = entries.set_id.isin(["s1", "s2"])
    masked, truth = mask_known(entries, fraction=0.5, seed=0, among=among)
    assert len(truth) > 0 and set(truth.set_id) <= {"s1", "s2"}
    assert masked.loc[~among, "artist_key"].notna().all()


def test_evaluate_on_masks_only_those_files_and_the_rest_is_context(shared_data):
    files = sorted((shared_data / "djsets" / "mixesdb").glob("*.csv"))
    mine, context = files[1], [files[0], files[2]]  # DVS1's sets, with the others behind them
    result = evaluate_files(context, fmt="mixesdb", evaluate_on=[mine], mask_fraction=0.2,
                            seed=0, labels=False)
    own_sets = set(entries_from_files([mine], fmt="mixesdb").set_id)
    assert set(result.truth.set_id) <= own_sets
    assert result.summary["n_evaluated_sets"] <= len(own_sets)
    assert result.summary["n_sets"] > len(own_sets)  # the context sets are in the corpus
    alone = evaluate_files([mine], fmt="mixesdb", mask_fraction=0.2, seed=0, labels=False)
    # the same sets masked, with the big corpus behind them: the context is used
    assert result.summary["n_entries"] > alone.summary["n_entries"]


def test_evaluate_reports_sources_baselines_and_targets(demo_entries):
    summary = evaluate(demo_entries, mask_fraction=0.2, seed=0).summary
    assert set(summary["candidates"]["recall"]) == {*SOURCES, "union"}
    assert summary["truth_in_candidates"] == summary["candidates"]["recall"]["union"]
    assert set(summary["baselines"]) == {"seed_formula", "dj_history", "neighbours"}
    assert summary["baseline"] == summary["baselines"]["seed_formula"]
    strongest = summary["baselines"][summary["strongest_baseline"]]
    assert strongest["top1"] == max(b["top1"] for b in summary["baselines"].values())
    assert summary["model_vs_strongest"]["top1"] == pytest.approx(
        summary["model"]["top1"] / strongest["top1"], abs=1e-3)
    curve = summary["topk"]["model"]
    assert curve[0] == summary["model"]["top1"] and curve[2] == summary["model"]["top3"]
    assert curve == sorted(curve)
    assert sum(g["n_slots"] for g in summary["by_dj_group"]) == summary["n_masked"]
    assert summary["labels"]["n_slots"] > 0 and 0 <= summary["labels"]["top1"] <= 1
    assert {t["target"] for t in summary["targets"]} >= {"top-1", "label top-1"}


@pytest.fixture(scope="module")
def demo_entries(demo_store) -> pd.DataFrame:
    from musicwb.linkage.tracklists import entries_frame

    with Store(demo_store, read_only=True) as store:
        return entries_frame(store)


def test_identify_json_gives_each_slot_a_label(demo_store, tmp_path):
    import shutil

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store, path)
    answer = CliRunner().invoke(app, ["identify", "--min-confidence", "0", "--store", str(path),
                                      "--json"])
    assert answer.exit_code == 0, answer.output
    result = json.loads(answer.stdout)
    assert len(result["labels"]) == result["summary"]["slots"] > 0
    labelled = [slot for slot in result["labels"] if slot["label"] is not None]
    assert labelled and all(0 <= s["label_probability"] <= 1 and s["label_evidence"]
                            for s in labelled)
    by_slot = {(s["set_id"], s["position"]): s["label"] for s in result["labels"]}
    assert all(p["label"] == by_slot[(p["set_id"], p["position"])]
               for p in result["proposals"])


def test_dev_corpus_end_to_end_with_the_issue_figures(shared_data, tmp_path):
    corpus = shared_data / "djsets" / "djmix" / "djmix-dataset-dev.json"
    store = str(tmp_path / "djmix.duckdb")
    runner = CliRunner()
    imported = runner.invoke(app, ["tracklists", "import", "--format", "djmix", str(corpus),
                                   "--store", store, "--json"])
    assert imported.exit_code == 0, imported.output
    answer = runner.invoke(app, ["identify", "evaluate", "--store", store, "--json"])
    assert answer.exit_code == 0, answer.output
    summary = json.loads(answer.stdout)
    print("djmix seed 0:", json.dumps({key: summary[key] for key in (
        "candidates", "strongest_baseline", "model_vs_strongest", "targets")}))
    assert summary["n_sets"] == 4031 and summary["n_masked"] > 10_000
    assert summary["parameters"]["k"] == 50
    model, strongest = summary["model"], summary["baselines"][summary["strongest_baseline"]]
    # Met on seed 0 (where k and the levels were chosen): the model learns from the signals
    # the heuristics use and beats the strongest of them by 1.25 or more, and is calibrated.
    assert summary["model_vs_strongest"]["top1"] >= 1.25
    assert model["top3"] > strongest["top3"]
    assert model["calibration_error_weighted"] <= 0.03
    assert summary["labels"]["top1"] > summary["labels"]["dj_label_history_top1"]
    # The targets missed on this corpus (top-1, top-3, candidates, label top-1; see the issue
    # note) are reported with their values, never hidden.
    for target in summary["targets"]:
        assert target["value"] is not None or target["met"] is None
        assert target["met"] in (True, False, None)


def test_term_frequency_adjustment_counts_a_popular_artists_evidence_less(shared_data):
    from musicwb.linkage import fit_and_score

    files = sorted((shared_data / "djsets" / "mixesdb").glob("*.csv"))
    masked, truth_frame = mask_known(entries_from_files(files, fmt="mixesdb"), fraction=0.2,
                                     seed=0)
    truth = truth_frame.set_index("slot_id")["artist_key"]
    pairs = candidate_features(masked)
    half = truth.index[: len(truth) // 2]
    weights = {}
    for weight in (0.0, 1.0):
        scores, _ = fit_and_score(pairs, truth, train_slots=half, predict_slots=truth.index,
                                  model_options={"term_frequency": weight})
        weights[weight] = scores.set_index(["slot_id", "candidate"])["match_weight"]
    change = (weights[1.0] - weights[0.0]).dropna().reset_index()
    frequency = pairs.groupby("candidate", observed=True).size()  # splink's term frequency
    change["frequency"] = change["candidate"].map(frequency).astype(float)
    assert change["frequency"].nunique() > 10
    # the more often an artist is a candidate, the less its evidence gains
    assert change["match_weight"].corr(change["frequency"], method="spearman") < -0.3
