"""Backups of the sonic features: a compressed snapshot plus JSON metadata per backup.

A backup is a folder ``<store stem>.backups/<name>/`` beside the store
(:attr:`~musicwb.store.paths.StorePaths.backups`) holding ``features.parquet`` and
``errors.parquet`` (zstd-compressed copies of ``sonic_features`` and ``sonic_errors``) and
``meta.json`` (name, row counts, the store's track count then, extractor versions, creation time,
store, reason). A backup is *complete* when every track of the store had features or an error
row when it was taken; a backup with fewer feature rows than a complete one is *partial*
(an interrupted run, say): :func:`list_backups` says so, and :func:`restore_features` without a
name picks the newest complete backup, never a partial one. Restoring is a dry run unless
``apply=True``: it says what would change first, and before it replaces anything it backs up
what is there.

Examples
--------
>>> import tempfile, pathlib
>>> from musicwb.store import Store
>>> with Store(pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb") as store:
...     info = backup_features(store, name="before-retune")
...     plan = restore_features(store, "before-retune")              # dry run
...     latest = restore_features(store)              # the newest complete backup, dry run
>>> info["complete"], plan["would_restore"], plan["applied"], latest["name"]
(True, 0, False, 'before-retune')
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from musicwb.config import get_settings
from musicwb.errors import ParameterError, StoreError
from musicwb.store import Store
from musicwb.store.paths import StorePaths
from musicwb.store.tables import sonic as sonic_tables

__all__ = [
    "backup_dir_for",
    "backup_features",
    "list_backups",
    "newest_complete_backup",
    "restore_features",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_FILES = ("features", "errors")


def backup_dir_for(
    backup_dir: str | Path | None = None, *, store: Store | str | Path | None = None
) -> Path:
    """Where backups go: ``backup_dir`` if given, else beside ``store``
    (``<stem>.backups/``), else beside the configured store."""
    if backup_dir is not None:
        return Path(backup_dir)
    if store is None:
        store = get_settings().store
    return StorePaths.of(store.path if isinstance(store, Store) else store).backups


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ParameterError(
            f"backup name {name!r}: use letters, digits, '.', '_' or '-' (at most 100 characters)"
        )
    return name


def _files(folder: Path) -> dict[str, Path]:
    """``features`` and ``errors``: the parquet files of the backup in ``folder``."""
    return {stem: folder / f"{stem}.parquet" for stem in _FILES}


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
        Default: beside the store, ``<stem>.backups/``.
    reason : str, default "manual"
        Kept in the metadata (e.g. ``"before extract --force"``).

    Returns
    -------
    dict
        The metadata written to ``meta.json`` (``name``, ``created_at``, ``count`` feature rows,
        ``errors`` rows, ``tracks`` in the store, ``covered`` tracks with features or an
        error row, ``complete``, ``extractor_versions``, ``store``, ``reason``), plus ``path``.

    Raises
    ------
    ParameterError
        A backup of that name exists, or the name is not a plain file name.
    """
    created = datetime.now(UTC)
    name = _check_name(name or f"features-{created:%Y%m%d-%H%M%S-%f}")
    folder = backup_dir_for(backup_dir, store=store) / name
    if folder.exists():
        raise ParameterError(f"backup {name!r} exists already at {folder}: choose another name")
    folder.mkdir(parents=True)
    files = _files(folder)
    sonic_tables.export_features(
        store, features_file=files["features"], errors_file=files["errors"]
    )
    tracks = sonic_tables.count_tracks(store)
    covered = sonic_tables.count_covered(store)
    meta = {
        "name": name,
        "created_at": created.isoformat(timespec="microseconds"),
        "count": sonic_tables.count_features(store),
        "errors": sonic_tables.count_errors(store),
        "tracks": tracks,
        "covered": covered,
        "complete": covered >= tracks,
        "extractor_versions": sonic_tables.extractor_version_counts(store),
        "store": str(store.path),
        "reason": reason,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return {**meta, "path": str(folder)}


def list_backups(
    *, backup_dir: str | Path | None = None, store: Store | str | Path | None = None
) -> pd.DataFrame:
    """The backups found, newest first, each marked complete or partial.

    Parameters
    ----------
    backup_dir : str or Path, optional
        Default: beside ``store`` (see :func:`backup_dir_for`).
    store : Store or path, optional
        Default: the configured store.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``created_at``, ``status`` (``"complete"`` or ``"partial"``),
        ``count`` (feature rows), ``errors``, ``tracks`` (in the store then; None for backups
        made before it was recorded), ``extractor_versions``, ``reason``, ``size_bytes``,
        ``path``. A backup is partial when some track of the store had neither features nor an
        error row, or (without a recorded track count) it holds fewer rows than another backup.
    """
    root = backup_dir_for(backup_dir, store=store)
    rows = []
    for meta_file in sorted(root.glob("*/meta.json")) if root.is_dir() else []:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        size = sum(p.stat().st_size for p in meta_file.parent.iterdir() if p.is_file())
        rows.append(
            {
                "name": meta["name"],
                "created_at": meta["created_at"],
                "status": None if "complete" not in meta else _status(meta["complete"]),
                "count": meta["count"],
                "errors": meta.get("errors", 0),
                "tracks": meta.get("tracks"),
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
        "status",
        "count",
        "errors",
        "tracks",
        "extractor_versions",
        "reason",
        "size_bytes",
        "path",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if not frame.empty:  # backups from before the track count was kept: compare row counts
        most = int(frame["count"].max())
        unknown = frame["status"].isna()
        frame.loc[unknown, "status"] = [
            _status(count >= most) for count in frame.loc[unknown, "count"]
        ]
    order = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return (
        frame.assign(_order=order)
        .sort_values(["_order", "name"], ascending=False, ignore_index=True)
        .drop(columns="_order")
    )


def _status(complete: bool) -> str:
    return "complete" if complete else "partial"


def newest_complete_backup(
    *, backup_dir: str | Path | None = None, store: Store | str | Path | None = None
) -> str:
    """The name of the newest complete backup (what :func:`restore_features` picks by default).

    Raises
    ------
    ParameterError
        There is no complete backup.
    """
    listed = list_backups(backup_dir=backup_dir, store=store)
    complete = listed[listed["status"] == "complete"]
    if complete.empty:
        where = backup_dir_for(backup_dir, store=store)
        detail = f" (only partial ones: {', '.join(listed['name'])})" if len(listed) else ""
        raise ParameterError(f"no complete feature backup in {where}{detail}: name one to restore")
    return str(complete["name"].iloc[0])


def restore_features(
    store: Store,
    name: str | None = None,
    *,
    apply: bool = False,
    backup_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Replace the current features by a backup's (a dry run unless ``apply``).

    Only tracks still in the library are restored; the others are counted as ``orphaned``.
    Before it replaces anything, ``apply`` backs up the current features (reason
    ``"before restore of <name>"``), so a restore can itself be undone.

    Parameters
    ----------
    store : Store
    name : str, optional
        A backup listed by :func:`list_backups`; default: the newest complete one.
    apply : bool, default False
        Do it; otherwise only report what would change.
    backup_dir : str or Path, optional
        Default: beside the store.

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
    if name is None:
        name = newest_complete_backup(backup_dir=backup_dir, store=store)
    folder = backup_dir_for(backup_dir, store=store) / _check_name(name)
    files = _files(folder)
    if not (folder / "meta.json").is_file() or not all(p.is_file() for p in files.values()):
        raise ParameterError(
            f"no complete backup {name!r} in {folder.parent} (see `musicwb features list-backups`)"
        )
    diff = sonic_tables.backup_diff(
        store, features_file=files["features"], errors_file=files["errors"]
    )
    plan: dict[str, Any] = {"name": name, "applied": False, **asdict(diff)}
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    listed = list_backups(backup_dir=folder.parent)
    plan["status"] = str(listed.loc[listed["name"] == name, "status"].iloc[0])
    plan["tracks_in_backup"] = meta.get("tracks")
    if not apply:
        return plan
    plan["backup"] = None
    if plan["current"] or sonic_tables.count_errors(store):
        plan["backup"] = backup_features(
            store, backup_dir=folder.parent, reason=f"before restore of {name}"
        )["name"]
    try:
        sonic_tables.replace_from_backup(
            store, features_file=files["features"], errors_file=files["errors"]
        )
    except StoreError as exc:
        raise StoreError(f"restore of backup {name!r} failed and was rolled back: {exc}") from exc
    return {**plan, "applied": True}
