"""Measuring the linkage: hide known artists, predict them, compare model and baseline.

Known entries whose artist is played in at least two other sets are eligible; a random
``mask_fraction`` of them loses its artist and label and becomes an unknown slot. Both methods
rank candidates for every masked slot:

- the splink model, cross-fitted: the masked slots are split into ``folds``; for each fold, m
  comes from the known answers of the other folds, and an isotonic calibrator fitted on the
  other folds maps the slot-normalised probability to the observed rate;
- three baselines (:mod:`.baseline`): the seed formula as it was, the DJ's history, and the
  artists played near the slot's neighbours elsewhere; the model's top-1 and top-3 are set
  against the strongest of them (``strongest_baseline``, ``model_vs_strongest``).

Reported per method: top-1 and top-3 accuracy over all masked slots, coverage (share of slots
with an accepted proposal: ≥ 0.70 for the model, ≥ 0.60 for the baseline), precision and count
per tier, and a calibration table (predicted against observed per decile of the top-1
probability) with its mean gap. ``equal_coverage`` compares model and seed formula on the same
number of most confident slots. Also: the share of slots whose true artist each candidate
source proposes (``candidates``), top-k accuracy for k = 1…10 (``topk``), precision against
coverage (``precision_coverage``), the figures by DJ group (``by_dj_group``), the label
proposals' own evaluation (``labels``) and the issue's targets met or missed (``targets``).

With ``evaluate_sets``, only entries of those sets are masked; every other set is context
("how well does it do on my sets with the big corpus behind them?").

Examples
--------
>>> result = evaluate(entries, mask_fraction=0.2, seed=1)   # doctest: +SKIP
>>> result.summary["model"]["top1"], result.summary["baseline"]["top1"]  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.linkage.backends import shared_duckdb
from musicwb.linkage.baseline import BASELINES, MIN_PROBABILITY, Baseline, heuristic_scores
from musicwb.linkage.calibration import (
    TIER_MEDIUM,
    calibration_error,
    calibration_error_floor,
    calibration_error_interval,
    calibration_table,
    tier_of,
)
from musicwb.linkage.features import candidate_features, drop_candidate_tables, source_recall
from musicwb.linkage.label_proposals import evaluate_labels
from musicwb.linkage.masking import mask_known, matches_truth
from musicwb.linkage.model import LinkageModel
from musicwb.linkage.scoring import FitKeywords, FitOptions, fit_and_score, spill_directory
from musicwb.linkage.tracklist_files import Format
from musicwb.linkage.tracklists import entries_from_files
from musicwb.store import Store

__all__ = ["DEV_TARGETS", "EvaluationResult", "calibration_note", "evaluate", "evaluate_files",
           "summarise"]

TOP_K = tuple(range(1, 11))
_EVALUATED_COLUMNS = ("set_id", "position", "dj_key", "artist_key", "label_key", "artist",
                      "label", "is_unknown")
#: The targets of the DJ Mix dev corpus (issue 13), checked in every summary's ``targets``.
DEV_TARGETS = {"truth_in_candidates": 0.55, "top1": 0.10, "top1_vs_strongest": 1.25,
               "top3": 0.16, "calibration_error_weighted": 0.03, "precision_high": 0.80,
               "label_top1": 0.18}


@dataclass
class EvaluationResult:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    summary : dict
        ``model`` and ``baseline`` (the seed formula; each: top1, top3, coverage, precision,
        precision_high, n_high, precision_medium, n_medium, n_slots, calibration_error,
        calibration), ``baselines`` (``seed_formula``, ``dj_history``, ``neighbours``, each
        as ``model``), ``strongest_baseline``, ``model_vs_strongest``, ``candidates``,
        ``topk``, ``precision_coverage``, ``by_dj_group``, ``labels``, ``targets``,
        ``equal_coverage``, ``n_masked``, ``n_pairs``, ``parameters``.
    truth : pandas.DataFrame
        ``slot_id, set_id, position, artist_key, artist, round`` of the masked entries.
    model_scores, baseline_scores : pandas.DataFrame
        Ranked candidates per slot with ``probability``, ``correct`` and ``round`` (the
        model's also ``fold``); ``baseline_scores`` is the seed formula's.
    label_scores : pandas.DataFrame
        Ranked labels per slot (``slot_id, label_key, probability, rank, correct``).
    pairs : pandas.DataFrame
        The candidate features of the last round (the data ``model`` was fitted on).
    model : LinkageModel
        The last fitted fold of the last round (its ``linker`` draws splink's charts).
    """

    summary: dict[str, Any]
    truth: pd.DataFrame
    model_scores: pd.DataFrame
    baseline_scores: pd.DataFrame
    pairs: pd.DataFrame
    model: LinkageModel
    label_scores: pd.DataFrame | None = None

    def calibration_frame(self) -> pd.DataFrame:
        """Both calibration tables, long form: ``method, bin, n, predicted, observed, gap``."""
        frames = [pd.DataFrame(self.summary[m]["calibration"]).assign(method=m)
                  for m in ("model", "baseline")]  # the seed formula, under its old name
        return pd.concat(frames, ignore_index=True)

    def describe(self) -> str:
        """The evaluation in words and tables, as ``identify evaluate`` prints it."""
        s = self.summary
        recall = s["candidates"]["recall"]
        sources = ", ".join(f"{name} {share:.1%}" for name, share in recall.items()
                            if name != "union")
        lines = [
            (f"{s['n_masked']:,} masked entries in {s['n_evaluated_sets']:,} of "
             f"{s['n_sets']:,} sets ({s['n_entries']:,} entries); "
             f"{s['candidates_per_slot']} candidates per slot (k = {s['candidates']['k']})"),
            f"true artist among the candidates: {recall['union']:.1%} (by source: {sources})",
            "",
            self.comparison_frame().to_string(index=False),
            "",
            (f"strongest baseline: {s['strongest_baseline']}; model / strongest: top-1 "
             f"{s['model_vs_strongest']['top1']}x, top-3 {s['model_vs_strongest']['top3']}x"),
        ]
        labels = s.get("labels")
        if labels:
            lines.append(
                f"labels: top-1 {labels['top1']}, top-3 {labels['top3']} on {labels['n_slots']:,} "
                f"slots with a known label (the DJ's label history {labels['dj_label_history_top1']}, "
                f"neighbours' labels {labels['neighbour_labels_top1']})"
            )
        lines += ["", "targets (DJ Mix dev corpus):"]
        for target in s["targets"]:
            verdict = {True: "met", False: "MISSED", None: "not applicable"}[target["met"]]
            lines.append(f"  {target['target']}: {target['value']} (goal {target['goal']}): "
                         f"{verdict}")
        lines += ["", self.calibration_frame().to_string(index=False)]
        return "\n".join(lines)

    def comparison_frame(self) -> pd.DataFrame:
        """One row per method (the model, then each baseline) with the headline figures."""
        keys = ["top1", "top3", "coverage", "precision", "precision_high", "n_high",
                "precision_medium", "n_medium", "calibration_error"]
        methods = {"model": self.summary["model"], **self.summary["baselines"]}
        return pd.DataFrame([{"method": name, **{k: figures[k] for k in keys}}
                             for name, figures in methods.items()])


