"""Format-specific checks of an audio file's bytes: what format its magic bytes say, and
whether the file ends where its header says it should (a cut-off download or copy).

mutagen reads the tags and stream info of many truncated files without complaint; these checks
compare the sizes and sample counts the header declares with what the file holds, for WAV,
AIFF, Ogg, FLAC, MP3 (Xing/Info frame), MP4 (atom sizes) and ASF. A format that cannot tell
(e.g. a CBR MP3 without an Info frame) is never called truncated.
"""

from __future__ import annotations

from typing import BinaryIO

__all__ = ["CHUNK_BYTE_ORDER", "audio_magic", "truncation"]

CHUNK_BYTE_ORDER = {"WAV": "little", "AIFF": "big"}
"""Byte order of the chunk sizes of the chunked formats (RIFF/WAV and IFF/AIFF)."""


def audio_magic(head: bytes) -> str | None:
    """The audio format the first bytes of a file announce, or None.

    Parameters
    ----------
    head : bytes
        The first bytes of the file (12 are enough).

    Returns
    -------
    str or None
        ``"FLAC"``, ``"Ogg"``, ``"WAV"``, ``"AIFF"``, ``"MP4"``, ``"ASF"`` or ``"MP3"``.

    Examples
    --------
    >>> audio_magic(b"fLaC" + bytes(4)), audio_magic(b"hello")
    ('FLAC', None)
    """
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


def truncation(head: bytes, tail: bytes, size: int, handle: BinaryIO) -> str | None:
    """Why the file looks cut short, or None (also when its format cannot tell).

    Parameters
    ----------
    head, tail : bytes
        The first and last bytes of the file (64 KiB each; ``tail`` may equal ``head`` for a
        small file).
    size : int
        The file size in bytes.
    handle : BinaryIO
        The open file, for formats whose check reads further (MP3, MP4); its position moves.

    Returns
    -------
    str or None
        A message for people, e.g. ``"WAV header declares 88244 bytes, the file has 4096"``.

    Examples
    --------
    >>> import io
    >>> head = b"RIFF" + (1000).to_bytes(4, "little") + b"WAVE"
    >>> truncation(head, head, 12, io.BytesIO(head))
    'WAV header declares 1008 bytes, the file has 12'
    """
    kind = audio_magic(head)
    if kind in CHUNK_BYTE_ORDER:
        declared = int.from_bytes(head[4:8], CHUNK_BYTE_ORDER[kind]) + 8
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
