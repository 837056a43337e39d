"""Every frame-level representation of a signal, computed once.

One STFT feeds the mel spectrogram (→ MFCC, onset envelopes, spectral flux), the spectral
shape features and the chroma (``chroma_stft`` from the same power spectrum; tonnetz from that
chroma). One median-aggregated onset envelope feeds tempo, beats, tempogram and the rhythm
statistics. All matrices share one frame grid (``sr / hop_length`` frames per second, frame
``t`` centred at ``t * hop_length`` samples), so segments are slices of columns.

Memory: the spectrum is computed in blocks of :data:`CHUNK_FRAMES` frames (one block of
complex STFT is 17 MB, its magnitude and power 8 MB each); only the small per-frame results
are kept for the whole track: 128 mel bands plus about 70 other rows of float32, about 2 MB
per minute at 22050 Hz (120 MB for a 1-hour mix, beside the 318 MB of the signal itself).
A whole-track STFT would take 21 MB per minute as complex64 (1.3 GB per hour), plus as much
again for magnitude and power. Every feature is frame-local, so blocks change nothing, except
librosa's spectral contrast, whose dB floor sits 80 dB below each block's loudest value: in
near-silent frames it can differ by a few dB from a whole-track computation.

Examples
--------
>>> import numpy as np
>>> y = np.sin(2 * np.pi * 440 * np.arange(22050 * 2) / 22050).astype(np.float32)
>>> frames = compute_frames(y, sr=22050)
>>> frames.mfcc.shape, frames.chroma.shape, frames.onset.shape
((20, 87), (12, 87), (87,))
"""

from __future__ import annotations

import functools
import itertools
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["CHUNK_FRAMES", "N_FFT", "N_MELS", "N_MFCC", "Frames", "compute_frames"]

N_FFT = 2048
N_MELS = 128
N_MFCC = 20
CHUNK_FRAMES = 2048  # STFT frames per block (47 s at 22050 Hz / 512)
CONTRAST_FMIN, CONTRAST_BANDS, CONTRAST_QUANTILE = 200.0, 6, 0.02  # librosa's defaults
STFT_ROWS = 256  # frames per FFT call (4 MB of float64 windowed frames)
SAMPLED_FRAMES = 2000  # frames sampled across the track for its tuning and loudest level
MEL_TOP_DB = 80.0  # log-mel floor below the track's loudest mel value


@dataclass(frozen=True)
class Frames:
    """Frame-level representations on one grid of ``n_frames`` frames.

    Attributes
    ----------
    sr, hop_length : int
    onset : ndarray, shape (n_frames,)
        Median over mel bands of the positive log-mel difference (onset strength).
    flux : ndarray, shape (n_frames,)
        Mean over mel bands of the same difference (spectral flux, dB per frame).
    rms : ndarray, shape (n_frames,)
        Root-mean-square amplitude (for silence detection).
    mfcc, mfcc_delta : ndarray, shape (20, n_frames)
    contrast : ndarray, shape (7, n_frames)
        Spectral contrast in dB (six octave bands from 200 Hz and the rest).
    rolloff, centroid, bandwidth : ndarray, shape (n_frames,)
        In Hz.
    zcr : ndarray, shape (n_frames,)
        Zero-crossing rate, per sample.
    chroma : ndarray, shape (12, n_frames)
        Pitch-class energy, C first, each frame scaled to a maximum of 1.
    tonnetz : ndarray, shape (6, n_frames)
        Tonal centroid (fifths x/y, minor thirds x/y, major thirds x/y).
    """

    sr: int
    hop_length: int
    onset: np.ndarray
    flux: np.ndarray
    rms: np.ndarray
    mfcc: np.ndarray
    mfcc_delta: np.ndarray
    contrast: np.ndarray
    rolloff: np.ndarray
    centroid: np.ndarray
    bandwidth: np.ndarray
    zcr: np.ndarray
    chroma: np.ndarray
    tonnetz: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.onset.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self.sr / self.hop_length


