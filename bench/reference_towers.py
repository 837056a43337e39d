"""Naive reference for the beat3tower extractor, the way the original system computed it.

For each of the four segments, from scratch: the segment's samples are cut out first, and
every librosa feature is asked for separately from those samples, so the STFT is recomputed
for MFCC, each spectral feature, chroma and onsets; tonnetz computes its own constant-Q chroma
(chroma twice); tempo and beats come from librosa's default ``beat_track`` on the segment.
The aggregation reuses :mod:`musicwb.sonic.towers`' pure tower functions, so the 137-vector
layout is the same and only the way of computing differs.

A benchmark compares its time with :func:`musicwb.sonic.towers.extract_features`::

    python bench/reference_towers.py path/to/track.ogg
    {"bench": "reference_towers", "track": "...", "duration_s": 177.7, "reference_s": 9.1,
     "extract_features_s": 1.2, "speedup": 7.6}
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from musicwb.sonic.io import read_audio
from musicwb.sonic.towers import (
    SEGMENTS,
    SHORT_TRACK_S,
    harmony_tower,
    rhythm_tower,
    segment_bounds,
    timbre_tower,
)


def _segment_samples(y: np.ndarray, *, sr: int, hop_length: int) -> dict[str, np.ndarray]:
    n_frames = 1 + y.shape[0] // hop_length
    bounds = segment_bounds(y.shape[0] / sr, fps=sr / hop_length, n_frames=n_frames)
    return {name: y[a * hop_length : b * hop_length] for name, (a, b) in bounds.items()}


def reference_segment(y: np.ndarray, *, sr: int, hop_length: int = 512) -> np.ndarray:
    """The 137-vector of one segment, computed from its samples alone, feature by feature."""
    import librosa

    onset = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, hop_length=hop_length)
    bpm = float(np.atleast_1d(tempo)[0])
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=hop_length)
    n = mfcc.shape[1]
    tempogram = librosa.feature.tempogram(onset_envelope=onset, sr=sr, hop_length=hop_length)
    freqs = librosa.tempo_frequencies(tempogram.shape[0], sr=sr, hop_length=hop_length)
    valid = (freqs >= 40) & (freqs <= 240)
    local = np.where(valid.any(), freqs[valid][np.argmax(tempogram[valid], axis=0)], 0.0)
    rhythm = rhythm_tower(
        onset[:n],
        beats=np.asarray(beats, dtype=np.int64),
        local_bpm=np.resize(local, n),
        bpm=bpm,
        onset_peaks=librosa.onset.onset_detect(y=y, sr=sr, hop_length=hop_length),
        sr=sr,
        hop_length=hop_length,
    )
    timbre = timbre_tower(
        mfcc=mfcc,
        mfcc_delta=librosa.feature.delta(mfcc, mode="nearest"),
        contrast=librosa.feature.spectral_contrast(y=y, sr=sr, hop_length=hop_length)[:, :n],
        rolloff=librosa.feature.spectral_rolloff(y=y, sr=sr, hop_length=hop_length)[0, :n],
        centroid=librosa.feature.spectral_centroid(y=y, sr=sr, hop_length=hop_length)[0, :n],
        bandwidth=librosa.feature.spectral_bandwidth(y=y, sr=sr, hop_length=hop_length)[0, :n],
        flux=onset[:n],
        zcr=librosa.feature.zero_crossing_rate(y, hop_length=hop_length)[0, :n],
        boundaries=np.asarray(beats, dtype=np.int64),
    )
    chroma = librosa.feature.chroma_stft(y=y, sr=sr, hop_length=hop_length)[:, :n]
    tonnetz = librosa.feature.tonnetz(y=y, sr=sr, hop_length=hop_length)  # its own chroma_cqt
    tonnetz = np.pad(tonnetz, ((0, 0), (0, max(0, n - tonnetz.shape[1]))))[:, :n]
    harmony = harmony_tower(
        chroma=chroma, tonnetz=tonnetz, boundaries=np.asarray(beats, dtype=np.int64)
    )
    vector = np.concatenate([rhythm, timbre, harmony])
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def reference_track(y: np.ndarray, *, sr: int, hop_length: int = 512) -> dict[str, np.ndarray]:
    """All four segments, each from scratch (a track of 60 s or less: full, copied)."""
    pieces = _segment_samples(y, sr=sr, hop_length=hop_length)
    if y.shape[0] / sr <= SHORT_TRACK_S:
        full = reference_segment(pieces["full"], sr=sr, hop_length=hop_length)
        return dict.fromkeys(SEGMENTS, full)
    return {
        name: reference_segment(pieces[name], sr=sr, hop_length=hop_length) for name in SEGMENTS
    }


def main(argv: list[str]) -> int:
    from musicwb.sonic.towers import configure_worker, extract_features

    default = (
        Path(__file__).resolve().parents[2]
        / "shared/data/audio/realmusic/eric_skiff/tuxemon__all_of_us.ogg"
    )
    path = Path(argv[0]) if argv else default
    configure_worker(Path("/tmp/musicwb-bench"))
    audio = read_audio(path)
    extract_features(audio.samples[: audio.sr * 5], sr=audio.sr)  # compile numba kernels first
    reference_track(audio.samples[: audio.sr * 5], sr=audio.sr)
    started = time.perf_counter()
    reference_track(audio.samples, sr=audio.sr)
    reference_s = time.perf_counter() - started
    started = time.perf_counter()
    extract_features(audio.samples, sr=audio.sr)
    ours_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "reference_towers",
                "track": path.name,
                "duration_s": round(audio.duration_s, 1),
                "reference_s": round(reference_s, 2),
                "extract_features_s": round(ours_s, 2),
                "speedup": round(reference_s / ours_s, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
