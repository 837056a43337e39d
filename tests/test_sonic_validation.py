"""Validation metrics on cases whose answer is known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musicwb.sonic.validation import (
    METRICS,
    best_variant,
    compare_variants,
    report_frame,
    seed_metrics,
    seed_table,
    summarise,
)


def _clusters(n_artists=6, per_artist=10, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_artists, 137))
    full = np.repeat(centres, per_artist, axis=0) + noise * rng.normal(
        size=(n_artists * per_artist, 137)
    )
    artists = np.repeat([f"artist {i}" for i in range(n_artists)], per_artist)
    albums = np.array([f"{a} album {j % 2}" for j, a in enumerate(artists)])
    return full, artists, albums


def test_one_seed_metrics_follow_their_definitions():
    # Seed 0; others: two same-artist tracks at 0.9 and 0.8, the rest spread from 0.5 to -0.5.
    rest = np.linspace(0.5, -0.5, 40)
    similarities = np.concatenate([[1.0, 0.9, 0.8], rest])
    artists = ["a", "a", "a", *["b"] * 40]
    albums = ["x", "x", "y", *["z"] * 40]
    rng = np.random.default_rng(0)
    m = seed_metrics(similarities, seed=0, artists=artists, albums=albums, rng=rng, n_random=42)
    others = similarities[1:]
    p10, median, p90 = np.percentile(others, [10, 50, 90])
    assert m["flatness"] == pytest.approx((p90 - p10) / median)
    assert m["precision_at_10"] == pytest.approx(0.2)
    assert m["map"] == pytest.approx(1.0)  # both same-artist tracks ranked first
    assert m["baseline_p10"] == pytest.approx(2 / 42)
    assert m["intra_artist"] == pytest.approx(0.85 - others.mean())  # random = all 42 others
    assert m["intra_album"] == pytest.approx(0.9 - others.mean())
    assert m["topk_gap"] == pytest.approx(np.sort(others)[::-1][:30].mean() - others.mean())
    assert 0 < m["baseline_map"] < 0.3


def test_flatness_is_undefined_not_a_pass_when_the_median_is_not_positive():
    similarities = np.concatenate([[1.0], np.linspace(0.3, -0.5, 30)])
    m = seed_metrics(
        similarities, seed=0, artists=["a"] * 31, albums=[None] * 31, rng=np.random.default_rng(0)
    )
    assert np.isnan(m["flatness"]) and np.isnan(m["intra_album"])
    summary = summarise(pd.DataFrame([{**m, "track_id": 1}]))
    assert summary["flatness"]["mean"] is None and summary["flatness"]["undefined"] == 1
    assert summary["flatness"]["passes"] is False


def test_clustered_artists_pass_and_shuffled_labels_do_not():
    full, artists, albums = _clusters()
    table, best, results = compare_variants(full, artists=artists, albums=albums)
    assert set(table["metric"]) == set(METRICS)
    good = results["zscore"]["summary"]
    assert good["passes"] and good["precision_at_10"]["mean"] > 0.85
    assert good["precision_at_10"]["baseline"] == pytest.approx(9 / 59)
    assert good["map"]["lift"] > 3
    shuffled = np.random.default_rng(1).permutation(artists)
    _, _, noise = compare_variants(full, artists=shuffled, albums=shuffled, variants=("zscore",))
    bad = noise["zscore"]["summary"]
    assert not bad["passes"] and bad["precision_at_10"]["lift"] < 2
    assert best in results


def test_summary_has_mean_and_spread_for_every_metric_and_a_table_for_people():
    full, artists, albums = _clusters(seed=3)
    table = seed_table(full, artists=artists, albums=albums, track_ids=np.arange(100, 160))
    assert list(table["track_id"][:2]) == [100, 101]
    summary = summarise(table)
    for metric in METRICS:
        assert {"mean", "std", "passes"} <= set(summary[metric])
    frame = report_frame({"variant": "zscore", **summary})
    assert list(frame["metric"]) == list(METRICS) and "✓" in frame["zscore"].iloc[1]


def test_best_variant_prefers_passing_then_retrieval_lift():
    def fake(passes, lift):
        entry = {"passes": passes, "lift": lift, "mean": 0.1}
        return {"summary": {m: dict(entry) for m in METRICS}}

    assert best_variant({"raw": fake(False, 5.0), "zscore": fake(True, 3.1)}) == "zscore"
    assert best_variant({"raw": fake(True, 3.5), "zscore": fake(True, 3.1)}) == "raw"
