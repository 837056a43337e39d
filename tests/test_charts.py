"""musicwb.charts: the data goes in unchanged and inline, the encodings name the right columns,
and the specs are valid Vega-Lite that vl-convert can actually render."""

from __future__ import annotations

import re

import altair as alt
import pandas as pd
import pytest
import vl_convert

from musicwb import charts
from musicwb.errors import ParameterError

ARTISTS = pd.DataFrame(
    {
        "artist": ["Aurora Drift", "</script><script>alert(1)</script>", "(no artist)"],
        "tracks": [3, 2, 1],
    }
)


def _values(chart: alt.Chart) -> list[dict]:
    spec = chart.to_dict()
    (values,) = spec["datasets"].values()
    return values


def test_count_bars_keeps_data_order_and_values() -> None:
    chart = charts.count_bars(ARTISTS, category="artist", count="tracks", title="Tracks per artist")
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["title"] == "Tracks per artist"
    assert spec["encoding"]["x"]["field"] == "tracks"
    assert spec["encoding"]["y"]["field"] == "artist"
    # bars in the frame's order (the caller sorted it), not alphabetically
    assert spec["encoding"]["y"]["sort"] == list(ARTISTS["artist"])
    assert _values(chart) == ARTISTS.to_dict(orient="records")
    assert {t["field"] for t in spec["encoding"]["tooltip"]} == {"artist", "tracks"}


def test_charts_do_not_change_their_input() -> None:
    frame = ARTISTS.copy()
    charts.count_bars(frame, category="artist", count="tracks", title="t")
    pd.testing.assert_frame_equal(frame, ARTISTS)


def test_stacked_count_bars_fold_the_parts() -> None:
    sets = pd.DataFrame({"set_id": ["a", "b"], "known_entries": [1, 0], "unknown_entries": [2, 1]})
    chart = charts.stacked_count_bars(
        sets,
        category="set_id",
        parts=["known_entries", "unknown_entries"],
        title="Entries",
        part_title="entry",
        count_title="entries",
    )
    spec = chart.to_dict()
    (fold,) = spec["transform"]
    assert fold["fold"] == ["known_entries", "unknown_entries"]
    assert spec["encoding"]["color"]["field"] == fold["as"][0]
    assert spec["encoding"]["color"]["title"] == "entry"
    assert spec["encoding"]["x"]["field"] == fold["as"][1]
    assert spec["encoding"]["x"]["title"] == "entries"
    assert _values(chart) == sets.to_dict(orient="records")


def test_coverage_bars_and_histogram() -> None:
    coverage = pd.DataFrame(
        {
            "status": ["with label", "without label"],
            "label_source": ["tags", "(no label)"],
            "tracks": [4, 2],
            "share": [2 / 3, 1 / 3],
        }
    )
    spec = charts.coverage_bars(
        coverage, status="status", part="label_source", count="tracks", title="Coverage"
    ).to_dict()
    assert spec["encoding"]["color"]["field"] == "label_source"
    assert spec["encoding"]["y"]["sort"] == ["with label", "without label"]

    bins = pd.DataFrame(
        {"bin_start_s": [60.0, 120.0], "bin_end_s": [120.0, 180.0], "tracks": [1, 4]}
    )
    spec = charts.histogram_bars(
        bins,
        start="bin_start_s",
        end="bin_end_s",
        count="tracks",
        title="Durations",
        value_title="duration (s)",
    ).to_dict()
    assert spec["encoding"]["x"]["field"] == "bin_start_s"
    assert spec["encoding"]["x2"]["field"] == "bin_end_s"
    assert spec["encoding"]["x"]["title"] == "duration (s)"


@pytest.mark.filterwarnings("ignore:I don.t know how to infer vegalite type")
def test_specs_render_with_vega_lite() -> None:
    """Every chart compiles and draws (SVG) with the Vega-Lite that reports inline."""
    bins = pd.DataFrame({"bin_start_s": [60.0], "bin_end_s": [120.0], "tracks": [1]})
    built = [
        charts.count_bars(ARTISTS, category="artist", count="tracks", title="a"),
        charts.stacked_count_bars(ARTISTS, category="artist", parts=["tracks"], title="b"),
        charts.coverage_bars(ARTISTS, status="artist", part="artist", count="tracks", title="c"),
        charts.histogram_bars(
            bins, start="bin_start_s", end="bin_end_s", count="tracks", title="d", value_title="s"
        ),
        charts.count_bars(ARTISTS.iloc[:0], category="artist", count="tracks", title="empty"),
    ]
    for chart in built:
        svg = vl_convert.vegalite_to_svg(chart.to_json(), vl_version="5.20")
        assert svg.startswith("<svg"), chart.to_dict()["title"]
    # the malicious artist is drawn as escaped SVG text, not markup
    svg = vl_convert.vegalite_to_svg(built[0].to_json(), vl_version="5.20")
    assert "<script>" not in svg
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_missing_column_is_named() -> None:
    with pytest.raises(ParameterError, match=r"count_bars.*\['plays'\]"):
        charts.count_bars(ARTISTS, category="artist", count="plays", title="t")
    with pytest.raises(ParameterError, match="DataFrame"):
        charts.count_bars(ARTISTS.to_dict(), category="artist", count="tracks", title="t")  # type: ignore[arg-type]


def _svg(chart: alt.Chart) -> str:
    return vl_convert.vegalite_to_svg(chart.to_json(), vl_version="5.20")


def _bar_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of every bar Vega drew, from its ``M x,y h w v h h -w Z`` path."""
    boxes = []
    for d in re.findall(r'aria-roledescription="bar" d="([^"]*)"', svg):
        x, y, w, h = map(
            float, re.match(r"M([-\d.e]+),([-\d.e]+)h([-\d.e]+)v([-\d.e]+)", d).groups()
        )
        boxes.append((x, y, w, h))
    return boxes


@pytest.mark.parametrize(
    "bins",
    [
        pd.DataFrame({"start": [0.0, 30.0, 60.0], "end": [30.0, 60.0, 90.0], "n": [4, 10, 2]}),
        pd.DataFrame({"start": [60.0], "end": [90.0], "n": [5]}),
    ],
    ids=["three bins", "one bin"],
)
def test_histogram_bars_stand_on_the_baseline_with_their_counts_as_height(bins) -> None:
    chart = charts.histogram_bars(
        bins, start="start", end="end", count="n", title="t", value_title="seconds"
    )
    boxes = _bar_boxes(_svg(chart))
    assert len(boxes) == len(bins)
    bottoms = {round(y + h, 3) for _, y, _, h in boxes}
    assert len(bottoms) == 1  # one baseline, not floating dashes
    heights = [h for *_, h in boxes]
    tallest = max(heights)
    assert tallest > 100  # the chart is 220 px high: the largest bin fills most of it
    # heights in proportion to the counts (zero-based axis)
    for height, count in zip(heights, bins["n"], strict=True):
        assert height == pytest.approx(tallest * count / bins["n"].max(), rel=0.02)
    assert min(w for _, _, w, _ in boxes) > 10


def test_stacked_bars_legend_names_the_parts_even_when_titled_like_the_axis() -> None:
    change = pd.DataFrame(
        {"moment": ["before", "after"], "with label": [33, 58], "without label": [31, 6]}
    )
    chart = charts.stacked_count_bars(
        change, category="moment", parts=["with label", "without label"], title="Labels",
        part_title="tracks", count_title="tracks",
    )  # fmt: skip
    svg = _svg(chart)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "with label" in texts and "without label" in texts
    assert not {"33", "31", "58", "6"} & set(texts)
    assert len(_bar_boxes(svg)) == 4
