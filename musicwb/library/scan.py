"""Scanning music folders into the store: files, tags, a metadata CSV, and incremental re-scans.

:func:`scan_library` walks a folder (or one file), reads the tags of every audio file with
mutagen, falls back to the file name where tags are missing, lets an optional metadata CSV
override both, and writes the result into the ``tracks`` table; files it cannot read get a row
in ``scan_errors`` with a reason, and the scan goes on. Every metadata field carries the source
it came from (``tags``, ``filename``, ``metadata_csv``) and a confidence.

How a re-scan decides what to do with a file (one ``stat`` per file, compared in bulk):

- same path, same size and modification time: **unchanged**, the file is not opened;
- same path, different size or time: **updated** (tags read again);
- a new path whose content hash equals that of a known track whose file is gone: **moved**,
  the track keeps its id and gets the new path;
- otherwise **added**, with the next free id and ``added_run`` set to this scan's run id.

Files that disappeared are **not deleted**: their rows (and whatever enrichment found for them)
stay, and the summary reports them as ``missing``; a drive that is not mounted would otherwise
wipe a library. Fields that came from elsewhere than this scan (a metadata CSV, MusicBrainz,
a manual edit) survive a re-read of the file's tags; only a metadata CSV given to the scan
overrides them.

Writes go in batches of :data:`BATCH_SIZE` files, each in one transaction: an interrupted scan
loses at most the batch in hand, and running it again carries on (finished batches are then
unchanged files).

Examples
--------
>>> from musicwb.store import Store
>>> with Store("library.duckdb") as store:  # doctest: +SKIP
...     summary = scan_library(store, Path("~/Music").expanduser(), progress=False)
...     print(summary.describe())
Scanned 12034 files under /home/me/Music in 41.2 s: 12030 added, 0 updated, ...
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import struct
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import mutagen
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from musicwb.errors import ParameterError, StoreError
from musicwb.runs import finish_run, last_run, start_run
from musicwb.store import Store

__all__ = [
    "AUDIO_EXTENSIONS",
    "BATCH_SIZE",
    "METADATA_FIELDS",
    "READ_THREADS",
    "ScanSummary",
    "TrackReading",
    "content_hash",
    "guess_from_filename",
    "list_audio_files",
    "plan_scan",
    "read_metadata_csv",
    "read_track_file",
    "scan_errors_frame",
    "scan_library",
    "tags_to_fields",
    "tracks_frame",
]

AUDIO_EXTENSIONS = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".aiff", ".aif", ".m4a", ".mp4", ".wma"}
)
"""File name endings (lower case) that make a file a scan candidate; other files are ignored."""

BATCH_SIZE = 500
"""Files written per transaction."""

READ_THREADS = 4
"""Files read at the same time (overlapping disk waits; tag parsing itself holds the GIL)."""

HASH_BLOCK = 64 * 1024
"""Bytes hashed from each end of a file (see :func:`content_hash`)."""

METADATA_FIELDS = (
    "artist",
    "title",
    "album",
    "label",
    "catalog_number",
    "genres",
    "bpm",
    "key",
    "isrc",
)
"""Fields of ``tracks`` that carry ``<field>_source`` and ``<field>_confidence``."""

SCAN_SOURCES = frozenset({"tags", "filename"})
"""Sources a re-read of the file may overwrite; anything else was curated and is kept."""

TAG_CONFIDENCE = 1.0
CSV_CONFIDENCE = 1.0
FILENAME_PAIR_CONFIDENCE = 0.5
FILENAME_TITLE_ONLY_CONFIDENCE = 0.3

# Tag keys per field, lower case, across tag families: ID3 frames (TXXX:<desc> for user
# frames), Vorbis comments (FLAC, Ogg), MP4 atoms (----:com.apple.iTunes:<name> freeform),
# ASF attributes (WMA) and WAV/AIFF text chunks (info:*, aiff:*). The first key with a
# non-empty value wins.
FIELD_TAG_KEYS: dict[str, tuple[str, ...]] = {
    "artist": ("tpe1", "artist", "©art", "author", "info:iart", "aiff:auth"),
    "title": ("tit2", "title", "©nam", "info:inam", "aiff:name"),
    "album": ("talb", "album", "©alb", "wm/albumtitle", "info:iprd"),
    "label": (
        "tpub",
        "txxx:label",
        "label",
        "organization",
        "publisher",
        "----:com.apple.itunes:label",
        "----:com.apple.itunes:publisher",
        "wm/publisher",
    ),
    "catalog_number": (
        "txxx:catalognumber",
        "catalognumber",
        "----:com.apple.itunes:catalognumber",
        "wm/catalogno",
    ),
    "genres": ("tcon", "genre", "©gen", "wm/genre", "info:ignr"),
    "bpm": ("tbpm", "bpm", "tmpo", "wm/beatsperminute"),
    "key": (
        "tkey",
        "txxx:initialkey",
        "initialkey",
        "key",
        "----:com.apple.itunes:initialkey",
        "wm/initialkey",
    ),
    "isrc": ("tsrc", "isrc", "----:com.apple.itunes:isrc", "wm/isrc"),
}

_FORMATS = {
    "MP3": "mp3",
    "EasyMP3": "mp3",
    "FLAC": "flac",
    "OggFLAC": "flac",
    "OggVorbis": "vorbis",
    "OggOpus": "opus",
    "OggSpeex": "speex",
    "WAVE": "wav",
    "AIFF": "aiff",
    "ASF": "wma",
}

_CSV_FIELDS = {
    "artist": "artist",
    "album": "album",
    "title": "title",
    "label": "label",
    "genre": "genres",
}

_ERROR_COLUMNS = ["path", "reason", "message", "run_id", "recorded_at"]


# -- summary -------------------------------------------------------------------------------


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
        Audio files found (by extension). ``added + updated + unchanged + moved`` plus the files
        among ``errors`` make up ``scanned``.
    added, updated, unchanged, moved : int
        Tracks new to the store, re-read (or changed by the metadata CSV), skipped as unchanged,
        and found at a new path.
    errors : int
        Rows written to ``scan_errors`` (unreadable files and folders).
    duration_s : float
        Wall-clock time.
    missing : int
        Known tracks under ``root`` whose file is gone (their rows are kept).
    metadata_unmatched : int
        Rows of the metadata CSV that matched no scanned file.
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

    def as_dict(self) -> dict:
        """The summary as JSON-ready values (the ``--json`` output and the run's summary)."""
        values = asdict(self)
        values["duration_s"] = round(self.duration_s, 3)
        return values

    def describe(self) -> str:
        """One line for people."""
        line = (
            f"Scanned {self.scanned} files under {self.root} in {self.duration_s:.1f} s: "
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.moved} moved, {self.errors} errors, {self.missing} missing"
        )
        if self.metadata_unmatched:
            line += f", {self.metadata_unmatched} metadata CSV rows matched no file"
        return f"{line} (run {self.run_id})"


