"""Scanning music folders into the store: files, tags, a metadata CSV, and incremental re-scans.

:func:`scan_library` walks a folder (or one file), reads the tags of every audio file with
mutagen, falls back to the file name where tags are missing (read by
:func:`musicwb.titles.parse_filename`), lets an optional metadata CSV override both, and
writes the result into the ``tracks`` table; files it cannot read get a row in
``scan_errors`` with a reason, and the scan goes on. Every metadata field carries the source
it came from (``tags``, ``filename``, ``metadata_csv``) and a confidence.

How a re-scan decides what to do with a file (one ``stat`` per file, compared in bulk):

- same path, same size and modification time: **unchanged**, the file is not opened;
- same path, different size or time: **updated** (tags read again);
- a new path whose content hash equals that of a known track whose file is gone: **moved**,
  the track keeps its id and gets the new path;
- otherwise **added**, with the next free id and ``added_run`` set to this scan's run id.

Files that disappeared are **not deleted**: their rows (and whatever enrichment found for them)
stay with ``tracks.missing_since`` set to when a scan first found them gone, and the summary
reports them as ``missing``; a drive that is not mounted would otherwise wipe a library. A later
scan that finds the file again (same path, or moved) clears ``missing_since``. Artifacts and
playlists leave missing tracks out; ``prune=True`` (``musicwb scan ROOT --prune``) deletes the
missing tracks under the root and every row of another table that names them by ``track_id``,
in one transaction.

Every file seen is counted once, as added, updated, unchanged, moved or error (a file that
could not even be listed, e.g. a broken symbolic link, is an error too); missing tracks and
folders that could not be listed are counted apart.

Fields that came from elsewhere than this scan (a metadata CSV, MusicBrainz, a manual edit)
survive a re-read of the file's tags; only a metadata CSV given to the scan overrides them.

Writes go in batches of :data:`BATCH_SIZE` files, each in one transaction: an interrupted scan
loses at most the batch in hand, and running it again carries on (finished batches are then
unchanged files). See :func:`scan_library` for an example.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from musicwb.errors import ParameterError
from musicwb.library.fields import reading_row
from musicwb.library.metadata_csv import match_csv, read_metadata_csv
from musicwb.library.reading import read_track_file
from musicwb.library.walk import AUDIO_EXTENSIONS, error_row, list_audio_files, plan_scan
from musicwb.library.write import (
    apply_csv_to_unchanged,
    batches,
    mark_missing,
    prune_tracks,
    write_batch,
)
from musicwb.store import Store
from musicwb.store.runs import recorded_run
from musicwb.store.tables.library import known_tracks

__all__ = ["BATCH_SIZE", "READ_THREADS", "ScanSummary", "scan_library"]

BATCH_SIZE = 500
"""Files written per transaction."""

READ_THREADS = 4
"""Files read at the same time (overlapping disk waits; tag parsing itself holds the GIL)."""


@dataclass(frozen=True)
class ScanSummary:
    """What one scan did.

    Attributes
    ----------
    run_id : str
        The scan's run (``runs`` table; ``tracks.added_run`` of the tracks it added).
    root : str
        The folder or file scanned, absolute.
    scanned : int
        Files seen: audio files found (by extension), including those that could not be
        listed or read. ``added + updated + unchanged + moved + errors == scanned``.
    added, updated, unchanged, moved : int
        Tracks new to the store, re-read (or changed by the metadata CSV), skipped as unchanged,
        and found at a new path.
    errors : int
        Files seen that could not be read (each has a ``scan_errors`` row with its reason).
    duration_s : float
        Wall-clock time.
    missing : int
        Known tracks under ``root`` whose file is gone: counted apart from ``scanned``; their
        rows are kept, with ``tracks.missing_since`` set.
    metadata_unmatched : int
        Rows of the metadata CSV that matched no scanned file.
    folder_errors : int
        Folders that could not be listed (a ``scan_errors`` row each); the tracks in them are
        neither scanned nor missing.
    found_again : int
        Tracks that were missing and whose file this scan found again (same path or moved).
    pruned : int
        Missing tracks deleted (``prune=True``), with their rows in other tables.
    pruned_rows : dict of str to int
        Rows deleted per other table by the prune (tables with no such row left out).
    error_reasons : dict of str to int
        How many files (and folders) failed for each reason (``truncated``, ``not_audio``...).
    """

    run_id: str
    root: str
    scanned: int
    added: int
    updated: int
    unchanged: int
    moved: int
    errors: int
    duration_s: float
    missing: int = 0
    metadata_unmatched: int = 0
    folder_errors: int = 0
    found_again: int = 0
    pruned: int = 0
    pruned_rows: dict[str, int] = field(default_factory=dict)
    error_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The summary as JSON-ready values (the ``--json`` output and the run's summary)."""
        values = asdict(self)
        values["duration_s"] = round(self.duration_s, 3)
        return values

    def describe(self) -> str:
        """One line for people: the files seen by outcome, then what is counted apart."""
        line = (
            f"Scanned {self.scanned} files under {self.root} in {self.duration_s:.1f} s: "
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.moved} moved, {self.errors} errors; {self.missing} missing"
        )
        if self.found_again:
            line += f", {self.found_again} found again"
        if self.folder_errors:
            line += f"; {self.folder_errors} folder(s) could not be read"
        if self.metadata_unmatched:
            line += f"; {self.metadata_unmatched} metadata CSV rows matched no file"
        if self.pruned:
            dependent = sum(self.pruned_rows.values())
            line += f"; pruned {self.pruned} missing track(s) and {dependent} dependent row(s)"
        return f"{line} (run {self.run_id})"


