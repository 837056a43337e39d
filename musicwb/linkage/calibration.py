"""Calibration of match probabilities on known answers, and the calibration table.

EM and label-estimated Fellegi–Sunter probabilities assume the comparisons are independent
given the match status; co-occurrence features are not (a label mate is often also a DJ
regular), so raw probabilities are over-confident. A monotone map fitted on masked known
entries (Platt scaling by default, isotonic regression on request) brings them to observed
frequencies; being monotone, it keeps the ranking within a slot.

Examples
--------
>>> import numpy as np
>>> table = calibration_table(np.array([0.05, 0.15, 0.95, 0.95]), np.array([0, 0, 1, 0]))
>>> table[["bin", "n", "observed"]].values.tolist()
[['0.0-0.1', 1, 0.0], ['0.1-0.2', 1, 0.0], ['0.9-1.0', 2, 0.5]]
>>> calibration_error(table)
0.2167
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from musicwb.errors import ParameterError

__all__ = [
    "TIER_HIGH",
    "TIER_MEDIUM",
    "Calibrator",
    "calibration_error",
    "calibration_error_floor",
    "calibration_error_interval",
    "calibration_table",
    "fit_calibrator",
    "tier_of",
]


class Calibrator(Protocol):
    """A fitted monotone map from predicted probabilities to calibrated ones."""

    def predict(self, predicted: np.ndarray) -> np.ndarray: ...


class _Platt:
    """Logistic regression on the logit of the probability (monotone, two parameters)."""

    def __init__(self) -> None:
        self._model = LogisticRegression(C=1.0)

    @staticmethod
    def _logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p)).reshape(-1, 1)

    def fit(self, predicted: np.ndarray, correct: np.ndarray) -> _Platt:
        self._model.fit(self._logit(predicted), np.asarray(correct, int))
        return self

    def predict(self, predicted: np.ndarray) -> np.ndarray:
        return self._model.predict_proba(self._logit(predicted))[:, 1]


def fit_calibrator(
    predicted: np.ndarray, correct: np.ndarray, *, method: Literal["platt", "isotonic"] = "platt"
) -> Calibrator:
    """A monotone map from a predicted probability to the observed rate of correct answers.

    Parameters
    ----------
    predicted : numpy.ndarray, shape (n,)
    correct : numpy.ndarray of bool or 0/1, shape (n,)
    method : {"platt", "isotonic"}, default "platt"
        Platt scaling (two parameters) is steadier with the few hundred known answers of a
        real tracklist collection; isotonic regression follows the data more closely when
        there are thousands.

    Returns
    -------
    Calibrator
        ``.predict(p)`` gives calibrated probabilities in [0, 1].
    """
    correct = np.asarray(correct, float)
    if method == "isotonic":
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        return model.fit(np.asarray(predicted, float), correct)
    if method == "platt":
        return _Platt().fit(predicted, correct)
    raise ParameterError(f"calibration method must be 'platt' or 'isotonic', not {method!r}")


def calibration_table(predicted: np.ndarray, correct: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed per probability decile (empty deciles left out).

    Parameters
    ----------
    predicted : numpy.ndarray, shape (n,)
        Probability of each proposal.
    correct : numpy.ndarray, shape (n,)
        Whether it was right.
    bins : int, default 10

    Returns
    -------
    pandas.DataFrame
        ``bin, n, predicted, observed, gap`` (``gap = |predicted − observed|``).
    """
    predicted = np.asarray(predicted, float)
    correct = np.asarray(correct, float)
    index = np.minimum((predicted * bins).astype(int), bins - 1)
    rows = []
    for b in np.unique(index):
        inside = index == b
        mean_p, observed = float(predicted[inside].mean()), float(correct[inside].mean())
        rows.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "n": int(inside.sum()),
                     "predicted": round(mean_p, 4), "observed": round(observed, 4),
                     "gap": round(abs(mean_p - observed), 4)})  # fmt: skip
    return pd.DataFrame(rows, columns=["bin", "n", "predicted", "observed", "gap"])


