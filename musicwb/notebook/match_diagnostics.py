"""Ready tables and charts for the match_diagnostics notebook: results in, frames and charts out.

The notebook only orchestrates; what it shows is computed here, from an
:class:`~musicwb.linkage.evaluation.EvaluationResult` (masked known entries, model and baseline)
and a :class:`~musicwb.linkage.proposals.ProposalResult` (the real unknown slots).

- :func:`tracklist_paths`, :func:`readiness`, :func:`set_summary`: the input and whether it
  is enough to measure anything;
- :func:`targets_table`: the issue's targets, measured, model beside baseline;
- :func:`threshold_table`, :func:`threshold_chart`: precision and coverage of the top-1
  proposals against the acceptance threshold, both methods, from the masked answers;
- :func:`calibration_chart`: predicted against observed per decile;
- :func:`proposal_table`: the proposals for the real unknowns with their evidence;
- splink's own charts, as Altair charts that the report pipeline inlines offline:
  :func:`splink_chart` (any splink chart), :func:`accuracy_chart` (from the masked answers,
  via splink's ``accuracy_analysis_from_labels_table``: precision, recall and F1 against the
  match weight threshold, precision–recall, ROC) and :func:`waterfall_chart` (chosen
  proposals).

The splink charts need a model fitted with ``diagnostics=True`` (pass
``model_options={"diagnostics": True}`` to ``evaluate`` and ``propose``).

Examples
--------
>>> import pandas as pd
>>> ranked = pd.DataFrame({"slot_id": ["a", "a", "b"], "candidate": ["x", "y", "z"],
...                        "probability": [0.9, 0.1, 0.4], "rank": [1, 2, 1]})
>>> truth = pd.Series({"a": "x", "b": "q"})
>>> table = threshold_table({"model": ranked}, truth, thresholds=[0.3, 0.5])
>>> table[["threshold", "coverage", "precision"]].values.tolist()
[[0.3, 1.0, 0.5], [0.5, 0.5, 1.0]]
"""

from __future__ import annotations

import glob
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import altair as alt
import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.linkage.calibration import TIER_HIGH
from musicwb.linkage.evaluation import EvaluationResult
from musicwb.linkage.masking import matches_truth
from musicwb.linkage.model import LinkageModel

if TYPE_CHECKING:
    from splink.internals.charts import SplinkChart

__all__ = [
    "ACCURACY_CHARTS",
    "MIN_MASKED",
    "accuracy_chart",
    "calibration_chart",
    "chosen_pairs",
    "masked_labels",
    "proposal_table",
    "readiness",
    "set_summary",
    "splink_chart",
    "targets_table",
    "threshold_chart",
    "threshold_table",
    "tracklist_paths",
    "waterfall_chart",
]

MIN_MASKED = 10  # masked answers below which accuracy figures say nothing
AccuracyChart = Literal["accuracy", "precision_recall", "roc", "threshold_selection"]
ACCURACY_CHARTS: tuple[AccuracyChart, ...] = get_args(AccuracyChart)
_WIDTH = 520
# measure, model, baseline, target, met
_TargetRow = tuple[str, float | int | str | None, float | int | str | None, str, bool | None]


def tracklist_paths(spec: str) -> list[Path]:
    """The notebook's ``tracklist_files`` parameter as files: paths or glob patterns.

    Parameters
    ----------
    spec : str
        Patterns separated by ``;`` or new lines (e.g. ``"data/djsets/*.csv"``); empty for
        none (the store's tracklists).

    Returns
    -------
    list of Path
        Sorted, without duplicates.

    Raises
    ------
    ParameterError
        A pattern that matches no file.

    Examples
    --------
    >>> tracklist_paths("")
    []
    """
    paths: set[Path] = set()
    for pattern in (p.strip() for p in spec.replace("\n", ";").split(";")):
        if not pattern:
            continue
        found = [Path(p) for p in glob.glob(str(Path(pattern).expanduser()))]
        if not found:
            raise ParameterError(f"tracklist_files: {pattern!r} matches no file")
        paths.update(found)
    return sorted(paths)


