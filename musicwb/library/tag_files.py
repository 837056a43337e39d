"""Reading and writing the label and catalogue tags of one file, never its audio.

A write works on a copy beside the file: mutagen saves the new tags into the copy, the copy's
audio spans are checked against the original's (:func:`~musicwb.library.tag_blocks.audio_digest`)
and the tags read back, and only then does the copy replace the file, in one rename. A full
disk, a crash or Ctrl-C before that leaves the file as it was. :func:`prepare_write` and
:func:`prepare_restore` return a :class:`PreparedFile` whose :meth:`~PreparedFile.commit` does
the rename, so that the caller records what it is about to do first.

The fields other tools read: ID3 (MP3, and WAV and AIFF files that already carry an ID3 chunk)
``TPUB`` and ``TXXX:CATALOGNUMBER``; Vorbis comments (FLAC, Ogg Vorbis, Opus) ``LABEL``,
``ORGANIZATION`` and ``CATALOGNUMBER``; MP4 freeform atoms ``----:com.apple.iTunes:LABEL`` and
``----:com.apple.iTunes:CATALOGNUMBER``. A scan reads every one of them back
(:data:`~musicwb.library.tags.FIELD_TAG_KEYS`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import mutagen
from mutagen.id3 import TPUB, TXXX
from mutagen.mp4 import MP4FreeForm

from musicwb.errors import MusicwbError
from musicwb.library.integrity import audio_magic
from musicwb.library.tag_blocks import (
    Layout,
    audio_digest,
    file_digest,
    file_layout,
    rebuild,
    tag_bytes,
)
from musicwb.library.tag_writing import TagChange, TagField
from musicwb.library.tags import tag_texts, tags_to_fields

__all__ = [
    "FileState",
    "PreparedFile",
    "TagFamily",
    "TagFileError",
    "check_writable",
    "prepare_restore",
    "prepare_write",
    "read_file_state",
]

TagFamily = Literal["id3", "vorbis", "mp4"]
"""The tag families written."""

_FAMILIES: dict[str, tuple[str, TagFamily]] = {
    "MP3": ("mp3", "id3"),
    "WAVE": ("wav", "id3"),
    "AIFF": ("aiff", "id3"),
    "FLAC": ("flac", "vorbis"),
    "OggVorbis": ("vorbis", "vorbis"),
    "OggOpus": ("opus", "vorbis"),
    "MP4": ("mp4", "mp4"),
}
_VORBIS_KEYS: dict[TagField, tuple[str, ...]] = {
    "label": ("LABEL", "ORGANIZATION"),
    "catalogue": ("CATALOGNUMBER",),
}
_MP4_KEYS: dict[TagField, str] = {
    "label": "----:com.apple.iTunes:LABEL",
    "catalogue": "----:com.apple.iTunes:CATALOGNUMBER",
}
_COLUMNS: dict[TagField, str] = {"label": "label", "catalogue": "catalog_number"}


class TagFileError(MusicwbError):
    """A file's tags cannot be written or restored; the file is left as it was.

    Attributes
    ----------
    reason : str
        A short code: ``gone``, ``read_only``, ``unsupported``, ``unreadable``,
        ``changed_since_scan``, ``changed_since_write``, ``already_restored``, ``disk_full``,
        ``error``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class FileState:
    """A file as a tag write finds it: size, mtime, format and the fields its tags give.

    Attributes
    ----------
    path : str
    size, mtime : int, float
    format : str
        ``mp3, wav, aiff, flac, vorbis, opus, mp4``.
    family : TagFamily
    kind : str
        The container (:func:`~musicwb.library.integrity.audio_magic`).
    fields : dict
        As a scan reads them (:func:`~musicwb.library.tags.tags_to_fields`).
    """

    path: str
    size: int
    mtime: float
    format: str
    family: TagFamily
    kind: str
    fields: dict


