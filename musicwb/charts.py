"""Altair charts for the notebooks: a DataFrame in, a chart out, no computing.

Every function takes an already aggregated frame (see :mod:`musicwb.overview`) and the names of
its columns, and returns an :class:`altair.Chart` whose data is that frame, unchanged, inline.
Counting, binning and sorting happen before, in Python. Charts carry tooltips; text from the
library (titles, artists, labels) ends up in SVG text and escaped tooltips, never in HTML.

In a notebook, use altair's ``"mimetype"`` renderer (``alt.renderers.enable("mimetype")``):
JupyterLab draws the chart itself, offline, and :mod:`musicwb.reports` turns the stored
Vega-Lite spec into an inline, offline chart in the HTML report.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"format": ["flac", "mp3"], "tracks": [12, 30]})
>>> chart = count_bars(frame, category="format", count="tracks", title="Tracks per format")
>>> chart.to_dict()["mark"]["type"]
'bar'
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from musicwb.errors import ParameterError

__all__ = [
    "NOTHING_TO_DRAW",
    "count_bars",
    "coverage_bars",
    "histogram_bars",
    "nothing_to_draw",
    "stacked_count_bars",
]

_WIDTH = 560
_BAR_STEP = 18
# a bar's name is read whole ("Jonah Vale, 2024-07-25 @ Halle Nord, Hamburg"): Vega cuts it
# at 180 pixels by default
_WHOLE_LABELS = alt.Axis(labelLimit=0)
_FOLD_PART = "__part"
_FOLD_COUNT = "__count"


def _require_columns(frame: pd.DataFrame, columns: list[str], *, chart: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{chart}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ParameterError(
            f"{chart}: the frame has no column(s) {missing}; it has {list(frame.columns)}"
        )


NOTHING_TO_DRAW = "Nothing to draw: there is nothing to count yet."
"""What an empty chart says instead of drawing empty axes."""


def nothing_to_draw(*, title: str, text: str = NOTHING_TO_DRAW) -> alt.Chart:
    """A chart that says in words that it has nothing to draw.

    A chart of an empty frame would be bare axes (and altair warns that it cannot infer the
    types of empty columns); this says so in the place of the chart, under its title.

    Examples
    --------
    >>> nothing_to_draw(title="Tracks per label", text="No track has a label.").to_dict()["mark"]
    {'type': 'text', 'align': 'left', 'baseline': 'middle', 'fontSize': 13, 'x': 0}
    """
    note = pd.DataFrame({"note": [text]})
    return (
        alt.Chart(note, title=title)
        .mark_text(align="left", baseline="middle", fontSize=13, x=0)
        .encode(text=alt.Text("note", type="nominal"))
        .properties(width=_WIDTH, height=30)
    )


def _empty(frame: pd.DataFrame, counts: list[str]) -> bool:
    return frame.empty or not any(frame[column].fillna(0).astype(float).any() for column in counts)


def _first_seen(values: pd.Series) -> list[str]:
    return values.astype(str).drop_duplicates().tolist()


def _count_axis(values: pd.Series) -> alt.Axis:
    # whole counts get whole ticks (no "0.5 tracks")
    if pd.api.types.is_integer_dtype(values):
        return alt.Axis(tickMinStep=1, format="d")
    return alt.Axis()


def _tooltip(frame: pd.DataFrame) -> list[alt.Tooltip]:
    tooltips = []
    for column in frame.columns:
        kind = "quantitative" if pd.api.types.is_numeric_dtype(frame[column]) else "nominal"
        if pd.api.types.is_float_dtype(frame[column]):
            tooltips.append(alt.Tooltip(column, type=kind, format=",.3~f"))
        else:
            tooltips.append(alt.Tooltip(column, type=kind))
    return tooltips


def count_bars(
    frame: pd.DataFrame,
    *,
    category: str,
    count: str,
    title: str,
    count_title: str | None = None,
    empty_text: str = NOTHING_TO_DRAW,
) -> alt.Chart:
    """Horizontal bars, one per row, in the frame's order.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per bar, shape ``(n_bars, n_columns)``; every column becomes a tooltip.
    category : str
        Column naming each bar (e.g. ``"artist"``).
    count : str
        Numeric column giving each bar's length (e.g. ``"tracks"``).
    title : str
        Chart title.
    count_title : str, optional
        Axis title of the count; defaults to the column name.
    empty_text : str, default NOTHING_TO_DRAW
        Said instead of a chart when there is no row or nothing counted
        (:func:`nothing_to_draw`); the same in every chart below.

    Returns
    -------
    altair.Chart

    Examples
    --------
    >>> frame = pd.DataFrame({"artist": ["A", "B"], "tracks": [3, 1]})
    >>> count_bars(frame, category="artist", count="tracks", title="Tracks").to_dict()["title"]
    'Tracks'
    """
    _require_columns(frame, [category, count], chart="count_bars")
    if _empty(frame, [count]):
        return nothing_to_draw(title=title, text=empty_text)
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(
                count,
                type="quantitative",
                title=count_title or count,
                axis=_count_axis(frame[count]),
            ),
            y=alt.Y(category, type="nominal", sort=_first_seen(frame[category]), title=None,
                    axis=_WHOLE_LABELS),
            tooltip=_tooltip(frame),
        )
        .properties(width=_WIDTH, height=alt.Step(_BAR_STEP))
    )


def stacked_count_bars(
    frame: pd.DataFrame,
    *,
    category: str,
    parts: list[str],
    title: str,
    part_title: str = "part",
    count_title: str = "count",
    empty_text: str = NOTHING_TO_DRAW,
) -> alt.Chart:
    """Horizontal bars split into parts, one bar per row (e.g. known vs unknown entries).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per bar, shape ``(n_bars, n_columns)``.
    category : str
        Column naming each bar (e.g. ``"set_id"``).
    parts : list of str
        Numeric columns stacked in each bar, in this order (e.g.
        ``["known_entries", "unknown_entries"]``).
    title : str
    part_title, count_title : str
        Legend and axis titles.

    Returns
    -------
    altair.Chart
        The parts are folded in the browser (a Vega-Lite ``fold`` transform); the data stays
        the frame as given.

    Examples
    --------
    >>> sets = pd.DataFrame({"set_id": ["a"], "known_entries": [9], "unknown_entries": [3]})
    >>> chart = stacked_count_bars(
    ...     sets, category="set_id", parts=["known_entries", "unknown_entries"], title="Entries"
    ... )
    >>> chart.to_dict()["transform"][0]["fold"]
    ['known_entries', 'unknown_entries']
    >>> chart.to_dict()["encoding"]["color"]["title"]
    'part'
    """
    _require_columns(frame, [category, *parts], chart="stacked_count_bars")
    if not parts:
        raise ParameterError("stacked_count_bars: parts must name at least one column")
    if _empty(frame, parts):
        return nothing_to_draw(title=title, text=empty_text)
    # The fold writes into names of its own: with the titles as field names, a legend titled
    # like the axis ("tracks" and "tracks") would fold both into one field and list counts.
    return (
        alt.Chart(frame, title=title)
        .transform_fold(parts, as_=[_FOLD_PART, _FOLD_COUNT])
        .mark_bar()
        .encode(
            x=alt.X(
                _FOLD_COUNT,
                type="quantitative",
                stack="zero",
                title=count_title,
                axis=alt.Axis(tickMinStep=1),
            ),
            y=alt.Y(category, type="nominal", sort=_first_seen(frame[category]), title=None,
                    axis=_WHOLE_LABELS),
            color=alt.Color(_FOLD_PART, type="nominal", sort=parts, title=part_title),
            tooltip=[
                alt.Tooltip(category, type="nominal"),
                alt.Tooltip(_FOLD_PART, type="nominal", title=part_title),
                alt.Tooltip(_FOLD_COUNT, type="quantitative", title=count_title),
            ],
        )
        .properties(width=_WIDTH, height=alt.Step(_BAR_STEP))
    )


def coverage_bars(
    frame: pd.DataFrame,
    *,
    status: str,
    part: str,
    count: str,
    title: str,
    empty_text: str = NOTHING_TO_DRAW,
) -> alt.Chart:
    """One bar per status (e.g. with / without label), split by a part (e.g. label source).

    Parameters
    ----------
    frame : pandas.DataFrame
        Long form, one row per (status, part), shape ``(n_rows, n_columns)``; e.g. the output
        of :func:`musicwb.overview.label_coverage`.
    status : str
        Column naming each bar.
    part : str
        Column coloured within each bar.
    count : str
        Numeric column with the size of each part.
    title : str

    Returns
    -------
    altair.Chart

    Examples
    --------
    >>> coverage = pd.DataFrame(
    ...     {"status": ["with label", "without label"], "source": ["tags", "(no label)"],
    ...      "tracks": [40, 10]}
    ... )
    >>> coverage_bars(coverage, status="status", part="source", count="tracks",
    ...               title="Labels").to_dict()["encoding"]["color"]["field"]
    'source'
    """
    _require_columns(frame, [status, part, count], chart="coverage_bars")
    if _empty(frame, [count]):
        return nothing_to_draw(title=title, text=empty_text)
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(count, type="quantitative", stack="zero", axis=_count_axis(frame[count])),
            y=alt.Y(status, type="nominal", sort=_first_seen(frame[status]), title=None,
                    axis=_WHOLE_LABELS),
            color=alt.Color(part, type="nominal"),
            tooltip=_tooltip(frame),
        )
        .properties(width=_WIDTH, height=alt.Step(28))
    )


def histogram_bars(
    frame: pd.DataFrame,
    *,
    start: str,
    end: str,
    count: str,
    title: str,
    value_title: str,
    empty_text: str = NOTHING_TO_DRAW,
) -> alt.Chart:
    """A histogram from precomputed bins.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per bin, shape ``(n_bins, n_columns)``, e.g. the output of
        :func:`musicwb.overview.duration_histogram`.
    start, end : str
        Numeric columns with each bin's edges.
    count : str
        Numeric column with each bin's count.
    title : str
    value_title : str
        Axis title of the binned value (e.g. ``"duration (s)"``).

    Returns
    -------
    altair.Chart

    Examples
    --------
    >>> bins = pd.DataFrame({"bin_start_s": [0.0, 30.0], "bin_end_s": [30.0, 60.0], "tracks": [2, 5]})
    >>> histogram_bars(bins, start="bin_start_s", end="bin_end_s", count="tracks",
    ...                title="Durations", value_title="duration (s)").to_dict()["encoding"]["x2"]
    {'field': 'bin_end_s'}
    """
    _require_columns(frame, [start, end, count], chart="histogram_bars")
    if _empty(frame, [count]):
        return nothing_to_draw(title=title, text=empty_text)
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(start, type="quantitative", title=value_title, scale=alt.Scale(zero=False)),
            x2=alt.X2(end),
            # a ranged x makes Vega-Lite draw each bin as a thin dash at its count unless the
            # bar is told to stand on zero
            y=alt.Y(count, type="quantitative", axis=_count_axis(frame[count])),
            y2=alt.datum(0),
            tooltip=_tooltip(frame),
        )
        .properties(width=_WIDTH, height=220)
    )
