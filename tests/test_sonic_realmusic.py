"""Sonic similarity on 75 real tracks by 11 composers (shared/data/audio/realmusic).

The library is scanned with its ``tracks.csv`` as metadata and extracted once per test session
(two worker processes; a few minutes), then every preprocessing variant is validated over all
seeds. The measured figures are printed (``pytest -s``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.sonic.artifact import load_artifact, load_feature_set
from musicwb.sonic.extract import extract_library
from musicwb.sonic.validation import RETRIEVAL_LIFT, compare_variants, report_frame, validate_store
from musicwb.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def realmusic_report(realmusic_store):
    path, _ = realmusic_store
    with Store(path) as store:
        report = validate_store(store, variant="all")
    print("\n" + report_frame(report).to_string(index=False))
    print(f"best variant: {report['best_variant']} {report['best_settings']}")
    return report


def test_every_real_track_is_analysed_and_a_rerun_does_nothing(realmusic_store):
    path, summary = realmusic_store
    assert (summary.analysed, summary.failed) == (75, 0)
    with Store(path) as store:
        again = extract_library(store, progress=False)
        fs = load_feature_set(store)
    assert again.pending == 0 and again.analysed == 0
    assert len(fs) == 75 and len(set(fs.artist_keys)) == 11
    assert np.all(np.isfinite(fs.matrices["full"]))


def test_all_variants_side_by_side_over_all_seeds(realmusic_report):
    variants = realmusic_report["variants"]
    assert set(variants) == {"raw", "zscore", "robust_whiten", "learned"}
    for name, report in variants.items():
        assert report["n_seeds"] == 75
        for metric in (
            "flatness",
            "topk_gap",
            "intra_artist",
            "intra_album",
            "precision_at_10",
            "map",
        ):
            assert report[metric]["std"] is not None or metric == "flatness", (name, metric)
        if report["flatness"]["undefined"]:
            # a median similarity <= 0 makes flatness meaningless: reported, never passed
            assert report["flatness"]["mean"] is None and report["flatness"]["passes"] is False
    # Same-artist retrieval beats chance for every variant (baseline ~0.155 on this set).
    baseline = variants["raw"]["precision_at_10"]["baseline"]
    assert baseline == pytest.approx(0.155, abs=0.005)


def test_the_best_variant_passes_the_similarity_thresholds(realmusic_report):
    best = realmusic_report["variants"][realmusic_report["best_variant"]]
    # chosen artist-disjoint: learned 0.540 against robust_whiten 0.483 (measured)
    assert realmusic_report["best_variant"] == "learned"
    assert realmusic_report["retrieval_verdict"]["best_variant_artist_disjoint"] == "learned"
    assert set(realmusic_report["variants"]["robust_whiten"]["whitening_used"].values()) == {
        "within_track"
    }
    assert best["topk_gap"]["mean"] >= 0.15
    assert best["intra_artist"]["mean"] >= 0.05
    assert best["intra_album"]["mean"] >= 0.08


def test_the_best_variant_reaches_three_times_the_random_precision_at_10(realmusic_report):
    best = realmusic_report["variants"][realmusic_report["best_variant"]]
    p10 = best["precision_at_10"]
    disjoint = next(
        r["micro"]
        for r in realmusic_report["retrieval"]
        if (r["method"], r["evaluation"], r["metric"])
        == (realmusic_report["best_variant"], "artist_disjoint", "precision_at_10")
    )
    print(
        f"\nbest variant {realmusic_report['best_variant']}: same-artist precision@10 "
        f"{p10['mean']:.3f} in-sample (fitted on these artists) = {p10['lift']:.2f} x the "
        f"random {p10['baseline']:.3f}, {disjoint:.3f} artist-disjoint; "
        f"MAP {best['map']['mean']:.3f} in-sample ({best['map']['lift']:.2f} x)"
    )
    assert disjoint >= RETRIEVAL_LIFT * p10["baseline"]
    # Measured 0.496 (3.20x) with the default settings; 0.38 (2.5x) before the group weights
    # and the within-track whitening.
    assert p10["lift"] >= RETRIEVAL_LIFT
    assert p10["passes"]


def test_design_default_whitening_is_not_automatically_a_gain(realmusic_store):
    path, _ = realmusic_store
    with Store(path, read_only=True) as store:
        fs = load_feature_set(store)
    _, _, results = compare_variants(
        fs.matrices["full"],
        artists=fs.artist_keys,
        albums=fs.albums,
        variants=("robust_whiten",),
        settings={
            "robust_whiten": {
                "variance": 0.95,
                "whitening": "pca",
                "whiten_power": 1.0,
                "group_weights": False,
                "tower_weights": {"rhythm": 1, "harmony": 1},
            }
        },
    )
    plain = results["robust_whiten"]["summary"]
    print(
        f"\nplain robust_whiten (PCA 95%, full whitening, equal towers and features): p@10 {plain['precision_at_10']['mean']:.3f}, "
        f"topk_gap {plain['topk_gap']['mean']:.3f}"
    )
    assert plain["precision_at_10"]["mean"] < 0.35


def test_validate_names_the_best_variant_and_the_artifact_uses_it(
    realmusic_store, realmusic_report, tmp_path
):
    path, _ = realmusic_store
    runner = CliRunner()
    done = runner.invoke(
        app, ["validate", "--store", str(path), "--variant", "robust_whiten", "--json"]
    )
    assert done.exit_code == 0, done.output
    one = json.loads(done.stdout)
    assert {
        "flatness",
        "topk_gap",
        "intra_artist",
        "intra_album",
        "precision_at_10",
        "map",
        "passes",
    } <= set(one)
    done = runner.invoke(
        app, ["artifact", "build", "--store", str(path), "--out", str(tmp_path / "a.npz")]
    )
    assert done.exit_code == 0, done.output
    artifact = load_artifact(tmp_path / "a.npz")
    assert artifact.variant == realmusic_report["best_variant"]
    assert artifact["track_ids"].shape == (75,) and artifact["raw_mid_harmony"].shape == (75, 33)


def test_peers_side_by_side_artist_disjoint_and_the_targets(realmusic_store):
    """Musly and bliss on the 75 files, every variant in-sample and artist-disjoint.

    Targets (issue 14), artist-disjoint: the default variant's precision@10 >= 1.10 x plain
    z-score's and >= Musly's. Measured: learned 0.540, zscore 0.453, robust_whiten 0.483,
    Musly 0.536, bliss 0.465 (random 0.155); the learned lead over Musly is within noise, and
    averaged over artists (macro) Musly is ahead (0.298 against 0.280).
    """
    pytest.importorskip("pymusly", reason="pip install 'musicwb[peers]'")
    pytest.importorskip("bliss_audio", reason="pip install 'musicwb[peers]'")
    path, _ = realmusic_store
    runner = CliRunner()
    done = runner.invoke(app, ["validate", "--store", str(path), "--peers", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert {"variants", "best_variant", "best_settings", "run_id", "left_out", "notes"} <= set(
        report
    )
    assert all(report["peers"][p]["ran"] for p in ("musly", "bliss")), report["peers"]
    rows = {(r["method"], r["evaluation"], r["metric"]): r for r in report["retrieval"]}
    for method in ("raw", "zscore", "robust_whiten", "learned", "musly", "bliss", "random"):
        for evaluation in ("in_sample", "artist_disjoint"):
            for metric in ("precision_at_10", "map"):
                row = rows[(method, evaluation, metric)]
                assert row["n_seeds"] == 75 and row["n_artists"] == 11
                assert row["macro"] is not None
    assert rows[("learned", "artist_disjoint", "other_album_p10")]["n_seeds"] == 17
    for peer in ("musly", "bliss"):
        seconds = report["peers"][peer]["seconds_per_file"]
        assert 0 < seconds < 5
    p10 = {
        m: rows[(m, "artist_disjoint", "precision_at_10")]["micro"]
        for m in ("zscore", "robust_whiten", "learned", "musly", "bliss")
    }
    default = report["best_variant"]
    print(f"\nartist-disjoint p@10: {p10}; default {default}")
    print(report["retrieval_verdict"]["sentence"])
    assert default == "learned"
    assert p10[default] >= 1.10 * p10["zscore"]
    assert p10[default] >= p10["musly"]
    # a second run reads the peers' vectors from the cache beside the store
    again = runner.invoke(
        app, ["validate", "--store", str(path), "--variant", "zscore", "--peers", "--json"]
    )
    assert again.exit_code == 0, again.output
    assert all(p["analysed_now"] == 0 for p in json.loads(again.stdout)["peers"].values())