@dataclass(frozen=True)
class PreparedFile:
    """A finished copy of a file with new tag blocks, waiting to replace the file.

    Attributes
    ----------
    path, temp : str
        The file, and the copy beside it.
    format : str
    layout : Layout
        The file's layout before (what :attr:`original_tags` fills).
    original_tags : bytes
        The file's tag blocks before, concatenated (:func:`~musicwb.library.tag_blocks.tag_bytes`).
    original_digest : str
        The whole file before.
    size_before, mtime_before, size_after, mtime_after : int, float
    written_tags_digest : str
        The tag blocks of the copy.
    """

    path: str
    temp: str
    format: str
    layout: Layout
    original_tags: bytes
    original_digest: str
    size_before: int
    mtime_before: float
    size_after: int
    mtime_after: float
    written_tags_digest: str

    def commit(self) -> None:
        """Replace the file with the copy (one rename: the file is either old or new)."""
        try:
            os.replace(self.temp, self.path)
        except OSError as exc:
            self.discard()
            raise _os_error(exc, doing="replacing the file") from exc

    def discard(self) -> None:
        """Delete the copy; the file stays as it was."""
        Path(self.temp).unlink(missing_ok=True)


def _os_error(exc: OSError, *, doing: str) -> TagFileError:
    detail = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return TagFileError(f"disk full while {doing}: {detail}", reason="disk_full")
    if isinstance(exc, FileNotFoundError):
        return TagFileError("the file is gone", reason="gone")
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return TagFileError(f"not writable ({doing}): {detail}", reason="read_only")
    return TagFileError(f"{type(exc).__name__} while {doing}: {detail}", reason="error")


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as exc:
        raise _os_error(exc, doing="reading the file") from exc


def check_writable(path: str, info: os.stat_result) -> None:
    """Raise :class:`TagFileError` (``read_only``) unless the file and its folder are writable."""
    # Root may write anything, so the mode bits say whether the user made the file read-only.
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(
        path, os.W_OK
    ):
        raise TagFileError("the file is read-only", reason="read_only")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TagFileError(f"the folder {folder} is read-only", reason="read_only")


def read_file_state(path: str) -> FileState:
    """Stat a file and read the fields its tags give, or say why its tags cannot be written.

    Raises
    ------
    TagFileError
        ``gone``, ``unreadable`` (not parsed), or ``unsupported`` (a format or a file without
        a tag block this module writes, e.g. a WAV file without ID3 tags).

    Examples
    --------
    >>> import os, tempfile, wave
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> with wave.open(path, "wb") as wav:
    ...     wav.setparams((1, 2, 8000, 0, "NONE", "not compressed"))
    ...     wav.writeframes(bytes(1600))
    >>> try:
    ...     read_file_state(path)
    ... except TagFileError as exc:
    ...     print(exc.reason, "-", exc)
    unsupported - unsupported: WAV without ID3 tags
    """
    info = _stat(path)
    try:
        with open(path, "rb") as handle:
            kind = audio_magic(handle.read(16))
            handle.seek(0)
            audio = mutagen.File(handle)
    except OSError as exc:
        raise _os_error(exc, doing="reading the file") from exc
    except (mutagen.MutagenError, ValueError, IndexError, KeyError, EOFError) as exc:
        raise TagFileError(f"tags not readable: {exc!r}", reason="unreadable") from exc
    if audio is None or kind is None:
        raise TagFileError("no audio format recognised", reason="unreadable")
    name = type(audio).__name__
    fmt, family = _FAMILIES.get("MP4" if name.startswith("MP4") else name, (None, None))
    if fmt is None or family is None:
        raise TagFileError(f"unsupported: {name} files are not written", reason="unsupported")
    if fmt in ("wav", "aiff") and audio.tags is None:
        raise TagFileError(f"unsupported: {fmt.upper()} without ID3 tags", reason="unsupported")
    return FileState(
        path=path,
        size=info.st_size,
        mtime=info.st_mtime,
        format=fmt,
        family=family,
        kind=kind,
        fields=tags_to_fields(tag_texts(audio.tags)),
    )


