"""Sonic charts: the validation table in, a faceted bar chart with pass lines out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musicwb.errors import ParameterError
from musicwb.sonic.charts import variant_metric_bars
from musicwb.sonic.validation import compare_variants


def test_variant_bars_draw_the_compare_variants_table_unchanged():
    rng = np.random.default_rng(0)
    artists = np.repeat(["a", "b", "c"], 8)
    full = np.repeat(rng.normal(size=(3, 137)), 8, axis=0) + 0.5 * rng.normal(size=(24, 137))
    table, _, _ = compare_variants(full, artists=artists, albums=artists)
    spec = variant_metric_bars(table).to_dict()
    assert spec["facet"]["field"] == "metric"
    rows = spec["datasets"][next(iter(spec["datasets"]))]
    assert len(rows) == len(table) == 24  # 4 variants x 6 metrics
    gap = next(r for r in rows if r["variant"] == "zscore" and r["metric"] == "topk_gap")
    expected = table[(table["variant"] == "zscore") & (table["metric"] == "topk_gap")][
        "mean"
    ].item()
    assert gap["mean"] == pytest.approx(expected) and gap["threshold"] == 0.15


def test_variant_bars_name_the_missing_columns():
    with pytest.raises(ParameterError, match="std"):
        variant_metric_bars(pd.DataFrame({"variant": ["raw"], "metric": ["map"], "mean": [0.1]}))
