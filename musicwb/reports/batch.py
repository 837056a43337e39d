"""Running a batch: papermill executes each notebook, nbconvert writes its offline report.

:func:`run_batch` (the ``musicwb batch`` command) plans the batch (:mod:`musicwb.reports.plan`),
records it in the store's ``runs`` table, runs each notebook in its own kernel with the store
path (absolute) and its parameters, exports each executed notebook to HTML
(:mod:`musicwb.reports.html`), writes the index page (:mod:`musicwb.reports.index`) and records
how it ended. One failing notebook does not stop the others; Ctrl-C stops the batch, and the
index and the ``runs`` row still say what ran and what did not.

The store is opened for writing only briefly, before and after the notebooks run; the
notebooks' kernels (other processes) open it read-only, and DuckDB allows one writing process.

Examples
--------
>>> result = run_batch(  # doctest: +SKIP
...     store_path=Path("data/musicwb.duckdb"),
...     out_dir=Path("reports"),
...     notebooks=["label_hunting"],
...     no_input=True,
... )
>>> print(result.describe())  # doctest: +SKIP
label_hunting            ok         9.8 s
batch 20261122-061500-batch-ab12: 1 ok, 0 not ok in 10.4 s
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from tqdm.auto import tqdm

from musicwb.errors import StoreError, StoreLockedError
from musicwb.reports.html import export_html
from musicwb.reports.index import render_index
from musicwb.reports.plan import (
    INTERACTIVE_PARAMETER,
    OUTPUT_PARAMETER,
    STORE_PARAMETER,
    NotebookPlan,
    load_batch_config,
    plan_batch,
    settings_secrets,
)
from musicwb.reports.results import BatchInterrupted, BatchResult, NotebookResult
from musicwb.store import Store
from musicwb.store.runs import recorded_run

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

__all__ = ["run_batch"]

RunStatus = Literal["ok", "failed", "interrupted"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL = "python3"  # ipykernel's spec in this environment: the kernel runs sys.executable
# CurveZMQ-encrypted kernel sockets where the kernel supports them (ipykernel does), so
# notebook code and outputs do not cross localhost TCP in plain text.
_KERNEL_CONFIG = {"KernelManager": {"transport_encryption": "auto"}}  # a traitlets Config


def _execution_error(exc: BaseException) -> str:
    """``"<Type>: message (in cell [n])"`` and the end of the traceback, without colour codes."""
    from papermill.exceptions import PapermillExecutionError  # loaded with the batch's papermill

    if isinstance(exc, PapermillExecutionError):
        where = (
            f"cell [{exc.exec_count}]" if exc.exec_count is not None else f"cell {exc.cell_index}"
        )
        trace = _ANSI.sub("", "\n".join(exc.traceback or []))
        tail = "\n".join(trace.strip().splitlines()[-12:])
        return f"{exc.ename}: {exc.evalue} (in {where})\n\n{tail}".rstrip()
    return f"{type(exc).__name__}: {exc}"


def _kernel_manager_writing_to(log: BinaryIO) -> type[AsyncKernelManager]:
    """A kernel manager whose kernels write their stderr into ``log``, not into the terminal.

    A kernel's own logging (and, when Ctrl-C stops the batch, the tracebacks of its closing
    sockets) belongs with its notebook, not among the batch's progress and summary lines.
    """
    from jupyter_client.manager import AsyncKernelManager  # jupyter: only when a batch runs

    class KernelManagerWithLog(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["stderr"] = log
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return KernelManagerWithLog


@dataclass(frozen=True)
class _NotebookRunner:
    """How each notebook of a batch runs: into which folder, on which store, with what limits.

    Attributes
    ----------
    run_dir : Path
        The batch's folder: ``<notebook>.ipynb``, ``.html`` and ``.kernel.log`` go there.
    store_path : Path
        The store, absolute; passed to every notebook.
    no_input : bool
        Hide code cells in the reports.
    cell_timeout_s : float or None
        A cell running longer fails its notebook.
    """

    run_dir: Path
    store_path: Path
    no_input: bool
    cell_timeout_s: float | None

    def run(self, plan: NotebookPlan) -> NotebookResult:
        """Execute one notebook and export its report; record failures, go on."""
        # Jupyter's machinery loads only when a notebook runs, not when reports is imported.
        import nbformat
        import papermill
        from traitlets.config import Config

        started = time.perf_counter()
        parameters: dict[str, Any] = {STORE_PARAMETER: str(self.store_path)}
        if OUTPUT_PARAMETER in plan.declared:
            output_dir = self.run_dir / f"{plan.name}_files"
            output_dir.mkdir(exist_ok=True)
            parameters[OUTPUT_PARAMETER] = str(output_dir)
        if INTERACTIVE_PARAMETER in plan.declared:
            parameters[INTERACTIVE_PARAMETER] = False
        parameters.update(plan.parameters)
        ipynb_path = self.run_dir / f"{plan.name}.ipynb"
        html_path = self.run_dir / f"{plan.name}.html"
        kernel_log_path = self.run_dir / f"{plan.name}.kernel.log"
        errors: list[str] = []
        interrupted = False
        try:
            with open(kernel_log_path, "wb") as kernel_log:
                papermill.execute_notebook(
                    str(plan.path),
                    str(ipynb_path),
                    parameters=parameters,
                    kernel_name=_KERNEL,
                    progress_bar=False,
                    log_output=False,
                    cwd=str(plan.path.parent),
                    execution_timeout=self.cell_timeout_s,
                    config=Config(_KERNEL_CONFIG),
                    kernel_manager_class=_kernel_manager_writing_to(kernel_log),
                )
        except KeyboardInterrupt:
            # What the notebook had done (findings stored, cells executed) is real: keep its
            # partial output and report, and let the batch stop after recording it.
            interrupted = True
            errors.append(f"interrupted (Ctrl-C) after {time.perf_counter() - started:.1f} s")
        except Exception as exc:  # noqa: BLE001 -- recorded in the index; the batch goes on
            errors.append(_execution_error(exc))
        if kernel_log_path.exists() and kernel_log_path.stat().st_size == 0:
            kernel_log_path.unlink()
        if ipynb_path.exists():
            try:
                nb = nbformat.read(ipynb_path, as_version=4)
                html_path.write_text(
                    export_html(nb, no_input=self.no_input, name=plan.name), encoding="utf-8"
                )
            except KeyboardInterrupt:
                interrupted = True
                errors.append("interrupted (Ctrl-C) during the HTML export")
            except Exception as exc:  # noqa: BLE001 -- recorded in the index; the batch goes on
                errors.append(f"HTML export failed: {type(exc).__name__}: {exc}")
        return NotebookResult(
            name=plan.name,
            status="interrupted" if interrupted else "failed" if errors else "ok",
            duration_s=time.perf_counter() - started,
            parameters=parameters,
            ipynb_path=ipynb_path if ipynb_path.exists() else None,
            html_path=html_path if html_path.exists() else None,
            error="\n\n".join(errors) or None,
            defaults={
                key: str(declared.get("default"))
                for key, declared in plan.declared.items()
                if key not in parameters
            },
        )

    def run_or_interrupted(self, plan: NotebookPlan) -> NotebookResult:
        """:meth:`run`, or an ``interrupted`` result when Ctrl-C came before the notebook
        started (or a second Ctrl-C came during its export)."""
        began = time.perf_counter()
        try:
            return self.run(plan)
        except KeyboardInterrupt:
            elapsed = time.perf_counter() - began
            partial = self.run_dir / f"{plan.name}.ipynb"
            return NotebookResult(
                plan.name,
                "interrupted",
                elapsed,
                {},
                partial if partial.exists() else None,
                None,
                f"interrupted (Ctrl-C) after {elapsed:.1f} s",
            )


def _run_notebooks(
    plans: list[NotebookPlan],
    *,
    runner: _NotebookRunner,
    results: list[NotebookResult],
    progress: bool,
) -> tuple[RunStatus, str]:
    """Run the notebooks one by one into ``run_dir``, appending to ``results``.

    Returns the batch's status and why notebooks not run were not (Ctrl-C stops the batch).
    """
    try:
        runner.run_dir.mkdir(parents=True)
        bar = tqdm(plans, desc="notebooks", unit="notebook", file=sys.stderr, disable=not progress)
        for plan in bar:
            bar.set_postfix_str(plan.name)
            results.append(runner.run_or_interrupted(plan))
            if results[-1].status == "interrupted":
                raise KeyboardInterrupt
        bar.close()
    except KeyboardInterrupt:
        return "interrupted", "the batch was interrupted before it"
    return ("ok" if all(result.ok for result in results) else "failed"), ""


def _batch_summary(
    *, run_dir: Path, index_path: Path, total_s: float, notebooks: list[NotebookResult]
) -> dict[str, Any]:
    """What the batch's ``runs`` row records at its end: where, how long, per notebook."""
    return {
        "run_dir": str(run_dir),
        "index_path": str(index_path),
        "duration_s": round(total_s, 3),
        "notebooks": {
            result.name: {key: result.as_dict()[key] for key in ("status", "duration_s")}
            for result in notebooks
        },
    }


