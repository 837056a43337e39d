"""Batch extraction of beat3tower features for every track of the store.

Safe mode (the default) analyses only the tracks without features for their current content
(never analysed, or the file changed since) and without a recorded failure for that content;
so a re-run after an interruption resumes where it stopped, and a re-run on an unchanged
library does no audio work at all. Results are written in bulk batches as they complete: a
killed run loses at most the batch in hand.

Three ways to run the same per-file function,
:func:`~musicwb.sonic.analysis.analyse_track` (the runners are in :mod:`musicwb.sonic.executors`):

- ``workers=1``: in this process (or, ``isolated``, in one worker process);
- ``workers=N``: N local processes (joblib's loky backend), results taken as they finish;
- ``scheduler="tcp://host:8786"``: on a Dask cluster (``pip install 'musicwb[dask]'``).

Each worker first calls :func:`musicwb.sonic.towers.configure_worker` (its own slot of the
numba cache beside the store, :attr:`~musicwb.store.paths.StorePaths.numba_cache`, so two
processes never compile into one cache folder; one BLAS thread). A file that cannot be
analysed gets one row in ``sonic_errors`` with its reason (``error:<Type>: message``) and the
run goes on. A worker process that dies (a crash in native code, the out-of-memory killer) takes
the tracks it had in hand with it: each of them is tried once more alone in a fresh process,
and a track that kills that process too gets its ``sonic_errors`` row ("worker crashed
(SIGSEGV) twice ..."); the batch goes on with the other tracks.

Every analysed track is also checked for silence, near-silence and steady tones
(:func:`musicwb.sonic.content.classify_content`); the flag and its reason are stored in the
features row (``content_flag``, ``content_reason``).

``force=True`` re-analyses every track, but only after an automatic backup
(:func:`musicwb.sonic.backups.backup_features`) and an explicit ``confirmed=True``. It replaces
features batch by batch (new rows written and old ones removed in one transaction), so a run
killed at any moment leaves every track with its old or its new features, never none; a track
whose re-analysis fails keeps its old features beside the new error row.

The store may be opened with ``hold_open=False`` (the CLI does): then it is opened only to read
the work list and to commit each batch, and other processes use it in between.

Examples
--------
>>> import tempfile, pathlib
>>> from musicwb.store import Store
>>> with Store(pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb") as store:
...     summary = extract_library(store, workers=2, progress=False)
>>> summary.analysed, summary.failed, summary.mode
(0, 0, 'loky')
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from musicwb.errors import ParameterError
from musicwb.sonic.analysis import (
    CRASH_HOOK_VARIABLE,
    Analysed,
    Failed,
    TrackJob,
    TrackResult,
    analyse_track,
)
from musicwb.sonic.backups import backup_features
from musicwb.sonic.executors import (
    CacheOptions,
    ExecutionMode,
    connect_dask,
    run_dask,
    run_local,
    run_loky,
)
from musicwb.sonic.towers import EXTRACTOR_VERSION, SEGMENTS, Segment, feature_names
from musicwb.store import Store
from musicwb.store.paths import StorePaths
from musicwb.store.tables import sonic as sonic_tables

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "CRASH_HOOK_VARIABLE",
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
    failure_reasons : dict of str to int
        Every failure of the run counted by its reason (the file's path replaced by
        ``<file>``, so that equal causes count together).
    flagged : dict of str to int
        Analysed tracks flagged as non-music, by flag (``silence``, ``near_silence``,
        ``steady_tone``).
    worker_crashes : int
        Worker processes that died during the run (each crash is retried, see the module).
    numba_cache : str or None
        The numba cache folder the workers used (each process has its own slot beside it).
    """

    pending: int = 0
    analysed: int = 0
    failed: int = 0
    up_to_date: int = 0
    seconds: float = 0.0
    mode: ExecutionMode = "local"
    workers: int = 1
    extractor_version: str = EXTRACTOR_VERSION
    backup: str | None = None
    interrupted: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    failure_reasons: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    worker_crashes: int = 0
    numba_cache: str | None = None

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
        if self.flagged:
            kinds = ", ".join(f"{n} {flag}" for flag, n in sorted(self.flagged.items()))
            text += f"; {sum(self.flagged.values())} flagged: {kinds}"
        if self.worker_crashes:
            text += f"; {self.worker_crashes} worker crash(es), their tracks retried alone"
        if self.backup:
            text += f"; backup before re-analysis: {self.backup}"
        if self.interrupted:
            text += "; interrupted: run it again to resume"
        return text


# ---------------------------------------------------------------- which tracks