def summarise(
    ranked: pd.DataFrame, truth: pd.Series, *, accept: float
) -> dict[str, Any]:
    """Accuracy, coverage, per-tier precision and calibration of ranked candidates.

    Parameters
    ----------
    ranked : pandas.DataFrame
        ``slot_id, candidate, probability, rank``.
    truth : pandas.Series
        Index ``slot_id`` (every evaluated slot), values the true artist key.
    accept : float
        A top-1 proposal at or above this probability counts as made (coverage).

    Returns
    -------
    dict
        top1, top3, coverage, precision, precision_high, n_high, precision_medium, n_medium,
        n_slots, calibration_error (unweighted mean gap over deciles),
        calibration_error_weighted (weighted by proposals), calibration_error_interval (its
        bootstrap 90% interval), calibration_error_floor (the central 90% of the weighted
        error a perfectly calibrated model shows on as many answers: its sampling noise),
        calibration (list of rows).
    """
    n_slots = len(truth)
    right = pd.Series(matches_truth(ranked, truth), index=ranked.index)
    hit_at = ranked.loc[right].groupby("slot_id", observed=True)["rank"].min()
    top = ranked[ranked["rank"] == 1].assign(correct=right[ranked["rank"] == 1])
    tiers = tier_of(top["probability"])
    accepted = top["probability"] >= accept
    table = calibration_table(top["probability"].to_numpy(), top["correct"].to_numpy())

    def share(mask: pd.Series) -> float | None:
        return round(float(top.loc[mask, "correct"].mean()), 4) if mask.any() else None

    return {
        "n_slots": n_slots,
        "top1": round(float((hit_at == 1).sum()) / n_slots, 4) if n_slots else None,
        "top3": round(float((hit_at <= 3).sum()) / n_slots, 4) if n_slots else None,
        "coverage": round(float(accepted.sum()) / n_slots, 4) if n_slots else None,
        "precision": share(accepted),
        "precision_high": share(pd.Series(tiers == "high", index=top.index)),
        "n_high": int((tiers == "high").sum()),
        "precision_medium": share(pd.Series(tiers == "medium", index=top.index)),
        "n_medium": int((tiers == "medium").sum()),
        "calibration_error": calibration_error(table),
        "calibration_error_weighted": calibration_error(table, weighted=True),
        "calibration_error_interval": calibration_error_interval(
            top["probability"].to_numpy(), top["correct"].to_numpy()
        ),
        "calibration_error_floor": calibration_error_floor(top["probability"].to_numpy()),
        "calibration": table.to_dict("records"),
    }


