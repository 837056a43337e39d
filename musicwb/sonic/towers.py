"""Beat3tower features: 137 beat-synchronous numbers per track segment (pure, no I/O).

Three towers, in this order (see :func:`feature_names`):

- rhythm (21): onset statistics, tempo autocorrelation peaks, beat intervals and strengths,
  onset rate, rhythm entropy, bpm, tempo stability;
- timbre (83): MFCC medians, IQRs and delta medians, spectral contrast, rolloff, centroid,
  bandwidth, flux, zero-crossing rate;
- harmony (33): chroma medians and IQRs, chroma entropy, peak count, key strength, tonnetz.

Frame-level features are first aggregated (median) between consecutive beats; the statistics
are then taken over these beat-synchronous frames. When beats cannot be tracked (a segment
shorter than :data:`MIN_BEATS` beats, silent, or without a pulse clearer than chance) a fixed
grid of :data:`GRID_S` seconds replaces the beats, and the segment is flagged.

Segments: ``full``; ``start`` (first 30 s), ``mid`` (30 s around the middle), ``end`` (last
30 s); a track of 60 s or less uses ``full`` for all four. Everything is computed once for the
whole track (:func:`musicwb.sonic.frames.compute_frames`) and the segments are column slices.

Examples
--------
>>> import numpy as np
>>> from musicwb.sonic.towers import extract_features, feature_names
>>> sr = 22050
>>> clicks = np.zeros(sr * 20, dtype=np.float32)
>>> clicks[:: sr // 2] = 1.0                                  # 120 BPM
>>> features = extract_features(clicks, sr=sr)                # doctest: +SKIP
>>> round(features.bpm_info["bpm"]), features.segments["full"].shape   # doctest: +SKIP
(120, (137,))
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from musicwb.config import get_settings
from musicwb.errors import ParameterError
from musicwb.sonic.frames import compute_frames
from musicwb.sonic.numba_cache import acquire_slot
from musicwb.sonic.tempo import (
    MAX_BPM,
    MIN_BPM,
    bpm_agrees,
    estimate_tempo,
    local_bpm,
    onset_autocorrelation,
    refine_with_beats,
    track_beats,
)
from musicwb.text.camelot import MAJOR_PROFILE, MINOR_PROFILE

__all__ = [
    "EXTRACTOR_VERSION",
    "GRID_S",
    "MIN_BEATS",
    "PITCH_CLASSES",
    "SEGMENTS",
    "SEGMENT_S",
    "SHORT_TRACK_S",
    "Segment",
    "TrackFeatures",
    "beat_synchronous",
    "configure_worker",
    "extract_features",
    "feature_groups",
    "feature_names",
    "harmony_tower",
    "rhythm_tower",
    "segment_bounds",
    "timbre_tower",
    "tower_slices",
]

EXTRACTOR_VERSION = "beat3tower-1.0"
Segment = Literal["full", "start", "mid", "end"]
"""A part of a track: all of it, or its first, middle or last 30 seconds."""
SEGMENTS: tuple[Segment, ...] = get_args(Segment)
SEGMENT_S = 30.0
SHORT_TRACK_S = 60.0
GRID_S = 0.5
MIN_BEATS = 4
SILENCE_RMS = 1e-4  # -80 dBFS
PITCH_CLASSES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
TONNETZ_AXES = ("fifth_x", "fifth_y", "minor_x", "minor_y", "major_x", "major_y")


def _rhythm_names() -> list[str]:
    return [
        "onset_median",
        "onset_iqr",
        "onset_std",
        "onset_p10",
        "onset_p90",
        "tempo_peak1_lag",
        "tempo_peak2_lag",
        "tempo_peak_ratio",
        *[f"tempo_acf_lag{k}" for k in range(1, 6)],
        "beat_interval_cv",
        "beat_interval_median",
        "beat_strength_median",
        "beat_strength_iqr",
        "onset_rate",
        "rhythm_entropy",
        "bpm",
        "tempo_stability",
    ]


def _timbre_names() -> list[str]:
    return [
        *[f"mfcc_median_{i:02d}" for i in range(20)],
        *[f"mfcc_iqr_{i:02d}" for i in range(20)],
        *[f"mfcc_delta_median_{i:02d}" for i in range(20)],
        *[f"spectral_contrast_median_{i}" for i in range(7)],
        *[f"spectral_contrast_iqr_{i}" for i in range(7)],
        "rolloff_median",
        "rolloff_iqr",
        "centroid_median",
        "centroid_iqr",
        "bandwidth_median",
        "bandwidth_iqr",
        "flux_median",
        "flux_iqr",
        "zcr_median",
    ]


def _harmony_names() -> list[str]:
    return [
        *[f"chroma_median_{p}" for p in PITCH_CLASSES],
        *[f"chroma_iqr_{p}" for p in PITCH_CLASSES],
        "chroma_entropy",
        "chroma_peak_count",
        "key_strength",
        *[f"tonnetz_median_{axis}" for axis in TONNETZ_AXES],
    ]


def feature_names() -> list[str]:
    """The 137 feature names, in vector order: rhythm (21), timbre (83), harmony (33).

    Returns
    -------
    list of str

    Examples
    --------
    >>> names = feature_names()
    >>> len(names), names[0], names[20], names[21], names[-1]
    (137, 'onset_median', 'tempo_stability', 'mfcc_median_00', 'tonnetz_median_major_y')
    """
    return [*_rhythm_names(), *_timbre_names(), *_harmony_names()]


def feature_groups() -> list[str]:
    """The named group of each of the 137 features, in vector order.

    A group is a block of features that share a name and a unit and differ only by an index,
    a pitch class or a tonnetz axis (the 20 ``mfcc_median_NN``, the 12 ``chroma_iqr_X``);
    every other feature is a group of its own.

    Returns
    -------
    list of str, length 137

    Examples
    --------
    >>> groups = feature_groups()
    >>> groups[21], groups[40], groups[41], groups[-1], len(set(groups))
    ('mfcc_median', 'mfcc_median', 'mfcc_iqr', 'tonnetz_median', 41)
    """
    groups = []
    for name in feature_names():
        stem, _, suffix = name.rpartition("_")
        if suffix.isdigit() or suffix in PITCH_CLASSES:
            groups.append(stem)
        else:
            axis = next((a for a in TONNETZ_AXES if name.endswith(f"_{a}")), None)
            groups.append(name.removesuffix(f"_{axis}") if axis else name)
    return groups


def tower_slices() -> dict[str, slice]:
    """Where each tower sits in the 137-vector.

    Examples
    --------
    >>> tower_slices()
    {'rhythm': slice(0, 21, None), 'timbre': slice(21, 104, None), 'harmony': slice(104, 137, None)}
    """
    n_rhythm, n_timbre, n_harmony = (
        len(_rhythm_names()),
        len(_timbre_names()),
        len(_harmony_names()),
    )
    return {
        "rhythm": slice(0, n_rhythm),
        "timbre": slice(n_rhythm, n_rhythm + n_timbre),
        "harmony": slice(n_rhythm + n_timbre, n_rhythm + n_timbre + n_harmony),
    }


@dataclass(frozen=True)
class TrackFeatures:
    """Beat3tower features of one track.

    Attributes
    ----------
    segments : dict of str to ndarray, shape (137,), float32
        ``"full"``, ``"start"``, ``"mid"``, ``"end"``; finite values, in :func:`feature_names`
        order.
    bpm_info : dict
        ``bpm`` (float, 0.0 without a pulse), ``half_tempo_likely``, ``double_tempo_likely``
        (bool), ``tempo_stability`` (fraction of frames whose local tempo agrees, 0..1),
        ``pulse_clarity`` (0..1).
    fixed_grid : dict of str to bool
        Per segment: True when a fixed grid replaced the beats.
    duration_s : float
    n_beats : int
        Beats tracked over the whole track.
    version : str
        :data:`EXTRACTOR_VERSION`.
    """

    segments: dict[str, np.ndarray]
    bpm_info: dict[str, float | bool]
    fixed_grid: dict[str, bool]
    duration_s: float
    n_beats: int = 0
    version: str = field(default=EXTRACTOR_VERSION)

    def matrix(self) -> np.ndarray:
        """The four segment vectors stacked, shape (4, 137), rows in :data:`SEGMENTS` order."""
        return np.stack([self.segments[name] for name in SEGMENTS])


# ---------------------------------------------------------------- pure statistics helpers


def _iqr(values: np.ndarray, axis: int = -1) -> np.ndarray:
    q75, q25 = np.percentile(values, [75, 25], axis=axis)
    return q75 - q25


def beat_synchronous(matrix: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
    """Median of each feature between consecutive boundaries.

    Parameters
    ----------
    matrix : numpy.ndarray, shape (n_features, n_frames)
        Finite values.
    boundaries : numpy.ndarray, shape (k,), int
        Increasing frame indices (beats or grid points); ``0`` and ``n_frames`` are added.

    Returns
    -------
    numpy.ndarray, shape (n_features, n_intervals)
        One column per non-empty interval (at least one column when ``n_frames > 0``).

    Examples
    --------
    >>> beat_synchronous(np.arange(6.0)[None, :], np.array([2, 4]))
    array([[0.5, 2.5, 4.5]])
    """
    n_frames = matrix.shape[1]
    if n_frames == 0:
        return np.zeros((matrix.shape[0], 1), dtype=matrix.dtype)
    edges = np.unique(
        np.clip(
            np.concatenate([[0], np.asarray(boundaries, dtype=np.int64), [n_frames]]), 0, n_frames
        )
    )
    starts, lengths = edges[:-1], np.diff(edges)
    synced = np.empty((matrix.shape[0], starts.size), dtype=matrix.dtype)
    # Beat intervals take few distinct lengths: all intervals of one length are sorted at once
    # and their middle taken, as np.median does it (one median call per interval took 4x longer).
    # At most about a million values are copied at a time (8 MB), however long the track.
    for length in np.unique(lengths):
        same = np.flatnonzero(lengths == length)
        step = max(1, (1 << 20) // (matrix.shape[0] * int(length)))
        for first in range(0, same.size, step):
            chosen = same[first : first + step]
            windows = matrix[:, starts[chosen, None] + np.arange(length)]  # a copy
            windows.sort(axis=2)
            half = length // 2
            synced[:, chosen] = (
                windows[:, :, half]
                if length % 2
                else (windows[:, :, half - 1] + windows[:, :, half]) / 2
            )
    return synced


def _grid(n_frames: int, fps: float) -> np.ndarray:
    step = max(1, int(round(GRID_S * fps)))
    return np.arange(step, n_frames, step, dtype=np.int64)


def _normalised_entropy(weights: np.ndarray) -> float:
    weights = np.clip(np.asarray(weights, dtype=np.float64), 0, None)
    total = weights.sum()
    if total <= 0 or weights.size < 2:
        return 1.0  # nothing to tell the bins apart: maximally uninformative
    p = weights[weights > 0] / total
    return float(-(p * np.log(p)).sum() / np.log(weights.size))


def _acf_peaks(acf: np.ndarray, fps: float) -> tuple[list[int], np.ndarray]:
    """Local maxima of the autocorrelation in the tempo range, strongest first."""

    lags = np.arange(acf.size)
    lo, hi = int(np.ceil(60 * fps / MAX_BPM)), int(np.floor(60 * fps / MIN_BPM))
    inner = lags[(lags >= max(lo, 1)) & (lags <= min(hi, acf.size - 2))]
    peaks = [int(k) for k in inner if acf[k] > 0 and acf[k] >= acf[k - 1] and acf[k] > acf[k + 1]]
    return sorted(peaks, key=lambda k: -acf[k]), lags[(lags >= lo) & (lags <= hi)]


# ---------------------------------------------------------------- the three towers


def rhythm_tower(
    onset: np.ndarray,
    *,
    beats: np.ndarray,
    onset_peaks: np.ndarray,
    local_bpm: np.ndarray,
    bpm: float,
    sr: int,
    hop_length: int = 512,
) -> np.ndarray:
    """Rhythm features of one segment.

    Parameters
    ----------
    onset : numpy.ndarray, shape (n_frames,)
        Onset strength of the segment.
    beats : numpy.ndarray, shape (k,), int
        Beat (or fixed-grid) frames, relative to the segment start.
    onset_peaks : numpy.ndarray, shape (m,), int
        Detected onsets in the segment (frames, relative).
    local_bpm : numpy.ndarray, shape (n_frames,)
        Local tempo of each frame (tempogram peak), 0 where unknown.
    bpm : float
        The segment's tempo (0.0 without a pulse).
    sr, hop_length : int

    Returns
    -------
    numpy.ndarray, shape (21,)
    """

    fps = sr / hop_length
    onset = np.asarray(onset, dtype=np.float64)
    duration_s = max(onset.size / fps, 1e-9)
    p10, p25, p50, p75, p90 = (
        np.percentile(onset, [10, 25, 50, 75, 90]) if onset.size else (0.0,) * 5
    )

    acf = onset_autocorrelation(onset)
    peaks, range_lags = _acf_peaks(acf, fps)
    peak1 = peaks[0] / fps if peaks else 0.0
    peak2 = peaks[1] / fps if len(peaks) > 1 else 0.0
    peak_ratio = float(acf[peaks[1]] / acf[peaks[0]]) if len(peaks) > 1 else 0.0

    beat_lag = 60.0 * fps / bpm if bpm > 0 else 0.0
    grid = np.arange(acf.size)
    acf_at_beats = [
        float(np.interp(k * beat_lag, grid, acf, right=0.0)) if beat_lag > 0 and acf.size else 0.0
        for k in range(1, 6)
    ]

    intervals = np.diff(np.asarray(beats, dtype=np.float64)) / fps
    interval_median = float(np.median(intervals)) if intervals.size else 0.0
    interval_cv = (
        float(intervals.std() / intervals.mean())
        if intervals.size > 1 and intervals.mean() > 0
        else 0.0
    )
    strengths = onset[np.asarray(beats, dtype=np.int64)] if len(beats) else np.zeros(1)

    entropy = _normalised_entropy(acf[range_lags]) if range_lags.size else 1.0
    stability = float(np.mean(bpm_agrees(local_bpm, bpm))) if bpm > 0 and local_bpm.size else 0.0

    return np.array(
        [
            p50,
            p75 - p25,
            onset.std() if onset.size else 0.0,
            p10,
            p90,
            peak1,
            peak2,
            peak_ratio,
            *acf_at_beats,
            interval_cv,
            interval_median,
            np.median(strengths),
            _iqr(strengths),
            len(onset_peaks) / duration_s,
            entropy,
            bpm,
            stability,
        ],
        dtype=np.float64,
    )


def timbre_tower(
    *,
    mfcc: np.ndarray,
    mfcc_delta: np.ndarray,
    contrast: np.ndarray,
    rolloff: np.ndarray,
    centroid: np.ndarray,
    bandwidth: np.ndarray,
    flux: np.ndarray,
    zcr: np.ndarray,
    boundaries: np.ndarray,
) -> np.ndarray:
    """Timbre features of one segment from its frame matrices.

    Parameters
    ----------
    mfcc, mfcc_delta : numpy.ndarray, shape (20, n_frames)
    contrast : numpy.ndarray, shape (7, n_frames)
    rolloff, centroid, bandwidth, flux, zcr : numpy.ndarray, shape (n_frames,)
    boundaries : numpy.ndarray, shape (k,), int
        Beat or grid frames (relative) between which frames are aggregated.

    Returns
    -------
    numpy.ndarray, shape (83,)
    """
    stacked = np.vstack([mfcc, mfcc_delta, contrast, rolloff, centroid, bandwidth, flux, zcr])
    synced = beat_synchronous(stacked.astype(np.float64), boundaries)
    median, iqr = np.median(synced, axis=1), _iqr(synced, axis=1)
    n_mfcc, n_contrast = mfcc.shape[0], contrast.shape[0]
    contrast_rows = slice(2 * n_mfcc, 2 * n_mfcc + n_contrast)
    scalar = 2 * n_mfcc + n_contrast  # rolloff, centroid, bandwidth, flux, zcr
    pairs = [value for row in range(scalar, scalar + 4) for value in (median[row], iqr[row])]
    return np.concatenate(
        [
            median[:n_mfcc],
            iqr[:n_mfcc],
            median[n_mfcc : 2 * n_mfcc],
            median[contrast_rows],
            iqr[contrast_rows],
            pairs,
            [median[scalar + 4]],
        ]
    )


def harmony_tower(*, chroma: np.ndarray, tonnetz: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
    """Harmony features of one segment from its chroma and tonnetz.

    Parameters
    ----------
    chroma : numpy.ndarray, shape (12, n_frames)
        Pitch classes from C.
    tonnetz : numpy.ndarray, shape (6, n_frames)
    boundaries : numpy.ndarray, shape (k,), int

    Returns
    -------
    numpy.ndarray, shape (33,)
        ``chroma_peak_count`` counts the circular local maxima of the median chroma at half
        its maximum or more; ``key_strength`` is the best Pearson correlation of the mean
        chroma with the 24 Krumhansl-Kessler key profiles (0 for flat chroma).
    """
    synced = beat_synchronous(np.vstack([chroma, tonnetz]).astype(np.float64), boundaries)
    chroma_sync, tonnetz_sync = synced[:12], synced[12:]
    chroma_median, chroma_iqr = np.median(chroma_sync, axis=1), _iqr(chroma_sync, axis=1)
    profile = chroma_sync.mean(axis=1)

    peak_count = 0
    if profile.max() > 0:
        left, right = np.roll(profile, 1), np.roll(profile, -1)
        peak_count = int(
            np.sum((profile >= left) & (profile > right) & (profile >= 0.5 * profile.max()))
        )

    key_strength = 0.0
    if profile.std() > 1e-9:
        for template in (MAJOR_PROFILE, MINOR_PROFILE):
            for shift in range(12):
                key_strength = max(
                    key_strength, float(np.corrcoef(profile, np.roll(template, shift))[0, 1])
                )
    return np.concatenate(
        [
            chroma_median,
            chroma_iqr,
            [_normalised_entropy(profile), peak_count, key_strength],
            np.median(tonnetz_sync, axis=1),
        ]
    )


# ---------------------------------------------------------------- segments and extraction


def segment_bounds(duration_s: float, *, fps: float, n_frames: int) -> dict[str, tuple[int, int]]:
    """Frame ranges ``[start, stop)`` of the four segments.

    Examples
    --------
    >>> segment_bounds(120.0, fps=10.0, n_frames=1200)
    {'full': (0, 1200), 'start': (0, 300), 'mid': (450, 750), 'end': (900, 1200)}
    >>> segment_bounds(45.0, fps=10.0, n_frames=450)["end"]
    (0, 450)
    """
    full = (0, n_frames)
    if duration_s <= SHORT_TRACK_S:
        return dict.fromkeys(SEGMENTS, full)
    length = int(round(SEGMENT_S * fps))
    middle = int(round(duration_s / 2 * fps))
    mid_start = max(0, min(middle - length // 2, n_frames - length))
    return {
        "full": full,
        "start": (0, min(length, n_frames)),
        "mid": (mid_start, mid_start + length),
        "end": (max(0, n_frames - length), n_frames),
    }


def extract_features(y: np.ndarray, *, sr: int, hop_length: int = 512) -> TrackFeatures:
    """Beat3tower features of a mono signal: full track, start, middle and end.

    Parameters
    ----------
    y : numpy.ndarray, shape (n_samples,)
        Mono audio, finite (as :func:`musicwb.sonic.io.read_audio` returns it).
    sr : int
        Sample rate of ``y`` (22050 is what the feature parameters are chosen for).
    hop_length : int, default 512

    Returns
    -------
    TrackFeatures
        Four float32 vectors of shape (137,), never NaN or infinite.

    Raises
    ------
    ParameterError
        ``y`` is not one-dimensional, holds NaN or infinity, or ``sr``/``hop_length`` is not
        positive.
    """

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"y must be a mono signal of shape (n_samples,), got shape {y.shape}")
    if sr <= 0 or hop_length <= 0:
        raise ParameterError(
            f"sr and hop_length must be positive, got sr={sr!r}, hop_length={hop_length!r}"
        )
    if not np.all(np.isfinite(y)):
        raise ParameterError("y holds NaN or infinite samples")
    duration_s = y.shape[0] / sr

    frames = compute_frames(y, sr=sr, hop_length=hop_length)
    fps, n_frames = frames.fps, frames.n_frames
    tempo = estimate_tempo(frames.onset, sr=sr, hop_length=hop_length)
    beats = (
        track_beats(frames.onset, sr=sr, hop_length=hop_length, bpm=tempo.bpm)
        if tempo.rhythmic
        else np.zeros(0, np.int64)
    )
    tempo = refine_with_beats(tempo, beats, sr=sr, hop_length=hop_length)
    local = local_bpm(frames.onset, sr=sr, hop_length=hop_length)
    onset_peaks = _onset_peaks(frames.onset, sr=sr, hop_length=hop_length)

    vectors: dict[str, np.ndarray] = {}
    fixed_grid: dict[str, bool] = {}
    computed: dict[tuple[int, int], tuple[np.ndarray, bool, float]] = {}
    for name, (a, b) in segment_bounds(duration_s, fps=fps, n_frames=n_frames).items():
        if (a, b) not in computed:
            computed[(a, b)] = _segment_vector(
                frames,
                a,
                b,
                beats=beats,
                onset_peaks=onset_peaks,
                local=local,
                track_tempo=tempo if (a, b) == (0, n_frames) else None,
            )
        vectors[name], fixed_grid[name], _ = computed[(a, b)]

    stability = computed[(0, n_frames)][2]
    return TrackFeatures(
        segments=vectors,
        bpm_info={
            "bpm": float(tempo.bpm),
            "half_tempo_likely": tempo.half_tempo_likely,
            "double_tempo_likely": tempo.double_tempo_likely,
            "tempo_stability": float(stability),
            "pulse_clarity": float(tempo.pulse_clarity),
        },
        fixed_grid=fixed_grid,
        duration_s=float(duration_s),
        n_beats=len(beats),
    )


def _onset_peaks(onset: np.ndarray, *, sr: int, hop_length: int) -> np.ndarray:
    import librosa

    if not np.any(onset > 0):
        return np.zeros(0, dtype=np.int64)
    return np.asarray(
        librosa.onset.onset_detect(onset_envelope=onset, sr=sr, hop_length=hop_length),
        dtype=np.int64,
    )


def _segment_vector(frames, a: int, b: int, *, beats, onset_peaks, local, track_tempo):
    """One segment's 137-vector, its fixed-grid flag and its tempo stability."""

    sr, hop = frames.sr, frames.hop_length
    onset = frames.onset[a:b]
    segment_beats = beats[(beats >= a) & (beats < b)] - a
    tempo = track_tempo
    if tempo is None:
        tempo = refine_with_beats(
            estimate_tempo(onset, sr=sr, hop_length=hop), segment_beats, sr=sr, hop_length=hop
        )
    silent = float(frames.rms[a:b].max(initial=0.0)) < SILENCE_RMS
    use_grid = silent or not tempo.rhythmic or len(segment_beats) < MIN_BEATS
    boundaries = _grid(b - a, frames.fps) if use_grid else segment_beats
    bpm = 0.0 if silent else tempo.bpm

    # Without a pulse clearer than chance there is no tempo to be stable: stability 0.
    local_tempo = local[a:b] if tempo.rhythmic and not silent else np.zeros(b - a)
    rhythm = rhythm_tower(
        onset,
        beats=boundaries,
        onset_peaks=onset_peaks[(onset_peaks >= a) & (onset_peaks < b)] - a,
        local_bpm=local_tempo,
        bpm=bpm,
        sr=sr,
        hop_length=hop,
    )
    timbre = timbre_tower(
        mfcc=frames.mfcc[:, a:b],
        mfcc_delta=frames.mfcc_delta[:, a:b],
        contrast=frames.contrast[:, a:b],
        rolloff=frames.rolloff[a:b],
        centroid=frames.centroid[a:b],
        bandwidth=frames.bandwidth[a:b],
        flux=frames.flux[a:b],
        zcr=frames.zcr[a:b],
        boundaries=boundaries,
    )
    harmony = harmony_tower(
        chroma=frames.chroma[:, a:b], tonnetz=frames.tonnetz[:, a:b], boundaries=boundaries
    )
    vector = np.concatenate([rhythm, timbre, harmony])
    vector = np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
    stability = float(rhythm[feature_names().index("tempo_stability")])
    return vector, bool(use_grid), stability


