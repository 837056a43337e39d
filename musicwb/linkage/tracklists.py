"""DJ-set tracklists in the store: importing files (:mod:`.tracklist_files` reads them), and
the entries with their artist, label and DJ keys.

A malformed row is skipped and reported with its file and line; the rest of the file is
imported (``strict=True`` refuses the whole file instead). A file that cannot be read, or in
which no entry could be read, is not imported at all; the other files of the same import go in,
and the summary says which failed and why. Importing the same file (same bytes) again changes
nothing.

Examples
--------
>>> import pathlib, tempfile
>>> from musicwb.store import Store
>>> path = pathlib.Path(tempfile.mkdtemp()) / "sets.csv"
>>> _ = path.write_text("set_id,dj,position,raw\\ns1,DJ A,1,Âme - B [L]\\ns1,DJ A,2,ID - ID\\n")
>>> with Store(":memory:") as store:
...     summary = import_tracklists(store, [path], fmt="csv", progress=False)
...     entries = entries_frame(store)
>>> summary.entries, entries.is_unknown.tolist(), entries.artist_key[0], entries.label_key[0]
(2, [False, True], 'ame', 'l')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from musicwb.errors import ParameterError, SourceError, StoreError
from musicwb.linkage.tracklist_files import (
    Format,
    ParsedTracklists,
    check_encoding,
    check_format,
    read_many,
    read_tracklists,
)
from musicwb.store import Store
from musicwb.store.tables import linkage as tables
from musicwb.text import artist_key, label_key

__all__ = [
    "ImportSummary",
    "entries_frame",
    "entries_from_files",
    "import_tracklists",
    "with_keys",
]


@dataclass
class ImportSummary:
    """The outcome of :func:`import_tracklists`, in total and per file.

    Attributes
    ----------
    files : list of str
        The files imported.
    skipped : list of str
        The files already imported before (same content): nothing changed.
    sets, entries, unknown : int
        Sets, entries and unknown entries imported, over all files.
    errors : list of dict
        The malformed rows of the imported files (``file_path, location, line, reason``);
        skipped, the rest of their file imported.
    failed : list of dict
        ``{"file", "reason"}`` of each file that could not be imported at all (nothing of it
        went in).
    per_file : list of dict
        ``{"file", "status", "sets", "entries", "unknown", "malformed", "reason"}`` for every
        file given, in order; ``status`` is ``imported``, ``skipped`` or ``failed``.
    """

    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    sets: int = 0
    entries: int = 0
    unknown: int = 0
    errors: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    per_file: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "skipped": self.skipped,
            "sets": self.sets,
            "entries": self.entries,
            "unknown": self.unknown,
            "errors": self.errors,
            "failed": self.failed,
            "per_file": self.per_file,
            "ok": self.ok,
        }

    def describe(self) -> str:
        """Per file what happened, then the totals and the malformed rows."""
        lines = []
        for item in self.per_file:
            if item["status"] == "imported":
                detail = (f"imported {item['entries']} entries in {item['sets']} set(s) "
                          f"({item['unknown']} unknown)")
                if item["malformed"]:
                    detail += f"; {item['malformed']} malformed row(s) skipped"
            elif item["status"] == "skipped":
                detail = "already imported (same content), nothing changed"
            else:
                reason = item["reason"].removeprefix(f"{item['file']}: ")
                detail = f"FAILED, nothing imported: {reason}"
            lines.append(f"{item['file']}: {detail}")
        lines.append(
            f"imported {len(self.files)} file(s): {self.sets} sets, {self.entries} entries "
            f"({self.unknown} unknown); {len(self.skipped)} already imported; "
            f"{len(self.errors)} malformed row(s); {len(self.failed)} file(s) failed"
        )
        lines += [f"  {e['file_path']}, {e['location']}: {e['reason']}" for e in self.errors[:50]]
        if len(self.errors) > 50:
            lines.append(f"  ... and {len(self.errors) - 50} more malformed row(s)")
        return "\n".join(lines)


def entries_from_files(
    paths: Iterable[str | Path], *, fmt: Format, encoding: str = "utf-8"
) -> pd.DataFrame:
    """Every entry of tracklist files, with keys, as :func:`entries_frame` gives a store's.

    Parameters
    ----------
    paths : iterable of str or Path
    fmt : {"mixesdb", "json", "csv", "djmix"}
    encoding : str, default "utf-8"

    Returns
    -------
    pandas.DataFrame
        Shape (n_entries, 12); nothing is written anywhere.
    """
    parsed = read_many(paths, fmt=fmt, encoding=encoding)
    if not parsed:
        raise ParameterError("no tracklist file given")
    return with_keys(pd.concat([p.entries for p in parsed], ignore_index=True),
                     pd.concat([p.sets for p in parsed], ignore_index=True))


def import_tracklists(
    store: Store,
    paths: Sequence[str | Path],
    *,
    fmt: Format,
    encoding: str = "utf-8",
    strict: bool = False,
    progress: bool = True,
) -> ImportSummary:
    """Import tracklist files into ``tracklist_sets`` and ``tracklist_entries``, file by file.

    A file whose hash is already in ``tracklist_imports`` is skipped; each file is written in
    one transaction (sets and entries upserted on their keys), so an interrupted import leaves
    whole files only. A file that cannot be read (see :func:`read_tracklists`), or in which no
    entry could be read, fails on its own: nothing of it is written, its reason goes into
    ``failed`` and the other files are imported.

    Parameters
    ----------
    store : Store
        Open for writing.
    paths : sequence of str or Path
    fmt : {"mixesdb", "json", "csv", "djmix"}
    encoding : str, default "utf-8"
        The files' text encoding (``cp1252``, ``latin-1``...).
    strict : bool, default False
        A file with any malformed row fails as a whole, instead of going in without that row.
    progress : bool, default True
        A tqdm bar on stderr.

    Returns
    -------
    ImportSummary
        Check ``summary.ok`` (or ``summary.failed``): a failed file does not raise.

    Raises
    ------
    ParameterError
        Unknown format or encoding (before any file is read).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> good, bad = (pathlib.Path(tempfile.mkdtemp()) / name for name in ("good.csv", "bad.csv"))
    >>> _ = good.write_text("set_id,dj,position,raw\\ns1,DJ A,1,A - B\\n")
    >>> _ = bad.write_text("set,dj\\ns1,DJ A\\n")
    >>> with Store(":memory:") as store:
    ...     summary = import_tracklists(store, [good, bad], fmt="csv", progress=False)
    >>> [pathlib.Path(f).name for f in summary.files], [f["file"] == str(bad) for f in summary.failed]
    (['good.csv'], [True])
    """
    check_format(fmt)
    check_encoding(encoding)
    summary = ImportSummary()
    for path in tqdm(list(paths), desc="tracklists", unit="file", disable=not progress):
        outcome = {"file": str(path), "status": "failed", "sets": 0, "entries": 0,
                   "unknown": 0, "malformed": 0, "reason": None}  # fmt: skip
        summary.per_file.append(outcome)
        try:
            parsed = _checked(read_tracklists(path, fmt=fmt, encoding=encoding), strict=strict)
        except SourceError as exc:
            outcome["reason"] = str(exc)
            summary.failed.append({"file": str(path), "reason": str(exc)})
            continue
        if tables.is_imported(store, file_hash=parsed.file_hash):
            outcome["status"] = "skipped"
            summary.skipped.append(str(path))
            continue
        record = tables.ImportRecord(
            file_hash=parsed.file_hash, file_path=str(path), format=fmt,
            n_sets=len(parsed.sets), n_entries=len(parsed.entries), n_errors=len(parsed.errors),
            imported_at=pd.Timestamp.now(tz="UTC").tz_localize(None),
        )  # fmt: skip
        try:
            tables.record_import(store, record=record, sets=parsed.sets, entries=parsed.entries,
                                 errors=parsed.errors)
        except StoreError as exc:  # rolled back: nothing of this file is in the store
            reason = f"{path}: could not be written to the store: {exc}"
            outcome["reason"] = reason
            summary.failed.append({"file": str(path), "reason": reason})
            continue
        unknown = int(parsed.entries.is_unknown.sum())
        outcome.update(status="imported", sets=len(parsed.sets), entries=len(parsed.entries),
                       unknown=unknown, malformed=len(parsed.errors))  # fmt: skip
        summary.files.append(str(path))
        summary.sets += len(parsed.sets)
        summary.entries += len(parsed.entries)
        summary.unknown += unknown
        summary.errors += parsed.errors.astype(object).where(parsed.errors.notna(), None).to_dict(
            "records"
        )
    return summary


def _checked(parsed: ParsedTracklists, *, strict: bool) -> ParsedTracklists:
    """``parsed``, or a SourceError when no entry could be read (or, strict, any row failed)."""
    errors = parsed.errors
    first = (f"; first: {errors.location.iloc[0]}: {errors.reason.iloc[0]}"
             if len(errors) else "")  # fmt: skip
    if parsed.entries.empty:
        raise SourceError(
            f"{parsed.path}: no tracklist entry could be read ({len(errors)} malformed "
            f"row(s){first}); check --format ({parsed.fmt}) and the file"
        )
    if strict and len(errors):
        raise SourceError(
            f"{parsed.path}: {len(errors)} malformed row(s){first}; fix them, or import "
            "without --strict to skip them"
        )
    return parsed


def with_keys(entries: pd.DataFrame, sets: pd.DataFrame) -> pd.DataFrame:
    """Entries joined to their set, with artist, label and DJ keys (see :mod:`.artists`).

    Parameters
    ----------
    entries : pandas.DataFrame
        Store columns of ``tracklist_entries``.
    sets : pandas.DataFrame
        ``set_id, dj, title`` and, when known, ``set_date`` and ``venue``.

    Returns
    -------
    pandas.DataFrame
        ``set_id, dj, set_title, position, raw, artist, label, is_unknown, artist_key,
        label_key, dj_key, set_date, venue``, sorted by set and position (``set_date`` as
        the mix title writes it; None when unknown, as ``venue``).
    """
    for optional in ("set_date", "venue"):
        if optional not in sets.columns:
            sets = sets.assign(**{optional: None})
    frame = entries.merge(
        sets[["set_id", "dj", "title", "set_date", "venue"]].rename(
            columns={"title": "set_title"}),
        on="set_id",
    )
    keys = {name: artist_key(name) for name in pd.unique(frame["artist"].dropna())}
    labels = {name: label_key(name) for name in pd.unique(frame["label"].dropna())}
    djs = {name: artist_key(name) for name in pd.unique(frame["dj"].dropna())}
    frame = frame.assign(
        artist_key=frame["artist"].map(keys),
        label_key=frame["label"].map(labels),
        dj_key=frame["dj"].map(djs),
    )
    columns = ["set_id", "dj", "set_title", "position", "raw", "artist", "label", "is_unknown",
               "artist_key", "label_key", "dj_key", "set_date", "venue"]
    return frame[columns].sort_values(["set_id", "position"]).reset_index(drop=True)


def entries_frame(store: Store) -> pd.DataFrame:
    """Every tracklist entry of the store with its keys (see :func:`with_keys`)."""
    return with_keys(tables.tracklist_entries(store), tables.tracklist_sets(store))