def _equal_coverage(model: pd.DataFrame, baseline: pd.DataFrame, truth: pd.Series,
                    k: int) -> dict[str, Any]:
    """Top-1/top-3 accuracy of each method on its ``k`` most confident slots."""
    out: dict[str, Any] = {"k": k}
    for name, ranked in (("model", model), ("baseline", baseline)):
        top = ranked[ranked["rank"] == 1].nlargest(k, "probability")
        chosen = ranked[ranked["slot_id"].isin(top["slot_id"])]
        right = pd.Series(matches_truth(chosen, truth), index=chosen.index)
        hit_at = chosen.loc[right].groupby("slot_id", observed=True)["rank"].min()
        out[f"{name}_top1"] = round(float((hit_at == 1).sum()) / k, 4) if k else None
        out[f"{name}_top3"] = round(float((hit_at <= 3).sum()) / k, 4) if k else None
    return out


def topk_accuracy(ranked: pd.DataFrame, truth: pd.Series, *, ks: Sequence[int] = TOP_K
                  ) -> list[float]:
    """Share of the slots whose true artist is ranked within the first k, for each k."""
    right = pd.Series(matches_truth(ranked, truth), index=ranked.index)
    hit_at = ranked.loc[right].groupby("slot_id", observed=True)["rank"].min()
    n = max(len(truth), 1)
    return [round(float((hit_at <= k).sum()) / n, 4) for k in ks]