# -- walking -------------------------------------------------------------------------------


def _error(path: str, reason: str, message: str) -> dict:
    return {"path": path, "reason": reason, "message": message}


def _os_error_reason(exc: OSError) -> str:
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
    >>> files, errors, _ = list_audio_files(Path("/music"))  # doctest: +SKIP
    >>> files.columns.tolist()  # doctest: +SKIP
    ['path', 'size', 'mtime']
    """
    paths: list[str] = []
    sizes: list[int] = []
    mtimes: list[float] = []
    errors: list[dict] = []
    unreadable: list[str] = []

    def add_file(path: str, entry_stat: os.stat_result) -> None:
        if not stat.S_ISREG(entry_stat.st_mode):
            errors.append(
                _error(path, "unreadable", "not a regular file (a pipe, socket or device)")
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
        bar = tqdm(
            desc="listing", unit=" files", disable=not progress, file=sys.stderr, leave=False
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
                    errors.append(_error(folder, _os_error_reason(exc), f"folder: {exc.strerror}"))
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
                        errors.append(_error(entry.path, "unreadable", "broken symbolic link"))
                    except OSError as exc:
                        errors.append(
                            _error(entry.path, _os_error_reason(exc), exc.strerror or str(exc))
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


# -- deciding what to read -----------------------------------------------------------------


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


# -- reading one file ----------------------------------------------------------------------


@dataclass
class TrackReading:
    """What reading one audio file gave: its technical data and tag fields, or why it failed.

    Attributes
    ----------
    path : str
    content_hash : str or None
    technical : dict
        ``duration, sample_rate, channels, format``.
    tags : dict
        Field name to value, for the fields the tags have (see :func:`tags_to_fields`).
    reason, message : str or None
        Set when the file could not be read (``zero_byte``, ``truncated``, ``not_audio``,
        ``unreadable``, ``permission_denied``).
    """

    path: str
    content_hash: str | None = None
    technical: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    reason: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def content_hash(size: int, head: bytes, tail: bytes) -> str:
    """A fingerprint of a file's content: BLAKE2b over its size, first and last 64 KiB.

    Hashing whole files of a large library (terabytes) would take hours and read every byte
    from disk; the two ends hold the tags and the start and end of the audio, and together
    with the exact size they tell a moved file from a different one in practice.

    Parameters
    ----------
    size : int
        The file size in bytes.
    head, tail : bytes
        The first and last :data:`HASH_BLOCK` bytes (``tail`` empty when the file is no larger
        than ``2 * HASH_BLOCK``, as ``head`` then holds all of it).

    Returns
    -------
    str
        32 hex digits.

    Examples
    --------
    >>> len(content_hash(3, b"abc", b""))
    32
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(size.to_bytes(8, "little"))
    digest.update(head)
    digest.update(tail)
    return digest.hexdigest()


def _read_ends(handle: BinaryIO, size: int) -> tuple[bytes, bytes]:
    if size <= 2 * HASH_BLOCK:
        return handle.read(), b""
    head = handle.read(HASH_BLOCK)
    handle.seek(size - HASH_BLOCK)
    return head, handle.read(HASH_BLOCK)


