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
- :func:`evaluate_labels` → label top-1/top-3 of masked slots with its baselines;
  :func:`label_evidence` + :func:`score_labels` rank each slot's probable labels,
  :func:`label_sentences` says why.
- :func:`weight_parts` → each comparison's share of a slot's match weights.
- :mod:`musicwb.notebook.match_diagnostics` → the match_diagnostics notebook's tables and charts
  (targets, threshold, calibration, splink's charts offline, waterfalls).
- :func:`save_evaluation` / :func:`evaluations_frame` → evaluation runs in the store.
- :func:`db_api_factory` → ``"duckdb"`` or ``"spark"`` as a splink backend.

The submodules load on first use: splink, scikit-learn and the model stay unloaded until
asked for.

Examples
--------
>>> from musicwb.linkage import tier_of
>>> tier_of([0.9, 0.5]).tolist()
['high', 'low']
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