@dataclass
class _Tally:
    """The counts of a scan in progress (what :class:`ScanSummary` reports)."""

    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    errors: int = 0
    missing: int = 0
    metadata_unmatched: int = 0
    folder_errors: int = 0
    found_again: int = 0
    pruned: int = 0
    pruned_rows: dict[str, int] = field(default_factory=dict)
    error_reasons: dict[str, int] = field(default_factory=dict)

    def count_errors(self, rows: list[dict], *, folders: set[str]) -> None:
        """Count error rows just written: files among ``errors``, folders apart."""
        for row in rows:
            if row["path"] in folders:
                self.folder_errors += 1
            else:
                self.errors += 1
            self.error_reasons[row["reason"]] = self.error_reasons.get(row["reason"], 0) + 1

    def summary(self, *, run_id: str, root: Path, started: float) -> ScanSummary:
        values = asdict(self)
        values["error_reasons"] = dict(
            sorted(self.error_reasons.items(), key=lambda item: (-item[1], item[0]))
        )
        return ScanSummary(
            run_id=run_id,
            root=str(root),
            duration_s=time.perf_counter() - started,
            **values,
        )


def _check_root(root: Path) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise ParameterError(f"scan path {root} does not exist")
    resolved = root.resolve()
    if resolved.is_file():
        if resolved.suffix.lower() not in AUDIO_EXTENSIONS:
            raise ParameterError(
                f"scan path {root} is a file without an audio extension "
                f"({', '.join(sorted(AUDIO_EXTENSIONS))})"
            )
        return resolved
    if not resolved.is_dir():
        raise ParameterError(f"scan path {root} is neither a folder nor a regular file")
    if not os.access(resolved, os.R_OK | os.X_OK):
        raise ParameterError(f"scan path {root} is a folder this user cannot read")
    return resolved


