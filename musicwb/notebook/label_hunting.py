"""Tables and charts of a label hunt, for the ``label_hunting`` notebook (pure over frames).

Examples
--------
>>> import tempfile
>>> from musicwb.store import Store
>>> with Store(f"{tempfile.mkdtemp()}/coverage.duckdb") as store:
...     before = coverage_counts(store)
>>> coverage_change(before, {"tracks": 4, "with_label": 3, "by_hunter": 3})["coverage"].tolist()
[0.0, 0.75]
"""

from __future__ import annotations

import html
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from musicwb import charts
from musicwb.enrich.calibration import calibration_table, latest_calibrations
from musicwb.enrich.review import accept_label, reject_label, review_queue
from musicwb.errors import MusicwbError
from musicwb.notebook.tables import table_html
from musicwb.store import Store
from musicwb.store.tables import enrich as tables

__all__ = [
    "CONFIDENCE_BINS",
    "ReviewBoard",
    "calibration_chart",
    "calibration_frame",
    "confidence_chart",
    "confidence_histogram",
    "coverage_change",
    "coverage_counts",
    "failure_reasons_table",
    "findings_by_source",
    "review_html",
    "review_table",
]

CONFIDENCE_BINS = np.round(np.arange(0.0, 1.0001, 0.05), 2)


def coverage_counts(store: Store) -> dict[str, int]:
    """Tracks in all, with a label, and with a label the hunter filled.

    Returns
    -------
    dict
        ``tracks``, ``with_label``, ``by_hunter``.
    """
    tracks, with_label, by_hunter = tables.coverage(store=store)
    return {"tracks": tracks, "with_label": with_label, "by_hunter": by_hunter}


def coverage_change(before: dict[str, int], after: dict[str, int]) -> pd.DataFrame:
    """Label coverage before and after a hunt, one row per moment.

    Returns
    -------
    pandas.DataFrame
        Columns ``moment`` (``before``/``after``), ``with label``, ``without label``,
        ``coverage`` (fraction of all tracks).
    """
    rows = []
    for moment, counts in (("before", before), ("after", after)):
        total = max(counts["tracks"], 1)
        rows.append(
            {
                "moment": moment,
                "with label": counts["with_label"],
                "without label": counts["tracks"] - counts["with_label"],
                "coverage": round(counts["with_label"] / total, 4),
            }
        )
    return pd.DataFrame(rows)


def findings_by_source(findings: pd.DataFrame) -> pd.DataFrame:
    """Accepted and below-threshold findings per source, most accepted first.

    Parameters
    ----------
    findings : pandas.DataFrame
        :func:`musicwb.enrich.findings.findings_frame` (``source``, ``accepted``).
    """
    if findings.empty:
        return pd.DataFrame(columns=["source", "accepted", "for review"])
    table = (
        findings.assign(kind=np.where(findings["accepted"], "accepted", "for review"))
        .pivot_table(
            index="source", columns="kind", values="track_id", aggfunc="count", fill_value=0
        )
        .reindex(columns=["accepted", "for review"], fill_value=0)
        .reset_index()
        .sort_values(["accepted", "for review"], ascending=False, ignore_index=True)
    )
    table.columns.name = None
    return table


