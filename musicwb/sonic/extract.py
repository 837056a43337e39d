"""Batch extraction of beat3tower features for every track of the store.

Safe mode (the default) analyses only the tracks without features for their current content
(never analysed, or the file changed since) and without a recorded failure for that content;
so a re-run after an interruption resumes where it stopped, and a re-run on an unchanged
library does no audio work at all. Results are written in bulk batches as they complete: a
killed run loses at most the batch in hand.

Three ways to run the same per-file function, :func:`analyse_track`:

- ``workers=1``: in this process;
- ``workers=N``: N local processes (joblib's loky backend), results taken as they finish;
- ``scheduler="tcp://host:8786"``: on a Dask cluster (``pip install 'musicwb[dask]'``).

Each worker first calls :func:`musicwb.sonic.towers.configure_worker` (numba cache, one BLAS
thread). A file that cannot be analysed gets one row in ``sonic_errors`` with its reason
(``error:<Type>: message``) and the run goes on.

``force=True`` re-analyses every track, but only after an automatic backup
(:func:`musicwb.sonic.backups.backup_features`) and an explicit ``confirmed=True``.

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:                    # doctest: +SKIP
...     summary = extract_library(store, workers=2)
>>> summary.analysed, summary.failed                               # doctest: +SKIP
(64, 0)
"""

from __future__ import annotations

import itertools
import os
import resource
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import MusicwbError, ParameterError
from musicwb.sonic.towers import EXTRACTOR_VERSION, SEGMENTS, feature_names
from musicwb.store import Store

__all__ = [
    "ExtractSummary",
    "analyse_track",
    "extract_library",
    "features_frame",
    "pending_tracks",
    "results_to_tables",
]

N_FEATURES = 137
DEFAULT_BATCH = 8
MAX_ERRORS_KEPT = 100  # failures listed in the summary; sonic_errors has them all
_WORKER_READY: dict[str, Path] = {}


