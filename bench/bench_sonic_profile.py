"""Where one file's analysis spends its time: one JSON line per stage, then a summary line.

The work is what a worker does per file (:func:`~musicwb.sonic.analysis.analyse_track` without
the store): :func:`~musicwb.sonic.io.read_audio`, :func:`~musicwb.sonic.content.classify_content`
and :func:`~musicwb.sonic.towers.extract_features`, on the real tracks of ``eric_skiff`` and
``yubatake`` (``audio/realmusic``), in this one process, after an untimed first file (imports,
numba kernels loaded from the cache).

- ``sonic_profile_stage`` lines: a stage's CPU seconds per file and its share. The shares come
  from a second pass under :mod:`cProfile` (each stage is a set of functions whose times do not
  nest); the seconds are those shares of the first, unprofiled pass's CPU time, since the
  profiler slows Python-heavy stages more than native ones.
- ``sonic_profile`` line: CPU and wall seconds per file (one process), peak resident memory,
  and the first file's time (imports and numba kernels). Target: ≤ 0.40 s of CPU per file.
- ``sonic_numba_warmup`` line: the first extraction of a short clip in a fresh process with an
  empty numba cache (the kernels compile) against one with the cache already filled.

- ``sonic_profile_against`` line (only with ``--against CHECKOUT``): CPU per file of this
  checkout and of another one, timed in fresh processes taking turns.

Usage: ``python bench/bench_sonic_profile.py [--files N] [--no-warmup]
[--against ../main --rounds 2]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDERS = ("eric_skiff", "yubatake")
TARGET_S = 0.40

# stage -> functions as (file name ending, function name, caller's name or None for any caller)
STAGES: dict[str, list[tuple[str, str, str | None]]] = {
    "decode": [("soundfile.py", "_cdata_io", None)],
    "resample": [("soxr/__init__.py", "resample_chunk", None)],
    "content_check": [("sonic/content.py", "classify_content", None)],
    "tuning": [("sonic/frames.py", "_sampled_power", None), ("sonic/frames.py", "_tuning", None)],
    "stft": [("sonic/frames.py", "_stft_magnitude_chunks", None)],
    "mel_db": [
        ("sonic/frames.py", "compute_frames", "<self>"),
        ("librosa/core/spectrum.py", "power_to_db", "compute_frames"),
        ("librosa/filters.py", "mel", "compute_frames"),
    ],
    "spectral_contrast": [
        ("librosa/feature/spectral.py", "spectral_contrast", None),
        ("sonic/frames.py", "_spectral_contrast", None),
    ],
    "spectral_shape": [("sonic/frames.py", "_spectral_shape", None)],
    "chroma": [("librosa/feature/spectral.py", "chroma_stft", None)],
    "rms": [("librosa/feature/spectral.py", "rms", None)],
    "onset_and_flux": [("librosa/onset.py", "onset_strength", "compute_frames")],
    "mfcc_and_delta": [
        ("librosa/feature/spectral.py", "mfcc", None),
        ("librosa/feature/utils.py", "delta", None),
    ],
    "tonnetz": [("librosa/feature/spectral.py", "tonnetz", None)],
    "zcr": [("sonic/frames.py", "_zero_crossing_rate", None)],
    "tempo": [
        ("sonic/tempo.py", "estimate_tempo", "extract_features"),
        ("sonic/tempo.py", "refine_with_beats", "extract_features"),
        ("sonic/tempo.py", "local_bpm", None),
    ],
    "beat_tracking": [("sonic/tempo.py", "track_beats", None)],
    "onset_peaks": [("sonic/towers.py", "_onset_peaks", None)],
    "towers": [("sonic/towers.py", "_segment_vector", None)],
}


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def real_files(n: int | None = None) -> list[Path]:
    """The ``eric_skiff`` and ``yubatake`` tracks of ``audio/realmusic``, sorted."""
    base = Path(os.environ.get("MUSICWB_TEST_DATA") or HERE.parent.parent / "shared" / "data")
    folder = base / "audio" / "realmusic"
    files = sorted(p for name in FOLDERS for p in (folder / name).glob("*.ogg"))
    if not files:
        raise SystemExit(f"no tracks under {folder}/{{{','.join(FOLDERS)}}}")
    return files[:n] if n else files


def analyse(path: Path) -> None:
    """A worker's audio work on one file, without the store."""
    from musicwb.sonic.content import classify_content
    from musicwb.sonic.io import read_audio
    from musicwb.sonic.towers import extract_features

    audio = read_audio(path)
    classify_content(audio.samples, sr=audio.sr)
    extract_features(audio.samples, sr=audio.sr)


