"""The store: the DuckDB file, its migrations, its run records, the only SQL naming its tables.

- :mod:`musicwb.store.database`: :class:`Store`, the only importer of :mod:`duckdb`, and the
  versioned migrations in ``musicwb/store/migrations/``;
- :mod:`musicwb.store.runs`: run records and :func:`recorded_run`;
- :mod:`musicwb.store.paths`: :class:`StorePaths`, the files derived from a store;
- :mod:`musicwb.store.tables`: one module per domain (library, enrich, sonic, linkage,
  playlist) with typed functions over the schema's tables; SQL naming a table lives there
  and nowhere else.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