@dataclass
class ExtractSummary:
    """What one extraction run did.

    Attributes
    ----------
    pending : int
        Tracks that needed analysis when the run started.
    analysed, failed : int
        Tracks written to ``sonic_features`` / ``sonic_errors`` by this run.
    up_to_date : int
        Tracks that already had features for their content (or a recorded failure).
    seconds : float
    mode : str
        ``"local"``, ``"loky"`` or ``"dask"``.
    workers : int
    extractor_version : str
    backup : str or None
        Name of the backup made before a forced run.
    interrupted : bool
    errors : list of dict
        ``track_id``, ``path``, ``reason`` of the first :data:`MAX_ERRORS_KEPT` failures.
    """

    pending: int = 0
    analysed: int = 0
    failed: int = 0
    up_to_date: int = 0
    seconds: float = 0.0
    mode: str = "local"
    workers: int = 1
    extractor_version: str = EXTRACTOR_VERSION
    backup: str | None = None
    interrupted: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people."""
        text = (
            f"{self.analysed} track(s) analysed, {self.failed} failed, {self.up_to_date} already "
            f"up to date ({self.mode}, {self.workers} worker(s), {self.seconds:.1f} s, "
            f"{self.extractor_version})"
        )
        if self.backup:
            text += f"; backup before re-analysis: {self.backup}"
        if self.interrupted:
            text += "; interrupted: run it again to resume"
        return text


# ---------------------------------------------------------------- which tracks


def pending_tracks(store: Store, *, retry_errors: bool = False) -> pd.DataFrame:
    """Tracks that need analysis: no features for their current content hash.

    Parameters
    ----------
    store : Store
    retry_errors : bool, default False
        Also return tracks whose analysis failed for this content and extractor version.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``path``, ``content_hash``, ordered by id.
    """
    error_filter = (
        ""
        if retry_errors
        else "AND NOT EXISTS (SELECT 1 FROM sonic_errors e WHERE e.track_id = t.id "
        "AND e.content_hash = t.content_hash AND e.extractor_version = ?)"
    )
    return store.df(
        "SELECT t.id, t.path, t.content_hash FROM tracks t WHERE NOT EXISTS ("
        "SELECT 1 FROM sonic_features f WHERE f.track_id = t.id "
        f"AND f.content_hash = t.content_hash) {error_filter} ORDER BY t.id",
        [] if retry_errors else [EXTRACTOR_VERSION],
    )


# ---------------------------------------------------------------- one file (runs in workers)


def analyse_track(
    track_id: int, path: str, content_hash: str, *, data_dir: str | None = None
) -> dict[str, Any]:
    """Analyse one file; never raises for a bad file, returns an error record instead.

    Runs in worker processes (loky or Dask), so it takes and returns plain picklable values.

    Parameters
    ----------
    track_id : int
    path : str
    content_hash : str
        The track's hash, kept with the result so that a later change of the file is seen.
    data_dir : str, optional
        Where the numba cache lives (see :func:`~musicwb.sonic.towers.configure_worker`).

    Returns
    -------
    dict
        ``{"track_id", "content_hash", "path", "ok": True, "matrix": ndarray (4, 137) float32,
        "bpm_info", "fixed_grid", "duration_s", "n_beats", "seconds", "peak_rss_mb", "pid"}``
        (the peak resident memory so far of the process that ran it, and its id), or ``{..., "ok":
        False, "reason": "error:<Type>: message"}``.
    """
    from musicwb.sonic.towers import configure_worker, extract_features

    key = str(data_dir)
    if key not in _WORKER_READY:
        _WORKER_READY[key] = configure_worker(data_dir)
    from musicwb.sonic.io import read_audio

    started = time.perf_counter()
    base = {"track_id": int(track_id), "path": str(path), "content_hash": str(content_hash)}
    try:
        audio = read_audio(path)
        features = extract_features(audio.samples, sr=audio.sr)
    except MusicwbError as exc:  # unreadable, corrupt or unsupported file: recorded, run goes on
        return {**base, "ok": False, "reason": f"error:{type(exc).__name__}: {exc}"}
    except (ValueError, RuntimeError, MemoryError, OSError) as exc:  # decoder/librosa failures
        return {**base, "ok": False, "reason": f"error:{type(exc).__name__}: {path}: {exc}"}
    return {
        **base,
        "ok": True,
        "matrix": features.matrix(),
        "bpm_info": dict(features.bpm_info),
        "fixed_grid": dict(features.fixed_grid),
        "duration_s": features.duration_s,
        "n_beats": features.n_beats,
        "version": features.version,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pid": os.getpid(),
    }


# ---------------------------------------------------------------- results to tables


def results_to_tables(results: list[dict[str, Any]]) -> tuple[Any, pd.DataFrame]:
    """Turn worker results into one Arrow table of features and one DataFrame of errors.

    Parameters
    ----------
    results : list of dict
        As :func:`analyse_track` returns them.

    Returns
    -------
    features : pyarrow.Table
        Columns of ``sonic_features`` (vectors as fixed-size lists of 137 float32).
    errors : pandas.DataFrame
        Columns of ``sonic_errors``.
    """
    import pyarrow as pa

    now = datetime.now(UTC).replace(tzinfo=None)
    good = [r for r in results if r["ok"]]
    bad = [r for r in results if not r["ok"]]
    columns: dict[str, Any] = {
        "track_id": pa.array([r["track_id"] for r in good], pa.int64()),
        "content_hash": pa.array([r["content_hash"] for r in good], pa.string()),
        "extractor_version": pa.array([r["version"] for r in good], pa.string()),
        "duration_s": pa.array([r["duration_s"] for r in good], pa.float64()),
        "n_beats": pa.array([r["n_beats"] for r in good], pa.int32()),
        "bpm": pa.array([r["bpm_info"]["bpm"] for r in good], pa.float64()),
        "half_tempo_likely": pa.array([bool(r["bpm_info"]["half_tempo_likely"]) for r in good]),
        "double_tempo_likely": pa.array([bool(r["bpm_info"]["double_tempo_likely"]) for r in good]),
        "tempo_stability": pa.array([r["bpm_info"]["tempo_stability"] for r in good], pa.float64()),
        "pulse_clarity": pa.array([r["bpm_info"]["pulse_clarity"] for r in good], pa.float64()),
    }
    for segment in SEGMENTS:
        columns[f"grid_{segment}"] = pa.array([bool(r["fixed_grid"][segment]) for r in good])
    stacked = (
        np.stack([r["matrix"] for r in good]).astype(np.float32)
        if good
        else np.zeros((0, len(SEGMENTS), N_FEATURES), np.float32)
    )
    for index, segment in enumerate(SEGMENTS):
        flat = pa.array(np.ascontiguousarray(stacked[:, index, :]).ravel(), pa.float32())
        columns[f"vec_{segment}"] = pa.FixedSizeListArray.from_arrays(flat, N_FEATURES)
    columns["extracted_at"] = pa.array([now] * len(good), pa.timestamp("us"))
    errors = pd.DataFrame(
        {
            "track_id": [r["track_id"] for r in bad],
            "path": [r["path"] for r in bad],
            "content_hash": [r["content_hash"] for r in bad],
            "extractor_version": EXTRACTOR_VERSION,
            "reason": [r["reason"] for r in bad],
            "recorded_at": now,
        },
        columns=["track_id", "path", "content_hash", "extractor_version", "reason", "recorded_at"],
    )
    return pa.table(columns), errors


def _write_batch(store: Store, results: list[dict[str, Any]]) -> tuple[int, int]:
    features, errors = results_to_tables(results)
    ids = pd.DataFrame({"track_id": [r["track_id"] for r in results]})
    with store.transaction():
        # Each result replaces whatever the store held for its track (old features or failure).
        store.execute("CREATE OR REPLACE TEMP TABLE _sonic_batch_ids (track_id BIGINT)")
        store.insert("_sonic_batch_ids", ids)
        store.execute(
            "DELETE FROM sonic_features WHERE track_id IN (SELECT track_id FROM _sonic_batch_ids)"
        )
        store.execute(
            "DELETE FROM sonic_errors WHERE track_id IN (SELECT track_id FROM _sonic_batch_ids)"
        )
        store.insert("sonic_features", features)
        store.insert("sonic_errors", errors)
        store.execute("DROP TABLE _sonic_batch_ids")
    return features.num_rows, len(errors)


# ---------------------------------------------------------------- executors


def _run_local(jobs: list[tuple], data_dir: str | None) -> Iterator[dict[str, Any]]:
    for job in jobs:
        yield analyse_track(*job, data_dir=data_dir)


def _run_loky(jobs: list[tuple], data_dir: str | None, workers: int) -> Iterator[dict[str, Any]]:
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    parallel = Parallel(
        n_jobs=workers,
        backend="loky",
        return_as="generator_unordered",
        batch_size=1,
        pre_dispatch=f"{2 * workers}",
    )
    try:
        yield from parallel(delayed(analyse_track)(*job, data_dir=data_dir) for job in jobs)
    except TerminatedWorkerError as exc:
        raise MusicwbError(
            "an extraction worker process died (crash or out of memory); the finished batches "
            f"are saved and a re-run resumes after them: {exc}"
        ) from exc


def _connect_dask(scheduler: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise ParameterError(
            "--scheduler needs Dask: pip install 'musicwb[dask]' (dask[distributed])"
        ) from exc
    try:
        return Client(scheduler, timeout="10s")
    except OSError as exc:
        raise ParameterError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc


def _run_dask(jobs: list[tuple], data_dir: str | None, client: Any) -> Iterator[dict[str, Any]]:
    from distributed import as_completed

    futures = [client.submit(analyse_track, *job, data_dir=data_dir, pure=False) for job in jobs]
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.cancel(futures)


# ---------------------------------------------------------------- the batch


def extract_library(
    store: Store,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    confirmed: bool = False,
    retry_errors: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: bool = True,
    data_dir: str | Path | None = None,
    backup_dir: str | Path | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> ExtractSummary:
    """Analyse every track of the store that has no features yet, writing results in batches.

    Parameters
    ----------
    store : Store
        Open for writing.
    workers : int, default 1
        Local processes (loky) when above 1; ignored with ``scheduler``.
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``): run on that cluster instead.
    force : bool, default False
        Re-analyse every track. Backs up the current features first; needs ``confirmed``.
    confirmed : bool, default False
        The explicit confirmation ``force`` requires.
    retry_errors : bool, default False
        Also retry tracks whose analysis failed before (for the same content and version).
    batch_size : int, default 8
        Results written per store transaction.
    progress : bool, default True
        A tqdm bar on stderr.
    data_dir : str or Path, optional
        The musicwb data folder (numba cache, backups); default from the settings.
    backup_dir : str or Path, optional
        Where the forced run's backup goes (default ``<data_dir>/sonic_backups``).
    on_result : callable, optional
        Called with each worker result as it arrives (after it is queued for writing).

    Returns
    -------
    ExtractSummary

    Raises
    ------
    ParameterError
        ``workers`` or ``batch_size`` below 1, ``force`` without ``confirmed``, or an
        unreachable Dask scheduler.
    """
    if workers < 1 or batch_size < 1:
        raise ParameterError(
            f"workers and batch_size must be at least 1, got {workers}, {batch_size}"
        )
    if force and not confirmed:
        raise ParameterError(
            "force re-analyses every track: confirm it (--yes); the current features are "
            "backed up first"
        )
    from musicwb.config import get_settings

    data_dir = Path(data_dir) if data_dir is not None else get_settings().data_dir
    started = time.perf_counter()
    summary = ExtractSummary(
        mode="dask" if scheduler else ("loky" if workers > 1 else "local"),
        workers=workers,
    )
    client = _connect_dask(scheduler) if scheduler else None  # fail before changing anything
    try:
        return _extract(
            store,
            summary,
            client=client,
            workers=workers,
            force=force,
            retry_errors=retry_errors,
            batch_size=batch_size,
            progress=progress,
            data_dir=data_dir,
            backup_dir=backup_dir,
            on_result=on_result,
            started=started,
        )
    finally:
        if client is not None:
            client.close()


def _extract(
    store,
    summary,
    *,
    client,
    workers,
    force,
    retry_errors,
    batch_size,
    progress,
    data_dir,
    backup_dir,
    on_result,
    started,
) -> ExtractSummary:
    if force:
        from musicwb.sonic.backups import backup_features

        if store.scalar("SELECT count(*) FROM sonic_features"):
            info = backup_features(
                store,
                name=None,
                backup_dir=backup_dir or data_dir / "sonic_backups",
                reason="before extract --force",
            )
            summary.backup = info["name"]
        with store.transaction():
            store.execute("DELETE FROM sonic_features")
            store.execute("DELETE FROM sonic_errors")

    todo = pending_tracks(store, retry_errors=retry_errors)
    total = int(store.scalar("SELECT count(*) FROM tracks"))
    summary.pending = len(todo)
    summary.up_to_date = total - len(todo)
    jobs = list(todo[["id", "path", "content_hash"]].itertuples(index=False, name=None))
    if not jobs:
        summary.seconds = time.perf_counter() - started
        return summary

    cache_dir = str(data_dir)
    if client is not None or workers > 1:
        # Worker processes compiling numba kernels into one cold cache at the same time corrupt
        # it (segfaults). One worker analyses the first file alone, so the cache the workers
        # share is warm before they run together. (Warming it in this process is not enough:
        # a process that compiled the kernels earlier, e.g. a notebook, writes no cache.)
        first, rest = jobs[:1], jobs[1:]
        if client is not None:
            batches = (_run_dask(part, cache_dir, client) for part in (first, rest))
        else:
            batches = (_run_loky(part, cache_dir, workers) for part in (first, rest))
        results: Iterable[dict[str, Any]] = itertools.chain.from_iterable(batches)
    else:
        results = _run_local(jobs, cache_dir)

    from tqdm.auto import tqdm

    buffer: list[dict[str, Any]] = []

    def flush() -> None:
        if buffer:
            ok, bad = _write_batch(store, buffer)
            summary.analysed += ok
            summary.failed += bad
            failures = [
                {"track_id": r["track_id"], "path": r["path"], "reason": r["reason"]}
                for r in buffer
                if not r["ok"]
            ]
            summary.errors.extend(failures[: max(0, MAX_ERRORS_KEPT - len(summary.errors))])
            buffer.clear()

    bar = tqdm(total=len(jobs), desc="extract", unit="track", disable=not progress)
    try:
        for result in results:
            buffer.append(result)
            bar.update(1)
            if on_result is not None:
                on_result(result)
            if len(buffer) >= batch_size:
                flush()
    except KeyboardInterrupt:
        summary.interrupted = True
        flush()  # keep what finished; the re-run resumes after it
        raise
    finally:
        bar.close()
        if not summary.interrupted:
            flush()
        summary.seconds = time.perf_counter() - started
    return summary


# ---------------------------------------------------------------- reading back


def features_frame(store: Store, *, segment: str = "full") -> pd.DataFrame:
    """Features of one segment as a wide DataFrame: ``track_id`` then the 137 named columns.

    Parameters
    ----------
    store : Store
    segment : {"full", "start", "mid", "end"}

    Returns
    -------
    pandas.DataFrame
        One row per analysed track, ordered by ``track_id``.
    """
    if segment not in SEGMENTS:
        raise ParameterError(f"segment must be one of {SEGMENTS}, got {segment!r}")
    names = feature_names()
    select = ", ".join(f'vec_{segment}[{i + 1}] AS "{name}"' for i, name in enumerate(names))
    return store.df(f"SELECT track_id, {select} FROM sonic_features ORDER BY track_id")