def read_track_file(path: str, *, size: int | None = None) -> TrackReading:
    """Read one audio file's technical data, tags and content hash (opening it once).

    Failures become a reason on the result, never an exception: ``zero_byte`` (empty file),
    ``permission_denied``, ``unreadable`` (other I/O errors, or a corrupt file of a known
    format), ``not_audio`` (no audio format recognised, e.g. a text file named ``x.mp3``) and
    ``truncated`` (the file ends before its header says it should).

    Parameters
    ----------
    path : str
    size : int, optional
        The size from the folder listing (saves a ``stat``).

    Returns
    -------
    TrackReading

    Examples
    --------
    >>> reading = read_track_file("/music/a.flac")  # doctest: +SKIP
    >>> reading.technical["format"], reading.tags.get("artist")  # doctest: +SKIP
    ('flac', 'Eric Skiff')
    """
    reading = TrackReading(path=path)
    try:
        with open(path, "rb") as handle:
            if size is None:
                size = os.fstat(handle.fileno()).st_size
            if size == 0:
                reading.reason, reading.message = "zero_byte", "the file is empty (0 bytes)"
                return reading
            head, tail = _read_ends(handle, size)
            reading.content_hash = content_hash(size, head, tail)
            try:
                handle.seek(0)
                audio = mutagen.File(handle)
            except (mutagen.MutagenError, *_PARSER_FAILURES) as exc:
                problem = _truncation(head, tail or head, size, handle)
                detail = str(exc) if isinstance(exc, mutagen.MutagenError) else repr(exc)
                if problem:
                    reading.reason, reading.message = "truncated", problem
                elif _audio_magic(head):
                    reading.reason = "unreadable"
                    reading.message = f"corrupt {_audio_magic(head)} file: {detail}"
                else:
                    reading.reason = "not_audio"
                    reading.message = f"not an audio file ({detail})"
                return reading
            if audio is None:
                reading.reason = "not_audio"
                reading.message = "no audio format recognised in the file's header"
                return reading
            problem = _truncation(head, tail or head, size, handle)
            chunk_texts = {} if problem else _chunk_texts(head, size, handle)
    except OSError as exc:
        reading.reason = _os_error_reason(exc)
        reading.message = exc.strerror or str(exc)
        return reading
    if problem:
        reading.reason, reading.message = "truncated", problem
        return reading
    try:
        reading.technical = _technical(audio)
        reading.tags = tags_to_fields({**chunk_texts, **_tag_texts(audio.tags)})
    except _PARSER_FAILURES as exc:
        reading.reason, reading.message = "unreadable", f"corrupt tags: {exc!r}"
    return reading


# What mutagen's parsers raise besides MutagenError on corrupt input (found by fuzzing real
# files: a bad UTF-16 tag, a short Vorbis comment block, an unknown ASF attribute type).
_PARSER_FAILURES = (ValueError, IndexError, KeyError, EOFError, OverflowError, struct.error)


def _technical(audio: Any) -> dict:
    info = audio.info
    kind = type(audio).__name__
    fmt = _FORMATS.get(kind)
    if fmt is None and kind.startswith("MP4"):
        codec = str(getattr(info, "codec", "") or "")
        fmt = "alac" if codec == "alac" else "aac" if codec.startswith("mp4a") else codec or "mp4"
    length = getattr(info, "length", None)
    # Opus has no sample rate of its own in mutagen: it always decodes at 48 kHz.
    sample_rate = getattr(info, "sample_rate", None) or (48000 if fmt == "opus" else None)
    return {
        "duration": float(length) if length is not None and length >= 0 else None,
        "sample_rate": sample_rate,
        "channels": getattr(info, "channels", None) or None,
        "format": fmt or kind.lower(),
    }


# -- truncation checks: does the file end where its header says? ---------------------------


def _audio_magic(head: bytes) -> str | None:
    if head.startswith(b"fLaC"):
        return "FLAC"
    if head.startswith(b"OggS"):
        return "Ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "WAV"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if head[4:8] == b"ftyp":
        return "MP4"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "ASF"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    return None


def _truncation(head: bytes, tail: bytes, size: int, handle: BinaryIO) -> str | None:
    """Why the file looks cut short, or None (also when its format cannot tell)."""
    kind = _audio_magic(head)
    if kind in ("WAV", "AIFF"):
        order = "little" if kind == "WAV" else "big"
        declared = int.from_bytes(head[4:8], order) + 8
        # 0 and 0xFFFFFFFF mean "size unknown" (streamed writes); one pad byte is tolerated.
        if declared not in (8, 0xFFFFFFFF + 8) and declared > size + 1:
            return f"{kind} header declares {declared} bytes, the file has {size}"
    elif kind == "Ogg":
        return _ogg_truncation(tail)
    elif kind == "FLAC":
        return _flac_truncation(head, tail, size)
    elif kind == "MP3":
        return _mp3_truncation(size, handle)
    elif kind == "MP4":
        return _mp4_truncation(size, handle)
    elif kind == "ASF":
        return _asf_truncation(head, size)
    return None


# GUID of the ASF File Properties Object, as stored (little-endian fields).
_ASF_FILE_PROPERTIES = bytes.fromhex("a1dcab8c47a9cf118ee400c00c205365")


def _asf_truncation(head: bytes, size: int) -> str | None:
    at = head.find(_ASF_FILE_PROPERTIES)
    if at < 0 or len(head) < at + 48:
        return None
    declared = int.from_bytes(head[at + 40 : at + 48], "little")
    if declared and declared > size:
        return f"ASF header declares {declared} bytes, the file has {size}"
    return None


def _ogg_truncation(tail: bytes) -> str | None:
    index = tail.rfind(b"OggS")
    while index >= 0:
        if len(tail) >= index + 27 and tail[index + 4] == 0:
            segments = tail[index + 26]
            table = tail[index + 27 : index + 27 + segments]
            end = index + 27 + segments + sum(table)
            if len(table) < segments or end > len(tail):
                return "the last Ogg page is cut off"
            if not tail[index + 5] & 0x04:
                return "the Ogg stream has no end-of-stream page"
            return None
        index = tail.rfind(b"OggS", 0, index)
    return "no complete Ogg page at the end of the file"