def _stage_seconds(stats: pstats.Stats) -> dict[str, float]:
    """Profiled seconds of each stage (cumulative time of its functions, or of one call edge)."""
    found = dict.fromkeys(STAGES, 0.0)
    table = stats.stats  # type: ignore[attr-defined]
    for stage, functions in STAGES.items():
        for ending, name, caller in functions:
            for (filename, _, funcname), (_, _, own, total, callers) in table.items():
                if funcname != name or not filename.endswith(ending):
                    continue
                if caller is None:
                    found[stage] += total
                elif caller == "<self>":
                    found[stage] += own
                else:
                    found[stage] += sum(
                        edge[3] for key, edge in callers.items() if key[2] == caller
                    )
    return found


def timed(files: list[Path]) -> dict[str, float]:
    """CPU and wall seconds per file after an untimed first file, in this process."""
    from musicwb.sonic.towers import configure_worker

    configure_worker(numba_cache=Path(tempfile.gettempdir()) / "musicwb-bench-numba")
    started = time.process_time()
    analyse(files[0])
    first_s = time.process_time() - started
    cpu, wall = time.process_time(), time.perf_counter()
    for path in files:
        analyse(path)
    return {
        "cpu_s": (time.process_time() - cpu) / len(files),
        "wall_s": (time.perf_counter() - wall) / len(files),
        "first_s": first_s,
    }


def profile(files: list[Path]) -> dict:
    """Per-file CPU and wall seconds, then the stage shares under cProfile."""
    times = timed(files)
    cpu_s, wall_s, first_s = times["cpu_s"], times["wall_s"], times["first_s"]

    profiler = cProfile.Profile()
    profiler.enable()
    for path in files:
        analyse(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    stages = _stage_seconds(stats)
    stages["other"] = max(0.0, total - sum(stages.values()))
    for stage, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        share = seconds / total
        _emit(
            {
                "bench": "sonic_profile_stage",
                "stage": stage,
                "seconds_per_file": round(share * cpu_s, 4),
                "share": round(share, 3),
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "bench": "sonic_profile",
        "files": len(files),
        "cpu_s_per_file": round(cpu_s, 3),
        "wall_s_per_file": round(wall_s, 3),
        "first_file_cpu_s": round(first_s, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "targets": {"cpu_s_per_file": TARGET_S},
        "pass": cpu_s <= TARGET_S,
    }


_WARMUP = """
import sys, time, numpy as np
from musicwb.sonic.towers import configure_worker
configure_worker(numba_cache=sys.argv[1])
from musicwb.sonic.towers import extract_features
rng = np.random.default_rng(0)
y = (rng.standard_normal(22050 * 10) * 0.1).astype(np.float32)
y[::11025] += 1.0
started = time.process_time()
extract_features(y, sr=22050)
print(time.process_time() - started)
"""


def numba_warmup() -> dict:
    """First extraction in a fresh process, numba cache empty against filled."""
    with tempfile.TemporaryDirectory(prefix="musicwb_numba_") as cache:

        def first_call() -> float:
            done = subprocess.run(
                [sys.executable, "-c", _WARMUP, cache],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(HERE.parent)},
            )
            return float(done.stdout.strip().splitlines()[-1])

        cold, warm = first_call(), first_call()
    return {
        "bench": "sonic_numba_warmup",
        "cold_cache_first_call_s": round(cold, 2),
        "warm_cache_first_call_s": round(warm, 2),
        "compile_s": round(cold - warm, 2),
    }


def against(checkout: Path, files: int, rounds: int) -> dict:
    """CPU per file of this checkout and of another one (``--against``), in fresh processes
    taking turns, so that both see the same machine load; the best round of each counts."""
    code = (
        "import json, sys; sys.argv = ['x']; import bench_sonic_profile as b; "
        f"print(json.dumps(b.timed(b.real_files({files} or None))))"
    )
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, root in (("before", checkout), ("after", HERE.parent)):
            done = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                cwd=HERE,
                env={**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{HERE}"},
            )
            cpu_s = json.loads(done.stdout.strip().splitlines()[-1])["cpu_s"]
            best[name] = min(best.get(name, cpu_s), cpu_s)
    return {
        "bench": "sonic_profile_against",
        "before": str(checkout),
        "rounds": rounds,
        "before_cpu_s_per_file": round(best["before"], 3),
        "after_cpu_s_per_file": round(best["after"], 3),
        "speedup": round(best["before"] / best["after"], 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=0, help="only the first N files")
    parser.add_argument("--no-warmup", action="store_true", help="skip the numba cache line")
    parser.add_argument(
        "--against", type=Path, help="another checkout (e.g. the main branch) to time beside"
    )
    parser.add_argument("--rounds", type=int, default=2, help="turns of each with --against")
    args = parser.parse_args(argv)
    if args.against:
        _emit(against(args.against.resolve(), args.files, args.rounds))
        return 0
    summary = profile(real_files(args.files or None))
    _emit(summary)
    if not args.no_warmup:
        _emit(numba_warmup())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