def readiness(entries: pd.DataFrame, *, mask_fraction: float) -> str | None:
    """Why the entries are too few to evaluate the model, or None when they are enough.

    Evaluation hides known entries whose artist is played in at least 2 other sets; with
    fewer than :data:`MIN_MASKED` such answers hidden, accuracy figures mean nothing.

    Parameters
    ----------
    entries : pandas.DataFrame
        With ``set_id, artist_key`` (from ``entries_frame`` or ``entries_from_files``).
    mask_fraction : float
        In (0, 1).

    Returns
    -------
    str or None

    Examples
    --------
    >>> frame = pd.DataFrame({"set_id": ["s1", "s2"], "artist_key": ["a", "a"]})
    >>> readiness(frame, mask_fraction=0.2)[:40]
    '2 tracklist entries in 2 sets: 0 known e'
    """
    if not 0 < mask_fraction < 1:
        raise ParameterError(f"mask_fraction must be between 0 and 1, not {mask_fraction}")
    known = entries[entries["artist_key"].notna()]
    sets_per_artist = known.groupby("artist_key")["set_id"].nunique()
    eligible = int((known["artist_key"].map(sets_per_artist) >= 3).sum())
    masked = round(mask_fraction * eligible)
    if masked >= MIN_MASKED:
        return None
    return (
        f"{len(entries)} tracklist entries in {entries['set_id'].nunique()} sets: {eligible} "
        f"known entries have an artist played in 2 other sets, so {masked} would be masked "
        f"(at least {MIN_MASKED} are needed); import more tracklists or raise mask_fraction"
    )


