"""Calibration of match probabilities on known answers, and the calibration table.

EM and label-estimated Fellegi–Sunter probabilities assume the comparisons are independent
given the match status; co-occurrence features are not (a label mate is often also a DJ
regular), so raw probabilities are over-confident. An isotonic regression fitted on masked
known entries maps them to observed frequencies (monotone: the ranking within a slot stays).

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

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

__all__ = ["fit_calibrator", "calibration_table", "calibration_error", "tier_of", "TIER_HIGH",
           "TIER_MEDIUM"]


def fit_calibrator(predicted: np.ndarray, correct: np.ndarray) -> IsotonicRegression:
    """Isotonic map from a predicted probability to the observed rate of correct answers.

    Parameters
    ----------
    predicted : numpy.ndarray, shape (n,)
    correct : numpy.ndarray of bool or 0/1, shape (n,)

    Returns
    -------
    sklearn.isotonic.IsotonicRegression
        ``.predict(p)`` gives calibrated probabilities in [0, 1].
    """
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    return model.fit(np.asarray(predicted, float), np.asarray(correct, float))


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


def calibration_error(table: pd.DataFrame) -> float | None:
    """Mean ``|predicted − observed|`` over the non-empty deciles (None when there are none)."""
    if table.empty:
        return None
    return round(float(table["gap"].mean()), 4)


TIER_HIGH = 0.85
TIER_MEDIUM = 0.70


def tier_of(probability: np.ndarray) -> np.ndarray:
    """``"high"`` above 0.85, ``"medium"`` from 0.70 to 0.85, else ``"low"`` (rejected).

    >>> tier_of(np.array([0.9, 0.85, 0.7, 0.2])).tolist()
    ['high', 'medium', 'medium', 'low']
    """
    p = np.asarray(probability, float)
    return np.where(p > TIER_HIGH, "high", np.where(p >= TIER_MEDIUM, "medium", "low"))