def _mp3_truncation(size: int, handle: BinaryIO) -> str | None:
    # The Xing/Info frame of VBR and LAME files declares the stream's byte count.
    handle.seek(0)
    start = 0
    header = handle.read(10)
    if header.startswith(b"ID3") and len(header) == 10:
        tag_size = 0
        for byte in header[6:10]:
            tag_size = (tag_size << 7) | (byte & 0x7F)
        start = 10 + tag_size + (10 if header[5] & 0x10 else 0)
    handle.seek(start)
    frame = handle.read(256)
    for marker in (b"Xing", b"Info"):
        at = frame.find(marker)
        if at < 0 or len(frame) < at + 16:
            continue
        flags = int.from_bytes(frame[at + 4 : at + 8], "big")
        offset = at + 8 + (4 if flags & 0x1 else 0)
        if flags & 0x2:
            declared = int.from_bytes(frame[offset : offset + 4], "big")
            if declared and size - start < declared:
                return f"MP3 header declares {declared} audio bytes, the file has {size - start}"
        return None
    return None


def _mp4_truncation(size: int, handle: BinaryIO) -> str | None:
    offset = 0
    for _ in range(10_000):
        if offset >= size:
            return None
        handle.seek(offset)
        header = handle.read(16)
        if len(header) < 8:
            return f"MP4 atom header cut off at byte {offset}"
        length = int.from_bytes(header[:4], "big")
        name = header[4:8].decode("latin-1")
        if length == 1 and len(header) == 16:
            length = int.from_bytes(header[8:16], "big")
        elif length == 0:
            return None
        if length < 8:
            return None  # not a plausible atom: leave judging to the tag reader
        if offset + length > size:
            return f"MP4 atom {name!r} ends at byte {offset + length}, the file has {size}"
        offset += length
    return None


_FLAC_BLOCK_SIZES = {
    1: 192,
    **{n: 576 << (n - 2) for n in range(2, 6)},
    **{n: 256 << (n - 8) for n in range(8, 16)},
}


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _flac_frame_end(tail: bytes, at: int, fixed_block: int) -> int | None:
    """The sample after the FLAC frame whose header starts at ``at``, or None if not a header."""
    if len(tail) < at + 6:
        return None
    variable = tail[at + 1] & 0x01
    block_code, rate_code = tail[at + 2] >> 4, tail[at + 2] & 0x0F
    channel_code, depth_code = tail[at + 3] >> 4, (tail[at + 3] >> 1) & 0x07
    if (
        block_code == 0
        or rate_code == 15
        or channel_code > 10
        or depth_code == 3
        or tail[at + 3] & 1
    ):
        return None
    # The frame (or sample) number, coded like UTF-8 in 1 to 7 bytes.
    first = tail[at + 4]
    leading = 0
    while leading < 8 and first & (0x80 >> leading):
        leading += 1
    if leading in (1, 8):
        return None
    extra = leading - 1 if leading else 0
    number = first & (0x7F >> leading)
    position = at + 5
    for _ in range(extra):
        if len(tail) <= position or tail[position] & 0xC0 != 0x80:
            return None
        number = (number << 6) | (tail[position] & 0x3F)
        position += 1
    if block_code in (6, 7):
        width = 1 if block_code == 6 else 2
        block = int.from_bytes(tail[position : position + width], "big") + 1
        position += width
    else:
        block = _FLAC_BLOCK_SIZES[block_code]
    position += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if len(tail) <= position or _crc8(tail[at:position]) != tail[position]:
        return None
    start = number if variable else number * fixed_block
    return start + block


def _flac_truncation(head: bytes, tail: bytes, size: int) -> str | None:
    if len(head) < 42:
        return "FLAC stream info is cut off"
    info = head[8:42]
    fixed_block = int.from_bytes(info[2:4], "big")
    total = int.from_bytes(info[13:18], "big") & 0xFFFFFFFFF
    if not total:
        return None  # the encoder did not know the length
    best = None
    for sync in (b"\xff\xf8", b"\xff\xf9"):
        at = tail.find(sync)
        while at >= 0:
            end = _flac_frame_end(tail, at, fixed_block)
            if end is not None and end <= total + fixed_block:
                best = end if best is None else max(best, end)
            at = tail.find(sync, at + 1)
    if best is not None and best < total:
        return f"FLAC audio ends at sample {best} of {total}"
    return None


# -- tags ----------------------------------------------------------------------------------

# Text chunks of WAV (LIST/INFO) and AIFF files, which mutagen does not read; keys are
# prefixed ("info:iart") so they never mix with ID3 frames, which win where both exist.
_INFO_CHUNKS = {
    b"INAM": "info:inam",
    b"IART": "info:iart",
    b"IPRD": "info:iprd",
    b"IGNR": "info:ignr",
}
_AIFF_CHUNKS = {b"NAME": "aiff:name", b"AUTH": "aiff:auth"}
_MAX_TEXT_CHUNK = 1 << 20


def _decode_chunk(data: bytes) -> str:
    data = data.split(b"\x00", 1)[0]
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return data.decode("latin-1").strip()