def _set_id3(tags: Any, field: TagField, value: str) -> None:
    if field == "label":
        tags.setall("TPUB", [TPUB(encoding=3, text=[value])])
        return
    for frame in tags.getall("TXXX"):
        if frame.desc.lower() == "catalognumber":
            tags.delall(frame.HashKey)
    tags.add(TXXX(encoding=3, desc="CATALOGNUMBER", text=[value]))


def _set_mp4(tags: Any, field: TagField, value: str) -> None:
    key = _MP4_KEYS[field]
    for other in [k for k in tags if k.lower() == key.lower()]:
        del tags[other]
    tags[key] = [MP4FreeForm(value.encode("utf-8"))]


def _apply(audio: Any, family: TagFamily, changes: Sequence[TagChange]) -> None:
    if audio.tags is None:
        audio.add_tags()
    for change in changes:
        if family == "id3":
            _set_id3(audio.tags, change.field, change.new)
        elif family == "mp4":
            _set_mp4(audio.tags, change.field, change.new)
        else:
            for key in _VORBIS_KEYS[change.field]:
                audio.tags[key] = [change.new]


def _save(audio: Any, family: TagFamily) -> None:
    """mutagen's save; an ID3 tag keeps its version (2.3 stays 2.3)."""
    if family == "id3":
        version = getattr(audio.tags, "version", (2, 4, 0))
        audio.save(v2_version=4 if version >= (2, 4, 0) else 3)
    else:
        audio.save()


def _temp_beside(path: str) -> str:
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.musicwb-{os.getpid()}.tmp")


def _copy(path: str, temp: str, info: os.stat_result) -> None:
    shutil.copyfile(path, temp)
    shutil.copymode(path, temp)
    if os.geteuid() == 0 and (info.st_uid, info.st_gid) != (0, 0):
        os.chown(temp, info.st_uid, info.st_gid)


def _fsync(path: str) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _layout_of(path: str, kind: str) -> tuple[Layout, str, bytes]:
    with open(path, "rb") as handle:
        layout = file_layout(handle, kind=kind)  # type: ignore[arg-type]
        return layout, audio_digest(handle, layout), tag_bytes(handle, layout)


def _tags_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _prepared(
    path: str,
    temp: str,
    *,
    format: str,
    layout: Layout,
    original_tags: bytes,
    original_digest: str,
    before: os.stat_result,
    after: os.stat_result,
    written_tags: bytes,
) -> PreparedFile:
    """The copy ``temp`` of ``path`` with the file's stat ``before`` and the copy's ``after``."""
    return PreparedFile(
        path=path,
        temp=temp,
        format=format,
        layout=layout,
        original_tags=original_tags,
        original_digest=original_digest,
        size_before=before.st_size,
        mtime_before=before.st_mtime,
        size_after=after.st_size,
        mtime_after=after.st_mtime,
        written_tags_digest=_tags_digest(written_tags),
    )


