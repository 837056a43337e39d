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

# The submodules load on first use (PEP 562): splink, scikit-learn and the model stay unloaded
# until asked for.
_LAZY = {
    "baseline_scores": "musicwb.linkage.baseline",
    "calibration_error": "musicwb.linkage.calibration",
    "calibration_table": "musicwb.linkage.calibration",
    "tier_of": "musicwb.linkage.calibration",
    "EvaluationResult": "musicwb.linkage.evaluate",
    "evaluate": "musicwb.linkage.evaluate",
    "evaluate_files": "musicwb.linkage.evaluate",
    "mask_known": "musicwb.linkage.evaluate",
    "evaluations_frame": "musicwb.linkage.evaluations",
    "save_evaluation": "musicwb.linkage.evaluations",
    "FEATURE_COLUMNS": "musicwb.linkage.features",
    "candidate_features": "musicwb.linkage.features",
    "LinkageModel": "musicwb.linkage.model",
    "db_api_factory": "musicwb.linkage.model",
    "weight_parts": "musicwb.linkage.model",
    "identify": "musicwb.linkage.proposals",
    "proposals_frame": "musicwb.linkage.proposals",
    "propose": "musicwb.linkage.proposals",
    "entries_frame": "musicwb.linkage.tracklists",
    "entries_from_files": "musicwb.linkage.tracklists",
    "import_tracklists": "musicwb.linkage.tracklists",
    "read_tracklists": "musicwb.linkage.tracklists",
    "with_keys": "musicwb.linkage.tracklists",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'musicwb.linkage' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

__all__ = [
    "FEATURE_COLUMNS",
    "EvaluationResult",
    "LinkageModel",
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
    "mask_known",
    "proposals_frame",
    "propose",
    "read_tracklists",
    "save_evaluation",
    "tier_of",
    "weight_parts",
    "with_keys",
]
