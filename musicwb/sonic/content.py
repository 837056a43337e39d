"""Is it music? Silence, near-silence and steady tones recognised from the decoded signal.

A silent file or a test tone analyses "fine" (a fixed grid, bpm 0) and would then sit among
the music as if it were a track: a playlist seeded on silence would start with real music.
:func:`classify_content` looks at the signal once, with numpy alone (no numba), and names
three kinds of non-music:

- ``"silence"``: the loudest sample is below :data:`SILENCE_PEAK_DBFS` (digital silence or
  nearly);
- ``"near_silence"``: the track's RMS is below :data:`NEAR_SILENCE_RMS_DBFS` and fewer than
  :data:`ACTIVE_SHARE_MIN` of its frames rise above :data:`ACTIVE_DBFS` (hiss, a noise floor,
  a recording of an empty room);
- ``"steady_tone"``: every frame has the same tonal spectrum at the same level: the frames'
  spectra are all within :data:`STEADY_SIMILARITY` (cosine) of the track's median spectrum,
  the spectrum is tonal (flatness below :data:`TONAL_FLATNESS`) and the frame levels spread
  less than :data:`STEADY_LEVEL_SPREAD_DB` (a sine, a chord of sines, a calibration tone).

Music changes: notes, chords and drums move the spectrum from frame to frame, so real tracks
stay far from these thresholds (see ``tests/test_sonic_content.py``, which checks the 75 real
tracks of ``audio/realmusic``).

Examples
--------
>>> import numpy as np
>>> sr = 22050
>>> t = np.arange(sr * 5) / sr
>>> classify_content(np.zeros(sr * 5, np.float32), sr=sr).flag
'silence'
>>> classify_content(0.3 * np.sin(2 * np.pi * 440 * t), sr=sr).flag
'steady_tone'
>>> noise = np.random.default_rng(0).standard_normal(sr * 5) * 10 ** (-70 / 20)
>>> classify_content(noise, sr=sr).flag
'near_silence'
>>> rng = np.random.default_rng(1)
>>> notes = np.concatenate([0.3 * np.sin(2 * np.pi * f * t[: sr // 2]) for f in
...                         rng.choice([220, 262, 330, 392, 440, 523], 10)])
>>> print(classify_content(notes, sr=sr).flag)
None
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from musicwb.errors import ParameterError

__all__ = [
    "ACTIVE_DBFS",
    "ACTIVE_SHARE_MIN",
    "CONTENT_FLAGS",
    "NEAR_SILENCE_RMS_DBFS",
    "SILENCE_PEAK_DBFS",
    "STEADY_LEVEL_SPREAD_DB",
    "STEADY_SIMILARITY",
    "TONAL_FLATNESS",
    "ContentCheck",
    "ContentFlag",
    "classify_content",
]

ContentFlag = Literal["silence", "near_silence", "steady_tone"]
CONTENT_FLAGS: tuple[ContentFlag, ...] = ("silence", "near_silence", "steady_tone")

SILENCE_PEAK_DBFS = -80.0
NEAR_SILENCE_RMS_DBFS = -60.0
ACTIVE_DBFS = -50.0  # a frame this loud is audible content
ACTIVE_SHARE_MIN = 0.05
STEADY_SIMILARITY = 0.98  # 5th percentile of the frames' cosine to the median spectrum
TONAL_FLATNESS = 0.05  # spectral flatness (geometric / arithmetic mean of the power)
STEADY_LEVEL_SPREAD_DB = 3.0  # inter-quartile range of the frame levels
FRAME_S = 0.1  # frame length for the levels and spectra
_FLOOR = 1e-12


@dataclass(frozen=True)
class ContentCheck:
    """What :func:`classify_content` found.

    Attributes
    ----------
    flag : {"silence", "near_silence", "steady_tone"} or None
        None for music (or anything else that is none of the three).
    reason : str or None
        The measurements behind the flag, for people (None without a flag).
    peak_dbfs, rms_dbfs : float
        Loudest sample and RMS over the whole signal, in dB relative to full scale
        (``-inf`` for digital silence).
    active_share : float
        Share of frames above :data:`ACTIVE_DBFS`.
    level_spread_db : float
        Inter-quartile range of the active frames' levels (dB).
    steadiness : float
        5th percentile of the active frames' cosine similarity to the median spectrum
        (1.0: every frame has the same spectrum).
    flatness : float
        Spectral flatness of the median spectrum (0: pure tones, 1: white noise).
    dominant_hz : float
        Frequency of the median spectrum's strongest bin.
    """

    flag: ContentFlag | None
    reason: str | None
    peak_dbfs: float
    rms_dbfs: float
    active_share: float
    level_spread_db: float
    steadiness: float
    flatness: float
    dominant_hz: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _dbfs(value: float) -> float:
    return float(20 * np.log10(value)) if value > 0 else float("-inf")


def _magnitude_spectra(frames: np.ndarray, *, n: int, rows: int = 256) -> np.ndarray:
    """``np.abs(np.fft.rfft(frames * np.hanning(n), axis=1))``, ``rows`` frames at a time.

    The same numbers (each row is transformed alone either way) without the whole track's
    windowed copy and complex spectrum (about 100 MB for 5 minutes) at once.
    """
    window = np.hanning(n)
    spectra = np.empty((frames.shape[0], n // 2 + 1))
    for first in range(0, frames.shape[0], rows):
        block = frames[first : first + rows] * window
        spectra[first : first + rows] = np.abs(np.fft.rfft(block, axis=1))
    return spectra


def classify_content(y: np.ndarray, *, sr: int, frame_s: float = FRAME_S) -> ContentCheck:
    """Flag silence, near-silence and steady tones in a mono signal.

    Parameters
    ----------
    y : numpy.ndarray, shape (n_samples,)
        Mono audio in [-1, 1] (as :func:`musicwb.sonic.io.read_audio` returns it).
    sr : int
        Sample rate in Hz.
    frame_s : float, default 0.1
        Frame length in seconds (frames do not overlap).

    Returns
    -------
    ContentCheck

    Raises
    ------
    ParameterError
        ``y`` is not one-dimensional, or ``sr`` or ``frame_s`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 8000
    >>> check = classify_content(0.5 * np.sin(2 * np.pi * 1000 * np.arange(sr) / sr), sr=sr)
    >>> check.flag, round(check.dominant_hz)
    ('steady_tone', 1000)
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ParameterError(f"y must be a mono signal of shape (n_samples,), got shape {y.shape}")
    if sr <= 0 or frame_s <= 0:
        raise ParameterError(f"sr and frame_s must be positive, got sr={sr!r}, frame_s={frame_s!r}")
    if not np.isfinite(y).all():  # the check is a fraction of the cost of nan_to_num's copy
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    peak = _dbfs(float(max(y.max(), -y.min()))) if y.size else float("-inf")  # no |y| copy
    rms = _dbfs(float(np.sqrt(np.mean(y * y)))) if y.size else float("-inf")

    n = max(16, int(round(frame_s * sr)))
    n_frames = y.size // n
    if n_frames == 0:  # shorter than one frame: one zero-padded frame
        frames = np.pad(y, (0, n - y.size))[None, :]
    else:
        frames = y[: n_frames * n].reshape(n_frames, n)
    levels = 10 * np.log10(np.mean(frames * frames, axis=1) + _FLOOR)
    active = levels > ACTIVE_DBFS
    active_share = float(np.mean(active))

    spread, steadiness, flatness, dominant = 0.0, 0.0, 1.0, 0.0
    if np.any(active):
        spread = float(np.subtract(*np.percentile(levels[active], [75, 25])))
        spectra = _magnitude_spectra(frames[active], n=n)
        median = np.median(spectra, axis=0)
        unit = spectra / (np.linalg.norm(spectra, axis=1, keepdims=True) + _FLOOR)
        steadiness = float(np.percentile(unit @ (median / (np.linalg.norm(median) + _FLOOR)), 5))
        power = median * median + _FLOOR
        flatness = float(np.exp(np.mean(np.log(power))) / np.mean(power))
        dominant = float(np.argmax(median) * sr / n)

    flag: ContentFlag | None = None
    reason = None
    if peak < SILENCE_PEAK_DBFS:
        flag = "silence"
        reason = (
            "digital silence (every sample is 0)"
            if peak == float("-inf")
            else f"peak {peak:.1f} dBFS, below {SILENCE_PEAK_DBFS:g} dBFS"
        )
    elif rms < NEAR_SILENCE_RMS_DBFS and active_share < ACTIVE_SHARE_MIN:
        flag = "near_silence"
        reason = (
            f"RMS {rms:.1f} dBFS (below {NEAR_SILENCE_RMS_DBFS:g}); {100 * active_share:.1f}% "
            f"of frames above {ACTIVE_DBFS:g} dBFS"
        )
    elif (
        active_share >= 1 - ACTIVE_SHARE_MIN
        and steadiness >= STEADY_SIMILARITY
        and flatness < TONAL_FLATNESS
        and spread < STEADY_LEVEL_SPREAD_DB
    ):
        flag = "steady_tone"
        reason = (
            f"one unchanging tonal spectrum around {dominant:.0f} Hz (frame similarity "
            f"{steadiness:.3f}, flatness {flatness:.4f}, level spread {spread:.1f} dB)"
        )
    return ContentCheck(
        flag=flag,
        reason=reason,
        peak_dbfs=peak,
        rms_dbfs=rms,
        active_share=active_share,
        level_spread_db=spread,
        steadiness=steadiness,
        flatness=flatness,
        dominant_hz=dominant,
    )