def set_summary(entries: pd.DataFrame) -> pd.DataFrame:
    """Entries per set, known and unknown.

    Parameters
    ----------
    entries : pandas.DataFrame
        With ``set_id, dj, set_title, artist_key`` and ``is_unknown``.

    Returns
    -------
    pandas.DataFrame
        ``set_id, dj, set_title, entries, known_entries, unknown_entries``, most unknowns
        first.
    """
    unknown = entries["is_unknown"].fillna(False).astype(bool)
    frame = entries.assign(known=~unknown, unknown=unknown)
    summary = (
        frame.groupby(["set_id", "dj", "set_title"], dropna=False)
        .agg(entries=("position", "size"), known_entries=("known", "sum"),
             unknown_entries=("unknown", "sum"))
        .reset_index()
        .astype({"known_entries": "int64", "unknown_entries": "int64"})
    )  # fmt: skip
    return summary.sort_values(["unknown_entries", "set_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def targets_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The issue's targets, measured on the masked answers: model beside baseline.

    Parameters
    ----------
    summary : mapping
        :attr:`EvaluationResult.summary`.

    Returns
    -------
    pandas.DataFrame
        ``measure, model, baseline, target, met`` (``met`` None where there is no target).

    Examples
    --------
    >>> side = {"top1": 0.3, "top3": 0.5, "coverage": 0.1, "precision": 0.6,
    ...         "precision_high": None, "n_high": 0, "calibration_error": 0.08,
    ...         "calibration_error_weighted": 0.04, "calibration_error_interval": [0.05, 0.2]}
    >>> s = {"model": side, "baseline": {**side, "top1": 0.1, "top3": 0.2},
    ...      "equal_coverage": {"k": 5, "model_top1": 0.6, "baseline_top1": 0.4,
    ...                         "model_top3": 0.8, "baseline_top3": 0.6}}
    >>> targets_table(s).set_index("measure").loc["top-1 accuracy", "met"]
    True
    """
    model, base, equal = summary["model"], summary["baseline"], summary["equal_coverage"]

    def compared(name: str, left: float | None, right: float | None) -> _TargetRow:
        met = None if left is None or right is None else bool(left > right)
        return name, left, right, "model > baseline", met

    rows: list[_TargetRow] = [
        compared("top-1 accuracy", model["top1"], base["top1"]),
        compared("top-3 accuracy", model["top3"], base["top3"]),
        compared(f"top-1 on the {equal['k']} most confident slots (equal coverage)",
                 equal["model_top1"], equal["baseline_top1"]),
        compared(f"top-3 on the {equal['k']} most confident slots (equal coverage)",
                 equal["model_top3"], equal["baseline_top3"]),
    ]  # fmt: skip
    rows.append(("coverage (share of slots with an accepted proposal)", model["coverage"],
                 base["coverage"], "", None))
    rows.append(("precision of accepted proposals", model["precision"], base["precision"], "",
                 None))
    high = model["precision_high"]
    rows.append((f"precision of the high tier (> {TIER_HIGH})", high, base["precision_high"],
                 ">= 0.80", None if high is None else bool(high >= 0.80)))
    rows.append(("proposals in the high tier", model["n_high"], base["n_high"], "", None))
    error = model["calibration_error"]
    rows.append(("calibration error (mean |predicted - observed| over deciles)", error,
                 base["calibration_error"], "<= 0.10",
                 None if error is None else bool(error <= 0.10)))
    rows.append(("calibration error, deciles weighted by proposals",
                 model["calibration_error_weighted"], base["calibration_error_weighted"], "",
                 None))
    interval = model.get("calibration_error_interval")
    rows.append(("calibration error, bootstrap 90% interval", str(interval),
                 str(base.get("calibration_error_interval")), "", None))
    frame = pd.DataFrame(rows, columns=["measure", "model", "baseline", "target", "met"])
    return frame.astype({"model": object, "baseline": object, "met": object})


def threshold_table(
    ranked: Mapping[str, pd.DataFrame],
    truth: pd.Series,
    *,
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Coverage and precision of the top-1 proposals at each acceptance threshold.

    Parameters
    ----------
    ranked : mapping of str to pandas.DataFrame
        Method name to its ranked candidates (``slot_id, candidate, probability, rank``), e.g.
        ``{"model": result.model_scores, "baseline": result.baseline_scores}``.
    truth : pandas.Series
        Index ``slot_id`` (every evaluated slot), values the true artist key.
    thresholds : sequence of float, optional
        Default 0.00, 0.05, ..., 0.95.

    Returns
    -------
    pandas.DataFrame
        ``method, threshold, accepted, coverage, precision`` (coverage = accepted / slots;
        precision None where nothing is accepted).
    """
    grid = np.round(np.arange(0, 1, 0.05), 2) if thresholds is None else np.asarray(thresholds)
    rows = []
    for method, scores in ranked.items():
        top = scores[scores["rank"] == 1]
        correct = matches_truth(top, truth)
        probability = top["probability"].to_numpy(float)
        for threshold in grid:
            accepted = probability >= threshold
            n = int(accepted.sum())
            rows.append({
                "method": method, "threshold": float(threshold), "accepted": n,
                "coverage": round(n / len(truth), 4) if len(truth) else None,
                "precision": round(float(correct[accepted].mean()), 4) if n else None,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["method", "threshold", "accepted", "coverage", "precision"])


def threshold_chart(table: pd.DataFrame, *, threshold: float) -> alt.LayerChart:
    """Precision and coverage against the acceptance threshold, one colour per method.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`threshold_table`.
    threshold : float
        Drawn as a vertical rule (the notebook's ``threshold``).

    Returns
    -------
    altair.LayerChart
    """
    long = table.melt(id_vars=["method", "threshold", "accepted"],
                      value_vars=["precision", "coverage"], var_name="measure")
    long = long.dropna(subset=["value"])
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("threshold", type="quantitative", title="acceptance threshold",
                    scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("value", type="quantitative", title=None, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("method", type="nominal"),
            strokeDash=alt.StrokeDash("measure", type="nominal", legend=None,
                                      scale=alt.Scale(domain=["coverage", "precision"],
                                                      range=[[1, 0], [4, 3]])),
            tooltip=["method", "measure", alt.Tooltip("threshold", format=".2f"),
                     alt.Tooltip("value", format=".3f"), "accepted"],
        )
    )  # fmt: skip
    rule = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(color="gray").encode(
        x="threshold:Q"
    )
    return alt.layer(lines, rule).properties(
        width=_WIDTH, height=280,
        title=alt.Title(
            "Top-1 proposals on the masked answers: precision and coverage by threshold",
            subtitle="solid: coverage (share of slots answered); dashed: precision",
        ),
    )


def calibration_chart(calibration: pd.DataFrame) -> alt.LayerChart:
    """Observed share of right top-1 proposals against their mean predicted probability.

    Parameters
    ----------
    calibration : pandas.DataFrame
        ``method, bin, n, predicted, observed`` (``EvaluationResult.calibration_frame()``).

    Returns
    -------
    altair.LayerChart
        Points sized by the number of proposals; the diagonal is perfect calibration.
    """
    diagonal = alt.Chart(pd.DataFrame({"p": [0.0, 1.0]})).mark_line(
        color="gray", strokeDash=[4, 4]
    ).encode(x="p:Q", y="p:Q")
    x = alt.X("predicted", type="quantitative", title="predicted probability (decile mean)",
              scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("observed", type="quantitative", title="observed share right",
              scale=alt.Scale(domain=[0, 1]))
    color = alt.Color("method", type="nominal")
    lines = alt.Chart(calibration).mark_line().encode(x=x, y=y, color=color)
    points = alt.Chart(calibration).mark_circle(opacity=0.9).encode(
        x=x, y=y, color=color,
        size=alt.Size("n", type="quantitative", title="proposals",
                      scale=alt.Scale(range=[30, 400])),
        tooltip=["method", "bin", "n", alt.Tooltip("predicted", format=".3f"),
                 alt.Tooltip("observed", format=".3f")],
    )  # fmt: skip
    return alt.layer(diagonal, lines, points).properties(
        width=360, height=360, title="Calibration of the top-1 proposals (masked answers)"
    )


def proposal_table(proposals: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """The proposals for the real unknown slots, with the slot's line and the evidence.

    Parameters
    ----------
    proposals : pandas.DataFrame
        ``ProposalResult.proposals``.
    entries : pandas.DataFrame
        With ``set_id, position, dj, set_title, raw``.

    Returns
    -------
    pandas.DataFrame
        ``dj, set_title, position, raw, rank, artist, probability, tier, evidence`` (the
        evidence sentences joined by "; "), best first.
    """
    columns = ["dj", "set_title", "position", "raw", "rank", "artist", "probability", "tier",
               "evidence"]
    if proposals.empty:
        return pd.DataFrame(columns=columns)
    lines = entries[["set_id", "position", "dj", "set_title", "raw"]].astype({"position": "int64"})
    table = proposals.astype({"position": "int64"}).merge(lines, on=["set_id", "position"])
    table["evidence"] = table["evidence"].map("; ".join)
    table = table.sort_values(["probability", "set_id", "position", "rank"],
                              ascending=[False, True, True, True])
    return table[columns].reset_index(drop=True)


def chosen_pairs(proposals: pd.DataFrame, *, n: int) -> pd.DataFrame:
    """The ``n`` most probable first proposals as ``slot_id, candidate`` (for a waterfall).

    Parameters
    ----------
    proposals : pandas.DataFrame
        ``ProposalResult.proposals``.
    n : int
        At least 1.

    Returns
    -------
    pandas.DataFrame
        Shape (≤ n, 2).

    Examples
    --------
    >>> proposals = pd.DataFrame({"set_id": ["s", "s"], "position": [3, 3], "rank": [1, 2],
    ...                           "artist_key": ["a", "b"], "probability": [0.6, 0.2]})
    >>> chosen_pairs(proposals, n=2).values.tolist()
    [['s#3', 'a']]
    """
    if n < 1:
        raise ParameterError(f"the number of proposals to explain must be at least 1, not {n}")
    first = proposals[proposals["rank"] == 1].nlargest(n, "probability")
    return pd.DataFrame({
        "slot_id": first["set_id"].astype(str) + "#" + first["position"].astype(str),
        "candidate": first["artist_key"].astype(str),
    }).reset_index(drop=True)  # fmt: skip


def splink_chart(chart: SplinkChart) -> alt.TopLevelMixin:
    """A splink chart as an Altair chart.

    Splink's own notebook display loads vega from a CDN; as an Altair chart, the notebook's
    ``mimetype`` renderer stores the Vega-Lite spec, which :mod:`musicwb.reports` inlines into
    an offline report.

    Parameters
    ----------
    chart : splink SplinkChart
        E.g. ``model.linker.visualisations.match_weights_chart()``.

    Returns
    -------
    altair chart
    """
    return chart.altair_chart


def masked_labels(result: EvaluationResult) -> pd.DataFrame:
    """Splink's labels table for the candidates of the slots the last model did not train on.

    ``result.model`` is the model of the last cross-fitting fold of the last round; its
    held-out slots' pairs are labelled 1 (the hidden artist) or 0.

    Parameters
    ----------
    result : EvaluationResult

    Returns
    -------
    pandas.DataFrame
        ``source_dataset_l, pair_id_l, source_dataset_r, pair_id_r, clerical_match_score``
        (the model's ``pair_id`` is the row number in ``result.pairs``).
    """
    scores = result.model_scores
    last = scores[scores["round"] == scores["round"].max()]
    held_out = last.loc[last["fold"] == last["fold"].max(), "slot_id"].unique()
    inside = result.pairs["slot_id"].isin(held_out).to_numpy()
    pair_ids = np.flatnonzero(inside).astype("int64")
    truth = result.truth.set_index("slot_id")["artist_key"]
    correct = matches_truth(result.pairs[inside], truth)
    return pd.DataFrame({
        "source_dataset_l": "slots", "pair_id_l": pair_ids,
        "source_dataset_r": "candidate_profiles", "pair_id_r": pair_ids,
        "clerical_match_score": correct.astype(float),
    })  # fmt: skip


def _require_diagnostics(model: LinkageModel | None) -> LinkageModel:
    if model is None or model.linker is None:
        raise ParameterError("no fitted model: there was nothing to link")
    if not model.diagnostics:
        raise ParameterError(
            "splink's accuracy and waterfall charts need the compared columns: fit with "
            "model_options={'diagnostics': True}"
        )
    return model


def accuracy_chart(
    result: EvaluationResult,
    *,
    output_type: AccuracyChart | Literal["table"] = "accuracy",
    add_metrics: Sequence[str] = ("f1",),
) -> alt.TopLevelMixin | pd.DataFrame:
    """Splink's accuracy chart from the masked answers of the last fold's held-out slots.

    Parameters
    ----------
    result : EvaluationResult
        Evaluated with ``model_options={"diagnostics": True}``.
    output_type : {"accuracy", "precision_recall", "roc", "threshold_selection", "table"}
        A chart of :data:`ACCURACY_CHARTS` (pairwise, over splink's match weight), or
        ``"table"`` for the truth-space table as a DataFrame. The threshold selection tool
        only draws thresholds where precision and recall both exceed 0.5.
    add_metrics : sequence of str, default ("f1",)
        More metrics beside precision and recall (splink's names: "f1", "accuracy", ...).

    Returns
    -------
    altair chart or pandas.DataFrame

    Raises
    ------
    ParameterError
        No held-out slot has its artist among the candidates, or the threshold selection
        tool would be empty.
    """
    if output_type not in (*ACCURACY_CHARTS, "table"):
        raise ParameterError(
            f"output_type must be one of {(*ACCURACY_CHARTS, 'table')}, not {output_type!r}"
        )
    model = _require_diagnostics(result.model)
    labels = masked_labels(result)
    if labels["clerical_match_score"].sum() == 0:
        raise ParameterError("no held-out slot has its artist among the candidates")
    registered = model.db_api.register(labels, table_name=f"musicwb_labels_{uuid.uuid4().hex[:8]}")
    table = model.linker.table_management.register_labels_table(registered)
    metrics = list(add_metrics) if output_type in ("accuracy", "threshold_selection") else []
    answer = model.linker.evaluation.accuracy_analysis_from_labels_table(
        table, output_type=output_type, add_metrics=metrics
    )
    if output_type == "table":
        return answer.as_pandas_dataframe()
    if not answer.chart_data:
        raise ParameterError(
            f"splink's {output_type} chart has nothing to draw: no match weight threshold "
            "gives both precision and recall above 0.5 on the masked answers"
        )
    return splink_chart(answer)


def waterfall_chart(model: LinkageModel, chosen: pd.DataFrame) -> alt.TopLevelMixin:
    """Splink's waterfall chart for chosen (slot, candidate) pairs: how each comparison
    moved the match weight.

    Parameters
    ----------
    model : LinkageModel
        Fitted with ``diagnostics=True`` and predicted.
    chosen : pandas.DataFrame
        ``slot_id, candidate`` of the pairs to explain (in the chart's order), shape
        (n_records, ≥2).

    Returns
    -------
    altair chart
        A slider steps through the records.
    """
    model = _require_diagnostics(model)
    if model.predictions is None:
        raise ParameterError("predict with the model before drawing a waterfall chart")
    if chosen.empty:
        raise ParameterError("no proposal chosen for the waterfall chart")
    wanted = [f"{slot}\x1f{candidate}" for slot, candidate in
              zip(chosen["slot_id"].astype(str), chosen["candidate"].astype(str), strict=True)]
    literals = ", ".join("'" + key.replace("'", "''") + "'" for key in wanted)
    sql = (f"SELECT * FROM {model.predictions.physical_name} WHERE concat(CAST(slot_id_l AS "
           f"VARCHAR), chr(31), CAST(candidate_l AS VARCHAR)) IN ({literals})")
    records = model.linker.misc.query_sql(sql, output_type="splinkdf").as_record_list()
    order = {key: i for i, key in enumerate(wanted)}
    records.sort(key=lambda r: order.get(f"{r['slot_id_l']}\x1f{r['candidate_l']}", len(order)))
    return splink_chart(model.linker.visualisations.waterfall_chart(records))