def confidence_histogram(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per confidence bin of width 0.05 (``start``, ``end``, ``findings``)."""
    counts, edges = np.histogram(findings["confidence"].astype(float), bins=CONFIDENCE_BINS)
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "findings": counts})


def confidence_chart(findings: pd.DataFrame, *, min_confidence: float):
    """The confidence histogram as a chart (the threshold named in the title)."""
    return charts.histogram_bars(
        confidence_histogram(findings),
        start="start",
        end="end",
        count="findings",
        title=f"Confidence of the findings (accepted from {min_confidence:.2f})",
        value_title="confidence",
        empty_text="No finding yet: the hunt has found nothing to show.",
    )


def failure_reasons_table(reasons: dict[str, int]) -> pd.DataFrame:
    """The failure reasons of a hunt, most frequent first (``reason``, ``count``).

    Parameters
    ----------
    reasons : dict of str to int
        :attr:`musicwb.enrich.hunt.HuntSummary.failure_reasons`.

    Examples
    --------
    >>> failure_reasons_table({"Discogs: HTTP 503 after 5 tries": 1, "MusicBrainz: timeout": 4})
                                reason  count
    0             MusicBrainz: timeout      4
    1  Discogs: HTTP 503 after 5 tries      1
    """
    table = pd.DataFrame(
        {"reason": list(reasons), "count": [int(n) for n in reasons.values()]},
        columns=["reason", "count"],
    )
    return table.sort_values(["count", "reason"], ascending=[False, True], ignore_index=True)


def review_table(findings: pd.DataFrame, *, limit: int = 50) -> pd.DataFrame:
    """Findings below the threshold, surest first, with the evidence to check them by."""
    columns = [
        "track_id",
        "artist",
        "title",
        "label",
        "catalog",
        "source",
        "confidence",
        "evidence",
    ]
    below = findings[~findings["accepted"].astype(bool)]
    return (
        below.sort_values("confidence", ascending=False)[columns].head(limit).reset_index(drop=True)
    )


# -- calibration and review (issue 15) -----------------------------------------------------


def calibration_frame(store: Store) -> pd.DataFrame:
    """Predicted (stated) against observed precision per tier and decile, held out, of the
    calibrations the next hunt uses (the store's latest, else the library tier's default).

    Returns
    -------
    pandas.DataFrame
        See :func:`musicwb.enrich.calibration.calibration_table`.

    Examples
    --------
    >>> import tempfile
    >>> with Store(f"{tempfile.mkdtemp()}/cal.duckdb") as store:
    ...     table = calibration_frame(store)
    >>> table["tier"].unique().tolist(), len(table)
    (['library'], 10)
    """
    return calibration_table(latest_calibrations(store))


def calibration_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Stated confidence against observed precision, one point per tier and decile, with the
    diagonal a calibrated tier follows.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`calibration_frame` (``tier``, ``stated``, ``observed``, ``n``, ``gap``).

    Examples
    --------
    >>> table = pd.DataFrame({"tier": ["library"], "decile": [1], "n": [10], "stated": [0.3],
    ...                       "observed": [0.32], "gap": [-0.02]})
    >>> calibration_chart(table).to_dict()["layer"][1]["mark"]["type"]
    'point'
    """
    columns = ["tier", "decile", "n", "stated", "observed", "gap"]
    data = table[columns] if not table.empty else pd.DataFrame(columns=columns)
    diagonal = (
        alt.Chart(pd.DataFrame({"stated": [0.0, 1.0], "observed": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="stated:Q", y="observed:Q")
    )
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("stated:Q", title="stated confidence", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("observed:Q", title="observed precision", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("tier:N", title="tier"),
            tooltip=[
                alt.Tooltip("tier:N"),
                alt.Tooltip("decile:Q"),
                alt.Tooltip("n:Q", format="d"),
                alt.Tooltip("stated:Q", format=".3f"),
                alt.Tooltip("observed:Q", format=".3f"),
                alt.Tooltip("gap:Q", format="+.3f"),
            ],
        )
    )
    return alt.layer(diagonal, points).properties(
        title="Calibration per tier: stated against observed (held-out deciles)",
        width=360,
        height=360,
    )


_REVIEW_SHOWN = ("track_id", "artist", "title", "label", "catalog", "source", "confidence",
                 "evidence")  # fmt: skip


def review_html(frame: pd.DataFrame) -> str:
    """The review table as plain, escaped HTML (what a static report shows: no widgets).

    Examples
    --------
    >>> frame = pd.DataFrame({"track_id": [3], "artist": ["<A>"], "title": ["T"],
    ...                       "label": ["L"], "catalog": [None], "source": ["title"],
    ...                       "confidence": [0.65], "evidence": ["e"]})
    >>> "&lt;A&gt;" in review_html(frame), review_html(frame.iloc[:0])
    (True, '<p class="musicwb-review">No finding waits for a decision.</p>')
    """
    if frame.empty:
        return '<p class="musicwb-review">No finding waits for a decision.</p>'
    return f'<div class="musicwb-review">{table_html(frame[list(_REVIEW_SHOWN)])}</div>'


class ReviewBoard:
    """The review table with Accept and Reject buttons per finding (ipywidgets).

    Displays the plain table (:func:`review_html`, what a static report keeps) and, for a live
    kernel, a panel of buttons that call :func:`musicwb.enrich.review.accept_label` and
    :func:`~musicwb.enrich.review.reject_label`, the functions of ``musicwb labels
    accept|reject``.

    Parameters
    ----------
    store : Store
        Opened for writing.
    limit : int, default 50
        Findings listed.
    buttons : bool, default True
        Show the buttons under the table (a batch report leaves them out: it cannot use them).

    Attributes
    ----------
    frame : pandas.DataFrame
        The findings listed (:func:`musicwb.enrich.review.review_queue`).
    decisions : list of Decision
        Made through the buttons (or :meth:`accept` / :meth:`reject`), in order.
    """

    def __init__(self, store: Store, *, limit: int = 50, buttons: bool = True) -> None:
        self.store = store
        self.buttons = buttons
        self.frame = review_queue(store, limit=limit)
        self.decisions: list[Any] = []
        self._widget: Any = None
        self._status: dict[int, Any] = {}

    def accept(self, track_id: int) -> str:
        """Accept the track's finding; the line the panel shows."""
        return self._decide(track_id, accept_label)

    def reject(self, track_id: int) -> str:
        """Reject the track's finding; the line the panel shows."""
        return self._decide(track_id, reject_label)

    def _decide(self, track_id: int, decide: Any) -> str:
        try:
            decision = decide(self.store, int(track_id))
        except MusicwbError as exc:
            text = f"error: {exc}"
        else:
            self.decisions.append(decision)
            text = decision.describe()
        if int(track_id) in self._status:
            self._status[int(track_id)].value = html.escape(text)
        return text

    def widget(self) -> Any:
        """The panel of buttons (built once)."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as widgets

        rows = []
        for _, row in self.frame.iterrows():
            track_id = int(row["track_id"])
            accept = widgets.Button(description="Accept", button_style="success")
            reject = widgets.Button(description="Reject", button_style="danger")
            status = widgets.HTML()
            self._status[track_id] = status
            accept.on_click(lambda _, t=track_id: self.accept(t))
            reject.on_click(lambda _, t=track_id: self.reject(t))
            what = html.escape(f"{track_id} · {row['label']} ({row['confidence']:.2f})")
            rows.append(widgets.HBox([widgets.HTML(what), accept, reject, status]))
        self._widget = widgets.VBox(rows)
        return self._widget

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        display(HTML(review_html(self.frame)))
        if self.buttons and not self.frame.empty:
            display(self.widget())
