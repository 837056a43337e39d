"""Reading audio: formats, channel layouts, rates, bit depths, broken files, ffmpeg or not."""

from __future__ import annotations

import shutil
import subprocess
import time

import numpy as np
import pytest
import soundfile as sf
import soxr

from musicwb.errors import AudioError, ParameterError, UnsupportedFormatError
from musicwb.sonic import io
from musicwb.sonic.io import BLOCK_FRAMES, probe_audio, read_audio

TONE_HZ = 440.0


def tone(seconds: float, sr: int, *, channels: int = 1, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    mono = (amplitude * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def dominant_hz(samples: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / sr)[np.argmax(spectrum)])


# (name, format, subtype, extension, seconds, sample rate, channels)
CASES = [
    ("wav mono 16-bit 44.1k", "WAV", "PCM_16", "wav", 2.0, 44100, 1),
    ("wav stereo 24-bit 48k", "WAV", "PCM_24", "wav", 2.0, 48000, 2),
    ("wav 5.1 16-bit 48k", "WAV", "PCM_16", "wav", 2.0, 48000, 6),
    ("wav mono 8 kHz", "WAV", "PCM_16", "wav", 2.0, 8000, 1),
    ("wav 1 s at 22.05k (no resampling)", "WAV", "FLOAT", "wav", 1.0, 22050, 1),
    ("flac stereo 24-bit 44.1k", "FLAC", "PCM_24", "flac", 2.0, 44100, 2),
    ("ogg vorbis stereo", "OGG", "VORBIS", "ogg", 2.0, 44100, 2),
    ("mp3 stereo", "MP3", "MPEG_LAYER_III", "mp3", 2.0, 44100, 2),
    ("mp3 mono 1 s", "MP3", "MPEG_LAYER_III", "mp3", 1.0, 44100, 1),
]


@pytest.mark.parametrize(
    ("name", "fmt", "subtype", "ext", "seconds", "sr", "channels"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_formats_decode_to_mono_float32_at_the_target_rate(
    tmp_path, name, fmt, subtype, ext, seconds, sr, channels
):
    path = tmp_path / f"tone.{ext}"
    sf.write(path, tone(seconds, sr, channels=channels), sr, format=fmt, subtype=subtype)

    audio = read_audio(path, sr=22050)

    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.sr == 22050 and audio.original_sr == sr and audio.channels == channels
    assert audio.duration_s == pytest.approx(seconds, abs=0.06)  # MP3 adds encoder padding
    assert audio.samples.size == pytest.approx(seconds * 22050, abs=0.06 * 22050)
    assert dominant_hz(audio.samples, 22050) == pytest.approx(TONE_HZ, abs=2.0)
    # Every channel holds the tone, so the mono mix keeps its level (RMS of a 0.5 sine ≈ 0.354).
    middle = audio.samples[audio.samples.size // 4 : -audio.samples.size // 4]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    info = probe_audio(path)
    assert (info.sr, info.channels, info.decoder) == (sr, channels, "soundfile")


def test_surround_is_mixed_down_as_the_mean_of_its_channels(tmp_path):
    data = np.zeros((44100, 6), dtype=np.float32)
    data[:, 0] = tone(1.0, 44100)  # front left only
    path = tmp_path / "surround.wav"
    sf.write(path, data, 44100, subtype="PCM_24")
    audio = read_audio(path)
    middle = audio.samples[5000:-5000]
    assert audio.channels == 6
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2) / 6, rel=0.05)


def test_blockwise_streaming_matches_resampling_in_one_go(tmp_path):
    sr, seconds = 44100, 3 * BLOCK_FRAMES / 44100 + 0.3  # more than three blocks
    rng = np.random.default_rng(3)
    data = (0.2 * rng.standard_normal((int(sr * seconds), 2))).astype(np.float32)
    path = tmp_path / "long.flac"
    sf.write(path, data, sr, subtype="PCM_24")
    streamed = read_audio(path, sr=22050).samples
    stored, _ = sf.read(path, dtype="float32")
    whole = soxr.resample(stored.mean(axis=1), sr, 22050, quality="HQ")
    assert streamed.shape == whole.shape
    assert np.max(np.abs(streamed - whole)) < 1e-4


def test_max_duration_reads_only_the_start(tmp_path):
    path = tmp_path / "ten.wav"
    sf.write(path, tone(10.0, 44100), 44100)
    audio = read_audio(path, max_duration=2.5)
    assert audio.decoded_s == pytest.approx(2.5, abs=0.01)
    assert audio.duration_s == pytest.approx(10.0, abs=0.01)
    assert audio.truncated_at_s == pytest.approx(2.5, abs=0.01)
    assert read_audio(path).truncated_at_s is None


def test_missing_and_empty_files_name_the_file_and_reason(tmp_path):
    with pytest.raises(AudioError, match=r"missing\.wav: file not found"):
        read_audio(tmp_path / "missing.wav")
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.flac: empty file \(0 bytes\)"):
        read_audio(empty)


def test_text_named_wav_is_not_audio(tmp_path):
    fake = tmp_path / "notes.wav"
    fake.write_text("this is a shopping list, not a recording\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav: not readable as audio") as caught:
        read_audio(fake)
    assert not isinstance(caught.value, UnsupportedFormatError)


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext"),
    [
        ("WAV", "PCM_16", "wav"),
        ("FLAC", "PCM_16", "flac"),
        ("OGG", "VORBIS", "ogg"),
        ("MP3", "MPEG_LAYER_III", "mp3"),
    ],
)
def test_truncated_files_fail_clearly(tmp_path, fmt, subtype, ext):
    whole = tmp_path / f"whole.{ext}"
    sf.write(whole, tone(4.0, 44100, channels=2), 44100, format=fmt, subtype=subtype)
    data = whole.read_bytes()
    for fraction in (0.5, 0.02):
        cut = tmp_path / f"cut_{fraction}.{ext}"
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(
            AudioError, match=rf"cut_{fraction}\.{ext}: .*(truncated|corrupt|malformed)"
        ) as caught:
            read_audio(cut)
        print(f"{ext} cut to {fraction:.0%}: {caught.value}")


def test_parameters_are_validated(tmp_path):
    path = tmp_path / "ok.wav"
    sf.write(path, tone(1.0, 22050), 22050)
    with pytest.raises(ParameterError, match="sr"):
        read_audio(path, sr=0)
    with pytest.raises(ParameterError, match="max_duration"):
        read_audio(path, max_duration=-1)


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


@needs_ffmpeg
def test_m4a_is_decoded_through_ffmpeg(tmp_path):
    wav = tmp_path / "tone.wav"
    sf.write(wav, tone(3.0, 44100, channels=2), 44100)
    m4a = tmp_path / "tone.m4a"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(wav),
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            str(m4a),
        ],
        check=True,
    )
    info = probe_audio(m4a)
    audio = read_audio(m4a, sr=22050)
    assert info.decoder == "ffmpeg" and info.subtype == "aac"
    assert (audio.original_sr, audio.channels) == (44100, 2)
    assert audio.decoded_s == pytest.approx(3.0, abs=0.1)
    assert dominant_hz(audio.samples, 22050) == pytest.approx(TONE_HZ, abs=2.0)