def scan_library(
    store: Store,
    root: Path,
    *,
    metadata_csv: Path | None = None,
    prune: bool = False,
    progress: bool = True,
) -> ScanSummary:
    """Scan a music folder (or one file) into the store's ``tracks``, incrementally.

    Parameters
    ----------
    store : Store
        Open for writing.
    root : Path
        A folder (walked recursively) or one audio file.
    metadata_csv : Path, optional
        CSV with ``path, artist, album, title, label, genre`` whose values override the tags
        (see :func:`read_metadata_csv`).
    prune : bool, default False
        After the scan, delete the tracks under ``root`` whose file is missing, and every row
        of another table that names them by ``track_id`` (features, errors, label findings
        and hunts, the enrichment queue, play history...), in one transaction.
    progress : bool, default True
        Show tqdm bars on stderr.

    Returns
    -------
    ScanSummary
        Also recorded as the summary of the run (kind ``"scan"``) in ``runs``.

    Raises
    ------
    ParameterError
        ``root`` does not exist, is not a folder or audio file, or cannot be read; the
        metadata CSV is missing or has no ``path`` column.

    Notes
    -----
    Unreadable files and folders do not stop the scan: each gets a row in ``scan_errors``
    (``musicwb scan-errors``). On Ctrl-C the run is recorded as ``interrupted`` and the
    batches already written stay; a new scan carries on from there (missing tracks are only
    marked, and pruned, by a scan that finishes).

    Examples
    --------
    Two stereo WAV files, scanned twice: the second scan finds them unchanged.

    >>> import wave
    >>> from tempfile import mkdtemp
    >>> folder = Path(mkdtemp())
    >>> for name in ("a.wav", "b.wav"):
    ...     with wave.open(str(folder / name), "wb") as wav:
    ...         wav.setparams((2, 2, 44100, 0, "NONE", "not compressed"))
    ...         wav.writeframes(bytes(4 * 4410))
    >>> with Store(folder / "lib.duckdb") as store:
    ...     first = scan_library(store, folder, progress=False)
    ...     again = scan_library(store, folder, progress=False)
    >>> first.added, again.unchanged, again.describe().split(":")[1].split(";")[0]
    (2, 2, ' 0 added, 0 updated, 2 unchanged, 0 moved, 0 errors')
    """
    started = time.perf_counter()
    root = _check_root(root)
    metadata = None
    if metadata_csv is not None:
        metadata = read_metadata_csv(Path(metadata_csv).expanduser(), root=root)
    parameters = {
        "root": str(root),
        "metadata_csv": str(metadata_csv) if metadata_csv else None,
        "prune": prune,
    }
    tally = _Tally()
    with recorded_run(store, kind="scan", parameters=parameters) as run:
        # However the scan ends, its run records how far it got.
        run.summary = lambda: tally.summary(run_id=run.run_id, root=root, started=started).as_dict()
        _scan(
            store,
            root,
            run_id=run.run_id,
            metadata=metadata,
            prune=prune,
            progress=progress,
            tally=tally,
        )
        done = tally.summary(run_id=run.run_id, root=root, started=started)
        run.summary = done.as_dict
    return done