def prepare_write(state: FileState, *, changes: Sequence[TagChange]) -> PreparedFile:
    """Write ``changes`` into a copy of the file, check it, and return it ready to commit.

    Parameters
    ----------
    state : FileState
        The file as :func:`read_file_state` found it; it must not have changed since.
    changes : sequence of TagChange

    Returns
    -------
    PreparedFile

    Raises
    ------
    TagFileError
        ``gone``, ``read_only``, ``changed_since_scan`` (the file changed since ``state``),
        ``disk_full``, ``error`` (the copy's audio differs, or its tags do not read back);
        the copy is deleted and the file left as it was.
    """
    path = state.path
    info = _stat(path)
    if (info.st_size, info.st_mtime) != (state.size, state.mtime):
        raise TagFileError("the file changed while it was read", reason="changed_since_scan")
    check_writable(path, info)
    temp = _temp_beside(path)
    try:
        with open(path, "rb") as handle:
            layout = file_layout(handle, kind=state.kind)  # type: ignore[arg-type]
            before_audio = audio_digest(handle, layout)
            original_tags = tag_bytes(handle, layout)
            original_digest = file_digest(handle)
        _copy(path, temp, info)
        audio = mutagen.File(temp)
        _apply(audio, state.family, changes)
        _save(audio, state.family)
        _, after_audio, written = _layout_of(temp, state.kind)
        if after_audio != before_audio:
            raise TagFileError("saving the tags would change the audio data", reason="error")
        fields = tags_to_fields(tag_texts(mutagen.File(temp).tags))
        wrong = [c.field for c in changes if fields.get(_COLUMNS[c.field]) != c.new.strip()]
        if wrong:
            raise TagFileError(f"written {', '.join(wrong)} does not read back", reason="error")
        _fsync(temp)
        after = os.stat(temp)
    except TagFileError:
        Path(temp).unlink(missing_ok=True)
        raise
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise _os_error(exc, doing="writing a copy with the new tags") from exc
    except (mutagen.MutagenError, ValueError, KeyError, IndexError, EOFError) as exc:
        Path(temp).unlink(missing_ok=True)
        raise TagFileError(f"mutagen failed: {exc!r}", reason="error") from exc
    except BaseException:  # Ctrl-C: no copy is left behind
        Path(temp).unlink(missing_ok=True)
        raise
    return _prepared(
        path,
        temp,
        format=state.format,
        layout=layout,
        original_tags=original_tags,
        original_digest=original_digest,
        before=info,
        after=after,
        written_tags=written,
    )


def prepare_restore(
    path: str,
    *,
    layout: Layout,
    original_tags: bytes,
    original_digest: str,
    written_tags_digest: str,
    size_after: int,
    mtime_after: float,
    format: str | None = None,
) -> PreparedFile:
    """Put the saved tag blocks back around the file's audio in a copy, checked byte for byte.

    Parameters
    ----------
    path : str
    layout, original_tags, original_digest : Layout, bytes, str
        What :func:`prepare_write` saved of the file before the write.
    written_tags_digest, size_after, mtime_after : str, int, float
        What the write left; a file that no longer matches them is not touched.
    format : str, optional
        Recorded on the result.

    Returns
    -------
    PreparedFile
        Its ``original_*`` fields describe the file as it is now (before the restore).

    Raises
    ------
    TagFileError
        ``gone``, ``already_restored`` (the file is as before the write), ``changed_since_write``,
        ``read_only``, ``disk_full`` or ``error`` (the rebuilt file is not the original).
    """
    info = _stat(path)
    temp = _temp_beside(path)
    try:
        with open(path, "rb") as handle:
            current_digest = file_digest(handle)
            if current_digest == original_digest:
                raise TagFileError(
                    "the file is already as it was before the write", reason="already_restored"
                )
            if (info.st_size, info.st_mtime) != (size_after, mtime_after):
                raise TagFileError(
                    "the file changed since the write (size or mtime differ)",
                    reason="changed_since_write",
                )
            current = file_layout(handle, kind=layout.kind)
            current_tags = tag_bytes(handle, current)
            if _tags_digest(current_tags) != written_tags_digest:
                raise TagFileError(
                    "the file's tags changed since the write", reason="changed_since_write"
                )
            check_writable(path, info)
            with open(temp, "wb+") as out:
                rebuild(handle, out, current=current, saved=layout, tags=original_tags)
                out.flush()
                restored = file_digest(out)
                os.fsync(out.fileno())
        if restored != original_digest:
            raise TagFileError("the rebuilt file is not the original", reason="error")
        shutil.copymode(path, temp)
        after = os.stat(temp)
    except TagFileError:
        Path(temp).unlink(missing_ok=True)
        raise
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise _os_error(exc, doing="writing a copy with the original tags") from exc
    except (ValueError, EOFError, mutagen.MutagenError) as exc:
        Path(temp).unlink(missing_ok=True)
        raise TagFileError(f"cannot restore: {exc}", reason="changed_since_write") from exc
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return _prepared(
        path,
        temp,
        format=format or layout.kind.lower(),
        layout=current,
        original_tags=current_tags,
        original_digest=current_digest,
        before=info,
        after=after,
        written_tags=original_tags,
    )