def pending_tracks(
    store: Store, *, retry_errors: bool = False, everything: bool = False
) -> pd.DataFrame:
    """Tracks that need analysis: no features for their current content hash.

    Parameters
    ----------
    store : Store
    retry_errors : bool, default False
        Also return tracks whose analysis failed for this content and extractor version.
    everything : bool, default False
        Every track, analysed or not (a forced re-analysis).

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``path``, ``content_hash``, ordered by id.
    """
    return sonic_tables.pending_tracks(
        store,
        extractor_version=EXTRACTOR_VERSION,
        retry_errors=retry_errors,
        everything=everything,
    )


# ---------------------------------------------------------------- results to tables


def results_to_tables(
    results: Sequence[TrackResult],
) -> tuple[pa.Table, pd.DataFrame]:
    """Turn worker results into one Arrow table of features and one DataFrame of errors.

    Parameters
    ----------
    results : sequence of Analysed or Failed
        As :func:`analyse_track` returns them.

    Returns
    -------
    features : pyarrow.Table
        Columns of ``sonic_features`` (vectors as fixed-size lists of 137 float32).
    errors : pandas.DataFrame
        Columns of ``sonic_errors``.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    good = [r for r in results if isinstance(r, Analysed)]
    bad = [r for r in results if isinstance(r, Failed)]
    columns: dict[str, pa.Array] = {
        "track_id": pa.array([r.track_id for r in good], pa.int64()),
        "content_hash": pa.array([r.content_hash for r in good], pa.string()),
        "extractor_version": pa.array([r.version for r in good], pa.string()),
        "duration_s": pa.array([r.duration_s for r in good], pa.float64()),
        "n_beats": pa.array([r.n_beats for r in good], pa.int32()),
        "bpm": pa.array([r.bpm_info["bpm"] for r in good], pa.float64()),
        "half_tempo_likely": pa.array([bool(r.bpm_info["half_tempo_likely"]) for r in good]),
        "double_tempo_likely": pa.array([bool(r.bpm_info["double_tempo_likely"]) for r in good]),
        "tempo_stability": pa.array([r.bpm_info["tempo_stability"] for r in good], pa.float64()),
        "pulse_clarity": pa.array([r.bpm_info["pulse_clarity"] for r in good], pa.float64()),
    }
    for segment in SEGMENTS:
        columns[f"grid_{segment}"] = pa.array([bool(r.fixed_grid[segment]) for r in good])
    stacked = (
        np.stack([r.matrix for r in good]).astype(np.float32)
        if good
        else np.zeros((0, len(SEGMENTS), N_FEATURES), np.float32)
    )
    for index, segment in enumerate(SEGMENTS):
        flat = pa.array(np.ascontiguousarray(stacked[:, index, :]).ravel(), pa.float32())
        columns[f"vec_{segment}"] = pa.FixedSizeListArray.from_arrays(flat, N_FEATURES)
    columns["extracted_at"] = pa.array([now] * len(good), pa.timestamp("us"))
    columns["content_flag"] = pa.array([r.content_flag for r in good], pa.string())
    columns["content_reason"] = pa.array([r.content_reason for r in good], pa.string())
    errors = pd.DataFrame(
        {
            "track_id": [r.track_id for r in bad],
            "path": [r.path for r in bad],
            "content_hash": [r.content_hash for r in bad],
            "extractor_version": EXTRACTOR_VERSION,
            "reason": [r.reason for r in bad],
            "recorded_at": now,
        },
        columns=["track_id", "path", "content_hash", "extractor_version", "reason", "recorded_at"],
    )
    return pa.table(columns), errors


def _write_batch(
    store: Store, results: Sequence[TrackResult], *, keep_features_on_failure: bool = False
) -> tuple[int, int]:
    """One transaction: each result replaces what the store held for its track.

    With ``keep_features_on_failure`` (a forced re-analysis) a track whose analysis failed
    keeps its old features beside the new error row, so no track is left without features.
    """
    features, errors = results_to_tables(results)
    sonic_tables.write_feature_batch(
        store,
        features=features,
        errors=errors,
        batch_ids=[r.track_id for r in results],
        replaced_ids=[r.track_id for r in results if r.ok or not keep_features_on_failure],
    )
    return features.num_rows, len(errors)


def _generic_reason(reason: str, path: str) -> str:
    """A failure reason with the file's path taken out, so equal causes count together."""
    return reason.replace(path, "<file>") if path else reason


# ---------------------------------------------------------------- the batch


