"""Finding the audio files under a folder and deciding which of them a scan must read.

Pure listing and comparison: one ``stat`` per file, no file is opened. :func:`plan_scan`
compares the listing with the tracks the store knows, in bulk.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

__all__ = ["AUDIO_EXTENSIONS", "error_row", "list_audio_files", "os_error_reason", "plan_scan"]

AUDIO_EXTENSIONS = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".aiff", ".aif", ".m4a", ".mp4", ".wma"}
)
"""File name endings (lower case) that make a file a scan candidate; other files are ignored."""


def error_row(path: str, reason: str, message: str) -> dict:
    """A ``scan_errors`` row without its run: ``{"path", "reason", "message"}``."""
    return {"path": path, "reason": reason, "message": message}


def os_error_reason(exc: OSError) -> str:
    """``permission_denied`` for EACCES/EPERM, else ``unreadable``."""
    return "permission_denied" if exc.errno in (errno.EACCES, errno.EPERM) else "unreadable"


def list_audio_files(
    root: Path, *, progress: bool = False
) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """Find the audio files under a folder, with one ``stat`` each.

    Folders are followed through symbolic links (each real folder once, so link loops end);
    macOS resource forks (``._name``) are skipped.

    Parameters
    ----------
    root : Path
        An existing folder, or one audio file, absolute.
    progress : bool, default False
        Count the files found on a tqdm bar on stderr.

    Returns
    -------
    files : pandas.DataFrame
        Columns ``path`` (str), ``size`` (int64), ``mtime`` (float64); one row per audio file.
    errors : list of dict
        ``path, reason, message`` of folders and entries that could not be read.
    unreadable_folders : list of str
        The folders among ``errors`` (their contents are unknown, not gone).

    Examples
    --------
    >>> from tempfile import mkdtemp
    >>> root = Path(mkdtemp())
    >>> for name in ("a.mp3", "b.flac", "notes.txt", "._a.mp3"):
    ...     _ = (root / name).write_bytes(b"")
    >>> files, errors, _ = list_audio_files(root)
    >>> files.columns.tolist(), sorted(Path(p).name for p in files["path"]), errors
    (['path', 'size', 'mtime'], ['a.mp3', 'b.flac'], [])
    """
    paths: list[str] = []
    sizes: list[int] = []
    mtimes: list[float] = []
    errors: list[dict] = []
    unreadable: list[str] = []

    def add_file(path: str, entry_stat: os.stat_result) -> None:
        if not stat.S_ISREG(entry_stat.st_mode):
            errors.append(
                error_row(path, "unreadable", "not a regular file (a pipe, socket or device)")
            )
            return
        paths.append(path)
        sizes.append(entry_stat.st_size)
        mtimes.append(entry_stat.st_mtime)

    if root.is_file():
        add_file(str(root), root.stat())
    else:
        seen_folders: set[tuple[int, int]] = set()
        pending = [str(root)]
        # shown only when listing takes a while: a quick listing would leave an empty
        # "listing: 0 files" line in a log before the scan's own bar
        bar = tqdm(
            desc="listing", unit=" files", disable=not progress, file=sys.stderr, leave=False,
            delay=1.0,
        )
        with bar:
            while pending:
                folder = pending.pop()
                try:
                    folder_stat = os.stat(folder)
                    identity = (folder_stat.st_dev, folder_stat.st_ino)
                    if identity in seen_folders:
                        continue
                    seen_folders.add(identity)
                    with os.scandir(folder) as entries:
                        listed = list(entries)
                except OSError as exc:
                    reason = os_error_reason(exc)
                    errors.append(error_row(folder, reason, f"folder: {exc.strerror}"))
                    unreadable.append(folder)
                    continue
                before = len(paths)
                for entry in listed:
                    name = entry.name
                    try:
                        if entry.is_dir():
                            pending.append(entry.path)
                            continue
                        if (
                            name.startswith("._")
                            or os.path.splitext(name)[1].lower() not in AUDIO_EXTENSIONS
                        ):
                            continue
                        add_file(entry.path, entry.stat())
                    except FileNotFoundError:
                        errors.append(error_row(entry.path, "unreadable", "broken symbolic link"))
                    except OSError as exc:
                        errors.append(
                            error_row(entry.path, os_error_reason(exc), exc.strerror or str(exc))
                        )
                bar.update(len(paths) - before)
    files = pd.DataFrame(
        {
            "path": pd.Series(paths, dtype=object),
            "size": pd.Series(sizes, dtype="int64"),
            "mtime": pd.Series(mtimes, dtype="float64"),
        }
    )
    return files, errors, unreadable


def plan_scan(files: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """Compare the files found with the tracks the store knows, in bulk.

    Parameters
    ----------
    files : pandas.DataFrame
        ``path, size, mtime`` of the files found (from :func:`list_audio_files`).
    known : pandas.DataFrame
        ``id, path, size, mtime`` of the store's tracks.

    Returns
    -------
    pandas.DataFrame
        ``files`` with ``id`` (the known track's id, or NA) and ``action``: ``"unchanged"``
        (same size and modification time), ``"changed"`` or ``"new"`` (path not known).

    Examples
    --------
    >>> files = pd.DataFrame({"path": ["/a.mp3", "/b.mp3"], "size": [10, 20], "mtime": [1.0, 2.0]})
    >>> known = pd.DataFrame({"id": [7], "path": ["/a.mp3"], "size": [10], "mtime": [1.0]})
    >>> plan_scan(files, known)["action"].tolist()
    ['unchanged', 'new']
    """
    merged = files.merge(
        known[["id", "path", "size", "mtime"]].rename(
            columns={"size": "known_size", "mtime": "known_mtime"}
        ),
        on="path",
        how="left",
    )
    is_new = merged["id"].isna().to_numpy()
    same = (merged["size"] == merged["known_size"]) & (merged["mtime"] == merged["known_mtime"])
    merged["action"] = np.where(is_new, "new", np.where(same.to_numpy(), "unchanged", "changed"))
    merged["id"] = merged["id"].astype("Int64")
    return merged.drop(columns=["known_size", "known_mtime"])
