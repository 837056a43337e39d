"""The enrichment dashboard (ipywidgets) and the label_hunting notebook's helpers.

:class:`Dashboard` shows a worker's progress bar, its counts (processed, enriched, not found,
failed, remaining), rate and ETA, with start / pause / resume / stop buttons. A refresh thread
updates the widgets while the worker runs, so the notebook's other cells stay usable; it reads
the store only while the worker runs (and once after it ends), so an idle dashboard does not
keep opening a store that other processes use.

For reports (papermill): :func:`run_for_budget` runs the worker for a time budget and returns
the final state, :func:`progress_table` shows it, :func:`cooldown_summary` is the cool-down per
strategy and :func:`retry_due_chart` draws when the parked tracks fall due, day by day, the
jitter visible as a spread around each strategy's delay.

Examples
--------
>>> from musicwb.enrich.worker import Worker      # doctest: +SKIP
>>> board = Dashboard(Worker(store, hunter))       # doctest: +SKIP
>>> board                                          # doctest: +SKIP
"""

from __future__ import annotations

import html
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from musicwb.enrich import cooldown
from musicwb.enrich.outcomes import Hunter
from musicwb.enrich.queue import Progress, queue_progress
from musicwb.enrich.worker import Worker
from musicwb.errors import ParameterError, StoreError
from musicwb.store import Store

__all__ = [
    "Dashboard",
    "cooldown_summary",
    "describe",
    "progress_table",
    "retry_due_chart",
    "run_for_budget",
]


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


def describe(progress: Progress) -> str:
    """One line of HTML: the counts, rate and ETA of a progress."""
    rate = "–" if progress.rate_per_s is None else f"{progress.rate_per_s:.2f}/s"
    return (
        f"<b>{progress.state}</b> · processed {progress.processed} · enriched "
        f"{progress.enriched} · not found {progress.not_found} · failed {progress.failed} · "
        f"remaining {progress.remaining} · rate {rate} · ETA {_clock(progress.eta_s)}"
    )


class Dashboard:
    """Live widgets for a :class:`~musicwb.enrich.worker.Worker`.

    Parameters
    ----------
    worker : Worker
    refresh_s : float, default 1.0
        Seconds between two refreshes of the widgets while the worker runs (a daemon thread;
        it ends with :meth:`close`, or when the store cannot be read any more).

    Attributes
    ----------
    widget : ipywidgets.VBox
        What the notebook displays (the dashboard displays itself as this).
    """

    def __init__(self, worker: Worker, *, refresh_s: float = 1.0) -> None:
        import ipywidgets as widgets

        if refresh_s <= 0:
            raise ParameterError(f"refresh_s must be > 0, got {refresh_s}")
        self.worker = worker
        self.refresh_s = refresh_s
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="queue")
        self.counts = widgets.HTML()
        self.buttons = {
            name: widgets.Button(description=name.capitalize(), tooltip=tip)
            for name, tip in (
                ("start", "Start the worker thread"),
                ("pause", "Take no new item (the thread stays)"),
                ("resume", "Go on after a pause"),
                ("stop", "Finish the items in hand and end the thread"),
            )
        }
        self.buttons["start"].on_click(lambda _: self._then_refresh(self.worker.start))
        self.buttons["pause"].on_click(lambda _: self._then_refresh(self.worker.pause))
        self.buttons["resume"].on_click(lambda _: self._then_refresh(self.worker.resume))
        self.buttons["stop"].on_click(
            lambda _: self._then_refresh(lambda: self.worker.stop(wait=False))
        )
        self.widget = widgets.VBox([widgets.HBox([self.bar, *self.buttons.values()]), self.counts])
        self._closed = threading.Event()
        self._stale = threading.Event()  # something changed that the widgets do not show yet
        self.refresh()
        self._thread = threading.Thread(
            target=self._refresh_loop, name="musicwb-dashboard", daemon=True
        )
        self._thread.start()

    def refresh(self) -> Progress:
        """Read the worker's progress and show it (any thread)."""
        progress = self.worker.progress()
        self.bar.value = progress.fraction
        self.bar.bar_style = {"error": "danger", "finished": "success"}.get(progress.state, "")
        self.counts.value = describe(progress)
        running = self.worker.is_alive
        self.buttons["start"].disabled = running
        self.buttons["pause"].disabled = not running or progress.state in ("paused", "pausing")
        self.buttons["resume"].disabled = progress.state not in ("paused", "pausing")
        self.buttons["stop"].disabled = not running
        return progress

    def _refreshed(self) -> bool:
        try:
            self.refresh()
        except StoreError as exc:  # the notebook closed the store: say so and stop
            self.counts.value = f"<b>no longer updated</b>: {html.escape(str(exc))}"
            return False
        return True

    def _then_refresh(self, action: Any) -> None:
        try:
            action()
        finally:
            self._stale.set()

    def _refresh_loop(self) -> None:
        was_alive = False
        while not self._closed.wait(self.refresh_s):
            alive = self.worker.is_alive
            if not (alive or was_alive or self._stale.is_set()):
                continue  # idle: nothing new to show, and no reason to open the store
            self._stale.clear()
            was_alive = alive  # one more refresh after the worker ends: its final state
            if not self._refreshed():
                break

    def close(self) -> None:
        """Show the last state and end the refresh thread (the worker is left as it is)."""
        self._closed.set()
        self._thread.join()
        self._refreshed()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def run_for_budget(
    target: Worker | Store | str | Path,
    *,
    budget_s: float,
    limit: int | None = None,
    hunter: Hunter | None = None,
    **worker_options: Any,
) -> Progress:
    """Run the worker for a time budget (a batch report's enrichment step), return its state.

    Parameters
    ----------
    target : Worker, Store or path
        A worker (the dashboard's, so the report and the widgets show the same one), a store
        open for writing, or the path of one (opened and closed here).
    budget_s : float
        No new item is taken after this many seconds; 0 only reads the state.
    limit : int, optional
        Take at most this many items.
    hunter : object, optional
        For a store or path: default :func:`musicwb.enrich.labels.make_hunter` on the store.
    **worker_options
        For a store or path: passed to :class:`~musicwb.enrich.worker.Worker` (``threads``,
        ``strategy``, ...).

    Returns
    -------
    Progress
        The state after the run (``processed`` etc. count every run of the store).

    Raises
    ------
    ParameterError
        A negative budget, options given with a worker, or a worker that runs already.

    Examples
    --------
    >>> progress = run_for_budget("data/musicwb.duckdb", budget_s=60)  # doctest: +SKIP
    >>> progress.state  # doctest: +SKIP
    'stopped'
    """
    if budget_s < 0:
        raise ParameterError(f"budget_s must be >= 0, got {budget_s}")
    if isinstance(target, Worker):
        if hunter is not None or worker_options:
            raise ParameterError("give a worker, or a store with the worker's options, not both")
        if budget_s == 0:
            return target.progress()
        target.options = replace(target.options, budget_s=budget_s, limit=limit)
        return target.run()
    if not isinstance(target, Store):
        # opened per statement: other processes read (and write) between the worker's commits
        with Store(target, hold_open=False, lock_wait_s=60.0) as opened:
            return run_for_budget(
                opened, budget_s=budget_s, limit=limit, hunter=hunter, **worker_options
            )
    if budget_s == 0:
        return queue_progress(target)
    worker = Worker(target, hunter, budget_s=budget_s, limit=limit, **worker_options)
    return worker.run()


