"""Compiled loops of the frame features, equal to the numpy/librosa code they replace.

numba compiles each kernel on its first call and caches the machine code in
``NUMBA_CACHE_DIR`` (the worker's own slot, see :func:`musicwb.sonic.towers.configure_worker`),
so import this module only after that, as librosa is. Each kernel adds float32 values one by
one in the order numpy does, so its results are the same numbers, not just close ones.

Examples
--------
>>> import numpy as np
>>> spectrum = np.array([[1, 4], [2, 3], [3, 2], [4, 1]], dtype=np.float32)  # 4 bins, 2 frames
>>> valley, peak = band_extremes(spectrum.T.copy(), np.array([0]), np.array([4]), np.array([2]))
>>> valley.tolist(), peak.tolist()
([[1.5, 1.5]], [[3.5, 3.5]])
>>> rolloff_bins(spectrum, 0.5).tolist()
[2, 1]
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["band_extremes", "rolloff_bins"]


@numba.njit(cache=True, nogil=True)
def _insert_ascending(row: np.ndarray, filled: int, x: np.float32) -> None:
    """Put ``x`` into the ascending ``row[:filled + 1]`` (``row[filled]`` is free)."""
    i = filled
    while i > 0 and row[i - 1] > x:
        row[i] = row[i - 1]
        i -= 1
    row[i] = x


@numba.njit(cache=True, nogil=True)
def band_extremes(
    frames: np.ndarray, lo: np.ndarray, hi: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the ``q`` smallest and of the ``q`` largest values of each band of each frame.

    As librosa's ``spectral_contrast`` computes its valleys and peaks (a full sort of the band,
    then the mean of its first and last ``q`` values), but by keeping only the ``q`` extremes.

    Parameters
    ----------
    frames : numpy.ndarray, shape (n_frames, n_bins), float32, C-contiguous
        Magnitude spectra, one frame per row.
    lo, hi, q : numpy.ndarray, shape (n_bands,), int
        Band ``k`` is bins ``lo[k]:hi[k]``; ``1 <= q[k] <= hi[k] - lo[k]``.

    Returns
    -------
    valley, peak : numpy.ndarray, shape (n_bands, n_frames), float64
        Float32 means (summed in ascending order, as numpy sums a sorted band), stored as
        float64 as librosa stores them.
    """
    n_frames, n_bands = frames.shape[0], lo.shape[0]
    valley = np.zeros((n_bands, n_frames))
    peak = np.zeros((n_bands, n_frames))
    width = max(1, q.max())
    low = np.empty(width, np.float32)
    high = np.empty(width, np.float32)
    for k in range(n_bands):
        m = q[k]
        for t in range(n_frames):
            for f in range(lo[k], hi[k]):
                x = frames[t, f]
                seen = f - lo[k]
                if seen < m:
                    _insert_ascending(low, seen, x)
                    _insert_ascending(high, seen, x)
                    continue
                if x < low[m - 1]:
                    _insert_ascending(low, m - 1, x)
                if x > high[0]:  # drop the smallest of the largest, then insert
                    i = 0
                    while i < m - 1 and high[i + 1] < x:
                        high[i] = high[i + 1]
                        i += 1
                    high[i] = x
            below = low[0]
            above = high[0]
            for i in range(1, m):
                below += low[i]
                above += high[i]
            valley[k, t] = below / np.float32(m)
            peak[k, t] = above / np.float32(m)
    return valley, peak


@numba.njit(cache=True, nogil=True)
def rolloff_bins(magnitude: np.ndarray, share: float) -> np.ndarray:
    """Per frame, how many bins the running sum stays below ``share`` of the frame's total.

    The same count as ``(np.cumsum(magnitude, axis=0) < share * total).sum(axis=0)`` with
    float32 sums and a float32 ``share``, without the cumulative matrix.

    Parameters
    ----------
    magnitude : numpy.ndarray, shape (n_bins, n_frames), float32
    share : float

    Returns
    -------
    numpy.ndarray, shape (n_frames,), int64
    """
    n_bins, n_frames = magnitude.shape
    total = np.zeros(n_frames, np.float32)
    for f in range(n_bins):
        for t in range(n_frames):
            total[t] += magnitude[f, t]
    threshold = np.float32(share) * total
    running = np.zeros(n_frames, np.float32)
    below = np.zeros(n_frames, np.int64)
    for f in range(n_bins):
        for t in range(n_frames):
            running[t] += magnitude[f, t]
            if running[t] < threshold[t]:
                below[t] += 1
    return below
