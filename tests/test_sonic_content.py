"""Silence, near-silence and steady tones are flagged at extraction; real music is not.

Real files where they exist (``audio/badaudio``: 10 minutes of digital silence, a 1 s sine, an
8 kHz sine; ``audio/realmusic``: 75 real tracks), generated ones otherwise (−70 dBFS noise, a
30 s sine), all written to disk and decoded by :func:`musicwb.sonic.io.read_audio`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from musicwb.cli import app
from musicwb.errors import ParameterError
from musicwb.library import scan_library
from musicwb.sonic.content import classify_content
from musicwb.sonic.extract import extract_library
from musicwb.sonic.io import read_audio
from musicwb.store import Store

SR = 22050


def _check(path: Path):
    audio = read_audio(path)
    return classify_content(audio.samples, sr=audio.sr)


def _sine(seconds: float, hz: float = 440.0) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * hz * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


def test_ten_minutes_of_digital_silence_is_silence(shared_data):
    check = _check(shared_data / "audio" / "badaudio" / "silent_10min.flac")
    assert check.flag == "silence" and check.peak_dbfs == float("-inf")
    assert "digital silence" in check.reason


def test_noise_at_minus_70_dbfs_is_near_silence(tmp_path):
    noise = np.random.default_rng(3).standard_normal(20 * SR) * 10 ** (-70 / 20)
    sf.write(tmp_path / "hiss.flac", noise.astype(np.float32), SR)
    check = _check(tmp_path / "hiss.flac")
    assert check.flag == "near_silence", check
    assert check.rms_dbfs == pytest.approx(-70, abs=1.5) and "RMS" in check.reason


@pytest.mark.parametrize("name", ["one_second.wav", "mono8k.wav"])
def test_the_sines_of_badaudio_are_steady_tones(shared_data, name):
    check = _check(shared_data / "audio" / "badaudio" / name)
    assert check.flag == "steady_tone", check
    assert "unchanging tonal spectrum" in check.reason


def test_a_30_second_sine_and_a_steady_chord_are_steady_tones(tmp_path):
    sf.write(tmp_path / "sine.wav", _sine(30.0), SR)
    assert _check(tmp_path / "sine.wav").flag == "steady_tone"
    chord = sum(_sine(30.0, hz) for hz in (220, 277, 330)) / 3
    assert classify_content(chord, sr=SR).flag == "steady_tone"


def test_a_melody_a_quiet_passage_and_a_fade_are_not_flagged():
    rng = np.random.default_rng(0)
    melody = np.concatenate([_sine(0.4, hz) for hz in rng.choice([262, 294, 330, 392, 440], 50)])
    assert classify_content(melody, sr=SR).flag is None
    quiet_then_loud = np.concatenate([np.zeros(10 * SR, np.float32), melody])
    assert classify_content(quiet_then_loud, sr=SR).flag is None
    fade = _sine(20.0) * np.linspace(1, 0, 20 * SR, dtype=np.float32)  # a level that changes
    assert classify_content(fade, sr=SR).flag is None
    with pytest.raises(ParameterError, match="mono"):
        classify_content(np.zeros((2, 100)), sr=SR)


@pytest.mark.slow
def test_none_of_the_75_real_tracks_is_flagged(shared_data):
    folder = shared_data / "audio" / "realmusic"
    files = sorted(p for p in folder.rglob("*") if p.suffix in {".ogg", ".mp3"})
    assert len(files) == 75
    checks = {p.name: _check(p) for p in files}
    flagged = {name: c.reason for name, c in checks.items() if c.flag}
    assert flagged == {}
    # The margins: the steadiest real track is far from a tone, the quietest far from silence.
    assert max(c.steadiness for c in checks.values()) < 0.9
    assert min(c.rms_dbfs for c in checks.values()) > -40
    print(
        f"\n75 real tracks, none flagged; steadiness max "
        f"{max(c.steadiness for c in checks.values()):.3f} (tone: >= 0.98), RMS min "
        f"{min(c.rms_dbfs for c in checks.values()):.1f} dBFS (near silence: < -60)"
    )


def test_extraction_stores_the_flag_and_the_command_counts_them(tmp_path, monkeypatch):
    folder = tmp_path / "music"
    folder.mkdir()
    sf.write(folder / "silence.wav", np.zeros(5 * SR, np.float32), SR)
    sf.write(folder / "tone.wav", _sine(6.0), SR)
    rng = np.random.default_rng(1)
    melody = np.concatenate([_sine(0.25, hz) for hz in rng.choice([262, 330, 392, 523], 32)])
    sf.write(folder / "melody.wav", melody, SR)
    path = tmp_path / "lib.duckdb"
    with Store(path) as store:
        scan_library(store, folder, progress=False)
        summary = extract_library(store, progress=False)
        rows = store.df(
            "SELECT t.path, f.content_flag, f.content_reason FROM sonic_features f "
            "JOIN tracks t ON t.id = f.track_id ORDER BY t.path"
        )
    assert summary.flagged == {"silence": 1, "steady_tone": 1}
    assert "2 flagged: 1 silence, 1 steady_tone" in summary.describe()
    flags = {Path(p).name: f for p, f in zip(rows["path"], rows["content_flag"])}
    assert flags == {"melody.wav": None, "silence.wav": "silence", "tone.wav": "steady_tone"}
    assert rows["content_reason"].notna().sum() == 2
    done = CliRunner().invoke(
        app, ["extract", "--store", str(path), "--force", "--yes", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["flagged"] == {"silence": 1, "steady_tone": 1}
    done = CliRunner().invoke(app, ["extract", "--store", str(path), "--force", "--yes"])
    assert "2 flagged: 1 silence, 1 steady_tone" in done.stdout
