"""Regenerate ``tests/data/sonic_reference.npz``: stored beat3tower vectors of a few real files.

``tests/test_sonic_reference.py`` compares today's extraction against these numbers, so that a
speed-up cannot change a feature unnoticed. The file holds derived numbers only (never audio):
for each file its path under ``audio/realmusic``, the (4, 137) float32 matrix of
:func:`~musicwb.sonic.towers.extract_features` on :func:`~musicwb.sonic.io.read_audio`'s
output, its bpm and beat count, and the commit and library versions they came from.

Regenerate only on purpose (a deliberate change of the features), from a clean checkout:
``PYTHONPATH=. python tests/make_sonic_reference.py``; the data come from
``$MUSICWB_TEST_DATA`` (else ``../shared/data``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "data" / "sonic_reference.npz"
# Two composers, both source rates (44.1 kHz stereo, 48 kHz mono), a track under 60 s (its four
# segments are the whole track), one just over, and the longest of the two folders.
FILES = (
    "eric_skiff/tuxemon__all_of_us.ogg",
    "eric_skiff/tuxemon__hhavok_intro.ogg",
    "eric_skiff/tuxemon__were_all_under_the_stars.ogg",
    "yubatake/tuxemon__jrpg_maintheme.ogg",
    "yubatake/tuxemon__jrpg_royalcourt_loop.ogg",
    "yubatake/tuxemon__jrpg_battlefinal.ogg",
)


def realmusic_dir() -> Path:
    """``audio/realmusic`` of the shared test data."""
    base = Path(os.environ.get("MUSICWB_TEST_DATA") or REPO.parent / "shared" / "data")
    return base / "audio" / "realmusic"


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty", "--abbrev=40"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def _versions() -> str:
    import librosa
    import numba
    import soundfile
    import soxr

    return (
        f"librosa {librosa.__version__}, numpy {np.__version__}, numba {numba.__version__}, "
        f"soxr {soxr.__version__}, soundfile {soundfile.__version__} "
        f"(libsndfile {soundfile.__libsndfile_version__})"
    )


def main() -> int:
    from musicwb.sonic.io import read_audio
    from musicwb.sonic.towers import extract_features

    folder = realmusic_dir()
    matrices, bpms, beats = [], [], []
    for name in FILES:
        audio = read_audio(folder / name)
        features = extract_features(audio.samples, sr=audio.sr)
        matrices.append(features.matrix())
        bpms.append(features.bpm_info["bpm"])
        beats.append(features.n_beats)
        print(f"{name}: {audio.duration_s:.1f} s, bpm {bpms[-1]:.2f}, {beats[-1]} beats")
    commit = _commit()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        files=np.array(FILES),
        matrices=np.stack(matrices).astype(np.float32),
        bpm=np.array(bpms, dtype=np.float64),
        n_beats=np.array(beats, dtype=np.int64),
        commit=np.array(commit),
        versions=np.array(_versions()),
    )
    print(f"wrote {OUT.relative_to(REPO)} from commit {commit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
