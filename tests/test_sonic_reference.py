"""Today's beat3tower vectors equal the stored reference vectors, within float noise.

``tests/data/sonic_reference.npz`` holds the (4, 137) matrices of six real files as the
extractor computed them at a known commit (``tests/make_sonic_reference.py`` regenerates them
and records the commit). Any speed-up of decoding or extraction must leave them unchanged.

Tolerance: the features are float32 (24-bit mantissa, 6e-8 relative) and come out of float32
STFT, filter-bank products and medians; a change in the order of a float32 sum moves a result
by about 1e-6 relative. ``RTOL = 1e-5`` leaves a tenfold margin for that and nothing for a real
change: a different resampler, a beat moved by one frame or a different rolloff bin shifts the
affected features by 1e-3 relative or more. Features whose value sits near zero (a delta-MFCC
median, a tonnetz coordinate) get an absolute allowance of ``RTOL`` times the largest magnitude
of that feature over the reference files, the scale on which float noise is made.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from musicwb.sonic.io import read_audio
from musicwb.sonic.towers import SEGMENTS, extract_features, feature_names

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_sonic_reference import OUT, realmusic_dir

RTOL = 1e-5


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> dict[str, np.ndarray]:
    del shared_data  # only for its skip when the real data are absent
    with np.load(OUT) as stored:
        return {key: stored[key] for key in stored.files}


def test_reference_covers_both_composers_and_the_short_track_path(reference):
    files = [str(name) for name in reference["files"]]
    assert {name.split("/")[0] for name in files} == {"eric_skiff", "yubatake"}
    assert reference["matrices"].shape == (len(files), len(SEGMENTS), len(feature_names()))


@pytest.mark.parametrize("index", range(6))
def test_features_equal_the_stored_reference(reference, index):
    name = str(reference["files"][index])
    path = realmusic_dir() / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    audio = read_audio(path)
    features = extract_features(audio.samples, sr=audio.sr)
    expected = reference["matrices"][index]
    scale = np.abs(reference["matrices"]).max(axis=(0, 1))  # per feature, over files and segments
    got = features.matrix()
    deviation = np.abs(got.astype(np.float64) - expected) / np.maximum(
        np.abs(expected.astype(np.float64)), scale
    ).clip(min=1e-30)
    worst = np.unravel_index(np.argmax(deviation), deviation.shape)
    print(
        f"\n{name}: max relative deviation {deviation.max():.2e} at "
        f"{SEGMENTS[worst[0]]}/{feature_names()[worst[1]]}"
    )
    bad = np.abs(got - expected) > RTOL * np.abs(expected) + RTOL * scale
    assert not bad.any(), [
        (SEGMENTS[s], feature_names()[f], float(expected[s, f]), float(got[s, f]))
        for s, f in zip(*np.nonzero(bad))
    ][:10]
    assert features.n_beats == reference["n_beats"][index]
    assert features.bpm_info["bpm"] == pytest.approx(reference["bpm"][index], rel=RTOL)
