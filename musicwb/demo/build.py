"""Building the demo folder and store: reuse of an earlier build, rendering, scanning, sets.

:func:`build_demo` checks the folder against its ``demo.json`` marker (seed, generator version,
file list), renders the files that are missing on up to two processes, scans the library into
the store and replaces the demo's tracklist rows. See :mod:`musicwb.demo` for what it writes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from musicwb.demo.audio import SAMPLE_RATE
from musicwb.demo.files import write_track
from musicwb.demo.plan import DemoTrack, check_seed, plan_library, truth_frame
from musicwb.demo.tracklists import plan_tracklists, store_tracklists, write_tracklists
from musicwb.errors import ParameterError
from musicwb.library.scan import scan_library
from musicwb.store import Store
from musicwb.store.runs import recorded_run
from musicwb.store.tables.library import delete_tracks_at, tracks_outside

__all__ = ["DEMO_STORE_NAME", "GENERATOR_VERSION", "MARKER", "DemoSummary", "build_demo"]

DEMO_STORE_NAME = "demo.duckdb"
"""The demo's own store, ``<data_dir>/demo.duckdb``: ``musicwb demo`` never writes elsewhere
unless told (``--store``)."""

GENERATOR_VERSION = "3"
"""Changes whenever the same seed would give different files; a demo folder of the same seed
built by another version is rebuilt on the next build."""

MARKER = "demo.json"
"""The file in the demo folder that records seed, generator version and file list."""


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` did.

    Attributes
    ----------
    out_dir : Path
    seed : int
    tracks, artists, albums : int
    sets, entries, unknown_entries : int
        DJ sets written, their entries, and how many of those are unknown.
    built : bool
        False when the audio of an earlier build was reused.
    duration_s : float
    """

    out_dir: Path
    seed: int
    tracks: int
    artists: int
    albums: int
    sets: int
    entries: int
    unknown_entries: int
    built: bool
    duration_s: float

    def as_dict(self) -> dict:
        """The summary as JSON-ready values."""
        values = asdict(self)
        values["out_dir"] = str(self.out_dir)
        values["duration_s"] = round(self.duration_s, 2)
        return values

    def describe(self) -> str:
        """One line for people."""
        verb = "built" if self.built else "reused"
        return (
            f"Demo library (seed {self.seed}) {verb} in {self.out_dir} in {self.duration_s:.1f} s: "
            f"{self.tracks} tracks by {self.artists} artists on {self.albums} albums; "
            f"{self.sets} DJ sets with {self.entries} entries ({self.unknown_entries} unknown)."
        )


# -- the marker and the folder ----------------------------------------------------------------


def _marker_json(out_dir: Path) -> dict:
    path = out_dir / MARKER
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(
            f"{path} is not a readable demo marker ({exc}); use force to rebuild"
        ) from exc
    if not isinstance(marker, dict):
        raise ParameterError(f"{path} is not a demo marker (not an object); use force to rebuild")
    return marker


def _read_marker(out_dir: Path) -> dict | None:
    if not (out_dir / MARKER).exists():
        return None
    marker = _marker_json(out_dir)
    if "seed" not in marker:
        raise ParameterError(
            f"{out_dir / MARKER} is not a demo marker (no seed); use force to rebuild"
        )
    return marker


def _write_marker(out_dir: Path, *, seed: int, files: list[str], complete: bool) -> None:
    marker = {
        "generator": "musicwb.demo",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "sample_rate": SAMPLE_RATE,
        "complete": complete,
        "files": files,
    }
    partial = out_dir / (MARKER + ".part")
    partial.write_text(json.dumps(marker, indent=1), encoding="utf-8")
    os.replace(partial, out_dir / MARKER)


