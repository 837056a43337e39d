"""The sonic jobs as the command line runs them: opened store, run record, one library call.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb"
>>> run = recorded_extract(path, progress=False)
>>> run.summary.analysed, run.run_id.split("-")[2]
(0, 'extract')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from musicwb.sonic.extract import ExtractSummary, extract_library
from musicwb.store import Store
from musicwb.store.runs import recorded_run

__all__ = ["ExtractRun", "recorded_extract"]


@dataclass(frozen=True)
class ExtractRun:
    """An extraction recorded as a run.

    Attributes
    ----------
    run_id : str
        Its ``extract`` run record.
    summary : ExtractSummary
    """

    run_id: str
    summary: ExtractSummary


def recorded_extract(
    store_path: str | Path,
    *,
    workers: int = 1,
    in_process: bool = False,
    scheduler: str | None = None,
    force: bool = False,
    confirmed: bool = False,
    retry_errors: bool = False,
    progress: bool = True,
) -> ExtractRun:
    """Run :func:`~musicwb.sonic.extract.extract_library` as an ``extract`` run of the store.

    The store is opened per batch (``hold_open=False``): ``tracks``, ``playlist``, ``enrich
    status`` ... use it between two commits; a commit waits up to a minute for a reader to
    finish. The run records ``"interrupted"`` on Ctrl-C (finished batches are kept) and
    ``"failed"`` with the error otherwise.

    Parameters
    ----------
    store_path : str or Path
    workers, scheduler, force, confirmed, retry_errors, progress
        As in :func:`~musicwb.sonic.extract.extract_library`.
    in_process : bool, default False
        With ``workers=1``, analyse in this process instead of an isolated worker process.

    Returns
    -------
    ExtractRun
    """
    parameters = {
        "workers": workers,
        "in_process": in_process,
        "scheduler": scheduler,
        "force": force,
        "retry_errors": retry_errors,
    }
    with (
        Store(store_path, hold_open=False, lock_wait_s=60.0) as store,
        recorded_run(store, kind="extract", parameters=parameters) as run,
    ):
        summary = extract_library(
            store,
            workers=workers,
            isolated=not in_process,
            scheduler=scheduler,
            force=force,
            confirmed=confirmed,
            retry_errors=retry_errors,
            progress=progress,
        )
        run.summary = summary.as_dict
    return ExtractRun(run_id=run.run_id, summary=summary)