def _finite(array: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(array, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def _spectral_shape(magnitude: np.ndarray, *, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolloff (85 %), centroid and bandwidth in Hz, as librosa defines them, in one pass.

    librosa computes each separately, normalising the whole spectrogram each time; here one
    matrix product per moment does it (about five times faster on a 3-minute track), and the
    rolloff counts bins below 85 % of the running sum without keeping the running sums.
    """
    from musicwb.sonic.kernels import rolloff_bins

    freqs = np.linspace(0, sr / 2, magnitude.shape[0], dtype=np.float32)
    total = magnitude.sum(axis=0, dtype=np.float64)
    safe = np.where(total > 0, total, 1.0)
    centroid = (freqs @ magnitude).astype(np.float64) / safe
    second = ((freqs * freqs) @ magnitude).astype(np.float64) / safe
    bandwidth = np.sqrt(np.clip(second - centroid**2, 0, None))
    below = rolloff_bins(np.ascontiguousarray(magnitude, dtype=np.float32), 0.85)
    rolloff = freqs[np.minimum(below, freqs.size - 1)].astype(np.float64)
    silent = total <= 0
    return (
        np.where(silent, 0.0, rolloff),
        np.where(silent, 0.0, centroid),
        np.where(silent, 0.0, bandwidth),
    )


@functools.lru_cache(maxsize=8)
def _contrast_bands(sr: int, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """librosa's spectral contrast bands as bin ranges ``lo:hi`` and quantile counts ``q``.

    Six octaves from 200 Hz and the rest, each with the bin just below it, all but the last
    without their top bin, ``q`` the rounded 2 % of the band's bins (at least 1), exactly as
    ``librosa.feature.spectral_contrast`` (fmin 200, n_bands 6, quantile 0.02) selects them.
    """
    import librosa

    freq = librosa.fft_frequencies(sr=sr, n_fft=2 * (n_bins - 1))
    edges = np.zeros(CONTRAST_BANDS + 2)
    edges[1:] = CONTRAST_FMIN * (2.0 ** np.arange(0, CONTRAST_BANDS + 1))
    lo, hi, q = [], [], []
    for k, (f_low, f_high) in enumerate(itertools.pairwise(edges)):
        band = np.logical_and(freq >= f_low, freq <= f_high)
        inside = np.flatnonzero(band)
        if k > 0:
            band[inside[0] - 1] = True
        if k == CONTRAST_BANDS:
            band[inside[-1] + 1 :] = True
        rows = np.flatnonzero(band)
        if k < CONTRAST_BANDS:
            rows = rows[:-1]
        lo.append(rows[0])
        hi.append(rows[-1] + 1)
        q.append(max(int(np.rint(CONTRAST_QUANTILE * np.sum(band))), 1))
    return np.array(lo), np.array(hi), np.array(q)


def _spectral_contrast(magnitude: np.ndarray, *, sr: int) -> np.ndarray:
    """``librosa.feature.spectral_contrast(S=magnitude, sr=sr)``, the same numbers.

    librosa sorts every band of every frame to average its lowest and highest 2 %; keeping
    only those few values per frame (:func:`~musicwb.sonic.kernels.band_extremes`) is about
    2.5 times faster.
    """
    import librosa

    from musicwb.sonic.kernels import band_extremes

    lo, hi, q = _contrast_bands(int(sr), magnitude.shape[0])
    frames = np.ascontiguousarray(magnitude.T, dtype=np.float32)
    valley, peak = band_extremes(frames, lo, hi, q)
    return librosa.power_to_db(peak) - librosa.power_to_db(valley)


def _zero_crossing_rate(y: np.ndarray, *, hop_length: int, n_frames: int) -> np.ndarray:
    """Zero crossings per sample in centred windows of ``N_FFT`` samples (librosa's definition)."""
    negative = np.signbit(y)
    cumulative = np.zeros(y.shape[0] + 1, dtype=np.int32)
    np.cumsum(negative[1:] != negative[:-1], out=cumulative[2:])
    centres = np.arange(n_frames) * hop_length
    lo = np.clip(centres - N_FFT // 2, 0, y.shape[0])
    hi = np.clip(centres + N_FFT // 2, 0, y.shape[0])
    return (cumulative[hi] - cumulative[lo]) / N_FFT


def _stft_magnitude_chunks(
    padded: np.ndarray, *, hop_length: int, n_frames: int, chunk_frames: int
):
    """``(first_frame, magnitude)`` for consecutive blocks of frames of a centred STFT.

    ``padded`` is the signal with ``N_FFT // 2`` zeros on each side, so frame ``t`` covers
    ``padded[t * hop : t * hop + N_FFT]`` exactly as ``librosa.stft(center=True)`` frames it.
    Each magnitude block has shape ``(1 + N_FFT // 2, frames)`` and is a transposed view of
    a C-contiguous ``(frames, bins)`` array, the layout ``librosa.stft`` returns.

    The numbers are ``np.abs(librosa.stft(block, center=False))``'s: the same float64 window
    product and float64 FFT, stored as complex64; but the FFT runs along contiguous rows of
    :data:`STFT_ROWS` frames rather than along strided columns, a quarter faster.
    """
    import librosa
    import scipy.fft

    window = librosa.filters.get_window("hann", N_FFT, fftbins=True)
    for first in range(0, n_frames, chunk_frames):
        last = min(first + chunk_frames, n_frames)
        block = padded[first * hop_length : (last - 1) * hop_length + N_FFT]
        frames = np.lib.stride_tricks.sliding_window_view(block, N_FFT)[::hop_length]
        spectrum = np.empty((frames.shape[0], 1 + N_FFT // 2), dtype=np.complex64)
        for row in range(0, frames.shape[0], STFT_ROWS):
            rows = slice(row, row + STFT_ROWS)
            spectrum[rows] = scipy.fft.rfft(frames[rows] * window, axis=-1)
        yield first, np.abs(spectrum).T


def _sampled_power(padded: np.ndarray, *, hop_length: int, n_frames: int) -> np.ndarray:
    """Power spectrum of at most ~2000 frames spread over the track (for track-level constants)."""
    import librosa

    stride = max(8, n_frames // SAMPLED_FRAMES)
    frames = librosa.util.frame(padded, frame_length=N_FFT, hop_length=hop_length * stride)
    window = librosa.filters.get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    return np.abs(np.fft.rfft(frames * window[:, None], axis=0)) ** 2


def _tuning(power: np.ndarray, *, sr: int) -> float:
    """Tuning offset in fractions of a semitone."""
    import librosa

    if not np.any(power > 0):
        return 0.0
    with warnings.catch_warnings():
        # Pitch-free input (clicks, a DC offset) has nothing to tune from: tuning 0.
        warnings.filterwarnings(
            "ignore", message="Trying to estimate tuning from empty frequency set"
        )
        tuning = librosa.estimate_tuning(S=power, sr=sr)
    return float(np.nan_to_num(tuning))


def compute_frames(
    y: np.ndarray, *, sr: int, hop_length: int = 512, chunk_frames: int = CHUNK_FRAMES
) -> Frames:
    """Compute the STFT once, block by block, and derive every frame-level feature from it.

    Parameters
    ----------
    y : numpy.ndarray, shape (n_samples,)
        Mono signal; shorter signals are zero-padded to one FFT window.
    sr : int
    hop_length : int
    chunk_frames : int
        STFT frames per block; only one block of spectrum is held at a time.

    Returns
    -------
    Frames
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if y.shape[0] < N_FFT:
        y = np.pad(y, (0, N_FFT - y.shape[0]))
    padded = np.pad(y, (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + y.shape[0] // hop_length
    sampled = _sampled_power(padded, hop_length=hop_length, n_frames=n_frames)
    tuning = _tuning(sampled, sr=sr)
    mel_basis = librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=N_MELS)
    # librosa clips log-mel at 80 dB below the loudest value (top_db); one floor for the whole
    # track, from the sampled frames, keeps blocks consistent. Without a floor, near-silent
    # bands swing by tens of dB between codecs (FLAC's dither against AAC's empty bands).
    floor_db = (
        float(librosa.power_to_db(np.max(mel_basis @ sampled, initial=1e-10), ref=1.0)) - MEL_TOP_DB
    )

    parts: dict[str, list[np.ndarray]] = {
        name: []
        for name in ("mel_db", "contrast", "rolloff", "centroid", "bandwidth", "chroma", "rms")
    }
    for _, magnitude in _stft_magnitude_chunks(
        padded, hop_length=hop_length, n_frames=n_frames, chunk_frames=chunk_frames
    ):
        power = magnitude**2
        mel_db = librosa.power_to_db(mel_basis @ power, ref=1.0, amin=1e-10, top_db=None)
        parts["mel_db"].append(np.maximum(mel_db, floor_db))
        with np.errstate(divide="ignore", invalid="ignore"):
            parts["contrast"].append(_spectral_contrast(magnitude, sr=sr))
            rolloff, centroid, bandwidth = _spectral_shape(magnitude, sr=sr)
            parts["chroma"].append(librosa.feature.chroma_stft(S=power, sr=sr, tuning=tuning))
        parts["rolloff"].append(rolloff)
        parts["centroid"].append(centroid)
        parts["bandwidth"].append(bandwidth)
        parts["rms"].append(librosa.feature.rms(S=magnitude, frame_length=N_FFT)[0])
        del magnitude, power
    joined = {name: np.concatenate(blocks, axis=-1) for name, blocks in parts.items()}

    mel_db = joined["mel_db"]
    onset = librosa.onset.onset_strength(
        S=mel_db, sr=sr, hop_length=hop_length, aggregate=np.median
    )
    flux = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=hop_length, aggregate=np.mean)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC)
    # 'nearest' edges: no minimum length, so one-second clips work too.
    mfcc_delta = librosa.feature.delta(mfcc, width=9, mode="nearest")
    with np.errstate(divide="ignore", invalid="ignore"):
        tonnetz = librosa.feature.tonnetz(chroma=joined["chroma"], sr=sr)
    zcr = _zero_crossing_rate(y, hop_length=hop_length, n_frames=n_frames)

    n = n_frames
    return Frames(
        sr=int(sr),
        hop_length=int(hop_length),
        onset=_finite(onset[:n]),
        flux=_finite(flux[:n]),
        rms=_finite(joined["rms"][:n]),
        mfcc=_finite(mfcc[:, :n]),
        mfcc_delta=_finite(mfcc_delta[:, :n]),
        contrast=_finite(joined["contrast"][:, :n]),
        rolloff=_finite(joined["rolloff"][:n]),
        centroid=_finite(joined["centroid"][:n]),
        bandwidth=_finite(joined["bandwidth"][:n]),
        zcr=_finite(zcr[:n]),
        chroma=_finite(joined["chroma"][:, :n]),
        tonnetz=_finite(tonnetz[:, :n]),
    )