@needs_ffmpeg
def test_real_m4a_matches_its_flac_twin(shared_data):
    folder = shared_data / "audio" / "annotated"
    aac = read_audio(folder / "madmom_stereo_sample.m4a")
    flac = read_audio(folder / "madmom_stereo_sample.flac")
    assert (aac.channels, aac.original_sr) == (flac.channels, flac.original_sr)
    assert aac.decoded_s == pytest.approx(flac.decoded_s, abs=0.1)
    # AAC adds an encoder delay: align on the cross-correlation peak before comparing.
    n = min(aac.samples.size, flac.samples.size)
    a, b = aac.samples[:n], flac.samples[:n]
    lag = int(np.argmax(np.correlate(a[:22050], b[:22050], mode="full"))) - 22050 + 1
    a, b = (a[lag:], b[: n - lag]) if lag >= 0 else (a[: n + lag], b[-lag:])
    correlation = float(np.corrcoef(a, b)[0, 1])
    print(f"m4a vs flac: lag {lag} samples, correlation {correlation:.4f}")
    assert correlation > 0.95


def test_m4a_without_ffmpeg_is_a_clear_unsupported_format_error(tmp_path, monkeypatch, shared_data):
    monkeypatch.setattr(io.shutil, "which", lambda name: None)
    for path in (
        shared_data / "audio" / "annotated" / "madmom_stereo_sample.m4a",
        tmp_path / "song.m4a",
    ):
        if not path.exists():
            path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(64))
        with pytest.raises(
            UnsupportedFormatError, match=r"\.m4a.*unsupported format '\.m4a'.*install ffmpeg"
        ):
            read_audio(path)
        with pytest.raises(UnsupportedFormatError):
            probe_audio(path)


