"""The calibration error's noise floor: what a perfectly calibrated model shows on as many
answers, so that a missed calibration target can be read (issue 16)."""

from __future__ import annotations

import numpy as np

from musicwb.linkage.calibration import (
    calibration_error,
    calibration_error_floor,
    calibration_table,
)
from musicwb.linkage.evaluation import calibration_note


def _weighted_error(predicted: np.ndarray, correct: np.ndarray) -> float:
    return calibration_error(calibration_table(predicted, correct), weighted=True)


def test_a_calibrated_model_lands_inside_the_floor_and_an_overconfident_one_beyond() -> None:
    rng = np.random.default_rng(3)
    predicted = rng.beta(2, 3, 350)
    low, high = calibration_error_floor(predicted)
    calibrated = [_weighted_error(predicted, rng.random(350) < predicted) for _ in range(60)]
    inside = np.mean([low <= e <= high for e in calibrated])
    assert inside >= 0.8  # the floor is the central 90% of such draws
    overconfident = rng.random(350) < np.clip(predicted - 0.15, 0, 1)
    error = _weighted_error(predicted, overconfident)
    assert error > high
    note = calibration_note({"n_slots": 350, "calibration_error_weighted": error,
                             "calibration_error_floor": [low, high]})
    assert note.endswith("is beyond that noise")


def test_the_floor_falls_with_the_number_of_answers() -> None:
    predicted = np.random.default_rng(4).beta(2, 3, 350)
    few = calibration_error_floor(predicted)
    many = calibration_error_floor(np.tile(predicted, 40))
    assert many[1] < few[0]
    assert calibration_error_floor(np.array([])) is None
