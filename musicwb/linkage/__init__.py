"""Unknown tracks in DJ sets: tracklist import, candidates, the splink model, the baseline,
evaluation and proposals.

Notebook entry points
---------------------
- :func:`evaluate_files` / :func:`evaluate` → :class:`EvaluationResult`:
  ``.comparison_frame()``, ``.calibration_frame()``, ``.model_scores``, ``.baseline_scores``,
  ``.pairs``, and ``.model.linker.visualisations.match_weights_chart()`` /
  ``.m_u_parameters_chart()`` (splink's charts).
- :func:`identify` (``write=False`` to look without storing) → ``.proposals`` with evidence;
  :func:`proposals_frame` reads the stored ones; :func:`propose` does the same on entries
  read from files (:func:`entries_from_files`), without a store.
- :func:`weight_parts` → each comparison's share of a slot's match weights.
- :mod:`musicwb.linkage.diagnostics` → the match_diagnostics notebook's tables and charts
  (targets, threshold, calibration, splink's charts offline, waterfalls).
- :func:`save_evaluation` / :func:`evaluations_frame` → evaluation runs in
  ``linkage_evaluations``.
- :func:`db_api_factory` → ``"duckdb"`` or ``"spark"`` as a splink backend.
"""

from musicwb.linkage.artists import artist_key, artist_members, label_key
from musicwb.linkage.baseline import baseline_scores
from musicwb.linkage.calibration import calibration_error, calibration_table, tier_of
from musicwb.linkage.evaluate import EvaluationResult, evaluate, evaluate_files, mask_known
from musicwb.linkage.evaluations import evaluations_frame, save_evaluation
from musicwb.linkage.features import FEATURE_COLUMNS, candidate_features
from musicwb.linkage.model import LinkageModel, db_api_factory, weight_parts
from musicwb.linkage.proposals import identify, proposals_frame, propose
from musicwb.linkage.tracklists import (
    entries_frame,
    entries_from_files,
    import_tracklists,
    read_tracklists,
    with_keys,
)

__all__ = [
    "FEATURE_COLUMNS",
    "EvaluationResult",
    "LinkageModel",
    "artist_key",
    "artist_members",
    "baseline_scores",
    "calibration_error",
    "calibration_table",
    "candidate_features",
    "db_api_factory",
    "entries_frame",
    "entries_from_files",
    "evaluate",
    "evaluate_files",
    "evaluations_frame",
    "identify",
    "import_tracklists",
    "label_key",
    "mask_known",
    "proposals_frame",
    "propose",
    "read_tracklists",
    "save_evaluation",
    "tier_of",
    "weight_parts",
    "with_keys",
]
