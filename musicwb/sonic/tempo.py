"""Tempo estimation and beat tracking from one onset envelope.

The estimator is generic (nothing is tuned per file). It combines

1. the autocorrelation of the mean-removed, *median*-aggregated onset envelope (the median over
   mel bands follows broadband percussive onsets and ignores single-band note changes), with
   parabolic interpolation of the peak for sub-frame lag precision;
2. a log-normal tempo prior centred on :data:`PRIOR_CENTER_BPM` (one octave wide), which picks
   the metrical level a listener would tap among the lag, its double and its half;
3. the beat tracker run at that tempo: when the mean beat interval agrees within 4 %, its finer
   estimate replaces the lag-quantised one.

Silence and arrhythmic audio are recognised by the pulse clarity (height of the chosen
autocorrelation peak) falling below what chance reaches for an envelope of that length;
callers then use a fixed grid instead of beats. Windowed autocorrelations (a tempogram) give the
local tempo of every frame, from which the tempo stability is measured.

Examples
--------
>>> import numpy as np
>>> sr, hop = 22050, 512
>>> onset = np.zeros(1300); onset[::26] = 1.0            # one onset every 26 frames
>>> round(estimate_tempo(onset, sr=sr, hop_length=hop).bpm)  # 60 * 22050 / 512 / 26
99
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_BPM",
    "MIN_BPM",
    "MIN_PULSE_CLARITY",
    "PRIOR_CENTER_BPM",
    "PRIOR_OCTAVES",
    "TEMPOGRAM_WIN",
    "TempoEstimate",
    "bpm_agrees",
    "estimate_tempo",
    "local_bpm",
    "onset_autocorrelation",
    "refine_with_beats",
    "significance_threshold",
    "track_beats",
]

MIN_BPM = 40.0
MAX_BPM = 240.0
PRIOR_CENTER_BPM = 100.0
PRIOR_OCTAVES = 1.0
MIN_PULSE_CLARITY = 0.1  # below this the best periodicity is no better than noise
TEMPOGRAM_WIN = 384  # frames: 8.9 s at 22050 Hz / hop 512
LOCAL_STRIDE = 16  # frames between local tempo windows (0.37 s)
OCTAVE_LIKELY_RATIO = 0.7  # raw autocorrelation of the half/double lag vs the primary lag


@dataclass(frozen=True)
class TempoEstimate:
    """A tempo estimate and the evidence behind it.

    Attributes
    ----------
    bpm : float
        Primary tempo in beats per minute (0.0 when there is no pulse at all).
    lag_s : float
        The beat period in seconds (``60 / bpm``; 0.0 without a pulse).
    pulse_clarity : float
        Height of the chosen autocorrelation peak, in [0, 1] (1 = perfectly periodic).
    half_tempo_likely : bool
        The lag twice as long is nearly as strong: ``bpm / 2`` is a plausible reading.
    double_tempo_likely : bool
        The lag half as long is nearly as strong: ``bpm * 2`` is a plausible reading.
    clarity_threshold : float
        The pulse clarity that chance reaches for an envelope this long (see
        :func:`significance_threshold`).
    """

    bpm: float
    lag_s: float
    pulse_clarity: float
    half_tempo_likely: bool
    double_tempo_likely: bool
    clarity_threshold: float = MIN_PULSE_CLARITY

    @property
    def rhythmic(self) -> bool:
        """Whether the pulse is clearer than chance, so that beats are worth tracking."""
        return self.bpm > 0 and self.pulse_clarity >= self.clarity_threshold


def _lag_bpm(lags: np.ndarray, fps: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(lags > 0, 60.0 * fps / np.maximum(lags, 1e-12), np.inf)


def _log_normal_prior(bpm: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * (np.log2(bpm / PRIOR_CENTER_BPM) / PRIOR_OCTAVES) ** 2)


def _interp(curve: np.ndarray, lag: float) -> float:
    """Linear interpolation of ``curve`` at a fractional lag (0 outside)."""
    if lag < 0 or lag > len(curve) - 1:
        return 0.0
    return float(np.interp(lag, np.arange(len(curve)), curve))


def _parabolic_peak(curve: np.ndarray, index: int) -> float:
    if index <= 0 or index >= len(curve) - 1:
        return float(index)
    left, mid, right = curve[index - 1], curve[index], curve[index + 1]
    denominator = left - 2 * mid + right
    if denominator >= 0:  # not a maximum
        return float(index)
    return float(index + 0.5 * (left - right) / denominator)


def onset_autocorrelation(onset: np.ndarray, *, max_lag: int = TEMPOGRAM_WIN) -> np.ndarray:
    """Autocorrelation of the mean-removed onset envelope, normalised to 1 at lag 0.

    Removing the mean matters: the envelope is never negative, and without centring every lag
    correlates strongly (even for white noise), which would hide the absence of a pulse.

    Parameters
    ----------
    onset : numpy.ndarray, shape (n_frames,)
    max_lag : int

    Returns
    -------
    numpy.ndarray, shape (min(max_lag, n_frames),)
        All zeros for a flat envelope (silence).
    """
    centred = np.asarray(onset, dtype=np.float64)
    centred = centred - centred.mean() if centred.size else centred
    size = min(max_lag, centred.size)
    if size == 0:
        return np.zeros(0)
    n_fft = 1 << int(np.ceil(np.log2(2 * centred.size)))
    spectrum = np.fft.rfft(centred, n=n_fft)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), n=n_fft)[:size]
    if acf[0] <= 1e-12:
        return np.zeros(size)
    return acf / acf[0]


def significance_threshold(n_frames: int) -> float:
    """Smallest pulse clarity that is more than chance for an envelope of ``n_frames`` frames.

    The autocorrelation of white noise at a non-zero lag has a spread of about
    ``1 / sqrt(n_frames)``; the best of the tempo-range lags reaches about three times that.
    """
    return max(MIN_PULSE_CLARITY, 3.0 / np.sqrt(max(n_frames, 1)))


def estimate_tempo(onset: np.ndarray, *, sr: int, hop_length: int = 512) -> TempoEstimate:
    """Primary tempo of an onset envelope (a whole track or a segment of it).

    Parameters
    ----------
    onset : numpy.ndarray, shape (n_frames,)
        Onset strength (e.g. median-aggregated log-mel flux) at ``sr / hop_length`` frames/s.
    sr : int
    hop_length : int

    Returns
    -------
    TempoEstimate
        ``bpm`` is 0.0 when the envelope is flat.

    Examples
    --------
    >>> onset = np.zeros(2000); onset[::26] = 1.0
    >>> round(estimate_tempo(onset, sr=22050, hop_length=512).bpm)
    99
    """
    onset = np.nan_to_num(np.asarray(onset, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    curve = onset_autocorrelation(onset)
    # Lags are whole frames; a beat period between two of them (21.5 frames, say) splits its
    # peak into two halves that would lose against a whole-numbered multiple. Scoring each lag
    # by the better of its two pairs with a neighbour keeps such a peak whole.
    pooled = curve.copy()
    if curve.size >= 2:
        pairs = (curve[:-1] + curve[1:]) / 2
        pooled[:-1] = pairs
        pooled[1:] = np.maximum(pooled[1:], pairs)
    fps = sr / hop_length
    lags = np.arange(curve.size, dtype=np.float64)
    bpm = _lag_bpm(lags, fps)
    in_range = (bpm >= MIN_BPM) & (bpm <= MAX_BPM)
    threshold = significance_threshold(onset.size)
    if not np.any(in_range) or np.max(curve[in_range], initial=0.0) <= 0:
        return TempoEstimate(0.0, 0.0, 0.0, False, False, threshold)
    prior = _log_normal_prior(np.where(in_range, bpm, PRIOR_CENTER_BPM))
    score = np.where(in_range, np.clip(pooled, 0, None) * prior, -np.inf)
    best = int(np.argmax(score))
    best = max(best - 1, 0) + int(
        np.argmax(curve[max(best - 1, 0) : best + 2])
    )  # the raw peak beside it
    lag = _parabolic_peak(curve, best)
    height = float(np.clip(curve[best], 0.0, 1.0))
    half = _interp(pooled, 2 * lag) / max(_interp(pooled, lag), 1e-12) * height  # twice the period
    double = _interp(pooled, lag / 2) / max(_interp(pooled, lag), 1e-12) * height
    primary = 60.0 * fps / lag
    return TempoEstimate(
        bpm=float(primary),
        lag_s=float(lag / fps),
        pulse_clarity=height,
        half_tempo_likely=bool(
            height > 0 and half >= OCTAVE_LIKELY_RATIO * height and primary / 2 >= MIN_BPM
        ),
        double_tempo_likely=bool(
            height > 0 and double >= OCTAVE_LIKELY_RATIO * height and primary * 2 <= MAX_BPM
        ),
        clarity_threshold=threshold,
    )


def local_bpm(
    onset: np.ndarray, *, sr: int, hop_length: int = 512, stride: int = LOCAL_STRIDE
) -> np.ndarray:
    """Local tempo of every frame: the best lag of a windowed autocorrelation (no prior).

    Windows of :data:`TEMPOGRAM_WIN` frames (8.9 s at 22050 Hz / 512), centred every
    ``stride`` frames, mean-removed and Hann-weighted, as an autocorrelation tempogram
    computed at a coarser time step (tempo changes slowly, so every frame would waste time).

    Parameters
    ----------
    onset : numpy.ndarray, shape (n_frames,)
    sr, hop_length : int
    stride : int
        Frames between window centres; each frame takes the tempo of its nearest window.

    Returns
    -------
    numpy.ndarray, shape (n_frames,)
        BPM, 0.0 where the window holds no pulse (silence).
    """
    onset = np.asarray(onset, dtype=np.float64)
    n_frames = onset.size
    if n_frames == 0:
        return np.zeros(0)
    half = TEMPOGRAM_WIN // 2
    padded = np.pad(onset, (half, half))
    centres = np.arange(0, n_frames, stride)
    windows = np.lib.stride_tricks.sliding_window_view(padded, TEMPOGRAM_WIN)[centres]
    windows = (windows - windows.mean(axis=1, keepdims=True)) * np.hanning(TEMPOGRAM_WIN)
    spectrum = np.fft.rfft(windows, n=2 * TEMPOGRAM_WIN, axis=1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, n=2 * TEMPOGRAM_WIN, axis=1)[:, :TEMPOGRAM_WIN]
    fps = sr / hop_length
    bpm = _lag_bpm(np.arange(TEMPOGRAM_WIN, dtype=np.float64), fps)
    rows = np.flatnonzero((bpm >= MIN_BPM) & (bpm <= MAX_BPM))
    if rows.size == 0:
        return np.zeros(n_frames)
    in_range = acf[:, rows]
    best = bpm[rows[np.argmax(in_range, axis=1)]]
    best = np.where((acf[:, 0] > 1e-12) & (in_range.max(axis=1) > 0), best, 0.0)
    nearest = np.minimum((np.arange(n_frames) + stride // 2) // stride, centres.size - 1)
    return best[nearest]


def bpm_agrees(
    estimate: np.ndarray | float, reference: float, *, tolerance: float = 0.04, octaves: bool = True
) -> np.ndarray | bool:
    """Whether an estimate is within ``tolerance`` of a reference (or its half or double)."""
    estimate = np.asarray(estimate, dtype=np.float64)
    if reference <= 0:
        return np.zeros(estimate.shape, dtype=bool) if estimate.ndim else False
    factors = (1.0, 0.5, 2.0) if octaves else (1.0,)
    close = np.zeros(estimate.shape, dtype=bool)
    for factor in factors:
        close |= np.abs(estimate - reference * factor) <= tolerance * reference * factor
    return close if estimate.ndim else bool(close)


def track_beats(onset: np.ndarray, *, sr: int, hop_length: int = 512, bpm: float) -> np.ndarray:
    """Beat frames by dynamic programming at a given tempo (librosa's beat tracker).

    Returns
    -------
    numpy.ndarray, shape (n_beats,), int
        Frame indices of the beats, empty when the envelope is flat or ``bpm`` is 0.
    """
    import librosa

    if bpm <= 0 or not np.any(onset > 0):
        return np.zeros(0, dtype=np.int64)
    _, beats = librosa.beat.beat_track(
        onset_envelope=np.asarray(onset, dtype=np.float32),
        sr=sr,
        hop_length=hop_length,
        bpm=float(bpm),
        units="frames",
    )
    return np.asarray(beats, dtype=np.int64)


def refine_with_beats(
    estimate: TempoEstimate, beats: np.ndarray, *, sr: int, hop_length: int = 512
) -> TempoEstimate:
    """Replace the lag-quantised tempo by the mean beat interval when the two agree within 4 %."""
    if estimate.bpm <= 0 or len(beats) < 4:
        return estimate
    span_s = (beats[-1] - beats[0]) * hop_length / sr
    if span_s <= 0:
        return estimate
    from_beats = 60.0 * (len(beats) - 1) / span_s
    if not bpm_agrees(from_beats, estimate.bpm, octaves=False):
        return estimate
    return TempoEstimate(
        bpm=float(from_beats),
        lag_s=float(60.0 / from_beats),
        pulse_clarity=estimate.pulse_clarity,
        half_tempo_likely=estimate.half_tempo_likely,
        double_tempo_likely=estimate.double_tempo_likely,
        clarity_threshold=estimate.clarity_threshold,
    )
