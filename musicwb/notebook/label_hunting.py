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

import numpy as np
import pandas as pd

from musicwb import charts
from musicwb.store import Store
from musicwb.store.tables import enrich as tables

__all__ = [
    "CONFIDENCE_BINS",
    "confidence_chart",
    "confidence_histogram",
    "coverage_change",
    "coverage_counts",
    "failure_reasons_table",
    "findings_by_source",
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