def test_without_ffmpeg_soundfile_formats_still_work(tmp_path, monkeypatch):
    monkeypatch.setattr(io.shutil, "which", lambda name: None)
    path = tmp_path / "tone.ogg"
    sf.write(path, tone(1.0, 44100), 44100, format="OGG", subtype="VORBIS")
    assert read_audio(path).channels == 1
    fake = tmp_path / "fake.mp3"
    fake.write_text("not audio")
    with pytest.raises(AudioError, match=r"fake\.mp3: not readable as audio"):
        read_audio(fake)


def test_every_shared_file_decodes_or_fails_with_a_reason(shared_data):
    """All of audio/: audio files decode; the rest (CSV, notes, a text named .ogg) fail clearly."""
    audio_ext = {".wav", ".flac", ".ogg", ".mp3", ".m4a"}
    decoded, failed = [], []
    for path in sorted(p for p in (shared_data / "audio").rglob("*") if p.is_file()):
        try:
            audio = read_audio(path, max_duration=5.0)
        except AudioError as exc:
            assert str(path) in str(exc)
            failed.append((path, str(exc)))
            continue
        assert audio.samples.size > 0 and np.all(np.isfinite(audio.samples))
        decoded.append(path)
    print(f"\n{len(decoded)} decoded, {len(failed)} recorded errors")
    for path, reason in failed:
        if path.suffix.lower() in audio_ext:
            print(f"  {path.name}: {reason}")
    failed_audio = [path.name for path, _ in failed if path.suffix.lower() in audio_ext]
    # The only audio-named file that fails is the 34-byte text placeholder named .ogg.
    assert failed_audio == ["Karissa_Hobbs_-_Let's_Go_Fishin'.ogg"]
    assert all(path.suffix.lower() in audio_ext for path in decoded)
    assert len(decoded) >= 95


@pytest.mark.slow
def test_one_hour_file_is_read_with_memory_close_to_the_output_size(tmp_path):
    import tracemalloc

    sr, seconds = 8000, 3600
    path = tmp_path / "hour.wav"
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as handle:
        for minute in range(seconds // 60):
            handle.write(tone(60.0, sr, amplitude=0.1 + 0.001 * minute))
    tracemalloc.start()
    started = time.perf_counter()
    audio = read_audio(path, sr=22050)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output_mb = audio.samples.nbytes / 1e6
    print(
        f"1 h mono 8 kHz WAV ({path.stat().st_size / 1e6:.0f} MB) -> {audio.samples.size} "
        f"samples at 22050 Hz "
        f"({output_mb:.0f} MB) in {elapsed:.1f} s; peak traced memory {peak / 1e6:.0f} MB"
    )
    assert audio.decoded_s == pytest.approx(3600.0, abs=0.1)
    assert peak < audio.samples.nbytes * 1.1 + 20e6