def precision_coverage(ranked: pd.DataFrame, truth: pd.Series, *, points: int = 20
                       ) -> list[dict[str, float]]:
    """Precision of the top-1 proposals against the share of slots proposed, when only the
    most confident ones are kept: ``coverage, precision, threshold`` at ``points`` coverages."""
    top = ranked[ranked["rank"] == 1].sort_values("probability", ascending=False)
    correct = matches_truth(top, truth)
    n = max(len(truth), 1)
    rows = []
    for share in np.linspace(1 / points, 1, points):
        kept = min(len(top), max(1, round(share * n)))
        if kept == 0:
            break
        rows.append({"coverage": round(kept / n, 4),
                     "precision": round(float(correct[:kept].mean()), 4),
                     "threshold": round(float(top["probability"].iloc[kept - 1]), 4)})
        if kept == len(top):
            break
    return rows


def _dj_group(sets_of_dj: pd.Series) -> pd.Series:
    return pd.cut(sets_of_dj, [0, 1, 9, np.inf], labels=["1 set", "2-9 sets", "10+ sets"])


def by_dj_group(entries: pd.DataFrame, truth: pd.Series,
                ranked: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Top-1 of each method for slots grouped by how many sets their DJ has in the corpus."""
    sets = entries.drop_duplicates("set_id").set_index("set_id")["dj_key"]
    dj_sets = sets.map(sets.value_counts())
    slot_sets = truth.index.str.rsplit("#", n=1).str[0]
    group = pd.Series(_dj_group(dj_sets.reindex(slot_sets).to_numpy()), index=truth.index)
    rows = []
    for name in ("10+ sets", "2-9 sets", "1 set"):
        members = truth[group == name]
        row: dict[str, Any] = {"group": name, "n_slots": len(members)}
        for method, scores in ranked.items():
            inside = scores[scores["slot_id"].isin(members.index)]
            row[f"{method}_top1"] = (topk_accuracy(inside, members, ks=(1,))[0]
                                     if len(members) else None)
        rows.append(row)
    return rows


def _strongest(baselines: dict[str, dict[str, Any]]) -> str:
    return max(baselines, key=lambda name: (baselines[name]["top1"] or 0,
                                            baselines[name]["top3"] or 0))


def _ratio(value: float | None, reference: float | None) -> float | None:
    return round(value / reference, 3) if value is not None and reference else None


def calibration_note(model: Mapping[str, Any]) -> str | None:
    """What sampling noise alone does to the weighted calibration error on this many answers.

    Examples
    --------
    >>> calibration_note({"n_slots": 356, "calibration_error_weighted": 0.058,
    ...                   "calibration_error_floor": [0.032, 0.077]})
    'a perfectly calibrated model shows 0.032–0.077 on these 356 answers (90% of draws): 0.058 is within that noise'
    """
    floor, value = model.get("calibration_error_floor"), model.get("calibration_error_weighted")
    if floor is None or value is None:
        return None
    verdict = "within" if value <= floor[1] else "beyond"
    return (f"a perfectly calibrated model shows {floor[0]:.3f}–{floor[1]:.3f} on these "
            f"{model['n_slots']} answers (90% of draws): {value:.3f} is {verdict} that noise")


def _targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The dev-corpus targets, each with its value, whether it is met, and a note on what the
    value rests on where that decides how to read it."""
    model, labels = summary["model"], summary.get("labels") or {}
    high_counts = model["n_high"] >= 30

    def row(name: str, value: float | None, target: float, *, at_most: bool = False,
            applies: bool = True, note: str | None = None) -> dict[str, Any]:
        met = None if value is None or not applies else (
            value <= target if at_most else value >= target)
        return {"target": name, "goal": f"{'≤' if at_most else '≥'} {target}", "value": value,
                "met": met, "note": note}

    return [
        row("true artist among the candidates", summary["truth_in_candidates"],
            DEV_TARGETS["truth_in_candidates"]),
        row("top-1", model["top1"], DEV_TARGETS["top1"]),
        row("top-1 against the strongest baseline", summary["model_vs_strongest"]["top1"],
            DEV_TARGETS["top1_vs_strongest"]),
        row("top-3", model["top3"], DEV_TARGETS["top3"]),
        row("weighted calibration error", model["calibration_error_weighted"],
            DEV_TARGETS["calibration_error_weighted"], at_most=True,
            note=calibration_note(model)),
        row(f"high tier precision ({model['n_high']} proposals; counts from 30)",
            model["precision_high"], DEV_TARGETS["precision_high"], applies=high_counts),
        row("label top-1", labels.get("top1"), DEV_TARGETS["label_top1"]),
    ]


def _label_summary(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The label evaluations of several rounds as one (shares weighted by their slots)."""
    if not parts:
        return None
    n = sum(part["n_slots"] for part in parts)

    def weighted(key: str) -> float | None:
        known = [(part[key], part["n_slots"]) for part in parts if part[key] is not None]
        return round(sum(v * w for v, w in known) / n, 4) if known and n else None

    keys = ("top1", "top3", "coverage", "precision", "truth_in_candidates",
            "dj_label_history_top1", "neighbour_labels_top1", "calibration_error")
    return {"n_slots": n, **{key: weighted(key) for key in keys},
            "calibration": parts[-1]["calibration"]}


@dataclass(frozen=True)
class _Round:
    """What one round of :func:`evaluate` measured."""

    truth: pd.DataFrame
    pairs: pd.DataFrame
    recall: dict[str, float]
    model_scores: pd.DataFrame
    baselines: dict[Baseline, pd.DataFrame]
    labels: dict[str, Any] | None
    model: LinkageModel


def _evaluate_round(entries: pd.DataFrame, *, engine: Store, fit: FitOptions, folds: int,
                    round_number: int, among: pd.Series | None, labels: bool) -> _Round:
    masked, truth_frame = mask_known(entries, fraction=fit.mask_fraction, seed=fit.seed,
                                     round_number=round_number, among=among)
    if truth_frame.empty:
        raise ParameterError("no known entry is eligible for masking (an artist must be "
                             "played in at least 2 other sets)")
    truth = truth_frame.set_index("slot_id")["artist_key"]
    pairs = candidate_features(masked, window=fit.window, min_support=fit.min_support, k=fit.k,
                               store=engine, keep_tables=True)
    recall = source_recall(engine, truth_frame) | {"n_slots": len(truth)}
    drop_candidate_tables(engine)
    factory = fit.db_api_factory or shared_duckdb(engine)
    fold_of = pd.Series(np.random.default_rng(fit.seed + 1).integers(0, folds, len(truth)),
                        index=truth.index)
    parts, model = [], None
    for fold in range(folds):
        if model is not None:
            model.release()  # the folds share the round's DuckDB: one model's tables at a time
        scores, model = fit_and_score(pairs, truth, train_slots=fold_of.index[fold_of != fold],
                                      predict_slots=fold_of.index[fold_of == fold],
                                      seed=fit.seed, db_api_factory=factory,
                                      model_options=fit.model_options)
        parts.append(scores.assign(fold=fold, round=round_number))
    model_scores = pd.concat(parts, ignore_index=True)
    baselines = {name: heuristic_scores(pairs, kind=name, keep_top=max(TOP_K))
                 .assign(round=round_number) for name in BASELINES}
    label_result = None
    if labels:
        # each slot's artist scores come from the fold that did not see its answer
        artist_scores = model_scores[["slot_id", "candidate", "probability"]].astype(
            {"slot_id": str, "candidate": str})
        label_result = evaluate_labels(masked, truth_frame, folds=folds, seed=fit.seed,
                                       artist_scores=artist_scores, store=engine)
    return _Round(truth_frame, pairs, recall, model_scores, baselines, label_result, model)


def evaluate(
    entries: pd.DataFrame,
    *,
    folds: int = 2,
    rounds: int = 1,
    evaluate_sets: Collection[str] | None = None,
    labels: bool = True,
    **options: Unpack[FitKeywords],
) -> EvaluationResult:
    """Mask known entries, predict them with the model and the baselines, and measure all.

    Parameters
    ----------
    entries : pandas.DataFrame
        From :func:`musicwb.linkage.tracklists.with_keys`; real unknown slots are ignored.
    folds : int, default 2
        Cross-fitting folds for the m estimate and the calibration (≥ 2).
    rounds : int, default 1
        Repeat with disjoint masked answers (``rounds · mask_fraction ≤ 1``): each round
        hides another share of the eligible entries, so the figures (the calibration table
        above all) rest on ``rounds`` times more answers, each hidden with the same share of
        its context missing.
    evaluate_sets : collection of str, optional
        Mask only entries of these sets (``set_id``); the other sets are context only.
    labels : bool, default True
        Evaluate the label proposals too (``summary["labels"]``).
    **options
        ``mask_fraction`` (0.2), ``seed`` (0), ``window`` (3), ``min_support`` (2), ``k``
        (50), ``db_api_factory`` (a fresh splink DB API per fold) and ``model_options``: see
        :class:`~musicwb.linkage.scoring.FitOptions`.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    ParameterError
        Bad folds or rounds, or no entry can be masked (none eligible, or none in
        ``evaluate_sets``).
    """
    fit = FitOptions(**options)
    if folds < 2:
        raise ParameterError(f"folds must be at least 2, not {folds}")
    if rounds < 1:
        raise ParameterError(f"rounds must be at least 1, not {rounds}")
    among = None
    if evaluate_sets is not None:
        among = entries["set_id"].isin(pd.Index(list(evaluate_sets)))
        if not among.any():
            raise ParameterError("none of the sets to evaluate on is among the entries")
    # what masking, candidates and labels read: the raw lines and titles are not copied along
    entries = entries[[c for c in _EVALUATED_COLUMNS if c in entries.columns]]
    truths, model_parts, label_parts, label_frames = [], [], [], []
    base_parts: dict[Baseline, list[pd.DataFrame]] = {name: [] for name in BASELINES}
    recalls: list[dict[str, float]] = []
    n_pairs, engine, model = 0, None, None
    for round_number in range(rounds):
        if engine is not None and model is not None:
            model.release()
            engine.close()
        # one DuckDB per round: candidates, splink (unless Spark) and labels share its memory
        # limit; the last one stays open, as result.model draws splink's charts from it
        engine = Store(":memory:", temp_directory=spill_directory(),
                   memory_limit=fit.duckdb_memory_limit(entries=len(entries)))
        outcome = _evaluate_round(entries, engine=engine, fit=fit, folds=folds,
                                  round_number=round_number, among=among, labels=labels)
        model, pairs = outcome.model, outcome.pairs
        truths.append(outcome.truth.assign(round=round_number))
        recalls.append(outcome.recall)
        model_parts.append(outcome.model_scores)
        for name, frame in outcome.baselines.items():
            base_parts[name].append(frame)
        if outcome.labels is not None:
            label_frames.append(outcome.labels.pop("scores").assign(round=round_number))
            label_parts.append(outcome.labels)
        n_pairs += len(pairs)
    truth_frame = pd.concat(truths, ignore_index=True)
    truth = truth_frame.set_index("slot_id")["artist_key"]
    model_scores = pd.concat(model_parts, ignore_index=True)
    model_scores["correct"] = matches_truth(model_scores, truth)
    ranked: dict[str, pd.DataFrame] = {}
    for name, parts in base_parts.items():
        frame = pd.concat(parts, ignore_index=True)
        ranked[name] = frame.assign(correct=matches_truth(frame, truth))
    model_summary = summarise(model_scores, truth, accept=TIER_MEDIUM)
    baselines = {name: summarise(frame, truth, accept=MIN_PROBABILITY if name == "seed_formula"
                                 else TIER_MEDIUM)
                 for name, frame in ranked.items()}  # fmt: skip
    strongest = _strongest(baselines)
    base = ranked["seed_formula"]
    k = int(base.loc[base["rank"] == 1, "accepted"].sum())
    n_slots = sum(r["n_slots"] for r in recalls)
    candidates = {name: round(sum(r[name] * r["n_slots"] for r in recalls) / n_slots, 4)
                  for name in recalls[0] if name != "n_slots"}  # fmt: skip
    summary = {
        "model": model_summary,
        "baseline": baselines["seed_formula"],
        "baselines": baselines,
        "strongest_baseline": strongest,
        "model_vs_strongest": {
            "top1": _ratio(model_summary["top1"], baselines[strongest]["top1"]),
            "top3": _ratio(model_summary["top3"], baselines[strongest]["top3"]),
        },
        "equal_coverage": _equal_coverage(model_scores, base, truth, k),
        "n_masked": len(truth),
        # the ceiling of top-k accuracy: masked slots whose artist is among the candidates
        "truth_in_candidates": candidates["union"],
        "candidates": {"recall": candidates, "k": fit.k},
        "candidates_per_slot": round(n_pairs / len(truth), 1),
        "topk": {"k": list(TOP_K), "model": topk_accuracy(model_scores, truth),
                 **{name: topk_accuracy(frame, truth) for name, frame in ranked.items()}},
        "precision_coverage": precision_coverage(model_scores, truth),
        "by_dj_group": by_dj_group(entries, truth, {"model": model_scores, **ranked}),
        "labels": _label_summary(label_parts),
        "n_pairs": n_pairs,
        "n_entries": len(entries),
        "n_sets": int(entries["set_id"].nunique()),
        "n_evaluated_sets": int(truth_frame["set_id"].nunique()),
        "parameters": {"mask_fraction": fit.mask_fraction, "seed": fit.seed, "window": fit.window,
                       "min_support": fit.min_support, "k": fit.k, "folds": folds,
                       "rounds": rounds, "evaluate_sets": None if evaluate_sets is None
                       else len(set(evaluate_sets))},
    }
    summary["targets"] = _targets(summary)
    label_scores = pd.concat(label_frames, ignore_index=True) if label_frames else None
    return EvaluationResult(summary, truth_frame, model_scores, base, pairs, model, label_scores)


def evaluate_files(
    paths: Sequence[str | Path],
    *,
    fmt: Format,
    folds: int = 2,
    rounds: int = 1,
    evaluate_on: Sequence[str | Path] = (),
    context: pd.DataFrame | None = None,
    **options: Unpack[FitKeywords],
) -> EvaluationResult:
    """:func:`evaluate` on tracklist files read directly (nothing is written anywhere).

    Parameters
    ----------
    paths : sequence of str or Path
        Tracklist files: context, and masked unless ``evaluate_on`` is given.
    fmt : {"mixesdb", "json", "csv", "djmix"}
        The format of every file.
    folds, rounds : int
        As for :func:`evaluate`.
    evaluate_on : sequence of str or Path, default ()
        Files whose sets alone are masked; every other set is context only.
    context : pandas.DataFrame, optional
        More entries (e.g. a store's, from :func:`.tracklists.entries_frame`) as context; a
        set of a file replaces the same set here.
    **options
        As for :func:`evaluate`.
    """
    own = entries_from_files(evaluate_on, fmt=fmt) if evaluate_on else None
    frames = [frame for frame in (own, entries_from_files(paths, fmt=fmt) if paths else None,
                                  context) if frame is not None]
    if not frames:
        raise ParameterError("no tracklists to evaluate on: give files or a store with some")
    sets = None if own is None else pd.unique(own["set_id"])
    # the same set in two sources (a file also imported into the store) counts once
    entries = pd.concat(frames, ignore_index=True).drop_duplicates(["set_id", "position"])
    del frames, own, context
    return evaluate(entries.reset_index(drop=True), folds=folds, rounds=rounds,
                    evaluate_sets=sets, **options)
