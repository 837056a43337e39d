"""Reading one audio file: its content hash, technical data and tags, or why it cannot be read.

The file is opened once: both ends are read for the hash and the integrity checks, mutagen
parses the header and tags, and WAV/AIFF text chunks are read by :mod:`.tags`. Failures are
returned as a reason on the :class:`TrackReading`, never raised, so that a scan records them
and goes on.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

import mutagen

from musicwb.library.integrity import audio_magic, truncation
from musicwb.library.tags import chunk_texts, tag_texts, tags_to_fields
from musicwb.library.walk import os_error_reason

__all__ = ["HASH_BLOCK", "TrackReading", "content_hash", "read_track_file"]

HASH_BLOCK = 64 * 1024
"""Bytes hashed from each end of a file (see :func:`content_hash`)."""

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
    >>> import os, tempfile, wave
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> with wave.open(path, "wb") as wav:
    ...     wav.setparams((1, 2, 8000, 0, "NONE", "not compressed"))
    ...     wav.writeframes(bytes(1600))
    >>> reading = read_track_file(path)
    >>> reading.ok, reading.technical
    (True, {'duration': 0.1, 'sample_rate': 8000, 'channels': 1, 'format': 'wav'})
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
                _explain_parse_failure(reading, exc, head=head, tail=tail, size=size, handle=handle)
                return reading
            if audio is None:
                reading.reason = "not_audio"
                reading.message = "no audio format recognised in the file's header"
                return reading
            problem = truncation(head, tail or head, size, handle)
            texts = {} if problem else chunk_texts(head, size, handle)
    except OSError as exc:
        reading.reason = os_error_reason(exc)
        reading.message = exc.strerror or str(exc)
        return reading
    if problem:
        reading.reason, reading.message = "truncated", problem
        return reading
    try:
        reading.technical = _technical(audio)
        reading.tags = tags_to_fields({**texts, **tag_texts(audio.tags)})
    except _PARSER_FAILURES as exc:
        reading.reason, reading.message = "unreadable", f"corrupt tags: {exc!r}"
    return reading


# What mutagen's parsers raise besides MutagenError on corrupt input (found by fuzzing real
# files: a bad UTF-16 tag, a short Vorbis comment block, an unknown ASF attribute type).
_PARSER_FAILURES = (ValueError, IndexError, KeyError, EOFError, OverflowError, struct.error)


def _explain_parse_failure(
    reading: TrackReading,
    exc: BaseException,
    *,
    head: bytes,
    tail: bytes,
    size: int,
    handle: BinaryIO,
) -> None:
    """Set the reason mutagen failed: the file is cut short, corrupt, or not audio at all."""
    problem = truncation(head, tail or head, size, handle)
    detail = str(exc) if isinstance(exc, mutagen.MutagenError) else repr(exc)
    kind = audio_magic(head)
    if problem:
        reading.reason, reading.message = "truncated", problem
    elif kind:
        reading.reason, reading.message = "unreadable", f"corrupt {kind} file: {detail}"
    else:
        reading.reason, reading.message = "not_audio", f"not an audio file ({detail})"


def _technical(audio: mutagen.FileType) -> dict:
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
