"""The SQL of the sonic room: ``sonic_features``, ``sonic_errors`` and what they join.

Every statement that reads or writes the sonic features, their failures, the store's id and the
tracks they belong to lives here; :mod:`musicwb.sonic` calls these functions and writes no SQL
against the schema.

Examples
--------
>>> import tempfile, pathlib
>>> from musicwb.store import Store
>>> with Store(pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb") as store:
...     counts = (count_tracks(store), count_features(store), count_errors(store))
...     waiting = len(pending_tracks(store, extractor_version="beat3tower-1.0"))
>>> counts, waiting
((0, 0, 0), 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from musicwb.store.database import Store

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ERROR_COLUMNS",
    "BackupDiff",
    "Coverage",
    "FeaturesDigest",
    "analysed_labels",
    "backup_diff",
    "content_flag_of",
    "count_covered",
    "count_errors",
    "count_features",
    "count_not_in",
    "count_tracks",
    "error_rows",
    "export_features",
    "extractor_version_counts",
    "feature_arrays",
    "feature_filter",
    "features_digest",
    "left_out_counts",
    "pending_tracks",
    "read_store_id",
    "replace_from_backup",
    "segment_columns",
    "track_coverage",
    "track_files",
    "write_feature_batch",
]

_JOINED = "sonic_features f JOIN tracks t ON t.id = f.track_id"


def _sql_path(path: Path) -> str:
    return str(Path(path).resolve()).replace("'", "''")


def _ids(track_ids: Sequence[int] | np.ndarray) -> list[int]:
    return [int(track_id) for track_id in np.asarray(track_ids).tolist()]


# ---------------------------------------------------------------- counts


def count_tracks(store: Store) -> int:
    """Tracks in the library."""
    return int(store.scalar("SELECT count(*) FROM tracks"))


def count_features(store: Store) -> int:
    """Rows of ``sonic_features`` (analysed tracks)."""
    return int(store.scalar("SELECT count(*) FROM sonic_features"))


def count_errors(store: Store) -> int:
    """Rows of ``sonic_errors`` (tracks whose analysis failed)."""
    return int(store.scalar("SELECT count(*) FROM sonic_errors"))


ERROR_COLUMNS = ("track_id", "path", "reason", "extractor_version", "recorded_at")
"""The columns of :func:`error_rows`, in order."""


def error_rows(store: Store) -> pd.DataFrame:
    """The tracks whose analysis failed, newest failure first (then by path).

    Parameters
    ----------
    store : Store
        Read-only is enough.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ERROR_COLUMNS`: the track, its path, why extraction failed
        (``error:<Type>: message``), the extractor that tried and when; no rows if none failed.
    """
    return store.df(
        f"SELECT {', '.join(ERROR_COLUMNS)} FROM sonic_errors ORDER BY recorded_at DESC, path"
    )


def count_covered(store: Store) -> int:
    """Tracks with features or a failure row."""
    return int(
        store.scalar(
            "SELECT count(*) FROM tracks t WHERE EXISTS (SELECT 1 FROM sonic_features f "
            "WHERE f.track_id = t.id) OR EXISTS (SELECT 1 FROM sonic_errors e "
            "WHERE e.track_id = t.id)"
        )
    )


def extractor_version_counts(store: Store) -> dict[str, int]:
    """Feature rows per extractor version, in version order."""
    versions = store.df(
        "SELECT extractor_version, count(*) AS n FROM sonic_features GROUP BY 1 ORDER BY 1"
    )
    return dict(zip(versions["extractor_version"], versions["n"].astype(int)))


@dataclass(frozen=True)
class Coverage:
    """How far the analysis of a library got.

    Attributes
    ----------
    tracks : int
        Tracks in the library.
    waiting : int
        Tracks present on disk with neither features nor a failure.
    failed : int
        Tracks without features whose analysis failed.
    """

    tracks: int
    waiting: int
    failed: int


def track_coverage(store: Store) -> Coverage:
    """Tracks, tracks waiting for analysis and tracks that failed it (see :class:`Coverage`)."""
    tracks, waiting, failed = store.rows(
        "SELECT count(*), "
        "count(*) FILTER (WHERE f.track_id IS NULL AND e.track_id IS NULL "
        "AND t.missing_since IS NULL), "
        "count(*) FILTER (WHERE f.track_id IS NULL AND e.track_id IS NOT NULL) "
        "FROM tracks t LEFT JOIN sonic_features f ON f.track_id = t.id "
        "LEFT JOIN sonic_errors e ON e.track_id = t.id"
    )[0]
    return Coverage(tracks=int(tracks), waiting=int(waiting), failed=int(failed))


def content_flag_of(store: Store, *, track_id: int) -> str | None:
    """The content flag of a track's features (``silence``, ...), None for music or no row."""
    found = store.rows(
        "SELECT content_flag FROM sonic_features WHERE track_id = ? AND content_flag IS NOT NULL",
        [track_id],
    )
    return str(found[0][0]) if found else None


# ---------------------------------------------------------------- the store's id


def read_store_id(store: Store) -> str | None:
    """The store's random id (``store_info``, migration 008), None when it has none."""
    found = store.scalar("SELECT value FROM store_info WHERE key = 'store_id'")
    return str(found) if found else None


# ---------------------------------------------------------------- the feature set


def feature_filter(*, include_flagged: bool = False, include_missing: bool = False) -> str:
    """The SQL condition on the features (alias ``f``) joined to their tracks (alias ``t``)
    that keeps the tracks wanted.

    Examples
    --------
    >>> feature_filter()
    't.missing_since IS NULL AND f.content_flag IS NULL'
    >>> feature_filter(include_flagged=True, include_missing=True)
    'TRUE'
    """
    parts = [] if include_missing else ["t.missing_since IS NULL"]
    parts += [] if include_flagged else ["f.content_flag IS NULL"]
    return " AND ".join(parts) or "TRUE"


def feature_arrays(
    store: Store,
    *,
    segments: Sequence[str],
    include_flagged: bool = False,
    include_missing: bool = False,
) -> dict[str, np.ndarray]:
    """The analysed tracks wanted, unsorted, as arrays.

    Returns
    -------
    dict of str to numpy.ndarray
        ``track_id``, ``artist``, ``album``, ``genres``, ``extractor_version``,
        ``content_flag`` and one ``(n, 137)`` matrix ``vec_<segment>`` per segment.
    """
    # Arrow, not pandas: each FLOAT[137] column arrives as one (n, 137) matrix; with labels,
    # 32,000 rows took 0.16-0.5 s, against 0.35-1.4 s as 548 DataFrame columns (bench_sonic).
    return store.arrays(
        "SELECT f.track_id, t.artist, t.album, t.genres, f.extractor_version, f.content_flag, "
        + ", ".join(f"f.vec_{segment}" for segment in segments)
        + f" FROM {_JOINED} WHERE "
        + feature_filter(include_flagged=include_flagged, include_missing=include_missing)
    )


@dataclass(frozen=True)
class FeaturesDigest:
    """Rows, latest extraction time and digest of some feature rows.

    Attributes
    ----------
    rows : int
    latest : datetime or None
    digest : str
        XOR of the MD5 of every ``track_id|extracted_at|content_flag``.
    """

    rows: int
    latest: datetime | None
    digest: str


_DIGEST = (
    "SELECT count(*), max(f.extracted_at), coalesce(bit_xor(md5_number(f.track_id::VARCHAR || "
    "'|' || f.extracted_at::VARCHAR || '|' || coalesce(f.content_flag, '')))::VARCHAR, '0') "
)


def features_digest(
    store: Store,
    *,
    track_ids: Sequence[int] | np.ndarray | None = None,
    include_flagged: bool = False,
    include_missing: bool = False,
) -> FeaturesDigest:
    """The digest of the feature rows of ``track_ids``, or of the rows :func:`feature_arrays`
    reads with the same options."""
    if track_ids is not None:
        got = store.rows(
            _DIGEST + "FROM sonic_features f WHERE f.track_id IN (SELECT unnest(?::BIGINT[]))",
            [_ids(track_ids)],
        )
    else:
        where = feature_filter(include_flagged=include_flagged, include_missing=include_missing)
        got = store.rows(_DIGEST + f"FROM {_JOINED} WHERE {where}")
    rows, latest, digest = got[0]
    return FeaturesDigest(rows=int(rows), latest=latest, digest=str(digest))


def count_not_in(
    store: Store, *, track_ids: Sequence[int] | np.ndarray, include_flagged: bool = False
) -> int:
    """Analysed tracks wanted (files present) that are not among ``track_ids``."""
    where = feature_filter(include_flagged=include_flagged)
    return int(
        store.scalar(
            f"SELECT count(*) FROM {_JOINED} WHERE {where} "
            "AND f.track_id NOT IN (SELECT unnest(?::BIGINT[]))",
            [_ids(track_ids)],
        )
    )


def left_out_counts(store: Store) -> list[tuple[bool, str | None, int]]:
    """Analysed tracks counted by (file missing, content flag)."""
    counts = store.rows(
        f"SELECT t.missing_since IS NOT NULL, f.content_flag, count(*) FROM {_JOINED} GROUP BY ALL"
    )
    return [(bool(gone), flag, int(n)) for gone, flag, n in counts]


def analysed_labels(
    store: Store, *, include_flagged: bool = False, include_missing: bool = True
) -> pd.DataFrame:
    """``track_id``, ``artist``, ``title``, ``album`` of the analysed tracks wanted, by id."""
    where = feature_filter(include_flagged=include_flagged, include_missing=include_missing)
    return store.df(
        f"SELECT f.track_id, t.artist, t.title, t.album FROM {_JOINED} "
        f"WHERE {where} ORDER BY f.track_id"
    )


def track_files(store: Store, *, track_ids: Sequence[int]) -> pd.DataFrame:
    """``track_id``, ``path``, ``content_hash`` of the given tracks, in the order given."""
    files = store.df("SELECT id AS track_id, path, content_hash FROM tracks ORDER BY id")
    return files.set_index("track_id").reindex(list(track_ids)).reset_index()


def segment_columns(store: Store, *, segment: str, names: Sequence[str]) -> pd.DataFrame:
    """One segment's vectors as columns ``track_id`` then ``names``, ordered by track id."""
    select = ", ".join(f'vec_{segment}[{i + 1}] AS "{name}"' for i, name in enumerate(names))
    return store.df(f"SELECT track_id, {select} FROM sonic_features ORDER BY track_id")


# ---------------------------------------------------------------- extraction


def pending_tracks(
    store: Store, *, extractor_version: str, retry_errors: bool = False, everything: bool = False
) -> pd.DataFrame:
    """Tracks without features for their current content hash (and, unless ``retry_errors``,
    without a failure for it under ``extractor_version``); every track with ``everything``.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``path``, ``content_hash``, ordered by id.
    """
    if everything:
        return store.df("SELECT id, path, content_hash FROM tracks ORDER BY id")
    error_filter = (
        ""
        if retry_errors
        else "AND NOT EXISTS (SELECT 1 FROM sonic_errors e WHERE e.track_id = t.id "
        "AND e.content_hash = t.content_hash AND e.extractor_version = ?)"
    )
    return store.df(
        "SELECT t.id, t.path, t.content_hash FROM tracks t WHERE NOT EXISTS ("
        "SELECT 1 FROM sonic_features f WHERE f.track_id = t.id "
        f"AND f.content_hash = t.content_hash) {error_filter} ORDER BY t.id",
        [] if retry_errors else [extractor_version],
    )


def write_feature_batch(
    store: Store,
    *,
    features: pa.Table | pd.DataFrame,
    errors: pd.DataFrame,
    batch_ids: Sequence[int],
    replaced_ids: Sequence[int],
) -> None:
    """One transaction: drop the features of ``replaced_ids`` and the failures of
    ``batch_ids``, then insert ``features`` (a pyarrow Table or DataFrame of feature rows)
    and ``errors``."""
    ids = pd.DataFrame({"track_id": list(batch_ids)}, dtype="int64")
    replaced = pd.DataFrame({"track_id": list(replaced_ids)}, dtype="int64")
    with store.transaction():
        store.execute("CREATE OR REPLACE TEMP TABLE _sonic_batch_ids (track_id BIGINT)")
        store.execute("CREATE OR REPLACE TEMP TABLE _sonic_replaced_ids (track_id BIGINT)")
        store.insert("_sonic_batch_ids", ids)
        store.insert("_sonic_replaced_ids", replaced)
        store.execute(
            "DELETE FROM sonic_features "
            "WHERE track_id IN (SELECT track_id FROM _sonic_replaced_ids)"
        )
        store.execute(
            "DELETE FROM sonic_errors WHERE track_id IN (SELECT track_id FROM _sonic_batch_ids)"
        )
        store.insert("sonic_features", features)
        store.insert("sonic_errors", errors)
        store.execute("DROP TABLE _sonic_batch_ids")
        store.execute("DROP TABLE _sonic_replaced_ids")


# ---------------------------------------------------------------- backups


def export_features(store: Store, *, features_file: Path, errors_file: Path) -> None:
    """Copy the features and the failures, by track id, to two zstd-compressed parquet files."""
    for table, target in (("sonic_features", features_file), ("sonic_errors", errors_file)):
        store.execute(
            f"COPY (SELECT * FROM {table} ORDER BY track_id) TO '{_sql_path(target)}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )


@dataclass(frozen=True)
class BackupDiff:
    """What restoring a backup would change.

    Attributes
    ----------
    current : int
        Feature rows now.
    would_restore : int
        Backup rows whose track is still in the library.
    orphaned : int
        Backup rows whose track is gone.
    would_drop : int
        Current rows not in the backup.
    changed : int
        Tracks in both whose vectors or extractor version differ.
    errors : int
        Failure rows of the backup whose track is still in the library.
    """

    current: int
    would_restore: int
    orphaned: int
    would_drop: int
    changed: int
    errors: int


_IN_LIBRARY = "track_id IN (SELECT id FROM tracks)"


def _parquet(path: Path) -> str:
    return f"read_parquet('{_sql_path(path)}')"


def backup_diff(store: Store, *, features_file: Path, errors_file: Path) -> BackupDiff:
    """Compare the store with backup files written by :func:`export_features`."""
    features, errors = _parquet(features_file), _parquet(errors_file)

    def count(sql: str) -> int:
        return int(store.scalar(sql))

    return BackupDiff(
        current=count_features(store),
        would_restore=count(f"SELECT count(*) FROM {features} WHERE {_IN_LIBRARY}"),
        orphaned=count(f"SELECT count(*) FROM {features} WHERE NOT {_IN_LIBRARY}"),
        would_drop=count(
            f"SELECT count(*) FROM sonic_features WHERE track_id NOT IN "
            f"(SELECT track_id FROM {features})"
        ),
        changed=count(
            f"SELECT count(*) FROM sonic_features f JOIN {features} b USING (track_id) "
            "WHERE f.vec_full IS DISTINCT FROM b.vec_full OR f.vec_start IS DISTINCT FROM "
            "b.vec_start OR f.vec_mid IS DISTINCT FROM b.vec_mid OR f.vec_end IS DISTINCT "
            "FROM b.vec_end OR f.extractor_version <> b.extractor_version"
        ),
        errors=count(f"SELECT count(*) FROM {errors} WHERE {_IN_LIBRARY}"),
    )


def replace_from_backup(store: Store, *, features_file: Path, errors_file: Path) -> None:
    """In one transaction, replace the features and failures by a backup's (tracks still in
    the library only).

    Raises
    ------
    StoreError
        The restore failed; nothing changed.
    """
    features, errors = _parquet(features_file), _parquet(errors_file)
    with store.transaction():
        store.execute("DELETE FROM sonic_features")
        store.execute("DELETE FROM sonic_errors")
        store.execute(
            f"INSERT INTO sonic_features BY NAME SELECT * FROM {features} WHERE {_IN_LIBRARY}"
        )
        store.execute(
            f"INSERT INTO sonic_errors BY NAME SELECT * FROM {errors} WHERE {_IN_LIBRARY}"
        )
