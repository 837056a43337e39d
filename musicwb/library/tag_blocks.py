"""Where a file's tags end and its audio begins: the tag blocks and audio spans of a file.

Writing tags must never rewrite audio, and undoing a write must put the tag blocks back byte
for byte. Both need the same map of the file: a :class:`Layout` of consecutive spans, each
either ``"tag"`` (ID3v2 and ID3v1 blocks of MP3; the FLAC metadata blocks; the Ogg header pages
of Vorbis and Opus; every top-level MP4 atom but ``mdat``; every RIFF/IFF chunk but the audio
chunk, and the file header) or ``"audio"`` (everything else). Only the audio spans are
fingerprinted by :func:`audio_digest`; :func:`rebuild` puts saved tag bytes around a file's
current audio.

Ogg pages carry a sequence number and a CRC in their headers; a tag that needs one more header
page renumbers every later page (mutagen does so), so the audio digest of an Ogg file hashes the
audio pages without those two fields, and :func:`rebuild` numbers them again.

Examples
--------
>>> import io
>>> data = b"ID3\\x04\\x00\\x00\\x00\\x00\\x00\\x02ab" + b"\\xff\\xfb" + bytes(30)
>>> layout = file_layout(io.BytesIO(data), kind="MP3")
>>> [(span.kind, span.start, span.end) for span in layout.spans]
[('tag', 0, 12), ('audio', 12, 44), ('tag', 44, 44)]
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from mutagen.ogg import OggPage

from musicwb.library.integrity import CHUNK_BYTE_ORDER

__all__ = [
    "LAYOUT_KINDS",
    "Layout",
    "LayoutKind",
    "Span",
    "audio_digest",
    "file_digest",
    "file_layout",
    "rebuild",
    "tag_bytes",
]

LayoutKind = Literal["MP3", "FLAC", "Ogg", "MP4", "WAV", "AIFF"]
"""The containers :func:`file_layout` maps (as :func:`~musicwb.library.integrity.audio_magic`
names them)."""
LAYOUT_KINDS: tuple[LayoutKind, ...] = ("MP3", "FLAC", "Ogg", "MP4", "WAV", "AIFF")

_AUDIO_CHUNKS = {"WAV": b"data", "AIFF": b"SSND"}
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Span:
    """Bytes ``[start, end)`` of a file, either a tag block or audio."""

    kind: Literal["tag", "audio"]
    start: int
    end: int


@dataclass(frozen=True)
class Layout:
    """A file as consecutive spans from byte 0 to its end.

    Attributes
    ----------
    kind : LayoutKind
    spans : tuple of Span
    ogg_serial, ogg_next_sequence : int or None
        For Ogg: the stream's serial number and the sequence number of its first audio page.
    """

    kind: LayoutKind
    spans: tuple[Span, ...]
    ogg_serial: int | None = None
    ogg_next_sequence: int | None = None

    def as_dict(self) -> dict:
        """The layout as JSON-ready values (see :meth:`from_dict`)."""
        return {
            "kind": self.kind,
            "spans": [[span.kind, span.start, span.end] for span in self.spans],
            "ogg_serial": self.ogg_serial,
            "ogg_next_sequence": self.ogg_next_sequence,
        }

    @classmethod
    def from_dict(cls, value: dict) -> Layout:
        """The layout :meth:`as_dict` gave."""
        return cls(
            kind=value["kind"],
            spans=tuple(Span(kind, start, end) for kind, start, end in value["spans"]),
            ogg_serial=value.get("ogg_serial"),
            ogg_next_sequence=value.get("ogg_next_sequence"),
        )


def file_layout(handle: BinaryIO, *, kind: LayoutKind) -> Layout:
    """Map an open file into tag blocks and audio spans.

    Parameters
    ----------
    handle : BinaryIO
        The file, open for reading (any position).
    kind : LayoutKind
        Its container, from :func:`~musicwb.library.integrity.audio_magic`.

    Returns
    -------
    Layout

    Raises
    ------
    ValueError
        ``kind`` is not a :data:`LayoutKind`, or the file does not have the structure it names.
    """
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    if kind == "MP3":
        return _mp3_layout(handle, size)
    if kind == "FLAC":
        return _flac_layout(handle, size)
    if kind == "Ogg":
        return _ogg_layout(handle, size)
    if kind == "MP4":
        return _mp4_layout(handle, size)
    if kind in _AUDIO_CHUNKS:
        return _chunk_layout(handle, size, kind=kind)
    raise ValueError(f"no tag block layout for {kind!r}; one of {', '.join(LAYOUT_KINDS)}")


def _id3v2_size(header: bytes) -> int:
    if len(header) < 10 or header[:3] != b"ID3":
        return 0
    body = 0
    for byte in header[6:10]:
        body = (body << 7) | (byte & 0x7F)
    footer = 10 if header[5] & 0x10 else 0
    return 10 + body + footer


def _mp3_layout(handle: BinaryIO, size: int) -> Layout:
    head = min(_id3v2_size(handle.read(10)), size)
    tail = size
    if size - head >= 128:
        handle.seek(size - 128)
        if handle.read(3) == b"TAG":
            tail = size - 128
    spans = (Span("tag", 0, head), Span("audio", head, tail), Span("tag", tail, size))
    return Layout(kind="MP3", spans=spans)


def _flac_layout(handle: BinaryIO, size: int) -> Layout:
    offset = _id3v2_size(handle.read(10))
    handle.seek(offset)
    if handle.read(4) != b"fLaC":
        raise ValueError("no fLaC marker where the FLAC stream should start")
    offset += 4
    while True:
        header = handle.read(4)
        if len(header) < 4:
            raise ValueError("the FLAC metadata blocks run past the end of the file")
        length = int.from_bytes(header[1:4], "big")
        offset += 4 + length
        handle.seek(offset)
        if header[0] & 0x80:
            break
    if offset > size:
        raise ValueError("the FLAC metadata blocks run past the end of the file")
    return Layout(kind="FLAC", spans=(Span("tag", 0, offset), Span("audio", offset, size)))


def _ogg_header_packets(first_packet: bytes) -> int:
    if first_packet.startswith(b"\x01vorbis"):
        return 3
    if first_packet.startswith(b"OpusHead"):
        return 2
    raise ValueError("only Ogg Vorbis and Opus have a known header layout")


def _ogg_layout(handle: BinaryIO, size: int) -> Layout:
    first = OggPage(handle)
    wanted = _ogg_header_packets(first.packets[0])
    serial, done, page = first.serial, 0, first
    while True:
        if page.serial == serial:
            done += len(page.packets) - (0 if page.complete else 1)
            if done >= wanted:
                break
        page = OggPage(handle)
    end = handle.tell()
    return Layout(
        kind="Ogg",
        spans=(Span("tag", 0, end), Span("audio", end, size)),
        ogg_serial=serial,
        ogg_next_sequence=page.sequence + 1,
    )


def _mp4_layout(handle: BinaryIO, size: int) -> Layout:
    spans, offset = [], 0
    while offset < size:
        handle.seek(offset)
        header = handle.read(16)
        if len(header) < 8:
            raise ValueError(f"a truncated MP4 atom header at byte {offset}")
        length, name = int.from_bytes(header[:4], "big"), header[4:8]
        if length == 1:
            length = int.from_bytes(header[8:16], "big")
        elif length == 0:
            length = size - offset
        if length < 8 or offset + length > size:
            raise ValueError(f"an MP4 atom {name!r} at byte {offset} runs past the end")
        spans.append(Span("audio" if name == b"mdat" else "tag", offset, offset + length))
        offset += length
    return Layout(kind="MP4", spans=tuple(spans))


def _chunk_layout(handle: BinaryIO, size: int, *, kind: LayoutKind) -> Layout:
    order, audio = CHUNK_BYTE_ORDER[kind], _AUDIO_CHUNKS[kind]
    spans, offset = [Span("tag", 0, 12)], 12
    while offset + 8 <= size:
        handle.seek(offset)
        header = handle.read(8)
        length = int.from_bytes(header[4:8], order)
        end = min(offset + 8 + length + (length & 1), size)
        spans.append(Span("audio" if header[:4] == audio else "tag", offset, end))
        offset = end
    if offset < size:  # a few stray bytes after the last chunk stay where they are
        spans.append(Span("tag", offset, size))
    return Layout(kind=kind, spans=tuple(spans))


def _read_span(handle: BinaryIO, span: Span) -> bytes:
    handle.seek(span.start)
    return handle.read(span.end - span.start)


def tag_bytes(handle: BinaryIO, layout: Layout) -> bytes:
    """The bytes of every tag span of ``layout``, concatenated in file order."""
    return b"".join(_read_span(handle, span) for span in layout.spans if span.kind == "tag")


def _chunks(handle: BinaryIO, span: Span) -> Iterator[bytes]:
    at = span.start
    while at < span.end:
        handle.seek(at)
        block = handle.read(min(_BLOCK, span.end - at))
        if not block:
            break
        yield block
        at += len(block)


def _ogg_pages_without_numbers(handle: BinaryIO, span: Span) -> Iterator[bytes]:
    handle.seek(span.start)
    while handle.tell() < span.end:
        start = handle.tell()
        OggPage(handle)
        end = handle.tell()
        handle.seek(start)
        page = bytearray(handle.read(end - start))
        page[18:26] = bytes(8)  # sequence number and CRC
        yield bytes(page)


def audio_digest(handle: BinaryIO, layout: Layout) -> str:
    """A BLAKE2b fingerprint of the audio spans (Ogg: pages without sequence number and CRC).

    Examples
    --------
    >>> import io
    >>> plain = b"\\xff\\xfb" + bytes(200)
    >>> tagged = b"ID3\\x04\\x00\\x00\\x00\\x00\\x00\\x02ab" + plain
    >>> digests = [audio_digest(io.BytesIO(d), file_layout(io.BytesIO(d), kind="MP3"))
    ...            for d in (plain, tagged)]
    >>> digests[0] == digests[1]
    True
    """
    digest = hashlib.blake2b(digest_size=16)
    for span in layout.spans:
        if span.kind != "audio":
            continue
        digest.update(struct.pack("<q", span.end - span.start))
        parts = (
            _ogg_pages_without_numbers(handle, span)
            if layout.kind == "Ogg"
            else _chunks(handle, span)
        )
        for part in parts:
            digest.update(part)
    return digest.hexdigest()


def file_digest(handle: BinaryIO) -> str:
    """A BLAKE2b fingerprint of the whole file (32 hex digits)."""
    digest = hashlib.blake2b(digest_size=16)
    handle.seek(0)
    while block := handle.read(_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def rebuild(
    handle: BinaryIO, out: BinaryIO, *, current: Layout, saved: Layout, tags: bytes
) -> None:
    """Write the file ``saved`` described: its tag bytes around the audio ``handle`` has now.

    Parameters
    ----------
    handle : BinaryIO
        The file as it is now, laid out as ``current``.
    out : BinaryIO
        Where the rebuilt file goes (open for writing and reading, empty).
    current, saved : Layout
        The layout of the file now, and of the file whose ``tags`` (:func:`tag_bytes`) were
        saved; both have their audio spans in the same order.
    tags : bytes

    Raises
    ------
    ValueError
        The two layouts do not have the same audio spans, or the tag bytes do not fit.
    """
    now_audio = [span for span in current.spans if span.kind == "audio"]
    then_audio = [span for span in saved.spans if span.kind == "audio"]
    if current.kind != saved.kind or len(now_audio) != len(then_audio):
        raise ValueError("the file's audio is no longer laid out as when its tags were saved")
    if sum(span.end - span.start for span in saved.spans if span.kind == "tag") != len(tags):
        raise ValueError("the saved tag bytes do not match their layout")
    audio, at = iter(now_audio), 0
    for span in saved.spans:
        if span.kind == "tag":
            out.write(tags[at : at + span.end - span.start])
            at += span.end - span.start
        else:
            out.writelines(_chunks(handle, next(audio)))
    if saved.kind == "Ogg" and saved.ogg_serial is not None:
        out.seek(saved.spans[0].end)  # the first audio page
        OggPage.renumber(out, saved.ogg_serial, saved.ogg_next_sequence)
