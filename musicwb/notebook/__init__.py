"""Notebook glue: one module per notebook, the ready tables and charts its cells show.

The notebooks in ``notebooks/`` orchestrate (a parameters cell, then calls); these modules
compute what a cell displays from the jobs below them, and nothing below imports them:

- :mod:`musicwb.notebook.label_hunting`: coverage, findings and their evidence;
- :mod:`musicwb.notebook.match_diagnostics`: targets, threshold, calibration, splink's charts
  offline, waterfalls;
- :mod:`musicwb.notebook.sonic_validation`: embeddings, neighbours, projections;
- :mod:`musicwb.notebook.playlist_tuning`: ready tables, charts and the live sliders panel.
"""
