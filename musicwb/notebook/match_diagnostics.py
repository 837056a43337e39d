"""Ready tables and charts for the match_diagnostics notebook: results in, frames and charts out.

The notebook only orchestrates; what it shows is computed here, from an
:class:`~musicwb.linkage.evaluation.EvaluationResult` (masked known entries, model and baseline)
and a :class:`~musicwb.linkage.proposals.ProposalResult` (the real unknown slots).

- :func:`tracklist_paths`, :func:`readiness`, :func:`set_summary`: the input and whether it
  is enough to measure anything;
- :func:`evaluation_entries`: the entries with the ``evaluate_on`` files' sets, and which sets
  are masked;
- :func:`targets_table`: the dev-corpus targets of the summary (met, MISSED or not
  applicable), with their values;
- :func:`recall_table`, :func:`recall_chart`: which candidate source proposes the true artist;
- :func:`comparison_table`, :func:`strongest_baseline_text`, :func:`baselines_chart`: the
  model beside the seed formula, the DJ's history and the neighbours;
- :func:`topk_chart`: top-k accuracy, k = 1..10, of every method;
- :func:`precision_coverage_chart`: the model's precision against its coverage;
- :func:`dj_group_table`, :func:`dj_group_chart`: top-1 by how many sets the slot's DJ has;
- :func:`label_table`: the label proposals' top-1 beside their two baselines;
- :func:`readable_frame`: any other frame rounded, with "—" for nothing;
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
from musicwb.linkage.evaluation import EvaluationResult
from musicwb.linkage.masking import matches_truth
from musicwb.linkage.model import LinkageModel
from musicwb.linkage.slot_names import set_names

if TYPE_CHECKING:
    from splink.internals.charts import SplinkChart

__all__ = [
    "ACCURACY_CHARTS",
    "MIN_MASKED",
    "accuracy_chart",
    "baselines_chart",
    "calibration_chart",
    "chosen_pairs",
    "comparison_table",
    "dj_group_chart",
    "dj_group_table",
    "evaluation_entries",
    "label_table",
    "label_text",
    "masked_labels",
    "method_name",
    "number_text",
    "precision_coverage_chart",
    "proposal_table",
    "readable_frame",
    "readiness",
    "recall_chart",
    "recall_table",
    "set_summary",
    "share_text",
    "splink_chart",
    "strongest_baseline_text",
    "targets_table",
    "threshold_chart",
    "threshold_table",
    "topk_chart",
    "tracklist_paths",
    "waterfall_chart",
]

MIN_MASKED = 10  # masked answers below which accuracy figures say nothing
AccuracyChart = Literal["accuracy", "precision_recall", "roc", "threshold_selection"]
ACCURACY_CHARTS: tuple[AccuracyChart, ...] = get_args(AccuracyChart)
_WIDTH = 520
MISSING = "—"  # a figure with nothing to measure, in a table cell
VERDICTS = {True: "met", False: "MISSED", None: "not applicable"}
METHOD_NAMES = {"model": "model (splink)", "seed_formula": "seed formula",
                "dj_history": "DJ history", "neighbours": "neighbours"}
SOURCE_NAMES = {"dj_history": "DJ history", "neighbours": "neighbours elsewhere",
                "cooccurrence": "co-occurrence", "label_mates": "label-mates",
                "sandwich": "sandwich", "same_set": "same set"}
SOURCE_MEANING = {
    "dj_history": "artists of the DJ's other sets (and the DJ)",
    "neighbours": "artists played near the slot's neighbours in other sets",
    "cooccurrence": "artists of the sets most like this one",
    "label_mates": "artists on the labels played around the slot",
    "sandwich": "artists played between the same two artists in other sets",
    "same_set": "artists played elsewhere in the same set",
}
COMPARISON_COLUMNS = {
    "top1": "top-1 accuracy", "top3": "top-3 accuracy", "coverage": "coverage (accepted)",
    "precision": "precision (accepted)", "precision_high": "precision, high tier",
    "n_high": "high tier", "precision_medium": "precision, medium tier",
    "n_medium": "medium tier", "calibration_error": "calibration error (unweighted)",
}


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


def readiness(
    entries: pd.DataFrame, *, mask_fraction: float, evaluate_sets: Sequence[str] | None = None
) -> str | None:
    """Why the entries are too few to evaluate the model, or None when they are enough.

    Evaluation hides known entries whose artist is played in at least 2 other sets; with
    fewer than :data:`MIN_MASKED` such answers hidden, accuracy figures mean nothing.

    Parameters
    ----------
    entries : pandas.DataFrame
        With ``set_id, artist_key`` (from ``entries_frame`` or ``entries_from_files``).
    mask_fraction : float
        In (0, 1).
    evaluate_sets : sequence of str, optional
        Only entries of these sets are masked (the ``evaluate_on`` files); the others count
        as the artists' other sets.

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
    if evaluate_sets is not None:
        known = known[known["set_id"].isin(pd.Index(list(evaluate_sets)))]
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
        With ``set_id, dj, set_title, artist_key`` and ``is_unknown`` (and, when known,
        ``set_date`` and ``venue``, which name the set).

    Returns
    -------
    pandas.DataFrame
        ``set, set_id, dj, set_title, entries, known_entries, unknown_entries``, most unknowns
        first; ``set`` names the set for a reader (``DJ, date @ venue``, see
        :func:`musicwb.linkage.slot_names.set_names`), numbered where two sets share a name.
    """
    unknown = entries["is_unknown"].fillna(False).astype(bool)
    frame = entries.assign(known=~unknown, unknown=unknown)
    for optional in ("set_date", "venue"):
        if optional not in frame:
            frame = frame.assign(**{optional: None})
    summary = (
        frame.groupby(["set_id", "dj", "set_title", "set_date", "venue"], dropna=False)
        .agg(entries=("position", "size"), known_entries=("known", "sum"),
             unknown_entries=("unknown", "sum"))
        .reset_index()
        .astype({"known_entries": "int64", "unknown_entries": "int64"})
    )  # fmt: skip
    summary = summary.sort_values(["unknown_entries", "set_id"], ascending=[False, True])
    names = set_names(summary.rename(columns={"set_title": "title"}))
    repeat = names.groupby(names).cumcount()
    names = names.where(repeat == 0, names + " (" + (repeat + 1).astype(str) + ")")
    summary.insert(0, "set", names)
    return summary.drop(columns=["set_date", "venue"]).reset_index(drop=True)


def share_text(value: float | None, *, digits: int = 1) -> str:
    """A share for reading: ``"12.3%"``, or ``"—"`` when there is none.

    Parameters
    ----------
    value : float or None
        A share in [0, 1].
    digits : int, default 1
        Decimals of the percentage.

    Returns
    -------
    str

    Examples
    --------
    >>> share_text(0.105263157894736848), share_text(None), share_text(1.0, digits=0)
    ('10.5%', '—', '100%')
    """
    if value is None or pd.isna(value):
        return MISSING
    return f"{100 * float(value):.{digits}f}%"


def number_text(value: float | None, *, digits: int = 3) -> str:
    """A number for reading: whole numbers with thousands separators, others rounded.

    Examples
    --------
    >>> number_text(10445), number_text(0.0062), number_text(None), number_text(1.481, digits=2)
    ('10,445', '0.006', '—', '1.48')
    """
    if value is None or pd.isna(value):
        return MISSING
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    return f"{float(value):.{digits}f}"


def method_name(name: str) -> str:
    """The reader's name of a method (``"dj_history"`` → ``"DJ history"``).

    Examples
    --------
    >>> method_name("seed_formula"), method_name("something_new")
    ('seed formula', 'something new')
    """
    return METHOD_NAMES.get(name, name.replace("_", " "))


def readable_frame(*, frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A frame for reading: floats rounded, times to the second, missing values as "—",
    method names spelt out.

    Parameters
    ----------
    frame : pandas.DataFrame
        E.g. ``EvaluationResult.calibration_frame()`` or the stored evaluations.
    digits : int, default 3

    Returns
    -------
    pandas.DataFrame
        A copy; a ``method`` column reads as :func:`method_name` (``baseline``, the seed
        formula's old name, included).

    Examples
    --------
    >>> frame = pd.DataFrame({"method": ["model", "baseline"], "gap": [0.105263157894736848, None]})
    >>> readable_frame(frame=frame).values.tolist()
    [['model (splink)', 0.105], ['seed formula', '—']]
    """
    out = frame.copy()
    if "method" in out.columns:
        out["method"] = out["method"].map(lambda m: method_name("seed_formula" if m == "baseline"
                                                                else str(m)))
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(digits)
        elif pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d %H:%M:%S")
        if out[column].isna().any():
            out[column] = out[column].astype(object).where(out[column].notna(), MISSING)
    return out


