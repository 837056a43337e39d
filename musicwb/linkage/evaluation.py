"""Measuring the linkage: hide known artists, predict them, compare model and baseline.

Known entries whose artist is played in at least two other sets are eligible; a random
``mask_fraction`` of them loses its artist and label and becomes an unknown slot. Both methods
rank candidates for every masked slot:

- the splink model, cross-fitted: the masked slots are split into ``folds``; for each fold, m
  comes from the known answers of the other folds, and an isotonic calibrator fitted on the
  other folds maps the slot-normalised probability to the observed rate;
- the baseline formula (:mod:`.baseline`), as it was.

Reported per method: top-1 and top-3 accuracy over all masked slots, coverage (share of slots
with an accepted proposal: ≥ 0.70 for the model, ≥ 0.60 for the baseline), precision and count
per tier, and a calibration table (predicted against observed per decile of the top-1
probability) with its mean gap. ``equal_coverage`` compares the two on the same number of most
confident slots.

Examples
--------
>>> result = evaluate(entries, mask_fraction=0.2, seed=1)   # doctest: +SKIP
>>> result.summary["model"]["top1"], result.summary["baseline"]["top1"]  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.linkage.baseline import MIN_PROBABILITY, baseline_scores
from musicwb.linkage.calibration import (
    TIER_MEDIUM,
    calibration_error,
    calibration_error_interval,
    calibration_table,
    tier_of,
)
from musicwb.linkage.features import candidate_features
from musicwb.linkage.masking import mask_known, matches_truth
from musicwb.linkage.model import LinkageModel
from musicwb.linkage.scoring import FitKeywords, FitOptions, fit_and_score
from musicwb.linkage.tracklist_files import Format
from musicwb.linkage.tracklists import entries_from_files

__all__ = ["EvaluationResult", "evaluate", "evaluate_files", "summarise"]


@dataclass
class EvaluationResult:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    summary : dict
        ``model`` and ``baseline`` (each: top1, top3, coverage, precision, precision_high,
        n_high, precision_medium, n_medium, n_slots, calibration_error, calibration),
        ``equal_coverage``, ``n_masked``, ``n_pairs``, ``parameters``.
    truth : pandas.DataFrame
        ``slot_id, set_id, position, artist_key, artist, round`` of the masked entries.
    model_scores, baseline_scores : pandas.DataFrame
        Ranked candidates per slot with ``probability``, ``correct`` and ``round`` (the
        model's also ``fold``).
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

    def calibration_frame(self) -> pd.DataFrame:
        """Both calibration tables, long form: ``method, bin, n, predicted, observed, gap``."""
        frames = [pd.DataFrame(self.summary[m]["calibration"]).assign(method=m)
                  for m in ("model", "baseline")]
        return pd.concat(frames, ignore_index=True)

    def comparison_frame(self) -> pd.DataFrame:
        """One row per method with the headline figures (for a notebook table)."""
        keys = ["top1", "top3", "coverage", "precision", "precision_high", "n_high",
                "precision_medium", "n_medium", "calibration_error"]
        return pd.DataFrame([{"method": m, **{k: self.summary[m][k] for k in keys}}
                             for m in ("model", "baseline")])


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
        bootstrap 90% interval), calibration (list of rows).
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


def evaluate(
    entries: pd.DataFrame, *, folds: int = 2, rounds: int = 1, **options: Unpack[FitKeywords]
) -> EvaluationResult:
    """Mask known entries, predict them with the model and the baseline, and measure both.

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
    **options
        ``mask_fraction`` (0.2), ``seed`` (0), ``window`` (3), ``min_support`` (2),
        ``db_api_factory`` (a fresh splink DB API per fold) and ``model_options``: see
        :class:`~musicwb.linkage.scoring.FitOptions`.

    Returns
    -------
    EvaluationResult
    """
    fit = FitOptions(**options)
    if folds < 2:
        raise ParameterError(f"folds must be at least 2, not {folds}")
    if rounds < 1:
        raise ParameterError(f"rounds must be at least 1, not {rounds}")
    truths, model_parts, base_parts, reachable, n_pairs, pairs, model = [], [], [], 0, 0, None, None
    for round_number in range(rounds):
        masked, truth_frame = mask_known(entries, fraction=fit.mask_fraction, seed=fit.seed,
                                         round_number=round_number)
        if truth_frame.empty:
            raise ParameterError("no known entry is eligible for masking (an artist must be "
                                 "played in at least 2 other sets)")
        truth = truth_frame.set_index("slot_id")["artist_key"]
        pairs = candidate_features(masked, window=fit.window,
                                   min_support=fit.min_support)
        fold_of = pd.Series(np.random.default_rng(fit.seed + 1).integers(0, folds, len(truth)),
                            index=truth.index)
        for fold in range(folds):
            inside = fold_of.index[fold_of == fold]
            outside = fold_of.index[fold_of != fold]
            scores, model = fit_and_score(pairs, truth, train_slots=outside,
                                          predict_slots=inside, seed=fit.seed,
                                          db_api_factory=fit.db_api_factory,
                                          model_options=fit.model_options)
            model_parts.append(scores.assign(fold=fold, round=round_number))
        base_parts.append(baseline_scores(pairs).assign(round=round_number))
        truths.append(truth_frame.assign(round=round_number))
        reachable += pairs.loc[matches_truth(pairs, truth), "slot_id"].nunique()
        n_pairs += len(pairs)
    truth_frame = pd.concat(truths, ignore_index=True)
    truth = truth_frame.set_index("slot_id")["artist_key"]
    model_scores = pd.concat(model_parts, ignore_index=True)
    model_scores["correct"] = matches_truth(model_scores, truth)
    base = pd.concat(base_parts, ignore_index=True)
    base["correct"] = matches_truth(base, truth)
    model_summary = summarise(model_scores, truth, accept=TIER_MEDIUM)
    base_summary = summarise(base, truth, accept=MIN_PROBABILITY)
    k = int(base.loc[base["rank"] == 1, "accepted"].sum())
    summary = {
        "model": model_summary,
        "baseline": base_summary,
        "equal_coverage": _equal_coverage(model_scores, base, truth, k),
        "n_masked": len(truth),
        # the ceiling of top-k accuracy: masked slots whose artist is among the candidates
        "truth_in_candidates": round(reachable / len(truth), 4),
        "candidates_per_slot": round(n_pairs / len(truth), 1),
        "n_pairs": n_pairs,
        "n_entries": len(entries),
        "n_sets": int(entries["set_id"].nunique()),
        "parameters": {"mask_fraction": fit.mask_fraction, "seed": fit.seed, "window": fit.window,
                       "min_support": fit.min_support, "folds": folds, "rounds": rounds},
    }
    return EvaluationResult(summary, truth_frame, model_scores, base, pairs, model)


def evaluate_files(
    paths: Sequence[str | Path],
    *,
    fmt: Format,
    folds: int = 2,
    rounds: int = 1,
    **options: Unpack[FitKeywords],
) -> EvaluationResult:
    """:func:`evaluate` on tracklist files read directly (nothing is written anywhere)."""
    return evaluate(entries_from_files(paths, fmt=fmt), folds=folds, rounds=rounds, **options)