def _scan(
    store: Store,
    root: Path,
    *,
    run_id: str,
    metadata: pd.DataFrame | None,
    prune: bool,
    progress: bool,
    tally: _Tally,
) -> None:
    files, walk_errors, unreadable_folders = list_audio_files(root, progress=progress)
    folders = set(unreadable_folders)
    # Entries that could not be listed (broken links, pipes, permission denied) are files seen.
    tally.scanned = len(files) + sum(1 for row in walk_errors if row["path"] not in folders)
    known = known_tracks(store)
    plan = plan_scan(files, known)
    tally.unchanged = int((plan["action"] == "unchanged").sum())

    csv = None
    if metadata is not None:
        csv, tally.metadata_unmatched = match_csv(metadata, set(files["path"]))

    # Known tracks whose file was not found: gone (deleted or moved), unless they sit in a
    # folder that could not be read. A new file with the same content hash is their move.
    found = set(files["path"])
    blocked = tuple(folder.rstrip(os.sep) + os.sep for folder in unreadable_folders)
    absent = known[~known["path"].isin(found)]
    if blocked:
        absent = absent[~absent["path"].str.startswith(blocked)]
    gone_by_hash: dict[str, list[tuple[int, str]]] = {}
    if (plan["action"] == "new").any():  # only new files can be moves
        gone = absent[["id", "path", "content_hash"]]
        for track_id, path, digest in gone.itertuples(index=False):
            gone_by_hash.setdefault(digest, []).append((int(track_id), path))
    moved_from: set[int] = set()

    pending_errors = list(walk_errors)
    to_read = plan[plan["action"] != "unchanged"].sort_values("path")
    bar = tqdm(
        total=len(to_read), desc="scan", unit=" files", disable=not progress, file=sys.stderr
    )
    # Threads overlap the waits for the disk (a cold library on a drive or NAS is I/O bound);
    # on Ctrl-C, reads not yet started are cancelled.
    pool = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="musicwb-scan")
    try:
        _read_and_write(
            store,
            to_read,
            pool=pool,
            bar=bar,
            run_id=run_id,
            csv=csv,
            gone_by_hash=gone_by_hash,
            moved_from=moved_from,
            pending_errors=pending_errors,
            folders=folders,
            tally=tally,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()

    if csv is not None:
        unchanged = plan[(plan["action"] == "unchanged") & plan["path"].isin(csv.index)]
        refreshed = apply_csv_to_unchanged(
            store, unchanged=unchanged, csv=csv, batch_size=BATCH_SIZE
        )
        tally.updated += refreshed
        tally.unchanged -= refreshed

    prefix = str(root) if root.is_file() else str(root).rstrip(os.sep) + os.sep
    under_root = absent["path"].str.startswith(prefix) | (absent["path"] == str(root))
    missing = absent[under_root & ~absent["id"].isin(moved_from)]
    tally.missing = len(missing)
    was_missing = known["missing_since"].notna()
    back = known[was_missing & (known["path"].isin(found) | known["id"].isin(moved_from))]
    tally.found_again = len(back)
    mark_missing(
        store,
        gone=[int(i) for i in missing.loc[missing["missing_since"].isna(), "id"]],
        found=[int(i) for i in back["id"]],
    )
    if prune and len(missing):
        tally.pruned_rows = prune_tracks(store, ids=[int(i) for i in missing["id"]])
        tally.pruned = tally.pruned_rows.pop("tracks", 0)


def _read_and_write(
    store: Store,
    to_read: pd.DataFrame,
    *,
    pool: ThreadPoolExecutor,
    bar: tqdm,
    run_id: str,
    csv: pd.DataFrame | None,
    gone_by_hash: dict[str, list[tuple[int, str]]],
    moved_from: set[int],
    pending_errors: list[dict],
    folders: set[str],
    tally: _Tally,
) -> None:
    """Read the new and changed files batch by batch and write each batch in a transaction."""
    for batch in batches(list(to_read.itertuples(index=False)), size=BATCH_SIZE):
        new_rows: list[dict] = []
        changed_rows: list[dict] = []
        moved_rows: list[dict] = []
        readings = pool.map(lambda item: read_track_file(item.path, size=int(item.size)), batch)
        for item, reading in zip(batch, readings, strict=True):
            bar.update(1)
            if not reading.ok:
                pending_errors.append(error_row(item.path, reading.reason, reading.message))
                continue
            row = reading_row(reading, size=int(item.size), mtime=float(item.mtime), csv=csv)
            if item.action == "changed":
                row["id"] = int(item.id)
                changed_rows.append(row)
                continue
            previous = _take_moved(gone_by_hash, reading.content_hash)
            if previous is None:
                new_rows.append(row)
            else:
                row["id"] = previous
                moved_from.add(previous)
                moved_rows.append(row)
        write_batch(
            store,
            run_id=run_id,
            new_rows=new_rows,
            changed_rows=changed_rows,
            moved_rows=moved_rows,
            errors=pending_errors,
        )
        tally.added += len(new_rows)
        tally.updated += len(changed_rows)
        tally.moved += len(moved_rows)
        tally.count_errors(pending_errors, folders=folders)
        pending_errors.clear()
    if pending_errors:  # folder errors of a scan with nothing to read
        write_batch(
            store, run_id=run_id, new_rows=[], changed_rows=[], moved_rows=[], errors=pending_errors
        )
        tally.count_errors(pending_errors, folders=folders)
        pending_errors.clear()


def _take_moved(gone_by_hash: dict[str, list[tuple[int, str]]], digest: str | None) -> int | None:
    """The id of a known track with this content whose file no longer exists, if any."""
    candidates = gone_by_hash.get(digest or "", [])
    while candidates:
        track_id, old_path = candidates.pop(0)
        if not os.path.lexists(old_path):
            return track_id
    return None
