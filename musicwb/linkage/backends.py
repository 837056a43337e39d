"""The splink backends the model runs on: DuckDB in memory (default) or Spark (local mode).

Examples
--------
>>> db_api_factory("duckdb") is None
True
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from musicwb.errors import ParameterError
from musicwb.store import Store

if TYPE_CHECKING:
    from splink.internals.database_api import DatabaseAPISubClass

__all__ = [
    "BACKENDS",
    "Backend",
    "DbApiFactory",
    "db_api_factory",
    "is_duckdb",
    "shared_duckdb",
]

Backend = Literal["duckdb", "spark"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)


class DbApiFactory(Protocol):
    """Makes a fresh splink DB API (``DuckDBAPI`` or ``SparkAPI``): one per fitted model."""

    def __call__(self) -> DatabaseAPISubClass: ...


def is_duckdb(db_api: DatabaseAPISubClass) -> bool:
    """Whether a splink DB API runs on DuckDB (which, unlike Spark, takes pandas categoricals)."""
    return db_api.sql_dialect.sql_dialect_str == "duckdb"


def db_api_factory(
    backend: Backend, *, spark_master: str = "local[2]", checkpoint_dir: str | None = None
) -> DbApiFactory | None:
    """What makes a fresh splink DB API for ``backend``: None (DuckDB in memory) or Spark.

    Parameters
    ----------
    backend : {"duckdb", "spark"}
    spark_master : str, default "local[2]"
        For a new Spark session (an active one is reused).
    checkpoint_dir : str, optional
        Spark checkpoint directory (splink breaks long lineages with checkpoints); default a
        new temporary directory.

    Returns
    -------
    DbApiFactory or None
        None for DuckDB (each :class:`~musicwb.linkage.model.LinkageModel` makes its own),
        else a function returning a ``SparkAPI``.

    Raises
    ------
    ParameterError
        An unknown backend, or "spark" without pyspark installed (the ``spark`` extra).
    """
    if backend not in BACKENDS:
        raise ParameterError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if backend == "duckdb":
        return None
    try:  # pyspark is an optional extra, and slow to import: only when Spark is asked for
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ParameterError(
            "backend 'spark' needs pyspark: install musicwb with the spark extra"
        ) from exc

    def make_spark_api() -> DatabaseAPISubClass:
        from splink import SparkAPI  # needs pyspark, imported above only for Spark

        spark = (SparkSession.builder.master(spark_master)
                 .config("spark.sql.shuffle.partitions", "4")
                 .config("spark.ui.enabled", "false").getOrCreate())  # fmt: skip
        spark.sparkContext.setCheckpointDir(checkpoint_dir or tempfile.mkdtemp(prefix="musicwb-spark-"))
        return SparkAPI(spark_session=spark)

    return make_spark_api


def shared_duckdb(store: Store) -> DbApiFactory:
    """A factory of splink DuckDB APIs that work in ``store``'s own connection: the candidate
    tables, splink's tables and the label SQL share one DuckDB memory limit instead of three.

    Parameters
    ----------
    store : Store
        Open (usually an in-memory one made for the evaluation).

    Returns
    -------
    DbApiFactory
    """
    from splink import DuckDBAPI

    return lambda: DuckDBAPI(connection=store.connection())