def _chunk_texts(head: bytes, size: int, handle: BinaryIO) -> dict[str, list[str]]:
    """Title, artist, album and genre from WAV ``LIST/INFO`` or AIFF ``NAME``/``AUTH`` chunks."""
    kind = _audio_magic(head)
    if kind not in ("WAV", "AIFF"):
        return {}
    order = "little" if kind == "WAV" else "big"
    texts: dict[str, list[str]] = {}
    offset = 12
    for _ in range(1000):  # chunks are walked by their headers; audio data is skipped
        handle.seek(offset)
        header = handle.read(8)
        if len(header) < 8:
            break
        name, length = header[:4], int.from_bytes(header[4:8], order)
        if kind == "WAV" and name == b"LIST" and length <= _MAX_TEXT_CHUNK:
            body = handle.read(length)
            if body[:4] == b"INFO":
                at = 4
                while at + 8 <= len(body):
                    sub, sub_length = (
                        body[at : at + 4],
                        int.from_bytes(body[at + 4 : at + 8], order),
                    )
                    if sub in _INFO_CHUNKS:
                        value = _decode_chunk(body[at + 8 : at + 8 + sub_length])
                        if value:
                            texts[_INFO_CHUNKS[sub]] = [value]
                    at += 8 + sub_length + (sub_length & 1)
        elif kind == "AIFF" and name in _AIFF_CHUNKS and length <= _MAX_TEXT_CHUNK:
            value = _decode_chunk(handle.read(length))
            if value:
                texts[_AIFF_CHUNKS[name]] = [value]
        offset += 8 + length + (length & 1)
        if offset >= size:
            break
    return texts


def _text(value: Any) -> str:
    if isinstance(value, bytes):  # MP4 freeform atoms
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "value") and not isinstance(value, str | int | float):  # ASF attributes
        return str(value.value)
    return str(value)


def _tag_texts(tags: Any) -> dict[str, list[str]]:
    """Every text tag of a mutagen tag object, as lower-case key to list of strings."""
    texts: dict[str, list[str]] = {}
    if tags is None:
        return texts
    if hasattr(tags, "getall"):  # ID3 (MP3, and ID3 chunks of WAV and AIFF)
        for frame in tags.values():
            if frame.FrameID == "TCON":
                values = list(frame.genres)
            elif hasattr(frame, "text"):
                values = [str(item) for item in frame.text]
            else:
                continue
            key = frame.FrameID if frame.FrameID != "TXXX" else f"TXXX:{frame.desc}"
            texts.setdefault(key.lower(), []).extend(values)
        return texts
    items: Iterable[tuple[str, Any]] = tags.items() if hasattr(tags, "items") else tags
    for key, values in items:
        values = values if isinstance(values, list) else [values]
        texts.setdefault(str(key).lower(), []).extend(_text(value) for value in values)
    return texts


_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_GENRE_SPLIT = re.compile(r"\s*[;|]\s*")


def tags_to_fields(texts: dict[str, list[str]]) -> dict[str, Any]:
    """Pick the metadata fields out of a file's tag texts.

    Parameters
    ----------
    texts : dict of str to list of str
        Lower-case tag key (``tpe1``, ``artist``, ``©art``, ``txxx:catalognumber``, ...) to its
        values.

    Returns
    -------
    dict
        Only the fields found: strings for ``artist, title, album, label, catalog_number,
        key, isrc``; a list of strings for ``genres``; a float for ``bpm``.

    Examples
    --------
    >>> tags_to_fields({"tpe1": ["Trevino"], "tpub": ["Klockworks"], "tbpm": ["132"]})
    {'artist': 'Trevino', 'label': 'Klockworks', 'bpm': 132.0}
    """
    fields: dict[str, Any] = {}
    for name, keys in FIELD_TAG_KEYS.items():
        values = [v.strip() for key in keys for v in texts.get(key, []) if v and v.strip()]
        if not values:
            continue
        if name == "genres":
            genres = [g for v in values for g in _GENRE_SPLIT.split(v) if g]
            fields[name] = list(dict.fromkeys(genres))
        elif name == "bpm":
            number = _NUMBER.search(values[0])
            if number:
                fields[name] = float(number.group().replace(",", "."))
        else:
            fields[name] = values[0]
    return fields


# -- file names ----------------------------------------------------------------------------

_TRACK_NUMBER = re.compile(r"^\d{1,3}\s*(?:[.)_]|-(?=\s))\s*(?=\S)")
_DASH = re.compile(r"\s+[-\u2013\u2014]\s+")


def guess_from_filename(stem: str) -> dict[str, tuple[str, float]]:
    """Artist and title from a file name without extension: ``Artist - Title``.

    A small stand-in for the title parser of :mod:`musicwb.titles`; a leading track number
    (``01.``, ``01 -``) is dropped, underscores count as spaces when there are no spaces.

    Parameters
    ----------
    stem : str

    Returns
    -------
    dict
        ``{"artist": (value, confidence), "title": (value, confidence)}``; only ``title``
        (at lower confidence) when there is no separator, nothing for an empty stem.

    Examples
    --------
    >>> guess_from_filename("03. Trevino - Sombre Tones")
    {'artist': ('Trevino', 0.5), 'title': ('Sombre Tones', 0.5)}
    >>> guess_from_filename("field_recording")
    {'title': ('field recording', 0.3)}
    """
    text = stem if " " in stem else stem.replace("_", " ")
    text = " ".join(_TRACK_NUMBER.sub("", text.strip()).split())
    if not text:
        return {}
    parts = _DASH.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return {
            "artist": (parts[0], FILENAME_PAIR_CONFIDENCE),
            "title": (parts[1], FILENAME_PAIR_CONFIDENCE),
        }
    return {"title": (text, FILENAME_TITLE_ONLY_CONFIDENCE)}