def _prepare_folder(out_dir: Path, *, seed: int, force: bool) -> list[str]:
    """Check that ``out_dir`` may take this build; remove the earlier build with ``force`` or
    when another generator version made it.

    Returns the files (relative paths) of the earlier build that were removed.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"demo out_dir {out_dir} exists and is not a folder")
    marker = _read_marker(out_dir) if not force else None
    if marker is not None:
        if marker["seed"] != seed:
            raise ParameterError(
                f"{out_dir} holds the demo of seed {marker['seed']}, not {seed}: pass force "
                "(`musicwb demo --force`) to rebuild it, or choose another folder"
            )
        if marker.get("version") == GENERATOR_VERSION:
            return []
        return _remove_build(out_dir)  # made by another generator version: rebuild it
    if force:
        return _remove_build(out_dir)
    library = out_dir / "library"
    if library.exists() and any(library.iterdir()):
        raise ParameterError(
            f"{library} already holds files but no {MARKER}: it is not a demo build; pass force "
            "to write the demo into it anyway, or choose another folder"
        )
    return []


def _remove_build(out_dir: Path) -> list[str]:
    """Delete the files an earlier build listed in its marker, and the marker."""
    try:
        listed = _marker_json(out_dir).get("files", [])
    except ParameterError:  # no marker, or a broken one: nothing is known to be ours
        listed = []
    removed = [str(name) for name in listed]
    for name in removed:
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / MARKER).unlink(missing_ok=True)
    return removed


def _forget_tracks(store: Store, out_dir: Path, files: list[str]) -> None:
    """Drop the store's rows of an earlier demo build's files that this build does not have.

    The scanner keeps rows of vanished files (a drive may be unmounted); these files were the
    demo's own and were deleted on purpose by ``force``.
    """
    delete_tracks_at(store, paths=[str(out_dir / name) for name in files])


# -- building ---------------------------------------------------------------------------------


def _remove_partial_files(out_dir: Path) -> None:
    library = out_dir / "library"
    if library.is_dir():
        for leftover in library.rglob("*.part"):
            leftover.unlink(missing_ok=True)


def _render_all(todo: list[DemoTrack], out_dir: Path, *, progress: bool) -> None:
    """Write the tracks on up to two worker processes (files appear whole or not at all)."""
    if not todo:
        return
    _remove_partial_files(out_dir)  # left by an interrupted build
    jobs = min(2, os.cpu_count() or 1, len(todo))
    bar = tqdm(
        total=len(todo), desc="demo audio", unit="track", disable=not progress, file=sys.stderr
    )
    try:
        if jobs == 1:
            for track in todo:
                write_track(track, out_dir)
                bar.update()
        else:
            from joblib import Parallel, delayed  # worker processes: only for two or more

            run = Parallel(n_jobs=jobs, return_as="generator_unordered")
            for _ in run(delayed(write_track)(track, out_dir) for track in todo):
                bar.update()
    finally:
        bar.close()
        _remove_partial_files(out_dir)


def _check_store_is_demo(store: Store, out_dir: Path, *, into_existing: bool) -> None:
    """Refuse a store that holds tracks outside the demo folder, unless told otherwise.

    The demo's invented labels would otherwise mix with a real library, and the label hunter's
    library tier would trust them.
    """
    if into_existing:
        return
    foreign = tracks_outside(store, folder_prefix=str(out_dir) + os.sep)
    if foreign.count:
        raise ParameterError(
            f"store {store.path} holds {foreign.count} tracks that are not the demo's "
            f"(e.g. {foreign.example}): the demo's synthetic tracks, invented labels and DJ sets "
            "would mix with them. Leave out --store to build the demo into its own store, or "
            "pass --into-existing if you really want them together."
        )


def build_demo(
    *,
    store: Store,
    out_dir: Path,
    seed: int = 7,
    force: bool = False,
    progress: bool = True,
    into_existing: bool = False,
) -> DemoSummary:
    """Build (or reuse) the demo library, scan it into ``store`` and write its DJ sets.

    Parameters
    ----------
    store : Store
        Open for writing; gets the scanned tracks and the demo's tracklist tables.
    out_dir : Path
        Folder for ``library/``, ``tracklists/``, ``truth.csv``, ``tracklist_truth.csv`` and
        ``demo.json``.
    seed : int, default 7
    force : bool, default False
        Rebuild even when ``out_dir`` holds a build (of any seed). A build of the same seed by
        another generator version is rebuilt without it.
    progress : bool, default True
        Show progress bars (rendering, and the scan's listing and reading) on stderr; pass
        False to keep stderr quiet, e.g. when stdout carries JSON.
    into_existing : bool, default False
        Allow a store that already holds tracks outside ``out_dir`` (a real library).

    Returns
    -------
    DemoSummary

    Raises
    ------
    ParameterError
        ``out_dir`` holds a demo of another seed, or files that are not a demo, and ``force``
        is not set; ``store`` holds tracks that are not the demo's and ``into_existing`` is not
        set (nothing is written then); or ``seed`` is not a non-negative integer.

    Notes
    -----
    The build is recorded as a run of kind ``"demo"`` in ``runs`` (the scan records its own).
    A second build with the same seed renders only files that are missing, re-runs the
    (incremental) scan and replaces the demo's tracklist rows with identical ones.
    Interrupting leaves finished files in place;
    the next build carries on.
    """
    started = time.perf_counter()
    check_seed(seed)
    out_dir = Path(out_dir).expanduser().resolve()
    _check_store_is_demo(store, out_dir, into_existing=into_existing)
    removed = _prepare_folder(out_dir, seed=seed, force=force)
    parameters = {"out_dir": str(out_dir), "seed": seed, "force": force}
    with recorded_run(store, kind="demo", parameters=parameters) as run:
        summary = _build(
            store,
            out_dir,
            seed=seed,
            force=force,
            removed=removed,
            started=started,
            progress=progress,
        )
        run.summary = summary.as_dict
    return summary


def _build(
    store: Store,
    out_dir: Path,
    *,
    seed: int,
    force: bool,
    removed: list[str],
    started: float,
    progress: bool,
) -> DemoSummary:
    tracks = plan_library(seed)
    files = [t.path for t in tracks]
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = [t for t in tracks if force or not (out_dir / t.path).is_file()]
    if todo:
        _write_marker(out_dir, seed=seed, files=files, complete=False)
        _render_all(todo, out_dir, progress=progress)
    _write_marker(out_dir, seed=seed, files=files, complete=True)
    truth_frame(tracks).to_csv(out_dir / "truth.csv", index=False)
    scan_library(store, out_dir / "library", metadata_csv=None, progress=progress)
    _forget_tracks(store, out_dir, sorted(set(removed) - set(files)))
    lists = plan_tracklists(tracks, seed)
    write_tracklists(lists, out_dir)
    store_tracklists(store, lists, out_dir=out_dir)
    return DemoSummary(
        out_dir=out_dir,
        seed=seed,
        tracks=len(tracks),
        artists=len({t.artist for t in tracks}),
        albums=len({(t.artist, t.album) for t in tracks}),
        sets=len(lists.sets),
        entries=len(lists.entries),
        unknown_entries=int(lists.entries.is_unknown.sum()),
        built=bool(todo),
        duration_s=time.perf_counter() - started,
    )
