"""Artist-disjoint validation, the learned variant's honesty, and the peers' notes."""

from __future__ import annotations

import numpy as np
import pytest

from musicwb.sonic import peers as peers_module
from musicwb.sonic.folds import artist_folds, cross_fitted_similarities, retrieval_table
from musicwb.sonic.peers import run_peer
from musicwb.sonic.validation import retrieval_comparison, retrieval_verdict


def _library(seed: int = 0, n_artists: int = 8, per_artist: int = 6):
    rng = np.random.default_rng(seed)
    artists = np.repeat([f"a{i}" for i in range(n_artists)], per_artist)
    albums = np.array([f"{a}-{i % 2}" for i, a in enumerate(artists)])
    centres = np.repeat(rng.normal(size=(n_artists, 137)), per_artist, axis=0)
    full = centres + 1.5 * rng.normal(size=(len(artists), 137))
    segments = [full + 0.5 * rng.normal(size=full.shape) for _ in range(3)]
    return full, artists, albums, segments


def test_folds_never_split_an_artist_and_score_every_track_once():
    _, artists, _, _ = _library()
    folds = artist_folds(artists, n_folds=3)
    for artist in set(artists):
        assert len(set(folds[artists == artist])) == 1
    seen_train = []
    sims = cross_fitted_similarities(
        folds, lambda train: seen_train.append(set(artists[train])) or np.zeros((48, 48))
    )
    assert sims.shape == (48, 48) and len(seen_train) == 3
    # each fit misses exactly the artists it scores
    assert all(len(s) < 8 for s in seen_train)


def test_other_album_precision_leaves_the_seed_album_out():
    # seed 0's nearest is its album mate (row 1); the other album's track (row 2) comes next
    sims = np.array(
        [[1, 0.9, 0.8, 0.1], [0.9, 1, 0.8, 0.1], [0.8, 0.8, 1, 0.1], [0.1, 0.1, 0.1, 1.0]]
    )
    table = retrieval_table(sims, artists=["a", "a", "a", "b"], albums=["x", "x", "y", "z"])
    assert table.loc[0, "other_album_p10"] == pytest.approx(0.5)  # 1 of the 2 ranked
    assert np.isnan(table.loc[3, "other_album_p10"])


def test_comparison_reports_micro_macro_intervals_and_a_learned_in_sample_flattery():
    full, artists, albums, segments = _library()
    frame = retrieval_comparison(
        full,
        artists=artists,
        albums=albums,
        segments=segments,
        variants=("zscore", "learned"),
        n_folds=4,
        n_boot=200,
    )
    p10 = frame[frame["metric"] == "precision_at_10"].set_index(["method", "evaluation"])
    for method in ("zscore", "learned"):
        for evaluation in ("in_sample", "artist_disjoint"):
            row = p10.loc[(method, evaluation)]
            assert row["micro_low"] <= row["micro"] <= row["micro_high"]
            assert row["macro_low"] <= row["macro"] <= row["macro_high"]
            assert row["n_seeds"] == 48
    assert p10.loc[("random", "in_sample"), "micro"] == pytest.approx(5 / 47)
    # a metric learnt on the scored artists flatters itself in-sample
    assert (
        p10.loc[("learned", "in_sample"), "micro"]
        > p10.loc[("learned", "artist_disjoint"), "micro"]
    )
    verdict = retrieval_verdict(frame)
    assert verdict["best_in_sample"] == "learned"
    assert verdict["best_artist_disjoint"] in verdict["sentence"]


def test_verdict_says_plainly_when_a_variant_wins_only_in_sample():
    import pandas as pd

    rows = [
        ("learned", "in_sample", 0.9),
        ("learned", "artist_disjoint", 0.3),
        ("zscore", "in_sample", 0.4),
        ("zscore", "artist_disjoint", 0.4),
    ]
    frame = pd.DataFrame(
        [
            {"method": m, "kind": "variant", "evaluation": e, "metric": metric, "micro": v}
            for m, e, v in rows
            for metric in ("precision_at_10", "map")
        ]
    )
    verdict = retrieval_verdict(frame)
    assert verdict["best_variant_artist_disjoint"] == "zscore"
    assert verdict["wins_only_in_sample"] == ["learned"]
    assert "learned wins only in-sample" in verdict["sentence"]
    # a peer ahead by artist (macro) though behind by track (micro) is named too
    frame["macro"] = frame["micro"]
    peer = pd.DataFrame(
        [
            {"method": "musly", "kind": "peer", "evaluation": "artist_disjoint", "metric": m,
             "micro": 0.39, "macro": 0.9}
            for m in ("precision_at_10", "map")
        ]
    )  # fmt: skip
    verdict = retrieval_verdict(pd.concat([frame, peer], ignore_index=True))
    assert verdict["best_artist_disjoint"] == "zscore"
    assert "over artists (macro) rather than tracks, musly wins" in verdict["sentence"]


def test_a_missing_peer_package_or_ffmpeg_is_a_note_not_a_failure(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    run = run_peer("bliss", paths=["x.ogg"], content_hashes=["h"], cache_dir=tmp_path)
    assert not run.ran and "bliss-audio is not installed" in run.note
    monkeypatch.undo()
    if importlib.util.find_spec("pymusly") is None:
        pytest.skip("pymusly not installed (pip install 'musicwb[peers]')")
    monkeypatch.setattr(peers_module.shutil, "which", lambda name: None)
    run = run_peer("musly", paths=["x.ogg"], content_hashes=["h"], cache_dir=tmp_path)
    assert not run.ran and "ffmpeg" in run.note


def test_a_peer_sits_in_the_same_table_with_its_time_and_without_its_failed_files():
    from musicwb.sonic.peers import PeerRun

    full, artists, albums, _ = _library()
    rng = np.random.default_rng(5)
    bliss = full[:, :23] + 0.1 * rng.normal(size=(48, 23))
    seconds = np.full(48, 0.25)
    seconds[3] = np.nan
    run = PeerRun("bliss", bliss, seconds, failed=(3,))
    frame = retrieval_comparison(
        full, artists=artists, albums=albums, variants=("zscore",), peers=[run], n_folds=4,
        n_boot=100,
    )  # fmt: skip
    rows = frame[(frame["method"] == "bliss") & (frame["metric"] == "precision_at_10")]
    assert set(rows["evaluation"]) == {"in_sample", "artist_disjoint"}
    assert (rows["n_seeds"] == 47).all() and (rows["seconds_per_file"] == 0.25).all()
    assert (rows["micro"] > 2 * rows["baseline_micro"]).all()
    missing = PeerRun("musly", None, None, note="musly: ffmpeg is not on PATH")
    frame = retrieval_comparison(
        full, artists=artists, albums=albums, variants=("zscore",), peers=[missing], n_folds=4,
        n_boot=100,
    )  # fmt: skip
    assert "musly" not in set(frame["method"])


@pytest.mark.parametrize("peer", ["bliss", "musly"])
def test_a_file_a_peer_cannot_decode_is_recorded_not_raised(peer, tmp_path):
    module = {"bliss": "bliss_audio", "musly": "pymusly"}[peer]
    pytest.importorskip(module, reason="pip install 'musicwb[peers]'")
    bad = tmp_path / "not audio.ogg"
    bad.write_text("not audio")
    run = run_peer(peer, paths=[bad], content_hashes=["h"], cache_dir=tmp_path)
    assert not run.ran and "no file could be analysed" in run.note and "not audio.ogg" in run.note