# -- metadata CSV --------------------------------------------------------------------------


def read_metadata_csv(csv_path: Path, *, root: Path) -> pd.DataFrame:
    """Read a metadata CSV whose values override the tags.

    Columns ``path`` (required), ``artist``, ``album``, ``title``, ``label``, ``genre``
    (several separated by ``;``); other columns are ignored, empty cells override nothing.
    A relative path is taken from the CSV's folder; where that file is not found, from the
    scanned root.

    Parameters
    ----------
    csv_path : Path
    root : Path
        The scanned folder, absolute.

    Returns
    -------
    pandas.DataFrame
        ``csv_path_1`` (from the CSV's folder), ``csv_path_2`` (from the root) and the
        field columns present (``artist``, ``album``, ``title``, ``label``, ``genres``).

    Raises
    ------
    ParameterError
        The file is missing or unreadable, or has no ``path`` column.
    """
    if not csv_path.is_file():
        raise ParameterError(f"metadata CSV {csv_path} does not exist or is not a file")
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ParameterError(f"metadata CSV {csv_path} cannot be read: {exc}") from exc
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    if "path" not in frame.columns:
        raise ParameterError(
            f"metadata CSV {csv_path} has no 'path' column (columns: {', '.join(frame.columns)})"
        )
    base = csv_path.resolve().parent
    relative = frame["path"].str.strip()
    result = pd.DataFrame(
        {
            "csv_path_1": [os.path.normpath(os.path.join(base, p)) for p in relative],
            "csv_path_2": [
                os.path.normpath(os.path.join(root if root.is_dir() else root.parent, p))
                for p in relative
            ],
        }
    )
    for column, name in _CSV_FIELDS.items():
        if column not in frame.columns:
            continue
        values = frame[column].str.strip()
        if name == "genres":
            result[name] = [
                [g for g in _GENRE_SPLIT.split(v) if g] or None if v else None for v in values
            ]
        else:
            result[name] = values.where(values != "", None)
    return result[relative != ""].reset_index(drop=True)


def _match_csv(metadata: pd.DataFrame, paths: set[str]) -> tuple[pd.DataFrame, int]:
    """Index the CSV by the scanned path it names; count rows that match nothing."""
    first = metadata["csv_path_1"].isin(paths)
    second = metadata["csv_path_2"].isin(paths)
    matched = metadata[first | second].copy()
    matched["path"] = np.where(first[first | second], matched["csv_path_1"], matched["csv_path_2"])
    matched = matched.drop(columns=["csv_path_1", "csv_path_2"]).drop_duplicates(
        "path", keep="last"
    )
    return matched.set_index("path"), int((~(first | second)).sum())


# -- building rows -------------------------------------------------------------------------


def _field_columns() -> list[str]:
    return [
        f"{name}{suffix}" for name in METADATA_FIELDS for suffix in ("", "_source", "_confidence")
    ]


def _reading_row(
    reading: TrackReading, *, size: int, mtime: float, csv: pd.DataFrame | None
) -> dict:
    row: dict[str, Any] = {
        "path": reading.path,
        "size": size,
        "mtime": mtime,
        "content_hash": reading.content_hash,
        **reading.technical,
    }
    for name in METADATA_FIELDS:
        value = reading.tags.get(name)
        row[name] = value
        row[f"{name}_source"] = "tags" if value is not None else None
        row[f"{name}_confidence"] = TAG_CONFIDENCE if value is not None else None
    if row["artist"] is None or row["title"] is None:
        for name, (value, confidence) in guess_from_filename(Path(reading.path).stem).items():
            if row[name] is None:
                row[name], row[f"{name}_source"], row[f"{name}_confidence"] = (
                    value,
                    "filename",
                    confidence,
                )
    if csv is not None and reading.path in csv.index:
        _apply_csv(row, csv.loc[reading.path])
    return row


def _apply_csv(row: dict, values: pd.Series) -> None:
    for name, value in values.items():
        if value is None or (not isinstance(value, list) and pd.isna(value)):
            continue
        row[name], row[f"{name}_source"], row[f"{name}_confidence"] = (
            value,
            "metadata_csv",
            CSV_CONFIDENCE,
        )


