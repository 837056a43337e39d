"""Preprocessing variants: fitted on full tracks, applied to segments, parameters round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from musicwb.errors import ParameterError
from musicwb.sonic.towers import tower_slices
from musicwb.sonic.whiten import VARIANTS, Preprocessor, fit_preprocessor

ARTISTS = [f"artist{i % 8}" for i in range(120)]


def _features(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Very different scales per feature, like real towers (bpm ~ 120, chroma ~ 0.1).
    scales = np.exp(rng.uniform(-3, 5, size=137))
    return (rng.normal(size=(n, 137)) * scales + scales).astype(np.float32)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_embeds_rows_and_cosine_is_defined(variant):
    full = _features()
    prep = fit_preprocessor(full, variant=variant, artists=ARTISTS)
    embedded = prep.transform(full)
    assert embedded.shape[0] == 120 and np.all(np.isfinite(embedded))
    if variant != "raw":
        np.testing.assert_allclose(np.linalg.norm(embedded, axis=1), 1.0, atol=1e-5)


def test_zscore_removes_the_dominance_of_large_features():
    rng = np.random.default_rng(0)
    full = rng.normal(size=(120, 137))
    full[:, 20] = 120 + 10 * rng.normal(size=120)  # a bpm-like feature among unit-scale ones
    raw = fit_preprocessor(full, variant="raw").transform(full)
    z = fit_preprocessor(full, variant="zscore").transform(full)
    # In raw vectors that feature carries most of the norm; after z-scoring no feature does.
    assert np.mean(raw[:, 20] ** 2 / np.sum(raw**2, axis=1)) > 0.9
    assert np.max(np.mean(z**2, axis=0)) < 0.05


def test_robust_whiten_is_per_tower_whitens_and_weights_towers():
    full = _features()
    prep = fit_preprocessor(full, variant="robust_whiten", variance=0.95, whiten_power=1.0)
    assert set(prep.towers) == set(tower_slices())
    for name, part in tower_slices().items():
        tower = prep.towers[name]
        assert tower.components.shape[1] == part.stop - part.start
        assert 1 <= tower.components.shape[0] <= part.stop - part.start
        # Whitened: each kept component has unit variance on the fitting data.
        projected = (
            (np.clip((full[:, part] - tower.center) / tower.scale, -3, 3) - tower.pca_mean)
            @ tower.components.T
            / tower.component_scale
        )
        np.testing.assert_allclose(projected.var(axis=0, ddof=1), 1.0, rtol=1e-6)
    only_timbre = fit_preprocessor(
        full, variant="robust_whiten", tower_weights={"rhythm": 0, "harmony": 0}
    )
    width = only_timbre.towers["rhythm"].n_out
    assert np.allclose(only_timbre.transform(full)[:, :width], 0.0)


def test_fitted_on_full_tracks_then_applied_unchanged_to_segments():
    full, segment = _features(seed=1), _features(seed=2)
    prep = fit_preprocessor(full, variant="robust_whiten")
    before = prep.transform(segment)
    prep.transform(full)  # transforming never refits
    np.testing.assert_array_equal(prep.transform(segment), before)
    assert prep.n_fit == 120


@pytest.mark.parametrize("variant", VARIANTS)
def test_parameters_round_trip_through_plain_arrays(variant, tmp_path):
    full = _features()
    prep = fit_preprocessor(full, variant=variant, variance=0.9, whiten_power=0.5, artists=ARTISTS)
    np.savez(tmp_path / "p.npz", **prep.to_arrays())
    with np.load(tmp_path / "p.npz", allow_pickle=False) as loaded:
        again = Preprocessor.from_arrays(loaded)
    assert again.variant == variant and again.settings == prep.settings
    np.testing.assert_array_equal(again.transform(full), prep.transform(full))


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(ParameterError, match="variant"):
        fit_preprocessor(_features(), variant="pca")
    with pytest.raises(ParameterError, match=r"\(n >= 3, 137\)"):
        fit_preprocessor(np.zeros((5, 10)))
    bad = _features()
    bad[3, 7] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        fit_preprocessor(bad)
    with pytest.raises(ParameterError, match="tower_weights"):
        fit_preprocessor(_features(), tower_weights={"melody": 1.0})


def _tracks_with_segments(n: int = 80, seed: int = 3):
    """Tracks told apart by half the features; the other half changes within each track."""
    rng = np.random.default_rng(seed)
    identity = rng.normal(size=(n, 137))
    stable = np.zeros(137, bool)
    stable[::2] = True

    def segment():
        # stable features: the track's own value plus a little noise; the others: noise only
        return np.where(
            stable, identity + 0.2 * rng.normal(size=(n, 137)), 3 * rng.normal(size=(n, 137))
        )

    full = np.where(stable, identity, 0.0) + 0.1 * rng.normal(size=(n, 137))
    return full, [segment() for _ in range(3)]


def test_within_track_whitening_finds_a_track_again_from_its_segments():
    full, segments = _tracks_with_segments()
    within = fit_preprocessor(full, segments=segments)
    pca = fit_preprocessor(full, segments=segments, whitening="pca")
    assert set(within.whitening_used.values()) == {"within_track"}
    assert set(pca.whitening_used.values()) == {"pca"}

    def found(prep):
        # which full track is most similar to each track's middle segment
        similarity = prep.transform(segments[1]) @ prep.transform(full).T
        return float(np.mean(np.argmax(similarity, axis=1) == np.arange(len(full))))

    # Features that change inside a track say nothing about which track it is: within-track
    # whitening discounts them, PCA does not (they carry most of the segments' variance).
    assert found(within) >= 0.9
    assert found(within) > found(pca) + 0.2


def test_without_distinct_segments_robust_whiten_falls_back_to_pca():
    full = _features()
    short = fit_preprocessor(full, segments=[full, full, full])  # tracks of 60 s or less
    alone = fit_preprocessor(full)
    assert set(short.whitening_used.values()) == {"pca"} == set(alone.whitening_used.values())
    np.testing.assert_allclose(short.transform(full), alone.transform(full), atol=1e-6)


def test_within_track_parameters_round_trip(tmp_path):
    full, segments = _tracks_with_segments()
    prep = fit_preprocessor(full, segments=segments)
    np.savez(tmp_path / "p.npz", **prep.to_arrays())
    with np.load(tmp_path / "p.npz", allow_pickle=False) as loaded:
        again = Preprocessor.from_arrays(loaded)
    assert again.whitening_used == prep.whitening_used and again.settings == prep.settings
    np.testing.assert_array_equal(again.transform(segments[0]), prep.transform(segments[0]))


def test_default_tower_weights_follow_tower_sizes():
    weights = fit_preprocessor(_features()).settings["tower_weights"]
    sizes = {name: part.stop - part.start for name, part in tower_slices().items()}
    for name, size in sizes.items():
        assert weights[name] == pytest.approx(np.sqrt(size / sizes["timbre"]), abs=1e-3)


def test_bad_segments_and_whitening_are_refused():
    full = _features()
    with pytest.raises(ParameterError, match="segments"):
        fit_preprocessor(full, segments=[full[:10], full[:10]])
    bad = full.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ParameterError, match="segment features"):
        fit_preprocessor(full, segments=[bad, full])
    with pytest.raises(ParameterError, match="whitening"):
        fit_preprocessor(full, whitening="zca")


def test_learned_needs_artists_and_discounts_what_varies_within_an_artist():
    rng = np.random.default_rng(3)
    artists = np.repeat([f"a{i}" for i in range(10)], 8)
    # feature 0..9 carry the artist; 10..136 are loud noise that varies within each artist
    full = rng.normal(size=(80, 137)) * 3.0
    full[:, :10] += 2.0 * np.repeat(rng.normal(size=(10, 10)), 8, axis=0)
    with pytest.raises(ParameterError, match="artists"):
        fit_preprocessor(full, variant="learned")
    learned = fit_preprocessor(full, variant="learned", artists=artists)
    zscore = fit_preprocessor(full, variant="zscore")
    assert learned.settings["learn_reg"] in (0.03, 0.1, 0.3, 1.0)
    assert learned.whitening_used == {"all": "within_class"}

    def same_artist_p1(prep):
        e = prep.transform(full)
        s = e @ e.T
        np.fill_diagonal(s, -np.inf)
        return np.mean(artists[np.argmax(s, axis=1)] == artists)

    assert same_artist_p1(learned) > same_artist_p1(zscore) + 0.2
    # a given shrinkage is used as is, and recorded
    fixed = fit_preprocessor(full, variant="learned", artists=artists, learn_reg=0.5)
    assert fixed.settings == {"learn_reg": 0.5, "clip": 3.0}
