"""The compiled frame-feature loops give librosa's and numpy's numbers exactly."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from musicwb.sonic.frames import _spectral_contrast, _spectral_shape


def _spectra(seed: int, n_frames: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    magnitude = rng.gamma(0.5, size=(1025, n_frames)).astype(np.float32)
    magnitude[:, :5] = 0.0  # silent frames
    magnitude[:, 5:10] = 1.0  # flat frames: every value tied
    magnitude[600:, 10:20] = 0.0  # nothing above 6.4 kHz
    return magnitude


@pytest.mark.parametrize(("seed", "sr"), [(0, 22050), (1, 22050), (2, 44100), (3, 16000)])
def test_spectral_contrast_equals_librosa(seed, sr):
    magnitude = _spectra(seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = librosa.feature.spectral_contrast(S=magnitude, sr=sr)
        got = _spectral_contrast(magnitude, sr=sr)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_rolloff_equals_the_cumulative_sum_count(seed):
    magnitude = _spectra(seed)
    freqs = np.linspace(0, 22050 / 2, magnitude.shape[0], dtype=np.float32)
    cumulative = np.cumsum(magnitude, axis=0, dtype=np.float32)
    below = (cumulative < np.float32(0.85) * cumulative[-1]).sum(axis=0)
    expected = np.where(magnitude.sum(axis=0) <= 0, 0.0, freqs[np.minimum(below, 1024)])
    rolloff, _, _ = _spectral_shape(magnitude, sr=22050)
    np.testing.assert_array_equal(rolloff, expected)
