"""The open tools a user would pick instead, run on the same tracks: Musly and bliss.

- ``musly`` (:mod:`pymusly`, libmusly): the ``timbre`` method on a 30 s excerpt from the
  middle of the track (Musly's own default excerpt), decoded by ffmpeg; similarity is minus
  Musly's distance after its ``set_style`` on the fitting tracks (mutual proximity included).
- ``bliss`` (:mod:`bliss_audio`, bliss-rs): its 23 features of the whole track, z-scored on the
  fitting tracks, cosine similarity.

Each peer reads the audio with its own decoder (not :mod:`musicwb.sonic.io`): the point is to
measure the tools as a user would run them. The per-file results (Musly's serialised track
model, bliss's 23 numbers) and the seconds each file took are cached in the store's cache
folder (``<stem>.cache/peers/<peer>.npz``), keyed by the file's content hash: a rerun analyses
only new or changed files. A missing package or a missing ``ffmpeg`` is a :class:`PeerRun` with
a note and no vectors, never an exception.

Examples
--------
>>> import numpy as np
>>> vectors = np.array([[1.0, 0.0], [0.9, 0.2], [0.0, 1.0], [0.1, 0.9]])
>>> sims = bliss_similarities(vectors, train=np.array([0, 1, 2, 3]))
>>> int(np.argmax(np.where(np.eye(4, dtype=bool), -np.inf, sims)[0]))
1
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from musicwb.errors import ParameterError
from musicwb.sonic.whiten import l2_normalise

__all__ = [
    "MUSLY_EXCERPT_S",
    "PEERS",
    "Peer",
    "PeerRun",
    "bliss_similarities",
    "musly_similarities",
    "peer_problem",
    "run_peer",
]

Peer = Literal["musly", "bliss"]
PEERS: tuple[Peer, ...] = get_args(Peer)
MUSLY_EXCERPT_S = 30.0
_PACKAGES = {"musly": ("pymusly", "pymusly"), "bliss": ("bliss_audio", "bliss-audio")}


@dataclass(frozen=True)
class PeerRun:
    """One peer's analysis of the tracks.

    Attributes
    ----------
    peer : {"musly", "bliss"}
    vectors : ndarray or None
        One row per track (Musly: the serialised model as uint8; bliss: 23 features); None
        when the peer could not run.
    seconds : ndarray or None, shape (n,)
        Wall time of each file's analysis (as first measured, cached with the vector).
    analysed_now : int
        Files analysed in this call (the rest came from the cache).
    note : str
        Why the peer did not run, or which files failed ("" when all went well).
    failed : tuple of int
        Rows whose file could not be analysed (left out of the peer's scores).
    """

    peer: Peer
    vectors: np.ndarray | None
    seconds: np.ndarray | None
    analysed_now: int = 0
    note: str = ""
    failed: tuple[int, ...] = field(default_factory=tuple)

    @property
    def ran(self) -> bool:
        """The peer produced vectors."""
        return self.vectors is not None

    @property
    def seconds_per_file(self) -> float | None:
        """Mean wall time per analysed file."""
        if self.seconds is None:
            return None
        ok = np.isfinite(self.seconds)
        return float(self.seconds[ok].mean()) if ok.any() else None


def peer_problem(peer: Peer) -> str:
    """Why ``peer`` cannot run here ("" when it can): package or ffmpeg missing.

    Examples
    --------
    >>> peer_problem("nope")
    "unknown peer 'nope': one of ('musly', 'bliss')"
    """
    if peer not in PEERS:
        return f"unknown peer {peer!r}: one of {PEERS}"
    import importlib.util

    module, package = _PACKAGES[peer]
    if importlib.util.find_spec(module) is None:
        return (
            f"{peer}: the package {package} is not installed "
            "(pip install 'musicwb[peers]'); left out"
        )
    if peer == "musly" and shutil.which("ffmpeg") is None:
        return "musly: ffmpeg is not on PATH (pymusly decodes with it); left out"
    return ""


def _analyse(peer: Peer, path: str) -> np.ndarray:
    if peer == "bliss":
        import bliss_audio

        return np.asarray(bliss_audio.Song(path).analysis, dtype=np.float64)
    import pymusly

    jukebox = pymusly.MuslyJukebox(method="timbre")
    track = jukebox.track_from_audiofile(path, MUSLY_EXCERPT_S, -MUSLY_EXCERPT_S / 2)
    return np.frombuffer(jukebox.serialize_track(track), dtype=np.uint8).copy()


def _cache_file(cache_dir: Path, peer: Peer) -> Path:
    return Path(cache_dir) / "peers" / f"{peer}.npz"


def _load_cache(file: Path) -> dict[str, tuple[np.ndarray, float]]:
    if not file.is_file():
        return {}
    with np.load(file) as data:
        return {
            str(h): (data["vectors"][i], float(data["seconds"][i]))
            for i, h in enumerate(data["hashes"])
        }


def _save_cache(file: Path, cache: dict[str, tuple[np.ndarray, float]]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    hashes = sorted(cache)
    sizes = {cache[h][0].shape for h in hashes}
    if len(sizes) != 1:  # vectors of another shape (another library version): keep the newest
        return
    tmp = file.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        hashes=np.array(hashes, dtype=str),
        vectors=np.stack([cache[h][0] for h in hashes]),
        seconds=np.array([cache[h][1] for h in hashes]),
    )
    tmp.replace(file)


def run_peer(
    peer: Peer,
    *,
    paths: Sequence[str | Path],
    content_hashes: Sequence[str],
    cache_dir: str | Path,
) -> PeerRun:
    """Analyse the files with a peer, reusing the cached results of unchanged files.

    Parameters
    ----------
    peer : {"musly", "bliss"}
    paths : sequence of path, length n
    content_hashes : sequence of str, length n
        Cache keys (a file's content hash as the store records it).
    cache_dir : path
        The store's cache folder (``StorePaths.cache``); results go to ``peers/<peer>.npz``.

    Returns
    -------
    PeerRun
        With a note instead of vectors when the package or ffmpeg is missing.
    """
    if len(paths) != len(content_hashes):
        raise ParameterError(
            f"paths and content_hashes must have the same length, got {len(paths)} and "
            f"{len(content_hashes)}"
        )
    problem = peer_problem(peer)
    if problem:
        return PeerRun(peer, None, None, note=problem)
    file = _cache_file(Path(cache_dir), peer)
    cache = _load_cache(file)
    vectors: list[np.ndarray | None] = []
    seconds: list[float] = []
    failed, errors, analysed = [], [], 0
    for row, (path, key) in enumerate(zip(paths, content_hashes, strict=True)):
        if key in cache:
            vector, took = cache[key]
        else:
            start = time.perf_counter()
            try:
                vector = _analyse(peer, str(path))
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as error:  # noqa: BLE001 - recorded below, per file
                # bliss panics on a file it cannot decode (pyo3's PanicException derives from
                # BaseException); pymusly raises MuslyError: either way the file is recorded
                # as failed with the reason and left out of the peer's scores.
                failed.append(row)
                errors.append(f"{Path(path).name}: {type(error).__name__}: {error}")
                vectors.append(None)
                seconds.append(float("nan"))
                continue
            took = time.perf_counter() - start
            cache[key] = (vector, took)
            analysed += 1
        vectors.append(vector)
        seconds.append(took)
    if analysed:
        _save_cache(file, cache)
    ok = [v for v in vectors if v is not None]
    if not ok:
        return PeerRun(
            peer, None, None, note=f"{peer}: no file could be analysed; " + "; ".join(errors[:3])
        )
    filler = np.zeros_like(ok[0])
    matrix = np.stack([filler if v is None else v for v in vectors])
    note = f"{peer}: {len(failed)} file(s) failed: " + "; ".join(errors[:3]) if failed else ""
    return PeerRun(peer, matrix, np.array(seconds), analysed, note, tuple(failed))


def bliss_similarities(vectors: np.ndarray, *, train: np.ndarray) -> np.ndarray:
    """Cosine similarity of bliss features z-scored on the ``train`` rows, shape (n, n).

    Parameters
    ----------
    vectors : ndarray, shape (n, 23)
    train : ndarray of int
        Rows the z-score is fitted on.
    """
    x = np.asarray(vectors, dtype=np.float64)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    unit = l2_normalise((x - mean) / np.where(std > 1e-12, std, 1.0))
    return unit @ unit.T


def musly_similarities(models: np.ndarray, *, train: np.ndarray) -> np.ndarray:
    """Minus Musly's timbre distance, its style set on the ``train`` tracks, shape (n, n).

    Parameters
    ----------
    models : ndarray of uint8, shape (n, bytes)
        Serialised Musly track models (:func:`run_peer`).
    train : ndarray of int
        Rows passed to ``set_style``.
    """
    import pymusly

    jukebox = pymusly.MuslyJukebox(method="timbre")
    tracks = [jukebox.deserialize_track(bytes(row)) for row in np.asarray(models, dtype=np.uint8)]
    jukebox.set_style([tracks[i] for i in np.asarray(train)])
    ids = list(range(len(tracks)))
    jukebox.add_tracks(list(zip(ids, tracks, strict=True)))
    pairs = list(zip(ids, tracks, strict=True))
    distances = np.array([jukebox.compute_similarity(pair, pairs) for pair in pairs])
    return -distances
