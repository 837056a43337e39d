"""Tag write and undo runs: the store's accepted labels and catalogue numbers into the files.

:func:`write_tags` compares each track's accepted values with its file's tags and, with
``apply``, writes the difference (dry run otherwise). Every file written is recorded in
``tag_writes`` with its original tag blocks *before* it is replaced, so :func:`undo_tags` can
put them back byte for byte, also after Ctrl-C (the run is recorded ``interrupted`` with the
files done). A file is skipped, with its reason, when it is gone, read-only, of a format whose
tags are not written, or changed on disk since the last scan (or since this module last wrote
it); a write that fails (a full disk) leaves the file as it was, and the run goes on.

Examples
--------
A store without tracks has nothing to write:

>>> from tempfile import mkdtemp
>>> from musicwb.store import Store
>>> with Store(f"{mkdtemp()}/tags.duckdb") as store:
...     report = write_tags(store)
>>> report.counts(), report.run_id
({}, None)
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from tqdm.auto import tqdm

from musicwb.errors import ParameterError
from musicwb.library.tag_blocks import Layout
from musicwb.library.tag_files import (
    FileState,
    PreparedFile,
    TagFileError,
    check_writable,
    prepare_restore,
    prepare_write,
    read_file_state,
)
from musicwb.library.tag_writing import (
    DEFAULT_MIN_CONFIDENCE,
    FileResult,
    TagChange,
    TagField,
    changes_for,
    parse_fields,
    wanted_values,
)
from musicwb.store import Store, recorded_run, runs_frame
from musicwb.store.tables import tags as tag_tables

__all__ = [
    "RUN_KINDS",
    "TagRunKind",
    "TagRunReport",
    "tag_run_files",
    "tag_runs",
    "undo_tags",
    "write_tags",
]

TagRunKind = Literal["tag_write", "tag_undo"]
"""The ``runs.kind`` of tag write and undo runs."""
RUN_KINDS: tuple[TagRunKind, ...] = ("tag_write", "tag_undo")

_SKIPS = frozenset(
    {
        "gone",
        "read_only",
        "unsupported",
        "unreadable",
        "changed_since_scan",
        "changed_since_write",
        "already_restored",
    }
)


@dataclass(frozen=True)
class TagRunReport:
    """What a tag write (or its dry run) or undo did, file by file.

    Attributes
    ----------
    run_id : str or None
        The recorded run; None for a dry run.
    kind : str
        ``tag_write`` or ``tag_undo``.
    applied : bool
        False for a dry run (nothing was written).
    results : tuple of FileResult
        One per file considered (files whose tags already agree are ``unchanged``).
    undoes : str or None
        For an undo, the write run undone.
    """

    run_id: str | None
    kind: TagRunKind
    applied: bool
    results: tuple[FileResult, ...]
    undoes: str | None = None

    def counts(self) -> dict[str, int]:
        """Files per outcome (``would_write, written, unchanged, skipped, failed, restored``)."""
        return dict(Counter(result.outcome for result in self.results))

    def reasons(self) -> dict[str, int]:
        """Skipped and failed files per reason."""
        return dict(Counter(r.reason for r in self.results if r.reason))

    def as_dict(self) -> dict:
        """The report as JSON-ready values."""
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "applied": self.applied,
            "undoes": self.undoes,
            "counts": self.counts(),
            "reasons": self.reasons(),
            "files": [result.as_dict() for result in self.results if result.outcome != "unchanged"],
        }

    def describe(self) -> str:
        """Per file its changes (``field: old → new``) or reason, then one summary line."""
        lines = []
        for result in self.results:
            if result.outcome == "unchanged":
                continue
            if result.changes and result.outcome in ("would_write", "written"):
                lines.append(result.path)
                for change in result.changes:
                    old = "(none)" if change.old is None else change.old
                    lines.append(
                        f"  {change.field}: {old} → {change.new}"
                        f"   [{change.source} {change.confidence:.2f}]"
                    )
            elif result.message:
                lines.append(f"{result.path}: {result.outcome} ({result.message})")
            else:
                lines.append(f"{result.path}: {result.outcome}")
        counts = self.counts()
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        if not self.applied:
            lines.append(
                f"dry run: {summary or 'nothing to write'}; nothing was written (--apply writes)."
            )
        elif self.kind == "tag_write":
            lines.append(
                f"run {self.run_id}: {summary or 'nothing to write'}"
                + (
                    f"; `musicwb tags undo {self.run_id}` restores them."
                    if counts.get("written")
                    else "."
                )
            )
        else:
            lines.append(f"run {self.run_id} (undo of {self.undoes}): {summary or 'no files'}.")
        return "\n".join(lines)


def _known_states(store: Store, rows: pd.DataFrame) -> dict[str, set[tuple[int, float]]]:
    known: dict[str, set[tuple[int, float]]] = {
        path: {(int(size), float(mtime))}
        for path, size, mtime in zip(rows["path"], rows["size"], rows["mtime"], strict=True)
    }
    if known:
        own = tag_tables.latest_file_states(store, paths=list(known))
        for path, size, mtime in zip(
            own["path"], own["size_after"], own["mtime_after"], strict=True
        ):
            known[path].add((int(size), float(mtime)))
    return known


def _skip(
    path: str, exc: TagFileError, *, track_id: int | None, changes=(), fmt=None
) -> FileResult:
    return FileResult(
        path=path,
        outcome="skipped" if exc.reason in _SKIPS else "failed",
        changes=tuple(changes),
        reason=exc.reason,
        message=str(exc),
        track_id=track_id,
        format=fmt,
    )


def _changes_json(changes: Sequence[TagChange]) -> str:
    return json.dumps([change.as_dict() for change in changes], ensure_ascii=False)


def _record(
    store: Store,
    run_id: str,
    result: FileResult,
    prepared: PreparedFile | None = None,
    *,
    undoes: str | None = None,
    keep_tags: bool = True,
) -> None:
    row: dict = {
        "run_id": run_id,
        "path": result.path,
        "track_id": result.track_id,
        "format": result.format,
        "outcome": result.outcome,
        "reason": result.reason,
        "message": result.message,
        "changes": _changes_json(result.changes),
        "undoes": undoes,
    }
    if prepared is not None:
        row |= {
            "size_before": prepared.size_before,
            "mtime_before": prepared.mtime_before,
            "size_after": prepared.size_after,
            "mtime_after": prepared.mtime_after,
        }
        if keep_tags:
            row |= {
                "layout": json.dumps(prepared.layout.as_dict()),
                "original_tags": prepared.original_tags,
                "original_digest": prepared.original_digest,
                "written_tags_digest": prepared.written_tags_digest,
            }
    tag_tables.insert_tag_write(store, row=row)


def _commit(store: Store, run_id: str, result: FileResult, prepared: PreparedFile) -> FileResult:
    """Replace the file; if that fails, the recorded row says so."""
    try:
        prepared.commit()
    except TagFileError as exc:
        failed = _skip(
            result.path, exc, track_id=result.track_id, changes=result.changes, fmt=result.format
        )
        tag_tables.set_tag_write_outcome(
            store,
            run_id=run_id,
            path=result.path,
            outcome=failed.outcome,
            reason=failed.reason,
            message=failed.message,
        )
        return failed
    return result


def write_tags(
    store: Store,
    *,
    fields: str | Sequence[str] | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    apply: bool = False,
    progress: bool = False,
) -> TagRunReport:
    """Write the store's accepted labels and catalogue numbers into the files' tags.

    Parameters
    ----------
    store : Store
        Open for writing when ``apply`` (a long run: open it with ``hold_open=False``).
    fields : str or sequence of str, optional
        ``label`` and/or ``catalogue`` (comma-separated or a list); both by default.
    min_confidence : float, default 0.9
        Only values at least this sure are written (manual decisions are 1.0).
    apply : bool, default False
        Write; otherwise only report what would change (a dry run records nothing).
    progress : bool, default False
        Show a tqdm bar on stderr.

    Returns
    -------
    TagRunReport

    Raises
    ------
    ParameterError
        An unknown field, or ``min_confidence`` outside [0, 1].
    KeyboardInterrupt
        Ctrl-C: the run is recorded ``interrupted``; the files written so far are recorded and
        can be undone; no file is left half-written.
    """
    chosen = parse_fields(fields)
    if not isinstance(min_confidence, int | float) or not 0.0 <= float(min_confidence) <= 1.0:
        raise ParameterError(f"--min-confidence must be between 0 and 1, got {min_confidence!r}")
    rows = tag_tables.tag_candidates(store, min_confidence=min_confidence)
    known = _known_states(store, rows)
    records = tqdm(
        rows.to_dict("records"),
        desc="tags write" if apply else "tags write (dry run)",
        unit=" files",
        disable=not progress,
        file=sys.stderr,
    )
    if not apply:
        planned = (_plan_one(row, chosen, min_confidence, known)[0] for row in records)
        results = tuple(result for result in planned if result is not None)
        return TagRunReport(run_id=None, kind="tag_write", applied=False, results=results)
    done: list[FileResult] = []
    parameters = {"fields": list(chosen), "min_confidence": float(min_confidence)}
    with recorded_run(store, kind="tag_write", parameters=parameters) as run:
        run.summary = lambda: {
            "counts": dict(Counter(r.outcome for r in done)),
            "reasons": dict(Counter(r.reason for r in done if r.reason)),
        }
        for row in records:
            planned, state = _plan_one(row, chosen, min_confidence, known)
            if planned is None:
                continue
            result = planned
            if state is not None:
                result = _write_one(store, run.run_id, planned, state)
            elif planned.outcome != "unchanged":
                _record(store, run.run_id, planned)
            done.append(result)
        run_id = run.run_id
    return TagRunReport(run_id=run_id, kind="tag_write", applied=True, results=tuple(done))


def _plan_one(
    row: dict, fields: tuple[TagField, ...], min_confidence: float, known: dict
) -> tuple[FileResult | None, FileState | None]:
    """The file's planned result, and its state when it would be written."""
    wanted = wanted_values(row, fields=fields, min_confidence=min_confidence)
    if not wanted:
        return None, None
    path, track_id = str(row["path"]), int(row["id"])
    try:
        state = read_file_state(path)
    except TagFileError as exc:
        return _skip(path, exc, track_id=track_id), None
    changes = changes_for(wanted, current=state.fields)
    if not changes:
        return FileResult(
            path=path, outcome="unchanged", track_id=track_id, format=state.format
        ), None
    if (state.size, state.mtime) not in known.get(path, set()):
        exc = TagFileError(
            "the file changed on disk since the last scan (size or mtime differ); scan again",
            reason="changed_since_scan",
        )
        return _skip(path, exc, track_id=track_id, changes=changes, fmt=state.format), None
    try:
        check_writable(path, os.stat(path))
    except (TagFileError, OSError) as exc:
        problem = exc if isinstance(exc, TagFileError) else TagFileError(str(exc), reason="gone")
        return _skip(path, problem, track_id=track_id, changes=changes, fmt=state.format), None
    planned = FileResult(
        path=path, outcome="would_write", changes=changes, track_id=track_id, format=state.format
    )
    return planned, state


