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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.linkage.baseline import MIN_PROBABILITY, baseline_scores
from musicwb.linkage.calibration import (
    TIER_MEDIUM,
    calibration_error,
    calibration_error_interval,
    calibration_table,
    fit_calibrator,
    tier_of,
)
from musicwb.linkage.features import candidate_features
from musicwb.linkage.model import LinkageModel

__all__ = [
    "EvaluationResult",
    "evaluate",
    "evaluate_files",
    "fit_and_score",
    "mask_known",
    "matches_truth",
    "summarise",
]


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


def mask_known(
    entries: pd.DataFrame,
    *,
    fraction: float,
    seed: int,
    min_other_sets: int = 2,
    round_number: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hide the artist and label of a random share of the eligible known entries.

    Parameters
    ----------
    entries : pandas.DataFrame
        From :func:`musicwb.linkage.tracklists.with_keys`.
    fraction : float
        In (0, 1): the share of eligible entries to hide.
    seed : int
    min_other_sets : int, default 2
        Eligible: the artist is played in at least this many *other* sets.
    round_number : int, default 0
        Round ``r`` hides entries none of the rounds ``0 … r−1`` (same seed) hid, so
        several rounds evaluate disjoint answers; ``(r + 1) · fraction`` must be at most 1.

    Returns
    -------
    masked : pandas.DataFrame
        ``entries`` with ``is_slot`` (True exactly for the hidden ones) and their
        ``artist_key``/``label_key`` set to None.
    truth : pandas.DataFrame
        ``slot_id, set_id, position, artist_key, artist`` of the hidden entries.
    """
    if not 0 < fraction < 1:
        raise ParameterError(f"mask fraction must be between 0 and 1, not {fraction}")
    known = entries["artist_key"].notna()
    sets_per_artist = entries[known].groupby("artist_key")["set_id"].nunique()
    other_sets = entries["artist_key"].map(sets_per_artist).fillna(0) - 1
    eligible = np.flatnonzero(known & (other_sets >= min_other_sets))
    if (round_number + 1) * fraction > 1 + 1e-9:
        raise ParameterError(
            f"{round_number + 1} rounds of mask fraction {fraction} would hide more than "
            "every eligible entry"
        )
    rng = np.random.default_rng(seed)
    size = round(fraction * len(eligible))
    remaining = eligible
    for _ in range(round_number + 1):
        chosen = rng.choice(remaining, size=min(size, len(remaining)), replace=False)
        remaining = np.setdiff1d(remaining, chosen)
    masked = entries.copy()
    masked["is_slot"] = False
    shown = ["artist"] if "artist" in entries.columns else []
    truth = entries.iloc[np.sort(chosen)][["set_id", "position", "artist_key", *shown]].copy()
    truth.insert(0, "slot_id", truth["set_id"] + "#" + truth["position"].astype(str))
    column = masked.columns.get_indexer(["artist_key", "label_key", "is_slot"])
    masked.iloc[chosen, column[0]] = None
    masked.iloc[chosen, column[1]] = None
    masked.iloc[chosen, column[2]] = True
    return masked, truth.reset_index(drop=True)


def matches_truth(frame: pd.DataFrame, truth: pd.Series) -> np.ndarray:
    """Whether each row's ``candidate`` is the true artist of its ``slot_id``.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``slot_id`` and ``candidate`` (strings or categoricals).
    truth : pandas.Series
        Index ``slot_id``, values the true artist key.

    Returns
    -------
    numpy.ndarray of bool, shape (len(frame),)
    """
    expected = np.asarray(frame["slot_id"].map(truth), dtype=object)
    return np.asarray(frame["candidate"], dtype=object) == expected


def _rank(scored: pd.DataFrame) -> pd.DataFrame:
    ordered = scored.sort_values(["slot_id", "probability", "slot_probability", "candidate"],
                                 ascending=[True, False, False, True])
    return ordered.assign(rank=ordered.groupby("slot_id", observed=True).cumcount() + 1).reset_index(drop=True)


def fit_and_score(
    pairs: pd.DataFrame,
    truth: pd.Series,
    *,
    train_slots: Sequence[str],
    predict_slots: Sequence[str],
    seed: int = 7,
    db_api_factory: Callable[[], Any] | None = None,
    model_options: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, LinkageModel]:
    """Fit the model with the answers of ``train_slots``, calibrate on them, score
    ``predict_slots``.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Candidate features of every slot.
    truth : pandas.Series
        Index ``slot_id``, values the true ``artist_key`` (at least for ``train_slots``).
    train_slots, predict_slots : sequence of str
    seed : int, default 7
    db_api_factory : callable, optional
        Returns a fresh splink DB API (e.g. ``lambda: SparkAPI(spark_session=spark)``);
        default DuckDB in memory.
    model_options : dict, optional
        More :class:`LinkageModel` parameters (``max_pairs``, ``duckdb_settings``, ...).

    Returns
    -------
    scores : pandas.DataFrame
        Pairs of ``predict_slots``: ``slot_id, candidate, match_weight, match_probability,
        slot_probability, probability`` (calibrated), ``rank``, ``tier``.
    model : LinkageModel
    """
    train = pd.Index(train_slots)
    is_match = pd.Series(pairs["slot_id"].isin(train).to_numpy() & matches_truth(pairs, truth),
                         index=pairs.index)
    found = pairs.loc[is_match, "slot_id"].nunique() / max(len(train), 1)
    model = LinkageModel(db_api=db_api_factory() if db_api_factory else None, seed=seed,
                         in_candidates=float(np.clip(found, 0.05, 0.95)),
                         **(model_options or {}))
    scored = model.fit_predict(pairs, is_match=is_match)
    correct = pd.Series(matches_truth(scored, truth), index=scored.index)
    # Calibrated on the training slots' first three candidates: three times the answers of
    # the first alone, which kept Platt steadier (5 seeds: decile error 0.178 vs 0.185 on
    # MixesDB, 0.209 vs 0.316 on the demo, where a fold holds ~25 answers).
    fitting = scored["slot_id"].isin(train) & (scored["rank"] <= 3)
    if fitting.any() and correct[fitting].any():
        calibrator = fit_calibrator(scored.loc[fitting, "slot_probability"], correct[fitting])
        probability = calibrator.predict(scored["slot_probability"].to_numpy())
    else:  # no known answer to calibrate on: the model's own probability
        probability = scored["slot_probability"].to_numpy()
    scored = scored.assign(probability=probability)
    scored = _rank(scored[scored["slot_id"].isin(pd.Index(predict_slots))])
    return scored.assign(tier=tier_of(scored["probability"])), model


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
    entries: pd.DataFrame,
    *,
    mask_fraction: float = 0.2,
    seed: int = 0,
    window: int = 3,
    min_support: int = 2,
    folds: int = 2,
    rounds: int = 1,
    db_api_factory: Callable[[], Any] | None = None,
    model_options: dict[str, Any] | None = None,
) -> EvaluationResult:
    """Mask known entries, predict them with the model and the baseline, and measure both.

    Parameters
    ----------
    entries : pandas.DataFrame
        From :func:`musicwb.linkage.tracklists.with_keys`; real unknown slots are ignored.
    mask_fraction : float, default 0.2
    seed : int, default 0
    window, min_support : int
        As for :func:`musicwb.linkage.features.candidate_features`.
    folds : int, default 2
        Cross-fitting folds for the m estimate and the calibration (≥ 2).
    rounds : int, default 1
        Repeat with disjoint masked answers (``rounds · mask_fraction ≤ 1``): each round
        hides another share of the eligible entries, so the figures (the calibration table
        above all) rest on ``rounds`` times more answers, each hidden with the same share of
        its context missing.
    db_api_factory : callable, optional
        A fresh splink DB API per fold; DuckDB by default.
    model_options : dict, optional
        More :class:`LinkageModel` parameters, e.g. ``{"diagnostics": True}`` for splink's
        waterfall and accuracy charts.

    Returns
    -------
    EvaluationResult
    """
    if folds < 2:
        raise ParameterError(f"folds must be at least 2, not {folds}")
    if rounds < 1:
        raise ParameterError(f"rounds must be at least 1, not {rounds}")
    truths, model_parts, base_parts, reachable, n_pairs, pairs, model = [], [], [], 0, 0, None, None
    for round_number in range(rounds):
        masked, truth_frame = mask_known(entries, fraction=mask_fraction, seed=seed,
                                         round_number=round_number)
        if truth_frame.empty:
            raise ParameterError("no known entry is eligible for masking (an artist must be "
                                 "played in at least 2 other sets)")
        truth = truth_frame.set_index("slot_id")["artist_key"]
        pairs = candidate_features(masked, window=window, min_support=min_support)
        fold_of = pd.Series(np.random.default_rng(seed + 1).integers(0, folds, len(truth)),
                            index=truth.index)
        for fold in range(folds):
            inside = fold_of.index[fold_of == fold]
            outside = fold_of.index[fold_of != fold]
            scores, model = fit_and_score(pairs, truth, train_slots=outside,
                                          predict_slots=inside, seed=seed,
                                          db_api_factory=db_api_factory,
                                          model_options=model_options)
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
        "parameters": {"mask_fraction": mask_fraction, "seed": seed, "window": window,
                       "min_support": min_support, "folds": folds, "rounds": rounds},
    }
    return EvaluationResult(summary, truth_frame, model_scores, base, pairs, model)


def evaluate_files(
    paths: Sequence[str | Path], *, fmt: str, **options: Any
) -> EvaluationResult:
    """:func:`evaluate` on tracklist files read directly (nothing is written anywhere)."""
    from musicwb.linkage.tracklists import entries_from_files

    return evaluate(entries_from_files(paths, fmt=fmt), **options)