def evaluation_entries(
    *, entries: pd.DataFrame, evaluated: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[str] | None]:
    """The entries to evaluate on, and the sets whose entries alone are masked.

    The notebook's ``evaluate_on`` files are masked; every other set (files or store) is
    context. A set in both counts once, as the ``evaluate_on`` file has it (as
    :func:`musicwb.linkage.evaluate_files` does).

    Parameters
    ----------
    entries : pandas.DataFrame
        The context (``tracklist_files`` or the store's), with ``set_id, position``.
    evaluated : pandas.DataFrame or None
        The entries of the ``evaluate_on`` files; None to mask any set.

    Returns
    -------
    (pandas.DataFrame, list of str or None)
        The entries, and the ``set_id`` to mask (None: every set).

    Examples
    --------
    >>> context = pd.DataFrame({"set_id": ["a", "a", "b"], "position": [1, 2, 1]})
    >>> own = pd.DataFrame({"set_id": ["b", "c"], "position": [1, 1]})
    >>> frame, sets = evaluation_entries(entries=context, evaluated=own)
    >>> len(frame), sets
    (4, ['b', 'c'])
    >>> evaluation_entries(entries=context, evaluated=None)[1] is None
    True
    """
    if evaluated is None:
        return entries, None
    combined = pd.concat([evaluated, entries], ignore_index=True)
    combined = combined.drop_duplicates(["set_id", "position"]).reset_index(drop=True)
    return combined, [str(s) for s in pd.unique(evaluated["set_id"])]


