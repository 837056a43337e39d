"""Helpers for the library tests: real audio files of every format, tagged the way common
taggers do, and short ways to scan them into a store and read back what was written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TALB, TBPM, TCON, TIT2, TKEY, TPE1, TPUB, TSRC, TXXX
from mutagen.mp4 import MP4, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from musicwb import library
from musicwb.library import scan_errors_frame, scan_library
from musicwb.store import Store

MUSICWB = Path(sys.executable).parent / "musicwb"

TAGS = {
    "artist": "Trevino",
    "title": "Sombre Tones",
    "album": "Sombre Tones EP",
    "label": "Klockworks",
    "catalog_number": "KW 20",
    "genre": "Techno",
    "bpm": "132",
    "key": "8A",
    "isrc": "GBKWT1200020",
}


# -- writing real files ------------------------------------------------------------------


def write_audio(path: Path, *, seconds: float = 1.0, sr: int = 22050, seed: int = 0) -> Path:
    """A real audio file (format from the extension): a tone with a little noise."""
    rng = np.random.default_rng(seed)
    if path.suffix.lower() == ".opus":
        sr = 48000  # Opus encodes at 48 kHz only
    t = np.arange(int(seconds * sr)) / sr
    y = 0.2 * np.sin(2 * np.pi * (220 + 20 * seed) * t) + 0.01 * rng.standard_normal(t.size)
    y = np.stack([y, y], axis=1).astype("float32")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".m4a", ".wma"):
        wav = path.with_suffix(".tmp.wav")
        sf.write(wav, y, sr)
        codec = "aac" if suffix == ".m4a" else "wmav2"
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", codec, str(path)],
            check=True,
        )
        wav.unlink()
    elif suffix == ".opus":
        sf.write(path, y, sr, format="OGG", subtype="OPUS")
    else:
        sf.write(path, y, sr)
    return path


def tag_file(path: Path, tags: dict[str, str], *, vorbis_label_key: str = "LABEL") -> None:
    """Write tags the way common taggers do for the file's format."""
    suffix = path.suffix.lower()
    if suffix in (".mp3", ".wav", ".aiff"):
        frames = {
            "artist": TPE1,
            "title": TIT2,
            "album": TALB,
            "label": TPUB,
            "genre": TCON,
            "bpm": TBPM,
            "key": TKEY,
            "isrc": TSRC,
        }
        if suffix == ".mp3":
            id3 = ID3()
        else:
            import mutagen

            audio = mutagen.File(path)
            audio.add_tags()
            id3 = audio.tags
        for name, value in tags.items():
            if name == "catalog_number":
                id3.add(TXXX(encoding=3, desc="CATALOGNUMBER", text=value))
            else:
                id3.add(frames[name](encoding=3, text=value))
        if suffix == ".mp3":
            id3.save(path)
        else:
            audio.save()
    elif suffix in (".flac", ".ogg", ".opus"):
        audio = {".flac": FLAC, ".ogg": OggVorbis, ".opus": OggOpus}[suffix](path)
        keys = {"label": vorbis_label_key, "catalog_number": "CATALOGNUMBER", "key": "INITIALKEY"}
        for name, value in tags.items():
            audio[keys.get(name, name.upper())] = value
        audio.save()
    elif suffix == ".m4a":
        audio = MP4(path)
        atoms = {"artist": "\xa9ART", "title": "\xa9nam", "album": "\xa9alb", "genre": "\xa9gen"}
        freeform = {
            "label": "LABEL",
            "catalog_number": "CATALOGNUMBER",
            "isrc": "ISRC",
            "key": "initialkey",
        }
        for name, value in tags.items():
            if name == "bpm":
                audio["tmpo"] = [int(value)]
            elif name in atoms:
                audio[atoms[name]] = [value]
            else:
                atom = f"----:com.apple.iTunes:{freeform[name]}"
                audio[atom] = [MP4FreeForm(value.encode("utf-8"))]
        audio.save()
    elif suffix == ".wma":
        audio = ASF(path)
        names = {
            "artist": "Author",
            "title": "Title",
            "album": "WM/AlbumTitle",
            "label": "WM/Publisher",
            "catalog_number": "WM/CatalogNo",
            "genre": "WM/Genre",
            "bpm": "WM/BeatsPerMinute",
            "key": "WM/InitialKey",
            "isrc": "WM/ISRC",
        }
        for name, value in tags.items():
            audio[names[name]] = [value]
        audio.save()
    else:
        raise AssertionError(f"no tagger for {suffix}")


def scan(store_path: Path, root: Path, **options) -> library.ScanSummary:
    with Store(store_path) as store:
        return scan_library(store, root, progress=False, **options)


def tracks(store_path: Path) -> pd.DataFrame:
    with Store(store_path, read_only=True) as store:
        return store.df("SELECT * FROM tracks ORDER BY id")


def by_file_name(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed by the file name of its ``path`` column."""
    return frame.set_index(frame["path"].map(lambda p: Path(p).name))


def errors(store_path: Path) -> pd.DataFrame:
    with Store(store_path, read_only=True) as store:
        return scan_errors_frame(store)


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MUSICWB), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
