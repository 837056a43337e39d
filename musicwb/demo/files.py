"""Writing one demo file: render its music, encode it, tag it the messy way its plan says.

The only part of the demo that writes audio; :func:`write_track` is safe to run in worker
processes and leaves a complete file or none.

Examples
--------
>>> from tempfile import mkdtemp
>>> from musicwb.demo.plan import plan_library
>>> out_dir = Path(mkdtemp())
>>> written = write_track(plan_library(7)[3], out_dir)
>>> written.relative_to(out_dir).as_posix()
'library/Halden Ray/Neon Tunnel/01 - Hidden Motion [Ferrous Records].flac'

"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import soundfile as sf
from mutagen import flac, id3, oggvorbis, wave
from mutagen.ogg import OggPage

from musicwb.demo.audio import SAMPLE_RATE, render_track
from musicwb.demo.plan import FORMATS, DemoTrack
from musicwb.errors import AudioError, ParameterError

__all__ = ["encode_audio", "write_track"]

_SOUNDFILE_FORMATS = {
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "flac": ("FLAC", "PCM_16"),
    "wav": ("WAV", "PCM_16"),
}


def write_track(track: DemoTrack, out_dir: Path) -> Path:
    """Render, encode and tag one demo track at ``out_dir / track.path``.

    The file appears complete or not at all (written to ``*.part`` and renamed), so an
    interrupted build leaves no half-written audio.

    Parameters
    ----------
    track : DemoTrack
    out_dir : Path

    Returns
    -------
    Path
        The written file.
    """
    target = Path(out_dir) / track.path
    target.parent.mkdir(parents=True, exist_ok=True)
    audio = render_track(
        track.sound, variation=track.variation, bpm=track.bpm, bars=track.bars,
        seed=track.audio_seed, sr=SAMPLE_RATE,
    )  # fmt: skip
    data = encode_audio(audio, fmt=track.format, sr=SAMPLE_RATE, stream_serial=_serial(track))
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    try:
        if track.tags:
            _write_tags(partial, track.format, track.tags)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def _serial(track: DemoTrack) -> int:
    return int(np.random.default_rng(list(track.audio_seed)).integers(1, 2**31 - 1))


def encode_audio(audio: np.ndarray, *, fmt: str, sr: int, stream_serial: int = 1) -> bytes:
    """Encode mono float audio with libsndfile; Ogg streams get a fixed serial number, MP3s a
    constant bitrate that libmpg123 decodes without complaints.

    libsndfile draws the Ogg serial number at random, which would make two builds differ; the
    pages are rewritten (with their checksums) with ``stream_serial``.

    Parameters
    ----------
    audio : numpy.ndarray, shape (n_samples,)
    fmt : {"ogg", "mp3", "flac", "wav"}
    sr : int
    stream_serial : int

    Returns
    -------
    bytes
    """
    if fmt not in _SOUNDFILE_FORMATS:
        raise ParameterError(f"demo format must be one of {FORMATS}, got {fmt!r}")
    container, subtype = _SOUNDFILE_FORMATS[fmt]
    # libsndfile's default VBR MP3 (and constant bitrate below the top quality) at 22.05 kHz
    # writes frames whose part2_3_length overruns the bit reservoir: libmpg123 decodes them but
    # prints an error per frame on stderr. Constant bitrate at compression level 0 does not.
    options = {"bitrate_mode": "CONSTANT", "compression_level": 0.0} if fmt == "mp3" else {}
    buffer = io.BytesIO()
    try:
        sf.write(buffer, audio, sr, format=container, subtype=subtype, **options)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"libsndfile cannot write {fmt} ({container}/{subtype}): {exc}") from exc
    if fmt != "ogg":
        return buffer.getvalue()
    buffer.seek(0)
    pages = []
    while True:
        try:
            page = OggPage(buffer)
        except EOFError:
            break
        page.serial = stream_serial
        pages.append(page.write())
    return b"".join(pages)


_ID3_FRAMES = {
    "artist": id3.TPE1, "title": id3.TIT2, "album": id3.TALB, "tracknumber": id3.TRCK,
    "date": id3.TDRC, "label": id3.TPUB, "genre": id3.TCON, "bpm": id3.TBPM, "key": id3.TKEY,
}  # fmt: skip


def _write_tags(path: Path, fmt: str, tags: dict[str, str]) -> None:
    values = {k: v for k, v in tags.items() if k != "label_key"}
    if fmt in ("mp3", "wav"):
        frames = [
            id3.TXXX(encoding=3, desc="CATALOGNUMBER", text=[value])
            if name == "catalognumber"
            else _ID3_FRAMES[name](encoding=3, text=[value])
            for name, value in values.items()
        ]
        tags = id3.ID3()
        if fmt == "wav":
            riff = wave.WAVE(path)
            riff.add_tags()
            tags = riff.tags
        for frame in frames:
            tags.add(frame)
        if fmt == "wav":
            riff.save()
        else:
            tags.save(path, v2_version=4)
        return
    audio = flac.FLAC(path) if fmt == "flac" else oggvorbis.OggVorbis(path)
    for name, value in values.items():
        key = tags.get("label_key", "label") if name == "label" else name
        audio[key] = [value]
    audio.save()
