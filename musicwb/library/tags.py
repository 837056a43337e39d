"""Tag texts of an audio file to metadata fields.

mutagen gives each tag family its own keys (ID3 frames, Vorbis comments, MP4 atoms, ASF
attributes); :func:`tag_texts` flattens them to lower-case key → strings,
:func:`chunk_texts` adds the text chunks of WAV and AIFF files (which mutagen does not read),
and :func:`tags_to_fields` picks the fields of ``tracks`` out of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, BinaryIO

from musicwb.library.integrity import CHUNK_BYTE_ORDER, audio_magic

if TYPE_CHECKING:
    import mutagen

__all__ = ["FIELD_TAG_KEYS", "GENRE_SPLIT", "chunk_texts", "tag_texts", "tags_to_fields"]


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


def chunk_texts(head: bytes, size: int, handle: BinaryIO) -> dict[str, list[str]]:
    """Title, artist, album and genre from WAV ``LIST/INFO`` or AIFF ``NAME``/``AUTH`` chunks.

    Parameters
    ----------
    head : bytes
        The first bytes of the file (for its format).
    size : int
        The file size in bytes.
    handle : BinaryIO
        The open file; chunks are walked by their headers, audio data is skipped.

    Returns
    -------
    dict of str to list of str
        Keys ``info:inam, info:iart, info:iprd, info:ignr`` (WAV) or ``aiff:name, aiff:auth``
        (AIFF), for :func:`tags_to_fields`; empty for other formats.

    Examples
    --------
    >>> import io
    >>> body = b"INFO" + b"IART" + (8).to_bytes(4, "little") + b"Trevino" + bytes(1)
    >>> riff = b"LIST" + len(body).to_bytes(4, "little") + body
    >>> data = b"RIFF" + (4 + len(riff)).to_bytes(4, "little") + b"WAVE" + riff
    >>> chunk_texts(data[:12], len(data), io.BytesIO(data))
    {'info:iart': ['Trevino']}
    """
    kind = audio_magic(head)
    if kind not in CHUNK_BYTE_ORDER:
        return {}
    order = CHUNK_BYTE_ORDER[kind]
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


def _text(value: object) -> str:
    if isinstance(value, bytes):  # MP4 freeform atoms
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "value") and not isinstance(value, str | int | float):  # ASF attributes
        return str(value.value)
    return str(value)


def tag_texts(tags: mutagen.Tags | None) -> dict[str, list[str]]:
    """Every text tag of a mutagen tag object, as lower-case key to list of strings.

    Parameters
    ----------
    tags : mutagen tags or None
        ``mutagen.File(...).tags``: ID3, Vorbis comments, MP4 or ASF tags.

    Returns
    -------
    dict of str to list of str
        ``tpe1``, ``txxx:catalognumber`` (ID3), ``artist`` (Vorbis), ``©art``,
        ``----:com.apple.itunes:label`` (MP4), ``wm/publisher`` (ASF), ...; ID3 genres
        resolved (``(17)`` → ``Rock``).

    Examples
    --------
    >>> from mutagen.id3 import ID3, TPE1
    >>> tags = ID3()
    >>> tags.add(TPE1(encoding=3, text=["Trevino"]))
    >>> tag_texts(tags)
    {'tpe1': ['Trevino']}
    """
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
GENRE_SPLIT = re.compile(r"\s*[;|]\s*")
"""Separators between several genres in one tag or CSV cell (``;`` and ``|``)."""


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
            genres = [g for v in values for g in GENRE_SPLIT.split(v) if g]
            fields[name] = list(dict.fromkeys(genres))
        elif name == "bpm":
            number = _NUMBER.search(values[0])
            if number:
                fields[name] = float(number.group().replace(",", "."))
        else:
            fields[name] = values[0]
    return fields