def targets_table(*, summary: Mapping[str, Any]) -> pd.DataFrame:
    """The dev-corpus targets of an evaluation (``summary["targets"]``), for reading.

    Parameters
    ----------
    summary : mapping
        :attr:`EvaluationResult.summary`.

    Returns
    -------
    pandas.DataFrame
        ``target, goal, value, verdict, note`` (all text): the verdict is "met", "MISSED" or
        "not applicable"; ratios to a baseline read as "1.48×", the rest with 3 decimals; the
        note says what a value rests on where that decides how to read it (the calibration
        error's sampling noise), else it is empty.

    Examples
    --------
    >>> summary = {"targets": [
    ...     {"target": "top-1", "goal": "≥ 0.1", "value": 0.0834, "met": False},
    ...     {"target": "top-1 against the strongest baseline", "goal": "≥ 1.25",
    ...      "value": 1.481, "met": True},
    ...     {"target": "high tier precision", "goal": "≥ 0.8", "value": None, "met": None}]}
    >>> targets_table(summary=summary).values.tolist()
    [['top-1', '≥ 0.1', '0.083', 'MISSED', ''], ['top-1 against the strongest baseline', '≥ 1.25', '1.48×', 'met', ''], ['high tier precision', '≥ 0.8', '—', 'not applicable', '']]
    """
    rows = []
    for target in summary.get("targets") or []:
        value = target["value"]
        ratio = "against" in target["target"] and value is not None
        rows.append({
            "target": target["target"], "goal": target["goal"],
            "value": f"{value:.2f}×" if ratio else number_text(value),
            "verdict": VERDICTS[target["met"]], "note": target.get("note") or "",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["target", "goal", "value", "verdict", "note"])


def recall_table(*, summary: Mapping[str, Any]) -> pd.DataFrame:
    """Which candidate source proposes the true artist of a masked slot, and all of them.

    Parameters
    ----------
    summary : mapping
        :attr:`EvaluationResult.summary` (its ``candidates``).

    Returns
    -------
    pandas.DataFrame
        ``candidate source, proposes, recall`` (recall as a percentage), the sources by recall,
        then the union of all (capped at ``k`` candidates per slot).

    Examples
    --------
    >>> s = {"candidates": {"k": 150, "recall": {"dj_history": 0.25, "sandwich": 0.003,
    ...                                          "union": 0.5}}}
    >>> recall_table(summary=s)["recall"].tolist()
    ['25.0%', '0.3%', '50.0%']
    """
    recall = dict(summary["candidates"]["recall"])
    union = recall.pop("union", None)
    ordered = sorted(recall.items(), key=lambda item: -(item[1] or 0))
    rows = [{"candidate source": SOURCE_NAMES.get(name, name), "proposes": SOURCE_MEANING.get(
        name, ""), "recall": share_text(share)} for name, share in ordered]
    rows.append({"candidate source": f"all sources (union, k = {summary['candidates']['k']})",
                 "proposes": "the fused candidates the model ranks",
                 "recall": share_text(union)})
    return pd.DataFrame(rows, columns=["candidate source", "proposes", "recall"])


def recall_chart(*, summary: Mapping[str, Any]) -> alt.LayerChart:
    """Recall of each candidate source as bars, the union of all in another colour.

    Parameters
    ----------
    summary : mapping
        :attr:`EvaluationResult.summary`.

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> s = {"candidates": {"k": 150, "recall": {"dj_history": 0.25, "union": 0.5}}}
    >>> len(recall_chart(summary=s).to_dict()["layer"])
    2
    """
    k = summary["candidates"]["k"]
    union_name = f"all sources (union, k = {k})"
    frame = pd.DataFrame([
        {"source": union_name if name == "union" else SOURCE_NAMES.get(name, name),
         "kind": union_name if name == "union" else "one source",
         "recall": float(share or 0.0)}
        for name, share in summary["candidates"]["recall"].items()
    ])  # fmt: skip
    order = frame.sort_values("recall", ascending=False)["source"].tolist()
    base = alt.Chart(frame).encode(
        y=alt.Y("source:N", title=None, sort=order),
        x=alt.X("recall:Q", title="share of masked slots whose true artist is proposed",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
    )  # fmt: skip
    bars = base.mark_bar().encode(
        color=alt.Color("kind:N", title="candidates", scale=alt.Scale(
            domain=["one source", union_name], range=["#4c78a8", "#f58518"]),
            legend=alt.Legend(orient="bottom")),  # the bars' labels reach 100% on the right
        tooltip=["source", alt.Tooltip("recall:Q", format=".1%")],
    )  # fmt: skip
    labels = base.mark_text(align="left", dx=3).encode(text=alt.Text("recall:Q", format=".1%"))
    return alt.layer(bars, labels).properties(
        width=_WIDTH, title=alt.Title("Recall of the candidate sources",
                                      subtitle="the union caps what any top-k can reach"))


def comparison_table(*, frame: pd.DataFrame, strongest: str | None = None) -> pd.DataFrame:
    """The model beside the baselines (``EvaluationResult.comparison_frame()``), for reading.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per method: ``method, top1, top3, coverage, precision, precision_high, n_high,
        precision_medium, n_medium, calibration_error``.
    strongest : str, optional
        The strongest baseline's name (``summary["strongest_baseline"]``), marked.

    Returns
    -------
    pandas.DataFrame
        Shares as percentages, counts with separators, the calibration error with 3 decimals,
        "—" where a figure has nothing to measure.

    Examples
    --------
    >>> frame = pd.DataFrame({"method": ["model", "dj_history"], "top1": [0.0834, 0.0563],
    ...     "top3": [0.12, 0.07], "coverage": [0.0, 0.24], "precision": [None, 0.08],
    ...     "precision_high": [None, None], "n_high": [0, 3], "precision_medium": [None, 0.1],
    ...     "n_medium": [0, 12], "calibration_error": [0.108, 0.44]})
    >>> table = comparison_table(frame=frame, strongest="dj_history")
    >>> table.iloc[1, :3].tolist(), table.loc[0, "precision (accepted)"]
    (['DJ history (strongest baseline)', '5.6%', '7.0%'], '—')
    """
    out = pd.DataFrame({"method": [
        method_name(m) + (" (strongest baseline)" if m == strongest else "")
        for m in frame["method"]]})  # fmt: skip
    for column, title in COMPARISON_COLUMNS.items():
        values = frame[column].astype(object).where(frame[column].notna(), None)
        if column.startswith("n_"):
            out[title] = [number_text(None if v is None else int(v)) for v in values]
        elif column == "calibration_error":
            out[title] = [number_text(v) for v in values]
        else:
            out[title] = [share_text(v) for v in values]
    return out


def strongest_baseline_text(*, summary: Mapping[str, Any]) -> str:
    """One sentence: the strongest baseline and the model's top-1 and top-3 against it.

    Examples
    --------
    >>> s = {"strongest_baseline": "dj_history", "model_vs_strongest": {"top1": 1.481,
    ...      "top3": 1.654}, "model": {"top1": 0.0834}, "baselines": {"dj_history":
    ...      {"top1": 0.0563}}}
    >>> strongest_baseline_text(summary=s)
    'The strongest baseline is DJ history (top-1 5.6%); the model (top-1 8.3%) reaches 1.48× its top-1 and 1.65× its top-3.'
    """
    name = summary["strongest_baseline"]
    ratio = summary["model_vs_strongest"]

    def times(value: float | None) -> str:
        return MISSING if value is None else f"{value:.2f}×"

    return (f"The strongest baseline is {method_name(name)} (top-1 "
            f"{share_text(summary['baselines'][name]['top1'])}); the model (top-1 "
            f"{share_text(summary['model']['top1'])}) reaches {times(ratio['top1'])} its top-1 "
            f"and {times(ratio['top3'])} its top-3.")


def _methods(summary: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {"model": summary["model"], **summary["baselines"]}


def baselines_chart(*, summary: Mapping[str, Any]) -> alt.Chart:
    """Top-1 and top-3 accuracy of the model and every baseline, as grouped bars.

    Examples
    --------
    >>> side = {"top1": 0.08, "top3": 0.12}
    >>> s = {"model": side, "baselines": {"dj_history": {"top1": 0.05, "top3": 0.07}},
    ...      "strongest_baseline": "dj_history", "model_vs_strongest": {"top1": 1.6,
    ...      "top3": 1.7}}
    >>> len(baselines_chart(summary=s).data)
    4
    """
    methods = _methods(summary)
    order = [method_name(m) for m in methods]
    frame = pd.DataFrame([
        {"method": method_name(name), "measure": measure, "accuracy": float(figures[key] or 0.0)}
        for name, figures in methods.items()
        for key, measure in (("top1", "top-1"), ("top3", "top-3"))
    ])  # fmt: skip
    ratio = summary["model_vs_strongest"]
    subtitle = (f"strongest baseline: {method_name(summary['strongest_baseline'])}; model / "
                f"strongest: top-1 {number_text(ratio['top1'], digits=2)}×, top-3 "
                f"{number_text(ratio['top3'], digits=2)}×")
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("measure:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("method:N", sort=order),
        y=alt.Y("accuracy:Q", title="share of masked slots right", axis=alt.Axis(format="%")),
        color=alt.Color("method:N", title="method", sort=order, scale=_method_scale(order)),
        tooltip=["method", "measure", alt.Tooltip("accuracy:Q", format=".1%")],
    ).properties(width=360, height=260, title=alt.Title(
        "The model beside the baselines (masked answers)", subtitle=subtitle))  # fmt: skip


def _method_scale(order: Sequence[str]) -> alt.Scale:
    palette = {"model (splink)": "#f58518", "seed formula": "#bab0ac", "DJ history": "#4c78a8",
               "neighbours": "#54a24b", "DJ's label history": "#4c78a8",
               "neighbours' labels": "#54a24b", "label proposals": "#f58518"}
    return alt.Scale(domain=list(order), range=[palette.get(m, "#b279a2") for m in order])


def topk_chart(*, summary: Mapping[str, Any]) -> alt.Chart:
    """Top-k accuracy (k = 1..10) of the model and every baseline, one line each.

    Examples
    --------
    >>> s = {"topk": {"k": [1, 2], "model": [0.08, 0.11], "dj_history": [0.05, 0.06]}}
    >>> sorted(set(topk_chart(summary=s).data["method"]))
    ['DJ history', 'model (splink)']
    """
    topk = summary["topk"]
    names = [name for name in topk if name != "k"]
    order = [method_name(name) for name in names]
    frame = pd.DataFrame([
        {"k": int(k), "method": method_name(name), "accuracy": float(value or 0.0)}
        for name in names for k, value in zip(topk["k"], topk[name], strict=True)
    ])  # fmt: skip
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("k:O", title="k (the true artist among the first k proposals)",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("accuracy:Q", title="top-k accuracy", axis=alt.Axis(format="%")),
        color=alt.Color("method:N", title="method", sort=order, scale=_method_scale(order)),
        tooltip=["method", "k", alt.Tooltip("accuracy:Q", format=".1%")],
    ).properties(width=_WIDTH, height=280, title="Top-k accuracy on the masked answers")


def precision_coverage_chart(
    *, summary: Mapping[str, Any], at_threshold: Mapping[str, Any], threshold: float
) -> alt.LayerChart:
    """The model's precision against its coverage (most confident first), the threshold marked.

    Parameters
    ----------
    summary : mapping
        :attr:`EvaluationResult.summary` (its ``precision_coverage``).
    at_threshold : mapping
        ``coverage`` and ``precision`` of the top-1 proposals at ``threshold`` (a row of
        :func:`threshold_table` for the model).
    threshold : float
        The acceptance threshold (the notebook's ``threshold``, 0.70).

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> s = {"precision_coverage": [{"coverage": 0.05, "precision": 0.3, "threshold": 0.23},
    ...                             {"coverage": 1.0, "precision": 0.08, "threshold": 0.02}]}
    >>> chart = precision_coverage_chart(summary=s, threshold=0.7,
    ...                                  at_threshold={"coverage": 0.0, "precision": None})
    >>> len(chart.to_dict()["layer"])
    3
    """
    frame = pd.DataFrame(summary["precision_coverage"],
                         columns=["coverage", "precision", "threshold"]).assign(
                             curve="model (splink)")  # fmt: skip
    covered = float(at_threshold.get("coverage") or 0.0)
    mark = pd.DataFrame({
        "coverage": [covered], "curve": [f"threshold {threshold:.2f}"],
        "label": [(f"threshold {threshold:.2f}: coverage {share_text(covered)}, precision "
                  f"{share_text(at_threshold.get('precision'))}")],
    })  # fmt: skip
    colour = alt.Color("curve:N", title=None, scale=alt.Scale(
        domain=[frame["curve"].iloc[0] if len(frame) else "model", mark["curve"].iloc[0]],
        range=["#f58518", "gray"]))  # fmt: skip
    line = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("coverage:Q", title="coverage (share of masked slots answered)",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("precision:Q", title="precision (share of answers right)",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=colour,
        tooltip=[alt.Tooltip("coverage:Q", format=".1%"), alt.Tooltip("precision:Q", format=".1%"),
                 alt.Tooltip("threshold:Q", title="probability at least", format=".3f")],
    )  # fmt: skip
    rule = alt.Chart(mark).mark_rule(strokeDash=[4, 3], size=2).encode(x="coverage:Q",
                                                                         color=colour)
    text = alt.Chart(mark).mark_text(align="left", dx=4, y=12).encode(x="coverage:Q",
                                                                        text="label:N")
    return alt.layer(line, rule, text).properties(
        width=_WIDTH, height=280,
        title=alt.Title("Precision against coverage of the model's first proposals",
                        subtitle="left to right: accepting ever less confident proposals"))


def dj_group_table(*, summary: Mapping[str, Any]) -> pd.DataFrame:
    """Top-1 of every method for the slots grouped by how many sets their DJ has.

    Examples
    --------
    >>> s = {"by_dj_group": [{"group": "1 set", "n_slots": 3825, "model_top1": 0.0795,
    ...                       "dj_history_top1": None}]}
    >>> dj_group_table(summary=s).values.tolist()
    [['1 set', '3,825', '8.0%', '—']]
    """
    rows = summary.get("by_dj_group") or []
    methods = [key.removesuffix("_top1") for key in (rows[0] if rows else {})
               if key.endswith("_top1")]
    table = pd.DataFrame({
        "DJ's sets in the corpus": [row["group"] for row in rows],
        "masked slots": [number_text(int(row["n_slots"])) for row in rows],
        **{f"{method_name(m)} top-1": [share_text(row[f"{m}_top1"]) for row in rows]
           for m in methods},
    })  # fmt: skip
    return table


def dj_group_chart(*, summary: Mapping[str, Any]) -> alt.Chart:
    """Top-1 by DJ group as grouped bars, one colour per method.

    Examples
    --------
    >>> s = {"by_dj_group": [{"group": "1 set", "n_slots": 3, "model_top1": 0.1,
    ...                       "dj_history_top1": 0.05}]}
    >>> dj_group_chart(summary=s).data["method"].tolist()
    ['model (splink)', 'DJ history']
    """
    rows = summary.get("by_dj_group") or []
    frame = pd.DataFrame([
        {"group": f"{row['group']} ({row['n_slots']:,} slots)",
         "method": method_name(key.removesuffix("_top1")), "top1": float(value or 0.0)}
        for row in rows if row["n_slots"]  # an empty group has nothing to draw
        for key, value in row.items() if key.endswith("_top1")
    ], columns=["group", "method", "top1"])  # fmt: skip
    order = list(dict.fromkeys(frame["method"]))
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("group:N", title="the slot's DJ has … in the corpus",
                sort=list(dict.fromkeys(frame["group"])), axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("method:N", sort=order),
        y=alt.Y("top1:Q", title="top-1 accuracy", axis=alt.Axis(format="%")),
        color=alt.Color("method:N", title="method", sort=order, scale=_method_scale(order)),
        tooltip=["group", "method", alt.Tooltip("top1:Q", title="top-1", format=".1%")],
    ).properties(width=_WIDTH, height=260, title="Top-1 accuracy by the DJ's number of sets")


def label_table(*, summary: Mapping[str, Any]) -> pd.DataFrame:
    """The label proposals' top-1 beside their two baselines (the DJ's labels, the neighbours').

    Returns
    -------
    pandas.DataFrame
        ``method, top-1 accuracy``; empty when labels were not evaluated.

    Examples
    --------
    >>> s = {"labels": {"top1": 0.1427, "dj_label_history_top1": 0.076,
    ...                 "neighbour_labels_top1": None}}
    >>> label_table(summary=s)["top-1 accuracy"].tolist()
    ['14.3%', '7.6%', '—']
    >>> label_table(summary={"labels": None}).empty
    True
    """
    labels = summary.get("labels")
    columns = ["method", "top-1 accuracy"]
    if not labels:
        return pd.DataFrame(columns=columns)
    rows = [("label proposals", labels["top1"]),
            ("DJ's label history", labels["dj_label_history_top1"]),
            ("neighbours' labels", labels["neighbour_labels_top1"])]
    return pd.DataFrame([(name, share_text(value)) for name, value in rows], columns=columns)


def label_text(*, summary: Mapping[str, Any]) -> str:
    """The label evaluation's other figures in one sentence.

    Examples
    --------
    >>> label_text(summary={"labels": None})
    'Labels were not evaluated (no masked slot has a known label).'
    """
    labels = summary.get("labels")
    if not labels:
        return "Labels were not evaluated (no masked slot has a known label)."
    return (f"{labels['n_slots']:,} masked slots with a known label: top-1 "
            f"{share_text(labels['top1'])}, top-3 {share_text(labels['top3'])}; the true label "
            f"is among the candidates for {share_text(labels['truth_in_candidates'])}; at 0.70 "
            f"the proposals cover {share_text(labels['coverage'])} of the slots with precision "
            f"{share_text(labels['precision'])}; calibration error "
            f"{number_text(labels['calibration_error'])}.")


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
        evidence sentences joined by "; ", the probability to 3 decimals), best first.
    """
    columns = ["dj", "set_title", "position", "raw", "rank", "artist", "probability", "tier",
               "evidence"]
    if proposals.empty:
        return pd.DataFrame(columns=columns)
    lines = entries[["set_id", "position", "dj", "set_title", "raw"]].astype({"position": "int64"})
    table = proposals.astype({"position": "int64"}).merge(lines, on=["set_id", "position"])
    table["evidence"] = table["evidence"].map("; ".join)
    table["probability"] = table["probability"].round(3)
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
        Axis and legend labels are drawn whole (Vega-Lite cuts them at 180 pixels, which
        leaves "among the 10 most played near t…" of the comparison levels).
    """
    return chart.altair_chart.configure_axis(labelLimit=0).configure_legend(labelLimit=0)


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
    # the compared values are drawn as labels: 0.105, not 0.10526315867900848
    records = [
        {key: round(value, 3) if isinstance(value, float) and key.endswith(("_l", "_r"))
         else value for key, value in record.items()}
        for record in records
    ]  # fmt: skip
    chart = splink_chart(model.linker.visualisations.waterfall_chart(records))
    return chart.properties(
        title=alt.TitleParams(
            text="Match weights waterfall",
            subtitle="splink's own probability of the pair, before the slot's candidates "
            "compete and before calibration (the tables' probability is the calibrated one)",
        )
    )
