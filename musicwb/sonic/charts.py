"""Altair charts of sonic validation: a DataFrame in, a chart out, no computing.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"variant": ["raw", "zscore"], "metric": ["topk_gap"] * 2,
...                       "mean": [0.04, 0.19], "std": [0.02, 0.05], "threshold": [0.15, 0.15]})
>>> variant_metric_bars(table).to_dict()["facet"]["field"]
'metric'
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from musicwb.errors import ParameterError

__all__ = ["variant_metric_bars"]


def variant_metric_bars(
    table: pd.DataFrame, *, title: str = "Similarity metrics by variant"
) -> alt.FacetChart:
    """One panel per metric: a bar per variant (mean over seeds), its spread, the pass line.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (variant, metric), as :func:`musicwb.sonic.validation.compare_variants`
        returns it: columns ``variant``, ``metric``, ``mean``, ``std`` and optionally
        ``threshold`` (a dashed rule where present). Rows whose mean is missing (flatness
        undefined) get no bar.
    title : str

    Returns
    -------
    altair.FacetChart
    """
    missing = [c for c in ("variant", "metric", "mean", "std") if c not in table.columns]
    if not isinstance(table, pd.DataFrame) or missing:
        raise ParameterError(
            f"variant_metric_bars: the table needs columns variant, metric, mean, std; missing {missing}"
        )
    data = table.copy()
    if "threshold" not in data.columns:
        data["threshold"] = None
    data["low"] = data["mean"] - data["std"]
    data["high"] = data["mean"] + data["std"]
    base = alt.Chart().encode(
        x=alt.X("variant:N", title=None, sort=list(dict.fromkeys(data["variant"])))
    )
    bars = base.mark_bar().encode(
        y=alt.Y("mean:Q", title="mean over seeds"),
        color=alt.Color("variant:N", legend=None),
        tooltip=[
            "variant",
            "metric",
            alt.Tooltip("mean:Q", format=".3f"),
            alt.Tooltip("std:Q", format=".3f"),
        ],
    )
    spread = base.mark_rule().encode(y="low:Q", y2="high:Q")
    rule = alt.Chart().mark_rule(strokeDash=[4, 3], color="black").encode(y="threshold:Q")
    return (
        alt.layer(bars, spread, rule, data=data)
        .properties(width=140, height=160)
        .facet(
            facet=alt.Facet("metric:N", title=None, sort=list(dict.fromkeys(data["metric"]))),
            columns=3,
        )
        .resolve_scale(y="independent")
        .properties(title=title)
    )
