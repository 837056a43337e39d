"""A running `musicwb scan` lets readers in between two commits: two real processes."""

from __future__ import annotations

import json
import subprocess
import time

import numpy as np
import soundfile as sf
from library_files import MUSICWB, run_cli

from musicwb.library import track_counts
from musicwb.store import Store


def test_tracks_reads_the_store_while_a_scan_writes_it(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    noise = (0.1 * np.random.default_rng(0).standard_normal((2205, 2))).astype("float32")
    n_files = 3000  # six batches of 500: a few seconds of scanning
    for i in range(n_files):
        noise[0, 0] = i / 1e5  # every file its own content
        sf.write(music / f"A{i} - T{i}.wav", noise, 22050)
    store = tmp_path / "s.duckdb"
    assert run_cli("scan", str(music / "A0 - T0.wav"), "--store", str(store)).returncode == 0

    scanning = subprocess.Popen(
        [str(MUSICWB), "scan", str(music), "--json", "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[int] = []
    try:
        while scanning.poll() is None:
            # A reader in another process, as `musicwb tracks` opens the store (read-only).
            with Store(store, read_only=True, lock_wait_s=10.0) as reader:
                seen.append(track_counts(reader)["tracks"])
            time.sleep(0.1)
    finally:
        out, err = scanning.communicate(timeout=300)
    assert scanning.returncode == 0, err
    # Some read happened between two of the scan's commits, not only before or after it.
    assert any(1 < n < n_files for n in seen), seen
    assert json.loads(out)["added"] == n_files - 1
    listed = run_cli("tracks", "--limit", "1", "--store", str(store))
    assert listed.stdout.rstrip().endswith(f"{n_files} track(s), 0 missing")
