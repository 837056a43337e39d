"""Preprocessing variants: fitted on full tracks, applied to segments, parameters round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from musicwb.errors import ParameterError
from musicwb.sonic.towers import tower_slices
from musicwb.sonic.whiten import VARIANTS, Preprocessor, fit_preprocessor


def _features(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Very different scales per feature, like real towers (bpm ~ 120, chroma ~ 0.1).
    scales = np.exp(rng.uniform(-3, 5, size=137))
    return (rng.normal(size=(n, 137)) * scales + scales).astype(np.float32)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_embeds_rows_and_cosine_is_defined(variant):
    full = _features()
    prep = fit_preprocessor(full, variant=variant)
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
    prep = fit_preprocessor(full, variant=variant, variance=0.9, whiten_power=0.5)
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