def _keep_curated(rows: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Keep fields of known tracks that came from elsewhere than a scan, unless the CSV says."""
    existing = existing.set_index("id").loc[rows["id"]]
    rows = rows.copy()
    for name in METADATA_FIELDS:
        old_source = existing[f"{name}_source"].to_numpy(dtype=object)
        keep = np.array(
            [s is not None and not pd.isna(s) and s not in SCAN_SOURCES for s in old_source]
        )
        keep &= rows[f"{name}_source"].to_numpy(dtype=object) != "metadata_csv"
        if keep.any():
            for column in (name, f"{name}_source", f"{name}_confidence"):
                values = rows[column].to_numpy(dtype=object).copy()
                values[keep] = existing[column].to_numpy(dtype=object)[keep]
                rows[column] = values
    return rows


def _existing_fields(store: Store, ids: list[int]) -> pd.DataFrame:
    columns = ", ".join(["id", *_field_columns()])
    frame = store.df(f"SELECT {columns} FROM tracks WHERE list_contains(?, id)", [ids])
    frame["genres"] = [None if _missing(g) else list(g) for g in frame["genres"]]
    return frame


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list | tuple | np.ndarray):
        return False
    return bool(pd.isna(value))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# -- the scan ------------------------------------------------------------------------------


@dataclass
class _Counts:
    added: int = 0
    updated: int = 0
    moved: int = 0
    errors: int = 0


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


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def scan_library(
    store: Store, root: Path, *, metadata_csv: Path | None = None, progress: bool = True
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
    batches already written stay; a new scan carries on from there.

    Examples
    --------
    >>> with Store("library.duckdb") as store:  # doctest: +SKIP
    ...     scan_library(store, Path("/music"), progress=False).as_dict()["added"]
    1234
    """
    started = time.perf_counter()
    root = _check_root(root)
    metadata = None
    if metadata_csv is not None:
        metadata = read_metadata_csv(Path(metadata_csv).expanduser(), root=root)
    run_id = start_run(
        store,
        kind="scan",
        parameters={"root": str(root), "metadata_csv": str(metadata_csv) if metadata_csv else None},
    )
    counts = _Counts()
    state: dict[str, Any] = {"scanned": 0, "unchanged": 0, "missing": 0, "metadata_unmatched": 0}

    def summary() -> ScanSummary:
        return ScanSummary(
            run_id=run_id,
            root=str(root),
            scanned=state["scanned"],
            added=counts.added,
            updated=counts.updated,
            unchanged=state["unchanged"],
            moved=counts.moved,
            errors=counts.errors,
            duration_s=time.perf_counter() - started,
            missing=state["missing"],
            metadata_unmatched=state["metadata_unmatched"],
        )

    try:
        _scan(
            store,
            root,
            run_id=run_id,
            metadata=metadata,
            progress=progress,
            counts=counts,
            state=state,
        )
    except KeyboardInterrupt:
        finish_run(store, run_id, status="interrupted", summary=summary().as_dict())
        raise
    except BaseException as exc:
        result = summary().as_dict()
        result["error"] = f"{type(exc).__name__}: {exc}"
        try:
            finish_run(store, run_id, status="failed", summary=result)
        except StoreError as store_exc:  # keep the original error; say why the run says running
            exc.add_note(f"the run {run_id} could not be recorded as failed: {store_exc}")
        raise
    done = summary()
    finish_run(store, run_id, status="ok", summary=done.as_dict())
    return done


def _scan(
    store: Store,
    root: Path,
    *,
    run_id: str,
    metadata: pd.DataFrame | None,
    progress: bool,
    counts: _Counts,
    state: dict[str, Any],
) -> None:
    files, walk_errors, unreadable_folders = list_audio_files(root, progress=progress)
    state["scanned"] = len(files)
    known = store.df("SELECT id, path, size, mtime, content_hash FROM tracks")
    plan = plan_scan(files, known)
    state["unchanged"] = int((plan["action"] == "unchanged").sum())

    csv = None
    if metadata is not None:
        csv, state["metadata_unmatched"] = _match_csv(metadata, set(files["path"]))

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
            counts=counts,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()

    if csv is not None:
        unchanged = plan[(plan["action"] == "unchanged") & plan["path"].isin(csv.index)]
        refreshed = _apply_csv_to_unchanged(store, unchanged, csv)
        counts.updated += refreshed
        state["unchanged"] -= refreshed

    prefix = str(root) if root.is_file() else str(root).rstrip(os.sep) + os.sep
    under_root = absent["path"].str.startswith(prefix) | (absent["path"] == str(root))
    state["missing"] = int((under_root & ~absent["id"].isin(moved_from)).sum())


def _read_and_write(
    store: Store,
    to_read: pd.DataFrame,
    *,
    pool: ThreadPoolExecutor,
    bar: Any,
    run_id: str,
    csv: pd.DataFrame | None,
    gone_by_hash: dict[str, list[tuple[int, str]]],
    moved_from: set[int],
    pending_errors: list[dict],
    counts: _Counts,
) -> None:
    """Read the new and changed files batch by batch and write each batch in a transaction."""
    for batch in _batches(list(to_read.itertuples(index=False)), BATCH_SIZE):
        new_rows: list[dict] = []
        changed_rows: list[dict] = []
        moved_rows: list[dict] = []
        readings = pool.map(lambda item: read_track_file(item.path, size=int(item.size)), batch)
        for item, reading in zip(batch, readings, strict=True):
            bar.update(1)
            if not reading.ok:
                pending_errors.append(_error(item.path, reading.reason, reading.message))
                continue
            row = _reading_row(reading, size=int(item.size), mtime=float(item.mtime), csv=csv)
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
        _write_batch(
            store,
            run_id=run_id,
            new_rows=new_rows,
            changed_rows=changed_rows,
            moved_rows=moved_rows,
            errors=pending_errors,
        )
        counts.added += len(new_rows)
        counts.updated += len(changed_rows)
        counts.moved += len(moved_rows)
        counts.errors += len(pending_errors)
        pending_errors.clear()
    if pending_errors:  # folder errors of a scan with nothing to read
        _write_batch(
            store, run_id=run_id, new_rows=[], changed_rows=[], moved_rows=[], errors=pending_errors
        )
        counts.errors += len(pending_errors)
        pending_errors.clear()


def _take_moved(gone_by_hash: dict[str, list[tuple[int, str]]], digest: str | None) -> int | None:
    """The id of a known track with this content whose file no longer exists, if any."""
    candidates = gone_by_hash.get(digest or "", [])
    while candidates:
        track_id, old_path = candidates.pop(0)
        if not os.path.lexists(old_path):
            return track_id
    return None


def _write_batch(
    store: Store,
    *,
    run_id: str,
    new_rows: list[dict],
    changed_rows: list[dict],
    moved_rows: list[dict],
    errors: list[dict],
) -> None:
    """Write one batch in one transaction: new tracks, re-read and moved ones, error rows."""
    if not (new_rows or changed_rows or moved_rows or errors):
        return
    now = _now()
    updates = []
    for rows, with_path in ((changed_rows, False), (moved_rows, True)):
        if not rows:
            continue
        frame = pd.DataFrame(rows)
        frame = _keep_curated(frame, _existing_fields(store, frame["id"].tolist()))
        frame["updated_at"] = now
        updates.append(frame if with_path else frame.drop(columns=["path"]))
    with store.transaction():
        if new_rows:
            frame = pd.DataFrame(new_rows)
            first_id = int(store.scalar("SELECT coalesce(max(id), 0) + 1 FROM tracks"))
            frame.insert(0, "id", np.arange(first_id, first_id + len(frame), dtype="int64"))
            frame["added_run"] = run_id
            frame["added_at"] = now
            frame["updated_at"] = now
            store.insert("tracks", _typed(frame))
        for frame in updates:
            store.update("tracks", _typed(frame), key=["id"])
        if errors:
            frame = pd.DataFrame(errors).drop_duplicates("path", keep="first")
            frame["run_id"] = run_id
            frame["recorded_at"] = now
            store.insert("scan_errors", frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Give all-empty columns a type DuckDB can cast from (object columns of None are fine)."""
    frame = frame.copy()
    for name in ("bpm", "duration"):
        if name in frame.columns:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in METADATA_FIELDS:
        column = f"{name}_confidence"
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for name in ("sample_rate", "channels"):
        if name in frame.columns:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("Int32")
    return frame


def _apply_csv_to_unchanged(store: Store, unchanged: pd.DataFrame, csv: pd.DataFrame) -> int:
    """Write CSV values into unchanged tracks where they differ; the number of tracks changed."""
    changed = 0
    for batch in _batches(unchanged[["id", "path"]].to_dict("records"), BATCH_SIZE):
        existing = _existing_fields(store, [int(item["id"]) for item in batch]).set_index("id")
        rows = []
        for item in batch:
            before = existing.loc[int(item["id"])].to_dict()
            after = dict(before)
            _apply_csv(after, csv.loc[item["path"]])
            if any(_differs(before[c], after[c]) for c in _field_columns()):
                rows.append({"id": int(item["id"]), **after})
        if rows:
            frame = pd.DataFrame(rows)
            frame["updated_at"] = _now()
            with store.transaction():
                store.update("tracks", _typed(frame), key=["id"])
            changed += len(rows)
    return changed


def _differs(a: Any, b: Any) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) != _missing(b)
    if isinstance(a, list | tuple | np.ndarray) or isinstance(b, list | tuple | np.ndarray):
        return list(a) != list(b)
    return a != b


# -- reading the store ---------------------------------------------------------------------


def tracks_frame(store: Store, *, limit: int | None = None) -> pd.DataFrame:
    """The tracks the store holds, by id.

    Parameters
    ----------
    store : Store
        Read-only is enough.
    limit : int, optional
        At most this many rows (the lowest ids).

    Returns
    -------
    pandas.DataFrame
        Columns ``id, path, artist, title, album, label, duration, format``; one row per track.

    Examples
    --------
    >>> tracks_frame(store, limit=5).columns.tolist()  # doctest: +SKIP
    ['id', 'path', 'artist', 'title', 'album', 'label', 'duration', 'format']
    """
    sql = "SELECT id, path, artist, title, album, label, duration, format FROM tracks ORDER BY id"
    if limit is not None:
        if int(limit) < 1:
            raise ParameterError(f"limit must be at least 1, got {limit}")
        return store.df(sql + " LIMIT ?", [int(limit)])
    return store.df(sql)


def scan_errors_frame(store: Store, *, last_run_only: bool = True) -> pd.DataFrame:
    """The files (and folders) scans could not read, with the reason.

    Parameters
    ----------
    store : Store
        Read-only is enough.
    last_run_only : bool, default True
        Only the errors of the most recent scan (what is still broken); else every scan's.

    Returns
    -------
    pandas.DataFrame
        Columns ``path, reason, message, run_id, recorded_at``; one row per file and scan,
        sorted by path (newest scan first when all runs).
    """
    columns = ", ".join(_ERROR_COLUMNS)
    if not last_run_only:
        return store.df(f"SELECT {columns} FROM scan_errors ORDER BY run_id DESC, path")
    run = last_run(store, kind="scan")
    if run is None:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in _ERROR_COLUMNS})
    return store.df(
        f"SELECT {columns} FROM scan_errors WHERE run_id = ? ORDER BY path", [run["run_id"]]
    )