def _write_one(store: Store, run_id: str, planned: FileResult, state: FileState) -> FileResult:
    try:
        prepared = prepare_write(state, changes=planned.changes)
    except TagFileError as exc:
        result = _skip(
            planned.path,
            exc,
            track_id=planned.track_id,
            changes=planned.changes,
            fmt=planned.format,
        )
        _record(store, run_id, result)
        return result
    result = FileResult(
        path=planned.path,
        outcome="written",
        changes=planned.changes,
        track_id=planned.track_id,
        format=planned.format,
    )
    try:
        _record(store, run_id, result, prepared)
    except BaseException:
        prepared.discard()  # not recorded, so not written: undo could not restore it
        raise
    return _commit(store, run_id, result, prepared)


def _run_kind(store: Store, run_id: str) -> str | None:
    frame = runs_frame(store)
    match = frame[frame["run_id"] == run_id]
    return None if match.empty else str(match["kind"].iloc[0])


def _number(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        raise ValueError("missing")
    return number


def undo_tags(store: Store, run_id: str, *, progress: bool = False) -> TagRunReport:
    """Restore the tag blocks a :func:`write_tags` run replaced, byte for byte.

    A file changed since that write (size, mtime or tags differ from what the run wrote) is
    skipped with the reason, as are files gone, read-only or already restored.

    Parameters
    ----------
    store : Store
        Open for writing.
    run_id : str
        A ``tag_write`` run (``musicwb tags runs`` lists them).
    progress : bool, default False
        Show a tqdm bar on stderr.

    Returns
    -------
    TagRunReport
        Outcomes ``restored``, ``skipped`` and ``failed``.

    Raises
    ------
    ParameterError
        No tag write run has that id.
    """
    if _run_kind(store, run_id) != "tag_write":
        raise ParameterError(f"no tag write run {run_id!r} in store {store.path}")
    rows = tag_tables.tag_write_rows(store, run_id=run_id, outcome="written", saved=True)
    done: list[FileResult] = []
    with recorded_run(store, kind="tag_undo", parameters={"undoes": run_id}) as run:
        run.summary = lambda: {
            "undoes": run_id,
            "counts": dict(Counter(r.outcome for r in done)),
            "reasons": dict(Counter(r.reason for r in done if r.reason)),
        }
        records = rows.to_dict("records")
        for row in tqdm(
            records, desc="tags undo", unit=" files", disable=not progress, file=sys.stderr
        ):
            done.append(_restore_one(store, run.run_id, run_id, row))
        undo_id = run.run_id
    return TagRunReport(
        run_id=undo_id, kind="tag_undo", applied=True, results=tuple(done), undoes=run_id
    )


def _restore_one(store: Store, undo_id: str, run_id: str, row: dict) -> FileResult:
    path, track_id, fmt = str(row["path"]), row["track_id"], row["format"]
    track_id = None if track_id is None or pd.isna(track_id) else int(track_id)
    try:
        prepared = prepare_restore(
            path,
            layout=Layout.from_dict(json.loads(row["layout"])),
            original_tags=bytes(row["original_tags"]),
            original_digest=str(row["original_digest"]),
            written_tags_digest=str(row["written_tags_digest"]),
            size_after=int(row["size_after"]),
            mtime_after=_number(row["mtime_after"]),
            format=fmt,
        )
    except TagFileError as exc:
        result = _skip(path, exc, track_id=track_id, fmt=fmt)
        _record(store, undo_id, result, undoes=run_id)
        return result
    result = FileResult(path=path, outcome="restored", track_id=track_id, format=fmt)
    try:
        _record(store, undo_id, result, prepared, undoes=run_id, keep_tags=False)
    except BaseException:
        prepared.discard()
        raise
    return _commit(store, undo_id, result, prepared)


def tag_runs(store: Store) -> pd.DataFrame:
    """The tag write and undo runs, newest first: ``run_id, kind, started_at, finished_at,
    status, parameters, summary`` (JSON text)."""
    frames = [runs_frame(store, kind=kind) for kind in RUN_KINDS]
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["started_at", "run_id"], ascending=False, ignore_index=True)


def tag_run_files(store: Store, *, run_id: str) -> pd.DataFrame:
    """The files of one tag run, by path: ``path, format, outcome, reason, message, changes``."""
    frame = tag_tables.tag_write_rows(store, run_id=run_id)
    return frame[["path", "format", "outcome", "reason", "message", "changes"]]