def run_batch(
    *,
    store_path: Path,
    out_dir: Path,
    config_path: Path | None = None,
    notebooks: list[str] | None = None,
    no_input: bool = False,
    progress: bool = True,
    notebooks_dir: Path | None = None,
    cell_timeout_s: float | None = 600.0,
) -> BatchResult:
    """Run the notebooks on a store and write their reports and an index page.

    Parameters
    ----------
    store_path : Path
        The DuckDB store; it must exist. Passed to every notebook as an absolute path.
    out_dir : Path
        The reports folder; this run writes ``<out_dir>/<run_id>/``.
    config_path : Path, optional
        TOML or YAML batch file with ``[defaults]`` and ``[notebooks.<name>]`` tables.
    notebooks : list of str, optional
        Run only these notebooks (by name); all by default.
    no_input : bool, default False
        Hide code cells in the HTML reports.
    progress : bool, default True
        Show a progress bar over notebooks on stderr.
    notebooks_dir : Path, optional
        Where the notebooks are; the repository's ``notebooks/`` by default.
    cell_timeout_s : float or None, default 600
        A cell running longer fails its notebook; ``None`` for no limit.

    Returns
    -------
    BatchResult
        ``ok`` is False when any notebook failed (the others still ran).

    Raises
    ------
    BatchInterrupted
        Ctrl-C (a :class:`KeyboardInterrupt`): the notebook that was running is recorded as
        ``interrupted`` with its time and partial report, the index page and the ``runs`` row
        are written, and the exception carries the :class:`BatchResult`.
    ParameterError
        Bad batch file, notebook name or parameter (nothing has been written).
    StoreError
        No store at ``store_path``, or it cannot be opened for writing.

    Examples
    --------
    >>> result = run_batch(  # doctest: +SKIP
    ...     store_path=Path("data/musicwb.duckdb"), out_dir=Path("reports")
    ... )
    >>> print(result.describe())  # doctest: +SKIP
    """
    started_wall = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    store_path = Path(store_path).expanduser().resolve()
    out_dir = Path(out_dir).expanduser().resolve()
    config = load_batch_config(Path(config_path)) if config_path is not None else None
    plans = plan_batch(
        config, notebooks_dir=notebooks_dir, selected=notebooks, secrets=settings_secrets()
    )
    if not store_path.is_file():
        raise StoreError(
            f"no store at {store_path}: build one with `musicwb scan PATH` or `musicwb demo`, "
            "or pass --store"
        )

    # A store that opens the file only to record the run's start and end: the kernels open it
    # read-only meanwhile, and DuckDB allows one writing process.
    store = Store(store_path, hold_open=False)
    parameters = {
        "notebooks": [plan.name for plan in plans],
        "parameters": {plan.name: plan.parameters for plan in plans},
        "out_dir": str(out_dir),
        "no_input": no_input,
    }
    run_dir: Path | None = None
    try:
        with recorded_run(store, kind="batch", parameters=parameters) as run:
            run_id = run.run_id
            run_dir = out_dir / run_id
            index_path = run_dir / "index.html"
            results: list[NotebookResult] = []
            shown: list[NotebookResult] = []
            total_s = 0.0
            run.summary = lambda: _batch_summary(
                run_dir=run_dir, index_path=index_path, total_s=total_s, notebooks=shown
            )
            run.status, stopped_because = "failed", "the batch stopped on an unexpected error"
            try:
                runner = _NotebookRunner(
                    run_dir=run_dir,
                    store_path=store_path,
                    no_input=no_input,
                    cell_timeout_s=cell_timeout_s,
                )
                run.status, stopped_because = _run_notebooks(
                    plans, runner=runner, results=results, progress=progress
                )
            finally:
                total_s = time.perf_counter() - started_wall
                done = {result.name for result in results}
                shown = results + [
                    NotebookResult(plan.name, "not_run", 0.0, {}, None, None, stopped_because)
                    for plan in plans
                    if plan.name not in done
                ]
                if run_dir.is_dir():
                    index_path.write_text(
                        render_index(
                            run_id=run_id,
                            store_path=store_path,
                            started_at=started_at,
                            total_s=total_s,
                            notebooks=shown,
                        ),
                        encoding="utf-8",
                    )
    except StoreLockedError as exc:
        if run_dir is None:  # the batch did not start
            raise
        raise StoreLockedError(
            f"{exc} The batch's reports are written ({run_dir}), but its run {run_id} still "
            "says 'running' in the store."
        ) from exc
    result = BatchResult(
        run_id=run_id,
        run_dir=run_dir,
        index_path=index_path,
        notebooks=shown if run.status == "interrupted" else results,
        duration_s=time.perf_counter() - started_wall,
    )
    if run.status == "interrupted":
        raise BatchInterrupted(result)
    return result
