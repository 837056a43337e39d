"""The batch runner: papermill runs the notebooks, nbconvert writes offline HTML reports.

``run_batch`` (the ``musicwb batch`` command) runs every notebook in ``notebooks/`` (or the ones
asked for) on one store and writes, under ``<out_dir>/<run>/``::

    <notebook>.ipynb    the executed notebook
    <notebook>.html     its report: self-contained, renders offline, charts inlined
    index.html          each notebook with status, duration, parameters and a link

Parameters come from the runner (``store_path``, absolute; ``output_dir`` for a notebook that
declares it) and from an optional TOML or YAML batch file (see ``batch.example.toml``)::

    [defaults]                 # for every notebook that declares the parameter
    top_n = 25
    [notebooks.label_hunting]  # for one notebook; wins over [defaults]
    missing_limit = 100

Everything is validated before anything runs: an unknown notebook, an unknown parameter, a value
of the wrong type or anything that looks like a secret is a :class:`ParameterError` naming it and
what is valid. One failing notebook does not stop the others; its error is shown in the index and
the result is not ``ok``.

The store is opened for writing only briefly, to record the batch in the ``runs`` table before
and after the notebooks run; the notebooks' kernels (other processes) open it read-only, and
DuckDB allows one writing process.

Reports are safe to open: every value from the library is escaped (pandas tables, the index, and
the chart data, whose JSON is written with ``<``, ``>`` and ``&`` as unicode escapes so a title
like ``</script><script>...`` stays data), and a Content-Security-Policy forbids every network
load.

The package, one module per step: :mod:`~musicwb.reports.plan` (batch file, notebooks,
parameter and secret checks), :mod:`~musicwb.reports.batch` (running, the ``runs`` record),
:mod:`~musicwb.reports.html` (offline reports, charts inlined), :mod:`~musicwb.reports.index`
(the index page) and :mod:`~musicwb.reports.results` (what a run produced).

Examples
--------
>>> from pathlib import Path
>>> from musicwb.reports import NOTEBOOKS_DIR, load_batch_config, plan_batch, run_batch
>>> plans = plan_batch(load_batch_config(NOTEBOOKS_DIR.parent / "batch.example.toml"))
>>> [plan.name for plan in plans]
['label_hunting', 'match_diagnostics', 'playlist_tuning', 'sonic_validation']

Running the notebooks takes minutes, and a store:

>>> run_batch(store_path=Path("data/musicwb.duckdb"), out_dir=Path("reports")).ok  # doctest: +SKIP
True
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