def progress_table(progress: Progress) -> pd.DataFrame:
    """A progress as a two-column table (``measure``, ``value``) for reports.

    Examples
    --------
    >>> p = Progress("stopped", 3, 2, 1, 0, 0, 7, None, None)
    >>> table = progress_table(p).set_index("measure")["value"]
    >>> table["remaining"], table["host"]
    ('7', '–')
    """
    values = progress.as_dict()
    values["rate_per_s"] = "–" if progress.rate_per_s is None else f"{progress.rate_per_s:.3f}"
    values["eta_s"] = _clock(progress.eta_s)
    return pd.DataFrame(
        {"measure": list(values), "value": ["–" if v is None else str(v) for v in values.values()]}
    )


def cooldown_summary(store: Store, *, now: datetime | None = None) -> pd.DataFrame:
    """The cool-down per strategy (see :func:`musicwb.enrich.cooldown.summary_frame`)."""
    return cooldown.summary_frame(store, now=now or cooldown.utc_now())


def retry_due_chart(store: Store, *, title: str | None = None) -> alt.Chart:
    """Parked tracks falling due per day, coloured by strategy: the jitter shows as a spread.

    Parameters
    ----------
    store : Store
    title : str, optional

    Returns
    -------
    altair.Chart
        Stacked bars, one per day with retries due (an empty chart says so in its title).
    """
    due = cooldown.due_frame(store)
    counts = (
        due.groupby(["due_date", "strategy"], as_index=False)
        .size()
        .rename(columns={"size": "tracks"})
    )
    counts["due_date"] = pd.to_datetime(counts["due_date"])
    title = title or (
        "Retries due per day" if not due.empty else "No track is waiting in the cool-down"
    )
    return (
        alt.Chart(counts, title=title)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(due_date):T", title="due"),
            y=alt.Y("tracks:Q", title="tracks due", stack="zero"),
            color=alt.Color("strategy:N", title="strategy"),
            tooltip=["due_date:T", "strategy:N", "tracks:Q"],
        )
        .properties(width=600, height=220)
    )