def extract_library(
    store: Store,
    *,
    workers: int = 1,
    isolated: bool = False,
    scheduler: str | None = None,
    force: bool = False,
    confirmed: bool = False,
    retry_errors: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: bool = True,
    data_dir: str | Path | None = None,
    numba_cache: str | Path | None = None,
    backup_dir: str | Path | None = None,
    on_result: Callable[[TrackResult], None] | None = None,
) -> ExtractSummary:
    """Analyse every track of the store that has no features yet, writing results in batches.

    Parameters
    ----------
    store : Store
        Open for writing; ``hold_open=False`` lets other processes use it between batches.
    workers : int, default 1
        Local processes (loky) when above 1; ignored with ``scheduler``. With 1 the analysis
        runs in this process, unless ``isolated``.
    isolated : bool, default False
        With ``workers=1``, analyse in one worker process all the same, so that a crash in
        native code is retried and recorded as the track's failure instead of ending this
        process (the command line does this).
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``): run on that cluster instead.
    force : bool, default False
        Re-analyse every track, replacing features batch by batch. Backs up the current
        features first; needs ``confirmed``.
    confirmed : bool, default False
        The explicit confirmation ``force`` requires.
    retry_errors : bool, default False
        Also retry tracks whose analysis failed before (for the same content and version).
    batch_size : int, default 8
        Results written per store transaction.
    progress : bool, default True
        A tqdm bar on stderr.
    data_dir : str or Path, optional
        Legacy: when given, the numba cache is ``<data_dir>/cache/numba`` and the backups go to
        ``<data_dir>/sonic_backups`` (unless ``numba_cache``/``backup_dir`` say otherwise).
    numba_cache : str or Path, optional
        The numba cache folder (default: beside the store,
        :attr:`~musicwb.store.paths.StorePaths.numba_cache`).
    backup_dir : str or Path, optional
        Where the forced run's backup goes (default: beside the store,
        :attr:`~musicwb.store.paths.StorePaths.backups`).
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
    paths = StorePaths.of(store.path)
    if numba_cache is None:
        numba_cache = (
            Path(data_dir) / "cache" / "numba" if data_dir is not None else paths.numba_cache
        )
    if backup_dir is None:
        backup_dir = Path(data_dir) / "sonic_backups" if data_dir is not None else paths.backups
    started = time.perf_counter()
    summary = ExtractSummary(
        mode="dask" if scheduler else ("loky" if workers > 1 or isolated else "local"),
        workers=workers,
        numba_cache=str(Path(numba_cache).absolute()),
    )
    client = connect_dask(scheduler) if scheduler else None  # fail before changing anything
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
            numba_cache=Path(numba_cache).absolute(),
            backup_dir=Path(backup_dir),
            on_result=on_result,
            started=started,
        )
    finally:
        if client is not None:
            client.close()


def _extract(
    store: Store,
    summary: ExtractSummary,
    *,
    client: Client | None,
    workers: int,
    force: bool,
    retry_errors: bool,
    batch_size: int,
    progress: bool,
    numba_cache: Path,
    backup_dir: Path,
    on_result: Callable[[TrackResult], None] | None,
    started: float,
) -> ExtractSummary:
    if force and sonic_tables.count_features(store):
        info = backup_features(
            store, name=None, backup_dir=backup_dir, reason="before extract --force"
        )
        summary.backup = info["name"]

    todo = pending_tracks(store, retry_errors=retry_errors, everything=force)
    total = sonic_tables.count_tracks(store)
    summary.pending = len(todo)
    summary.up_to_date = total - len(todo)
    jobs = [
        TrackJob(int(track_id), str(path), str(content_hash))
        for track_id, path, content_hash in todo[["id", "path", "content_hash"]].itertuples(
            index=False, name=None
        )
    ]
    if not jobs:
        summary.seconds = time.perf_counter() - started
        return summary

    cache: CacheOptions = {"numba_cache": str(numba_cache)}

    def crashed() -> None:
        summary.worker_crashes += 1

    if client is not None:
        results: Iterable[TrackResult] = run_dask(jobs, cache, client=client, on_crash=crashed)
    elif summary.mode == "loky":
        results = run_loky(jobs, cache, workers=workers, on_crash=crashed)
    else:
        results = run_local(jobs, cache)

    buffer: list[TrackResult] = []
    reasons: Counter[str] = Counter()
    flagged: Counter[str] = Counter()

    def flush() -> None:
        if buffer:
            ok, bad = _write_batch(store, buffer, keep_features_on_failure=force)
            summary.analysed += ok
            summary.failed += bad
            failures = [
                {"track_id": r.track_id, "path": r.path, "reason": r.reason}
                for r in buffer
                if isinstance(r, Failed)
            ]
            reasons.update(_generic_reason(f["reason"], f["path"]) for f in failures)
            flagged.update(
                r.content_flag for r in buffer if isinstance(r, Analysed) and r.content_flag
            )
            summary.failure_reasons = dict(reasons.most_common())
            summary.flagged = dict(sorted(flagged.items()))
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
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops the worker processes now, also on Ctrl-C
        bar.close()
        if not summary.interrupted:
            flush()
        summary.seconds = time.perf_counter() - started
    return summary


# ---------------------------------------------------------------- reading back


def features_frame(store: Store, *, segment: Segment = "full") -> pd.DataFrame:
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
    return sonic_tables.segment_columns(store, segment=segment, names=feature_names())