def calibration_error(table: pd.DataFrame, *, weighted: bool = False) -> float | None:
    """Mean ``|predicted − observed|`` over the non-empty deciles (None when there are none).

    ``weighted=True`` weighs each decile by its number of proposals (the expected
    calibration error); unweighted, a decile of 3 proposals counts as much as one of 300.
    """
    if table.empty:
        return None
    weights = table["n"] if weighted else None
    return round(float(np.average(table["gap"], weights=weights)), 4)


def _central_range(values: list[float], *, level: float) -> list[float]:
    """``[low, high]`` holding the central ``level`` of ``values``, to 4 decimals."""
    tail = (1 - level) / 2
    return [round(float(np.quantile(values, tail)), 4),
            round(float(np.quantile(values, 1 - tail)), 4)]


def calibration_error_floor(
    predicted: np.ndarray,
    *,
    bins: int = 10,
    draws: int = 200,
    level: float = 0.9,
    seed: int = 0,
) -> list[float] | None:
    """The weighted calibration error that a perfectly calibrated model would show with these
    predicted probabilities on this many answers.

    Each decile's observed rate is a share of a few dozen answers, so even a model whose
    probabilities are exactly right shows a gap: about 0.05 on 350 answers, 0.01 on 16,000.
    Drawing the answers from the predicted probabilities themselves shows that floor; an error
    inside it cannot be told from sampling noise.

    Parameters
    ----------
    predicted : numpy.ndarray, shape (n,)
    bins : int, default 10
    draws : int, default 200
    level : float, default 0.9
    seed : int, default 0

    Returns
    -------
    list of float or None
        ``[low, high]``, the central ``level`` of the errors over the draws; None without
        proposals.

    Examples
    --------
    >>> p = np.random.default_rng(1).beta(2, 3, 350)
    >>> low, high = calibration_error_floor(p)
    >>> 0.02 < low < high < 0.09
    True
    >>> low, high = calibration_error_floor(np.tile(p, 40))
    >>> high < 0.02
    True
    """
    predicted = np.asarray(predicted, float)
    if predicted.size == 0:
        return None
    rng = np.random.default_rng(seed)
    errors = [
        calibration_error(calibration_table(predicted, rng.random(predicted.size) < predicted,
                                            bins=bins), weighted=True)
        for _ in range(draws)
    ]
    return _central_range(errors, level=level)


def calibration_error_interval(
    predicted: np.ndarray,
    correct: np.ndarray,
    *,
    bins: int = 10,
    resamples: int = 200,
    level: float = 0.9,
    seed: int = 0,
) -> list[float] | None:
    """Bootstrap interval of the unweighted calibration error.

    The unweighted mean over deciles lets a decile of two proposals count as much as one of
    two hundred; with a few hundred answers its value moves a lot from one sample to the
    next. Resampling the proposals shows how much.

    Parameters
    ----------
    predicted, correct : numpy.ndarray, shape (n,)
    bins : int, default 10
    resamples : int, default 200
    level : float, default 0.9
    seed : int, default 0

    Returns
    -------
    list of float or None
        ``[low, high]``; None without proposals.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> p = rng.random(300)
    >>> low, high = calibration_error_interval(p, rng.random(300) < p)
    >>> 0 <= low <= high < 0.3
    True
    """
    predicted = np.asarray(predicted, float)
    correct = np.asarray(correct, float)
    if predicted.size == 0:
        return None
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(resamples):
        drawn = rng.integers(0, predicted.size, predicted.size)
        errors.append(calibration_error(calibration_table(predicted[drawn], correct[drawn],
                                                          bins=bins)))
    return _central_range(errors, level=level)


TIER_HIGH = 0.85
TIER_MEDIUM = 0.70


def tier_of(probability: np.ndarray) -> np.ndarray:
    """``"high"`` above 0.85, ``"medium"`` from 0.70 to 0.85, else ``"low"`` (rejected).

    >>> tier_of(np.array([0.9, 0.85, 0.7, 0.2])).tolist()
    ['high', 'medium', 'medium', 'low']
    """
    p = np.asarray(probability, float)
    return np.where(p > TIER_HIGH, "high", np.where(p >= TIER_MEDIUM, "medium", "low"))
