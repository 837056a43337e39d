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

__all__ = [
    "projection_scatter",
    "retrieval_bars",
    "retrieval_chart",
    "similarity_histogram_bars",
    "variant_metric_bars",
]


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


def _require(frame: pd.DataFrame, columns: list[str], *, chart: str) -> None:
    missing = [c for c in columns if not isinstance(frame, pd.DataFrame) or c not in frame.columns]
    if missing:
        raise ParameterError(f"{chart}: the frame needs columns {columns}; missing {missing}")


def similarity_histogram_bars(
    frame: pd.DataFrame, *, title: str = "Similarity of the seed to every other track"
) -> alt.FacetChart:
    """One panel per variant: the seed's similarities, a colour per group (same artist, ...).

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`musicwb.notebook.sonic_validation.similarity_histogram`: ``variant``, ``group``,
        ``bin_start``, ``bin_end``, ``tracks``, ``share``.
    title : str

    Returns
    -------
    altair.FacetChart
        Bars of ``share`` (the fraction of the group in each bin), groups overlaid.
    """
    _require(
        frame,
        ["variant", "group", "bin_start", "bin_end", "tracks", "share"],
        chart="similarity_histogram_bars",
    )
    bars = (
        alt.Chart()
        .mark_bar(opacity=0.55, binSpacing=0)
        .encode(
            x=alt.X("bin_start:Q", title="cosine similarity to the seed"),
            x2="bin_end:Q",
            y=alt.Y("share:Q", title="share of the group", stack=None),
            y2=alt.datum(0),
            color=alt.Color("group:N", sort=list(dict.fromkeys(frame["group"]))),
            tooltip=[
                "variant",
                "group",
                alt.Tooltip("bin_start:Q", format=".2f"),
                alt.Tooltip("bin_end:Q", format=".2f"),
                "tracks:Q",
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=260, height=160)
    )
    return (
        alt.layer(bars, data=frame)
        .facet(
            facet=alt.Facet("variant:N", title=None, sort=list(dict.fromkeys(frame["variant"]))),
            columns=3,
        )
        .properties(title=title)
    )


# Vega's tableau20 without its two greys, which "other artists" would be confused with
_ARTIST_COLOURS = (
    "#4c78a8", "#9ecae9", "#f58518", "#ffbf79", "#54a24b", "#88d27a", "#b79a20", "#f2cf5b",
    "#439894", "#83bcb6", "#e45756", "#ff9d98", "#d67195", "#fcbfd2", "#b279a2", "#d6a5c9",
    "#9e765f", "#d8b5a5",
)  # fmt: skip
OTHER_ARTISTS = "other artists"
_OTHER_COLOUR = "#d9d9d9"


def projection_scatter(
    frame: pd.DataFrame, *, title: str = "Tracks on the first two principal components"
) -> alt.Chart:
    """A scatter of a 2-D projection, coloured by artist, with the track in the tooltip.

    Each colour names one artist: the 18 artists with the most tracks get one each, every
    other artist is a grey "other artists" (a palette that repeated its colours would draw two
    artists as one cloud).

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`musicwb.notebook.sonic_validation.projection_frame`: ``pc1``, ``pc2``, ``artist`` (the
        colour) and optionally ``credit``, ``title``, ``album``, ``track_id`` (the tooltip).
    title : str

    Returns
    -------
    altair.Chart

    Examples
    --------
    >>> frame = pd.DataFrame({"pc1": range(30), "pc2": range(30),
    ...                       "artist": [f"artist {i}" for i in range(30)]})
    >>> scale = projection_scatter(frame).to_dict()["encoding"]["color"]["scale"]
    >>> len(scale["domain"]), scale["domain"][-1], scale["range"][-1]
    (19, 'other artists', '#d9d9d9')
    """
    _require(frame, ["pc1", "pc2", "artist"], chart="projection_scatter")
    extra = [c for c in ("credit", "track_id", "title", "album") if c in frame.columns]
    counts = frame["artist"].value_counts(sort=False)
    ordered = sorted(counts.index, key=lambda artist: (-counts[artist], str(artist)))
    coloured = ordered[: len(_ARTIST_COLOURS)]
    others = len(ordered) > len(coloured)
    shown = frame.assign(
        colour=frame["artist"].where(frame["artist"].isin(coloured), OTHER_ARTISTS)
    )
    domain = [*coloured, *([OTHER_ARTISTS] if others else [])]
    colours = [*_ARTIST_COLOURS[: len(coloured)], *([_OTHER_COLOUR] if others else [])]
    legend_title = f"artist ({len(coloured)} of {len(ordered)})" if others else "artist"
    return (
        alt.Chart(shown, title=title)
        .mark_circle(size=45, opacity=0.8)
        .encode(
            x=alt.X("pc1:Q", title="PC 1"),
            y=alt.Y("pc2:Q", title="PC 2"),
            color=alt.Color(
                "colour:N",
                title=legend_title,
                scale=alt.Scale(domain=domain, range=colours),
                legend=alt.Legend(columns=1, symbolLimit=40),
            ),
            tooltip=["artist", *extra],
        )
        .properties(width=520, height=380)
        .interactive()
    )


def retrieval_bars(
    frame: pd.DataFrame,
    *,
    metric: str = "precision_at_10",
    title: str = "Same-artist retrieval: in-sample beside artist-disjoint",
) -> alt.LayerChart:
    """A bar per method and evaluation (micro mean), its 95% interval, the random baseline.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`musicwb.sonic.validation.retrieval_comparison` output: columns ``method``,
        ``kind``, ``evaluation``, ``metric``, ``micro``, ``micro_low``, ``micro_high``.
    metric : str, default "precision_at_10"
    title : str

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> f = pd.DataFrame({"method": ["zscore", "random"], "kind": ["variant", "random"],
    ...                   "evaluation": ["in_sample"] * 2, "metric": ["map"] * 2,
    ...                   "micro": [0.4, 0.2], "micro_low": [0.3, None],
    ...                   "micro_high": [0.5, None]})
    >>> len(retrieval_bars(f, metric="map").to_dict()["layer"])  # bars and intervals, baseline
    2
    """
    needed = ("method", "kind", "evaluation", "metric", "micro", "micro_low", "micro_high")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(f"retrieval frame lacks columns {missing}")
    data = frame[frame["metric"] == metric]
    bars = data[data["kind"] != "random"]
    baseline = data[data["kind"] == "random"].drop_duplicates("evaluation")
    order = list(dict.fromkeys(bars["method"]))
    x = alt.X("method:N", sort=order, title=None)
    x_offset = alt.XOffset("evaluation:N", sort=["in_sample", "artist_disjoint"])
    colour = alt.Color("evaluation:N", sort=["in_sample", "artist_disjoint"], title="evaluation")
    base = alt.Chart(bars).encode(x=x, xOffset=x_offset)
    chart = base.mark_bar().encode(
        y=alt.Y("micro:Q", title=f"{metric} (mean over tracks)"),
        color=colour,
        tooltip=[
            "method",
            "kind",
            "evaluation",
            alt.Tooltip("micro:Q", format=".3f"),
            alt.Tooltip("micro_low:Q", format=".3f"),
            alt.Tooltip("micro_high:Q", format=".3f"),
            *(
                [alt.Tooltip("seconds_per_file:Q", title="s per file", format=".3f")]
                if "seconds_per_file" in bars.columns
                else []
            ),
        ],
    ) + base.mark_rule(color="black").encode(y="micro_low:Q", y2="micro_high:Q")
    rule = (
        alt.Chart(baseline)
        .mark_rule(strokeDash=[4, 4], color="grey")
        .encode(y="micro:Q", tooltip=[alt.Tooltip("micro:Q", title="random", format=".3f")])
    )
    return alt.layer(chart, rule).properties(title=title, width=420)


def retrieval_chart(frame: pd.DataFrame) -> alt.HConcatChart:
    """Precision@10 and MAP side by side (:func:`retrieval_bars` each; peers' seconds per file
    in the tooltips).

    Examples
    --------
    >>> f = pd.DataFrame({"method": ["zscore"] * 2, "kind": ["variant"] * 2,
    ...                   "evaluation": ["in_sample"] * 2, "metric": ["precision_at_10", "map"],
    ...                   "micro": [0.4, 0.5], "micro_low": [0.3, 0.4], "micro_high": [0.5, 0.6]})
    >>> len(retrieval_chart(f).to_dict()["hconcat"])
    2
    """
    return alt.hconcat(
        retrieval_bars(frame, title="Same-artist precision@10"),
        retrieval_bars(frame, metric="map", title="Mean average precision (same artist)"),
    ).properties(title="Retrieval: in-sample beside artist-disjoint (95% interval over artists)")
