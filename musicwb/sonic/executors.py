"""Three ways to run :func:`~musicwb.sonic.analysis.analyse_track` over a list of tracks.

- :func:`run_local`: in this process;
- :func:`run_loky`: on local processes (joblib's loky backend), results taken as they finish;
  a process that dies takes the tracks it had in hand with it, and each of them is tried once
  more alone in a fresh process (:func:`retry_alone`);
- :func:`run_dask`: on a Dask cluster (``pip install 'musicwb[dask]'``), whose scheduler
  re-runs the task of a worker that died.

Each yields one :data:`~musicwb.sonic.analysis.TrackResult` per track, in the order they finish.

Examples
--------
>>> exit_signals(RuntimeError("... exit codes of the workers are {SIGSEGV(-11)}"))
'SIGSEGV'
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import TYPE_CHECKING, Literal

from joblib.externals.loky import ProcessPoolExecutor
from joblib.externals.loky.process_executor import BrokenProcessPool

from musicwb.errors import ParameterError
from musicwb.sonic.analysis import Failed, TrackJob, TrackResult, analyse_track

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "CacheOptions",
    "ExecutionMode",
    "connect_dask",
    "exit_signals",
    "retry_alone",
    "run_dask",
    "run_local",
    "run_loky",
]

ExecutionMode = Literal["local", "loky", "dask"]
"""Where the analysis runs: this process, local worker processes, or a Dask cluster."""
CacheOptions = dict[str, str | None]
"""The keyword arguments of :func:`~musicwb.sonic.analysis.analyse_track` naming its cache."""


def run_local(jobs: Sequence[TrackJob], cache: CacheOptions) -> Iterator[TrackResult]:
    """Analyse the tracks one by one in this process."""
    for job in jobs:
        yield analyse_track(*job, **cache)


def exit_signals(exc: BaseException) -> str:
    """``SIGSEGV`` (or ``SIGKILL, SIGSEGV``) from loky's message about terminated workers."""
    found = re.search(r"exit codes of the workers are \{(.*?)\}", str(exc))
    names = sorted(set(re.findall(r"(SIG[A-Z0-9]+)", found.group(1)))) if found else []
    if names:
        return ", ".join(names)
    codes = re.findall(r"-?\d+", found.group(1)) if found else []
    return f"exit code {', '.join(codes)}" if codes else "killed"


def _die_with_parent(parent: int) -> None:
    """Loky initializer: the worker is killed when the process that started it dies.

    A command killed with SIGKILL cannot stop its workers; without this they would go on
    analysing (and holding their numba cache slot and the command's output pipes) as orphans.
    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere a worker ends when its queue closes.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


def _pool(workers: int) -> Executor:
    return ProcessPoolExecutor(
        max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),)
    )


def retry_alone(
    job: TrackJob, cache: CacheOptions, *, first: BaseException, in_flight: int
) -> TrackResult:
    """Run one track again in a fresh process of its own; a second crash is its failure."""
    executor = _pool(1)
    try:
        return executor.submit(analyse_track, *job, **cache).result()
    except BrokenProcessPool as exc:
        return Failed.crashed(
            job,
            reason=f"worker crashed ({exit_signals(first)}) with {in_flight} track(s) in hand, "
            f"then again ({exit_signals(exc)}) on this track alone in a fresh process",
        )
    finally:
        executor.shutdown(wait=False, kill_workers=True)  # type: ignore[call-arg]


def run_loky(
    jobs: Sequence[TrackJob],
    cache: CacheOptions,
    *,
    workers: int,
    on_crash: Callable[[], None],
) -> Iterator[TrackResult]:
    """Run the jobs on ``workers`` local processes, at most one track in hand per process.

    When a process dies, the pool is broken and every track in hand fails with it: each is run
    again alone in a fresh process (:func:`retry_alone`), then a new pool takes the rest.
    """
    queue = deque(jobs)
    while queue:
        executor = _pool(min(workers, len(queue)))
        running: dict[Future[TrackResult], TrackJob] = {}
        crash: BaseException | None = None
        suspects: list[TrackJob] = []
        clean = False
        try:
            while queue or running:
                while queue and crash is None and len(running) < workers:
                    job = queue.popleft()
                    try:
                        running[executor.submit(analyse_track, *job, **cache)] = job
                    except BrokenProcessPool as exc:
                        queue.appendleft(job)
                        crash = exc
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    error = future.exception()
                    if error is None:
                        yield future.result()
                    elif isinstance(error, BrokenProcessPool):
                        crash = crash or error
                        suspects.append(job)
                    else:  # e.g. a result that cannot be pickled: recorded like any failure
                        yield Failed.crashed(
                            job,
                            reason=f"error:{type(error).__name__}: {job.path}: {error}",
                            worker_crash=False,
                        )
            clean = crash is None
        finally:
            executor.shutdown(wait=clean, kill_workers=not clean)  # type: ignore[call-arg]
        if crash is not None:
            on_crash()
            for job in suspects:
                yield retry_alone(job, cache, first=crash, in_flight=len(suspects))


def connect_dask(scheduler: str) -> Client:
    """A client of the Dask scheduler at ``scheduler`` (``tcp://host:8786``).

    Raises
    ------
    ParameterError
        Dask is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client  # optional: only --scheduler needs Dask
    except ImportError as exc:
        raise ParameterError(
            "--scheduler needs Dask: pip install 'musicwb[dask]' (dask[distributed])"
        ) from exc
    try:
        return Client(scheduler, timeout="10s")
    except OSError as exc:
        raise ParameterError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc


def run_dask(
    jobs: Sequence[TrackJob],
    cache: CacheOptions,
    *,
    client: Client,
    on_crash: Callable[[], None],
) -> Iterator[TrackResult]:
    """Run the jobs on a Dask cluster. The scheduler itself re-runs the task of a worker that
    died (``distributed.scheduler.allowed-failures`` times); after that the task raises
    ``KilledWorker``.

    The scheduler charges a worker's death to every task the worker held, and it holds more than
    the one it runs: a track that only sat beside the one that crashed can end in
    ``KilledWorker`` too. So each such track runs once more, alone on the cluster, after the
    rest; only a track whose worker dies again is that track's failure."""
    from distributed import KilledWorker, as_completed  # optional: only --scheduler needs Dask

    suspects: list[tuple[TrackJob, KilledWorker]] = []
    futures = {client.submit(analyse_track, *job, **cache, pure=False): job for job in jobs}
    try:
        for future in as_completed(list(futures)):
            try:
                yield future.result()
            except KilledWorker as exc:
                suspects.append((futures[future], exc))
    finally:
        client.cancel(list(futures))
    for job, first in suspects:
        alone = client.submit(analyse_track, *job, **cache, pure=False)
        try:
            yield alone.result()
        except KilledWorker as exc:
            on_crash()
            yield Failed.crashed(
                job,
                reason=f"Dask worker died on every try of this track: {first}; "
                f"then again with this track alone: {exc}",
            )
        finally:
            client.cancel([alone])
