"""One file's analysis, as worker processes run it, and the two results it can give.

:func:`analyse_track` reads a file, checks its content and extracts its features; it never
raises for a bad file but returns a :class:`Failed` result, so a batch goes on. It runs in
worker processes (loky or Dask): it takes and returns plain picklable values.

Examples
--------
>>> failed = Failed(track_id=3, path="/music/a.ogg", content_hash="h3", reason="error:X: bad")
>>> failed.ok, failed.reason
(False, 'error:X: bad')
>>> crashed = Failed.crashed(TrackJob(4, "/music/b.ogg", "h4"), reason="worker crashed")
>>> crashed.reason, crashed.worker_crash
('error:WorkerCrashed: worker crashed', True)
"""

from __future__ import annotations

import os
import resource
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from musicwb.errors import MusicwbError
from musicwb.sonic.numba_cache import busy
from musicwb.sonic.towers import configure_worker, extract_features

__all__ = [
    "CRASH_HOOK_VARIABLE",
    "Analysed",
    "Failed",
    "TrackJob",
    "TrackResult",
    "analyse_track",
]

CRASH_HOOK_VARIABLE = "MUSICWB_TEST_CRASH_PATHS"
"""Test-only: a worker analysing a file whose path contains one of these (``os.pathsep``-separated)
parts kills itself with SIGSEGV, the way a crash in native code does."""
_WORKER_READY: dict[str, Path] = {}


class TrackJob(NamedTuple):
    """A track to analyse: the arguments of :func:`analyse_track`."""

    track_id: int
    path: str
    content_hash: str


@dataclass(frozen=True)
class Analysed:
    """A track analysed.

    Attributes
    ----------
    track_id, path, content_hash
        The track, and the content its features are of.
    matrix : ndarray, shape (4, 137), float32
        The features of the full track, its start, middle and end.
    bpm_info : dict
        ``bpm``, ``half_tempo_likely``, ``double_tempo_likely``, ``tempo_stability``,
        ``pulse_clarity``.
    fixed_grid : dict of str to bool
        Per segment, whether a fixed grid stood in for beats.
    duration_s : float
    n_beats : int
    version : str
        The extractor version.
    content_flag, content_reason : str or None
        Silence, near-silence or a steady tone, and why (None for music).
    seconds : float
        Analysis time.
    cpu_s : float
        CPU time of the analysis (this process's, all threads).
    peak_rss_mb : float
        The peak resident memory so far of the process that ran it.
    pid : int
        That process.
    """

    track_id: int
    path: str
    content_hash: str
    matrix: np.ndarray
    bpm_info: dict[str, Any]
    fixed_grid: dict[str, bool]
    duration_s: float
    n_beats: int
    version: str
    content_flag: str | None = None
    content_reason: str | None = None
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    pid: int = 0
    cpu_s: float = 0.0

    @property
    def ok(self) -> Literal[True]:
        return True


@dataclass(frozen=True)
class Failed:
    """A track that could not be analysed.

    Attributes
    ----------
    track_id, path, content_hash
    reason : str
        ``error:<Type>: message``.
    worker_crash : bool
        The worker process died on it (see :mod:`musicwb.sonic.executors`).
    """

    track_id: int
    path: str
    content_hash: str
    reason: str
    worker_crash: bool = field(default=False)

    @property
    def ok(self) -> Literal[False]:
        return False

    @classmethod
    def crashed(cls, job: TrackJob, *, reason: str, worker_crash: bool = True) -> Failed:
        """The failure of a track whose worker died (``reason`` says how)."""
        track_id, path, content_hash = job
        prefix = "error:WorkerCrashed: " if worker_crash else ""
        return cls(
            track_id=int(track_id),
            path=str(path),
            content_hash=str(content_hash),
            reason=prefix + reason,
            worker_crash=worker_crash,
        )


TrackResult = Analysed | Failed
"""What :func:`analyse_track` returns."""


def analyse_track(
    track_id: int,
    path: str,
    content_hash: str,
    *,
    data_dir: str | None = None,
    numba_cache: str | None = None,
) -> TrackResult:
    """Analyse one file; never raises for a bad file, returns a :class:`Failed` result instead.

    Parameters
    ----------
    track_id : int
    path : str
    content_hash : str
        The track's hash, kept with the result so that a later change of the file is seen.
    data_dir : str, optional
        Legacy: the numba cache is ``<data_dir>/cache/numba`` when ``numba_cache`` is not given.
    numba_cache : str, optional
        The numba cache folder; this process takes its own slot of it (see
        :func:`~musicwb.sonic.towers.configure_worker`).

    Returns
    -------
    Analysed or Failed
        ``Failed.reason`` is ``"error:<Type>: message"``.
    """
    key = f"{numba_cache}|{data_dir}"
    if key not in _WORKER_READY:
        _WORKER_READY[key] = configure_worker(data_dir, numba_cache=numba_cache)
    # The audio stack loads after configure_worker set the numba cache slot and BLAS threads.
    from musicwb.sonic.content import classify_content
    from musicwb.sonic.io import read_audio

    started, cpu_started = time.perf_counter(), time.process_time()
    job = TrackJob(int(track_id), str(path), str(content_hash))
    with busy(_WORKER_READY[key], what=str(path)):
        crash_on = os.environ.get(CRASH_HOOK_VARIABLE, "")
        if any(part and part in str(path) for part in crash_on.split(os.pathsep)):
            os.kill(os.getpid(), signal.SIGSEGV)  # test-only: a crash in native code
        try:
            audio = read_audio(path)
            content = classify_content(audio.samples, sr=audio.sr)
            features = extract_features(audio.samples, sr=audio.sr)
        except MusicwbError as exc:  # unreadable, corrupt or unsupported file: recorded
            return Failed(*job, reason=f"error:{type(exc).__name__}: {exc}")
        except (ValueError, RuntimeError, MemoryError, OSError) as exc:  # decoder/librosa
            return Failed(*job, reason=f"error:{type(exc).__name__}: {path}: {exc}")
    return Analysed(
        *job,
        matrix=features.matrix(),
        bpm_info=dict(features.bpm_info),
        fixed_grid=dict(features.fixed_grid),
        duration_s=features.duration_s,
        n_beats=features.n_beats,
        version=features.version,
        content_flag=content.flag,
        content_reason=content.reason,
        seconds=time.perf_counter() - started,
        cpu_s=time.process_time() - cpu_started,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        pid=os.getpid(),
    )