# ---------------------------------------------------------------- worker set-up


def configure_worker(
    data_dir: str | Path | None = None,
    *,
    numba_cache: str | Path | None = None,
    blas_threads: int = 1,
) -> Path:
    """Prepare a worker process: its own numba cache slot and a fixed number of BLAS threads.

    Call it first thing in a worker, before librosa is imported: numba reads
    ``NUMBA_CACHE_DIR`` when librosa defines its compiled functions, and the cache lets later
    runs reuse the compiled beat tracker instead of compiling it again. Two processes must
    never compile into one cache folder at the same time (that corrupts it, and every later
    run crashes with SIGSEGV), so each process takes a *slot* of the cache for its lifetime
    (:func:`musicwb.sonic.numba_cache.acquire_slot`): the folder itself for the first process,
    ``numba.1``, ``numba.2`` ... beside it for the others. A ``NUMBA_CACHE_DIR`` set by the user
    is taken as the cache folder; one inherited from a parent process that ran this function
    is not (the child takes its own slot).
    With ``P`` worker processes on ``P`` cores, one BLAS thread each avoids oversubscription.

    Parameters
    ----------
    data_dir : str or Path, optional
        The musicwb data directory (default: ``get_settings().data_dir``); the cache goes to
        ``<data_dir>/cache/numba``. Ignored when ``numba_cache`` is given.
    numba_cache : str or Path, optional
        The cache folder itself (extraction passes
        :attr:`musicwb.store.paths.StorePaths.numba_cache`, beside the store).
    blas_threads : int, default 1

    Returns
    -------
    Path
        The numba cache slot in effect (``NUMBA_CACHE_DIR``).

    Examples
    --------
    >>> configure_worker(numba_cache="/tmp/musicwb-data/lib.cache/numba")  # doctest: +SKIP
    PosixPath('/tmp/musicwb-data/lib.cache/numba')
    """

    if blas_threads < 1:
        raise ParameterError(f"blas_threads must be at least 1, got {blas_threads!r}")
    inherited = os.environ.get("NUMBA_CACHE_DIR")
    if inherited and inherited != os.environ.get(_SLOT_VARIABLE):
        root = Path(inherited)  # the user's choice
    elif numba_cache is not None:
        root = Path(numba_cache)
    else:
        if data_dir is None:
            data_dir = get_settings().data_dir
        root = Path(data_dir).resolve() / "cache" / "numba"
    cache_dir = acquire_slot(root)
    os.environ["NUMBA_CACHE_DIR"] = os.environ[_SLOT_VARIABLE] = str(cache_dir)
    # For BLAS libraries loaded after this call (and child processes).
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(blas_threads))
    if "numba" in sys.modules:  # already loaded: make it read the cache directory again
        from numba.core.config import reload_config

        reload_config()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=blas_threads)  # covers BLAS libraries numpy has already loaded
    return cache_dir


_SLOT_VARIABLE = "MUSICWB_NUMBA_SLOT"  # the slot configure_worker chose (children inherit it)
