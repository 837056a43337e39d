"""Backups of the sonic features: a compressed snapshot plus JSON metadata per backup.

A backup is a folder ``<data_dir>/sonic_backups/<name>/`` holding ``features.parquet`` and
``errors.parquet`` (zstd-compressed copies of ``sonic_features`` and ``sonic_errors``) and
``meta.json`` (name, row counts, extractor versions, creation time, store, reason). Restoring
is a dry run unless ``apply=True``: it says what would change first.

Examples
--------
>>> from musicwb.store import Store
>>> with Store("data/musicwb.duckdb") as store:                      # doctest: +SKIP
...     info = backup_features(store, name="before-retune")
...     plan = restore_features(store, "before-retune")              # dry run
...     plan["would_restore"], plan["applied"]
(64, False)
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from musicwb.errors import ParameterError, StoreError
from musicwb.store import Store

__all__ = ["backup_dir_for", "backup_features", "list_backups", "restore_features"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_TABLES = {"features": "sonic_features", "errors": "sonic_errors"}


def backup_dir_for(backup_dir: str | Path | None = None) -> Path:
    """``backup_dir`` if given, else ``<settings.data_dir>/sonic_backups``."""
    if backup_dir is not None:
        return Path(backup_dir)
    from musicwb.config import get_settings

    return get_settings().data_dir / "sonic_backups"


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ParameterError(
            f"backup name {name!r}: use letters, digits, '.', '_' or '-' (at most 100 characters)"
        )
    return name


def _sql_path(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")


def backup_features(
    store: Store,
    *,
    name: str | None = None,
    backup_dir: str | Path | None = None,
    reason: str = "manual",
) -> dict[str, Any]:
    """Snapshot ``sonic_features`` and ``sonic_errors`` to a new backup folder.

    Parameters
    ----------
    store : Store
    name : str, optional
        Default: ``features-YYYYmmdd-HHMMSS`` (UTC).
    backup_dir : str or Path, optional
        Default: ``<data_dir>/sonic_backups``.
    reason : str, default "manual"
        Kept in the metadata (e.g. ``"before extract --force"``).

    Returns
    -------
    dict
        The metadata written to ``meta.json``, plus ``path``.

    Raises
    ------
    ParameterError
        A backup of that name exists, or the name is not a plain file name.
    """
    created = datetime.now(UTC)
    name = _check_name(name or f"features-{created:%Y%m%d-%H%M%S-%f}")
    folder = backup_dir_for(backup_dir) / name
    if folder.exists():
        raise ParameterError(f"backup {name!r} exists already at {folder}: choose another name")
    folder.mkdir(parents=True)
    for stem, table in _TABLES.items():
        target = _sql_path(folder / f"{stem}.parquet")
        store.execute(
            f"COPY (SELECT * FROM {table} ORDER BY track_id) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
    versions = store.df(
        "SELECT extractor_version, count(*) AS n FROM sonic_features GROUP BY 1 ORDER BY 1"
    )
    meta = {
        "name": name,
        "created_at": created.isoformat(timespec="seconds"),
        "count": int(store.scalar("SELECT count(*) FROM sonic_features")),
        "errors": int(store.scalar("SELECT count(*) FROM sonic_errors")),
        "extractor_versions": dict(zip(versions["extractor_version"], versions["n"].astype(int))),
        "store": str(store.path),
        "reason": reason,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return {**meta, "path": str(folder)}


def list_backups(*, backup_dir: str | Path | None = None) -> pd.DataFrame:
    """The backups found, newest first.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``created_at``, ``count``, ``errors``, ``extractor_versions``,
        ``reason``, ``size_bytes``, ``path``.
    """
    root = backup_dir_for(backup_dir)
    rows = []
    for meta_file in sorted(root.glob("*/meta.json")) if root.is_dir() else []:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        size = sum(p.stat().st_size for p in meta_file.parent.iterdir() if p.is_file())
        rows.append(
            {
                "name": meta["name"],
                "created_at": meta["created_at"],
                "count": meta["count"],
                "errors": meta.get("errors", 0),
                "extractor_versions": ", ".join(
                    f"{v} ({n})" for v, n in meta["extractor_versions"].items()
                ),
                "reason": meta.get("reason", ""),
                "size_bytes": size,
                "path": str(meta_file.parent),
            }
        )
    columns = [
        "name",
        "created_at",
        "count",
        "errors",
        "extractor_versions",
        "reason",
        "size_bytes",
        "path",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("created_at", ascending=False, ignore_index=True)


def restore_features(
    store: Store, name: str, *, apply: bool = False, backup_dir: str | Path | None = None
) -> dict[str, Any]:
    """Replace the current features by a backup's (a dry run unless ``apply``).

    Only tracks still in the library are restored; the others are counted as ``orphaned``.

    Parameters
    ----------
    store : Store
    name : str
        A backup listed by :func:`list_backups`.
    apply : bool, default False
        Do it; otherwise only report what would change.
    backup_dir : str or Path, optional

    Returns
    -------
    dict
        ``name``, ``applied``, ``current`` (rows now), ``would_restore`` (rows of the backup
        whose track still exists), ``orphaned``, ``would_drop`` (current rows not in the
        backup), ``changed`` (tracks in both whose vectors differ), ``errors`` restored.

    Raises
    ------
    ParameterError
        No backup of that name, or its files are incomplete.
    """
    folder = backup_dir_for(backup_dir) / _check_name(name)
    files = {stem: folder / f"{stem}.parquet" for stem in _TABLES}
    if not (folder / "meta.json").is_file() or not all(p.is_file() for p in files.values()):
        raise ParameterError(
            f"no complete backup {name!r} in {folder.parent} (see `musicwb features list-backups`)"
        )
    features = f"read_parquet('{_sql_path(files['features'])}')"
    errors = f"read_parquet('{_sql_path(files['errors'])}')"
    in_library = "track_id IN (SELECT id FROM tracks)"
    plan = {
        "name": name,
        "applied": False,
        "current": int(store.scalar("SELECT count(*) FROM sonic_features")),
        "would_restore": int(store.scalar(f"SELECT count(*) FROM {features} WHERE {in_library}")),
        "orphaned": int(store.scalar(f"SELECT count(*) FROM {features} WHERE NOT {in_library}")),
        "would_drop": int(
            store.scalar(
                f"SELECT count(*) FROM sonic_features WHERE track_id NOT IN "
                f"(SELECT track_id FROM {features})"
            )
        ),
        "changed": int(
            store.scalar(
                f"SELECT count(*) FROM sonic_features f JOIN {features} b USING (track_id) "
                "WHERE f.vec_full IS DISTINCT FROM b.vec_full OR f.vec_start IS DISTINCT FROM "
                "b.vec_start OR f.vec_mid IS DISTINCT FROM b.vec_mid OR f.vec_end IS DISTINCT "
                "FROM b.vec_end OR f.extractor_version <> b.extractor_version"
            )
        ),
        "errors": int(store.scalar(f"SELECT count(*) FROM {errors} WHERE {in_library}")),
    }
    if not apply:
        return plan
    try:
        with store.transaction():
            store.execute("DELETE FROM sonic_features")
            store.execute("DELETE FROM sonic_errors")
            store.execute(
                f"INSERT INTO sonic_features BY NAME SELECT * FROM {features} WHERE {in_library}"
            )
            store.execute(
                f"INSERT INTO sonic_errors BY NAME SELECT * FROM {errors} WHERE {in_library}"
            )
    except StoreError as exc:
        raise StoreError(f"restore of backup {name!r} failed and was rolled back: {exc}") from exc
    return {**plan, "applied": True}
