"""Benchmark: scanning a library of small tagged files, first scan and unchanged re-scan.

Generates N small audio files (MP3, Ogg Vorbis, FLAC, WAV; half a second of a tone, a few KB,
tagged with artist, title, album, label, genre, BPM, key, ISRC and catalogue number) in a
temporary folder, scans them into a fresh store, then scans again with nothing changed, in the
same process. Prints one JSON line:

    {"bench": "scan", "files": 10000, "first_scan_files_per_s": ..., "rescan_files_per_s": ...,
     "targets": {...}, "pass": true}

Usage: ``python bench/bench_scan.py [--files N]`` (default 10,000).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TALB, TBPM, TCON, TIT2, TKEY, TPE1, TPUB, TSRC, TXXX
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from musicwb.library import scan_library
from musicwb.store import Store

TARGETS = {"first_scan_files_per_s": 300, "rescan_files_per_s": 5000}
FORMATS = ("mp3", "ogg", "flac", "wav")
GENRES = ("Techno", "House", "Deep House", "Drum & Bass", "Ambient", "Trance", "Electro")
LABELS = ("Klockworks", "Ostgut Ton", "Anjunabeats", "Warp Records", "Hyperdub", "Drumcode")
KEYS = ("1A", "8B", "Am", "F#m", "C", "Gb")


def _templates(folder: Path) -> dict[str, Path]:
    """One untagged half-second file per format, copied and tagged for every track."""
    sr = 22050
    t = np.arange(sr // 2) / sr
    tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype("float32")
    paths = {}
    for fmt in FORMATS:
        paths[fmt] = folder / f"template.{fmt}"
        sf.write(paths[fmt], tone, sr)
    return paths


def _tags(index: int, rng: random.Random) -> dict[str, str]:
    artist = f"Artist {index % 997:03d}"
    return {
        "artist": artist,
        "title": f"Track {index:05d} ({rng.choice(['Original Mix', 'Dub', 'Remix'])})",
        "album": f"{artist} EP {index % 7}",
        "label": rng.choice(LABELS),
        "genre": rng.choice(GENRES),
        "bpm": str(rng.randint(90, 175)),
        "key": rng.choice(KEYS),
        "isrc": f"GB{index % 1000:03d}2600{index:05d}"[:12],
        "catalognumber": f"CAT{index:05d}",
    }


def _tag_file(path: Path, fmt: str, tags: dict[str, str]) -> None:
    if fmt in ("mp3", "wav"):
        frames = [
            TPE1(encoding=3, text=tags["artist"]),
            TIT2(encoding=3, text=tags["title"]),
            TALB(encoding=3, text=tags["album"]),
            TPUB(encoding=3, text=tags["label"]),
            TCON(encoding=3, text=tags["genre"]),
            TBPM(encoding=3, text=tags["bpm"]),
            TKEY(encoding=3, text=tags["key"]),
            TSRC(encoding=3, text=tags["isrc"]),
            TXXX(encoding=3, desc="CATALOGNUMBER", text=tags["catalognumber"]),
        ]
        if fmt == "mp3":
            id3 = ID3()
            for frame in frames:
                id3.add(frame)
            id3.save(path)
        else:
            wave = WAVE(path)
            wave.add_tags()
            for frame in frames:
                wave.tags.add(frame)
            wave.save()
        return
    audio = FLAC(path) if fmt == "flac" else OggVorbis(path)
    for key, value in tags.items():
        audio[key] = value
    audio.save()


def generate(folder: Path, count: int, *, seed: int = 7) -> None:
    """Write ``count`` tagged files into artist folders under ``folder``."""
    rng = random.Random(seed)
    templates = _templates(folder.parent)
    for index in range(count):
        fmt = FORMATS[index % len(FORMATS)]
        tags = _tags(index, rng)
        target = folder / tags["artist"] / f"{index:05d} {tags['artist']} - Track {index:05d}.{fmt}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates[fmt], target)
        _tag_file(target, fmt, tags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="number of files (10,000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="musicwb-bench-scan-") as tmp:
        library = Path(tmp) / "library"
        library.mkdir()
        started = time.perf_counter()
        generate(library, args.files)
        generate_s = time.perf_counter() - started
        with Store(Path(tmp) / "bench.duckdb") as store:
            first = scan_library(store, library, progress=False)
            again = scan_library(store, library, progress=False)
        ok_counts = (
            first.added == args.files and first.errors == 0 and again.unchanged == args.files
        )
        first_rate = args.files / first.duration_s
        rescan_rate = args.files / again.duration_s
        result = {
            "bench": "scan",
            "files": args.files,
            "first_scan_files_per_s": round(first_rate, 1),
            "rescan_files_per_s": round(rescan_rate, 1),
            "first_scan_s": round(first.duration_s, 3),
            "rescan_s": round(again.duration_s, 3),
            "generate_s": round(generate_s, 1),
            "counts_ok": ok_counts,
            "targets": TARGETS,
            "pass": bool(
                ok_counts
                and first_rate >= TARGETS["first_scan_files_per_s"]
                and rescan_rate >= TARGETS["rescan_files_per_s"]
            ),
        }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
