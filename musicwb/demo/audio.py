"""Pure, deterministic synthesis of the demo library's music.

A track is rendered from an artist :class:`~musicwb.demo.styles.Style` (tempo range, key and
mode, chord progressions, the harmonic profile of the chord instrument, an FM lead, a bassline
pattern, a 16-step drum pattern, loudness), an :class:`~musicwb.demo.styles.AlbumVariation` of it
(tempo shift, brighter or darker timbre, denser or sparser drums) and a seed that picks the
progression, the melody and the arrangement. Everything is vectorised numpy: notes become
per-sample index arrays, drums are impulse trains convolved with one-shots. The same arguments
give the same samples, bit for bit, on one machine.

Examples
--------
>>> from musicwb.demo.styles import STYLES, AlbumVariation
>>> y = render_track(STYLES["techno"], variation=AlbumVariation(), bpm=130, bars=2, seed=1)
>>> y.dtype, y.shape, float(abs(y).max()) < 1.0
(dtype('float32'), (94645,), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from musicwb.demo.styles import MODES, STEPS_PER_BAR, AlbumVariation, Style
from musicwb.errors import ParameterError

__all__ = ["SAMPLE_RATE", "render_track"]

SAMPLE_RATE = 22050
_TABLE_SIZE = 4096  # a power of two: phase wraps with a bit mask
_SINE = np.sin(2 * np.pi * np.arange(_TABLE_SIZE) / _TABLE_SIZE).astype(np.float32)


@dataclass(frozen=True)
class _Score:
    """What every layer of one track plays to: the sound, the harmony and the time grid.

    ``chord_degree`` has shape (bars,): the scale degree of each bar's chord; ``grid`` has shape
    (bars, 16): the sample index of every 16th step (with swing); ``n`` is the track's length
    in samples.
    """

    style: Style
    variation: AlbumVariation
    chord_degree: np.ndarray
    scale: tuple[int, ...]
    grid: np.ndarray
    n: int
    step_s: float
    sr: int

    @property
    def step_samples(self) -> np.int64:
        """Samples from the first to the second step of a bar (swing included)."""
        return self.grid[0, 1] - self.grid[0, 0]


def render_track(
    style: Style,
    *,
    variation: AlbumVariation,
    bpm: float,
    bars: int,
    seed: int | tuple[int, ...],
    sr: int = SAMPLE_RATE,
) -> np.ndarray:
    """Render one mono track.

    Parameters
    ----------
    style : Style
        The artist's sound.
    variation : AlbumVariation
        The album's twist on it.
    bpm : float
        Tempo (the album's ``bpm_shift`` is *not* added here: pass the final tempo).
    bars : int
        Length in 4/4 bars (at least 2); the track lasts ``bars * 240 / bpm`` seconds plus a
        short tail.
    seed : int or tuple of int
        Picks progression, melody, humanisation and noise.
    sr : int, default 22050

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float32
        Peak below 1.0.
    """
    if bars < 2 or bpm <= 0 or sr < 8000:
        raise ParameterError(
            f"render_track needs bars >= 2, bpm > 0, sr >= 8000; got {bars}, {bpm}, {sr}"
        )
    rng = np.random.default_rng(seed)
    step_s = 60.0 / bpm / 4
    progression = style.progressions[int(rng.integers(len(style.progressions)))]
    score = _Score(
        style=style,
        variation=variation,
        chord_degree=np.array(
            [progression[(bar // style.bars_per_chord) % len(progression)] for bar in range(bars)]
        ),
        scale=MODES[style.mode],
        grid=_step_samples(bars, step_s=step_s, swing=style.swing, sr=sr),
        n=round((bars * STEPS_PER_BAR * step_s + 0.6) * sr),
        step_s=step_s,
        sr=sr,
    )
    masks = _arrangement(bars)
    # The order of the calls fixes what each layer draws from rng: keep it.
    layers = {
        "kick": _drum_layer("kick", score, masks["kick"], rng=rng),
        "snare": _drum_layer("snare", score, masks["snare"], rng=rng),
        "hat": _drum_layer("hat", score, masks["hat"], rng=rng),
        "bass": _bass(score, masks["bass"], rng=rng),
    }
    chords = _chords(score, masks["chords"])
    lead = _lead(score, masks["lead"], rng=rng)
    wet = _space(chords * style.gains["chords"] + lead * style.gains["lead"], score, rng=rng)
    mix = sum(layers[name] * style.gains[name] for name in layers) + wet
    return _master(mix, loudness_db=style.loudness_db, sr=sr)


# -- timing -----------------------------------------------------------------------------------


def _step_samples(bars: int, *, step_s: float, swing: float, sr: int) -> np.ndarray:
    """Sample index of every 16th step, shape (bars, 16), with swing on the off-16ths."""
    steps = np.arange(bars * STEPS_PER_BAR)
    seconds = (steps + swing * (steps % 2)) * step_s
    return np.round(seconds * sr).astype(np.int64).reshape(bars, STEPS_PER_BAR)


def _arrangement(bars: int) -> dict[str, np.ndarray]:
    """Which layers play in which bar: intro, main, breakdown, main, outro. Shape (bars,) each."""
    bar = np.arange(bars)
    edge = max(1, bars // 8)
    break_start = int(bars * 0.55) - max(1, bars // 12)
    breakdown = (
        (bar >= break_start) & (bar < break_start + max(2, bars // 6)) if bars >= 8 else bar < 0
    )
    intro, outro = bar < edge, bar >= bars - edge
    main = ~intro & ~outro & ~breakdown
    as_float = lambda mask: mask.astype(np.float64)
    return {
        "kick": as_float(~breakdown),
        "hat": as_float(np.ones(bars, bool)) * np.where(breakdown, 0.5, 1.0),
        "snare": as_float(main),
        "bass": as_float(main | outro),
        "chords": as_float(~intro | (bars < 8)),
        "lead": as_float((main & (bar >= bars // 3)) | breakdown),
    }


def _hits(pattern: np.ndarray, mask: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample positions and velocities of the non-zero cells of a (bars, 16) velocity grid."""
    velocity = pattern * mask[:, None]
    on = velocity > 0
    return grid[on], velocity[on]


# -- drums ------------------------------------------------------------------------------------


def _drum_layer(
    kind: str, score: _Score, mask: np.ndarray, *, rng: np.random.Generator
) -> np.ndarray:
    """One drum voice (``kick``, ``snare`` or ``hat``) over the whole track, shape (n,)."""
    style, variation = score.style, score.variation
    base = np.tile(np.asarray(getattr(style.drums, kind), dtype=np.float64), (len(mask), 1))
    if kind in ("hat", "kick") and variation.density > 0:
        # The album's density adds ghost notes on empty steps (fewer for the kick).
        chance = variation.density * (0.15 if kind == "kick" else 1.0)
        ghosts = (base == 0) & (rng.random(base.shape) < chance)
        base = base + ghosts * (0.3 if kind == "hat" else 0.5)
    elif kind == "hat" and variation.density < 0:
        base = base * (rng.random(base.shape) >= -variation.density)
    base = base * rng.uniform(0.85, 1.0, base.shape)  # humanised velocities
    positions, velocities = _hits(base, mask, score.grid)
    shot = _one_shot(kind, score, rng=rng)
    out = np.zeros(score.n + len(shot))
    for position, velocity in zip(positions.tolist(), velocities.tolist()):  # one add per hit
        out[position : position + len(shot)] += velocity * shot
    return out[: score.n]


def _one_shot(kind: str, score: _Score, *, rng: np.random.Generator) -> np.ndarray:
    style, sr = score.style, score.sr
    if kind == "kick":
        t = np.arange(int(0.6 * sr)) / sr
        # Producers tune the kick to the key: the octave of the tonic nearest to kick_hz.
        tonic_hz = float(_midi_hz(style.tonic))
        pitch = tonic_hz * 2.0 ** round(np.log2(style.kick_hz / tonic_hz))
        freq = pitch * (1 + 3 * np.exp(-t / 0.025))
        body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / style.kick_decay)
        click = np.exp(-t / 0.002) * 0.3
        return body + click
    if kind == "snare":
        t = np.arange(int(0.35 * sr)) / sr
        noise = signal.sosfilt(_band(1500, 6000, sr), rng.standard_normal(len(t)))
        tone = np.sin(2 * np.pi * style.snare_tone * t) * np.exp(-t / 0.04)  # untuned, like most
        return 0.7 * noise * np.exp(-t / 0.09) + 0.6 * tone
    t = np.arange(int((style.hat_decay * 6 + 0.01) * sr)) / sr
    low = min(7000 * score.variation.brightness, sr * 0.45 - 1)
    noise = signal.sosfilt(_highpass(low * 0.9, sr), rng.standard_normal(len(t)))
    return noise * np.exp(-t / style.hat_decay)


def _band(low: float, high: float, sr: int) -> np.ndarray:
    return signal.butter(2, [low, min(high, sr * 0.45)], btype="bandpass", fs=sr, output="sos")


def _highpass(cutoff: float, sr: int) -> np.ndarray:
    return signal.butter(2, cutoff, btype="highpass", fs=sr, output="sos")


def _lowpass(cutoff: float, sr: int) -> np.ndarray:
    return signal.butter(2, min(cutoff, sr * 0.45), btype="lowpass", fs=sr, output="sos")


# -- pitched instruments ----------------------------------------------------------------------


def _midi_hz(midi: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69) / 12)


def _degree_midi(degree: np.ndarray, scale: tuple[int, ...], tonic: int) -> np.ndarray:
    degree = np.asarray(degree)
    return tonic + np.asarray(scale)[degree % 7] + 12 * (degree // 7)


def _wavetable(partials: tuple[float, ...], brightness: float) -> np.ndarray:
    """One cycle of an additive waveform; brightness tilts the harmonic profile."""
    k = np.arange(1, len(partials) + 1)
    amplitudes = np.asarray(partials) * k ** (np.log2(max(brightness, 1e-3)) * 1.5)
    phase = np.arange(_TABLE_SIZE) / _TABLE_SIZE
    table = (amplitudes[:, None] * np.sin(2 * np.pi * k[:, None] * phase[None, :])).sum(axis=0)
    return (table / np.abs(table).max()).astype(np.float32)


def _voice(
    onsets: np.ndarray,
    freqs: np.ndarray,
    length: float,
    velocities: np.ndarray,
    n: int,
    *,
    attack: float,
    decay: float,
    release: float,
    sr: int,
    table: np.ndarray | None = None,
    fm: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Notes that start together and share one envelope (a melody line, or a chord's tones).

    Parameters
    ----------
    onsets : numpy.ndarray, shape (n_notes,)
        Start of each note in samples, increasing.
    freqs : numpy.ndarray, shape (n_tones, n_notes)
        Frequency of each tone of each note (one row for a melody, one per chord tone).
    length : float
        Note length in samples; a note also stops when the next one starts.
    velocities : numpy.ndarray, shape (n_notes,)
    n : int
        Length of the output.
    attack, decay, release : float
        Envelope times in seconds.
    table : numpy.ndarray, shape (4096,), optional
        One cycle of the waveform (additive synthesis).
    fm : (ratio, index, index_decay_s), optional
        Two-operator FM instead of a wavetable.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    if len(onsets) == 0:
        return np.zeros(n)
    first = int(onsets[0])
    durations = np.diff(np.append(onsets, n)).astype(np.int64)
    # Samples since the current note's onset, built per note (np.repeat beats fancy indexing).
    since = np.arange(n - first) - np.repeat(onsets - first, durations)
    span = int(length + release * sr) + 1
    t = np.arange(span) / sr
    gate = np.clip((length / sr + release - t) / release, 0.0, 1.0)
    envelope = (np.minimum(t / attack, 1.0) * np.exp(-t / decay) * gate).astype(np.float32)
    envelope[-1] = 0.0
    np.minimum(since, span - 1, out=since)
    gain = envelope[since] * np.repeat(velocities.astype(np.float32), durations)
    mask = _TABLE_SIZE - 1
    wave = np.zeros(n - first, dtype=np.float32)
    for tone_freqs in np.atleast_2d(freqs):
        # Continuous phase (in table steps): no clicks when the pitch moves.
        phase = np.cumsum(np.repeat(tone_freqs * (_TABLE_SIZE / sr), durations))
        if fm is not None:
            ratio, index, index_decay = fm
            depth = ((index * _TABLE_SIZE / (2 * np.pi)) * np.exp(-t / index_decay)).astype(
                np.float32
            )
            modulator = _SINE[(phase * ratio).astype(np.int64) & mask] * depth[since]
            wave += _SINE[(phase + modulator).astype(np.int64) & mask]
        else:
            wave += table[phase.astype(np.int64) & mask]
    out = np.zeros(n)
    out[first:] = wave * gain
    return out


def _bass(score: _Score, mask: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    style = score.style
    steps = np.asarray(style.bass_steps)
    onsets = score.grid[:, steps]
    degree = np.repeat(score.chord_degree[:, None], len(steps), axis=1)
    # Now and then the fifth or the octave instead of the root.
    degree = degree + np.where(rng.random(degree.shape) < 0.15, 4, 0)
    midi = _degree_midi(degree, score.scale, style.tonic) - 12 * (style.tonic >= 45)
    midi = midi + np.where(rng.random(midi.shape) < 0.1, 12, 0)
    velocity = np.repeat(mask[:, None], len(steps), axis=1) * rng.uniform(0.85, 1.0, midi.shape)
    on = velocity.ravel() > 0
    y = _voice(
        onsets.ravel()[on],
        _midi_hz(midi.ravel()[on]),
        style.bass_length * score.step_samples,
        velocity.ravel()[on],
        score.n,
        attack=0.004,
        decay=0.6,
        release=0.03,
        sr=score.sr,
        table=_wavetable(style.bass_partials, score.variation.brightness),
    )
    sub = signal.sosfilt(_lowpass(180, score.sr), y)
    return 0.6 * y + 0.8 * sub


def _chords(score: _Score, mask: np.ndarray) -> np.ndarray:
    style, step_s, sr = score.style, score.step_s, score.sr
    steps = np.asarray(style.chord_steps)
    onsets = score.grid[:, steps].ravel()
    velocity = np.repeat(mask[:, None], len(steps), axis=1).ravel()
    on = velocity > 0
    tones = (0, 2, 4, 6) if style.sevenths else (0, 2, 4)
    midi = _degree_midi(
        score.chord_degree[None, :] + np.asarray(tones)[:, None], score.scale, style.tonic + 12
    )
    # Keep voicings in one octave band above the tonic so chords lead smoothly.
    midi = np.where(midi >= style.tonic + 24, midi - 12, midi)
    per_strike = np.repeat(midi, len(steps), axis=1)
    out = _voice(
        onsets[on],
        _midi_hz(per_strike[:, on]),
        style.chord_length * step_s * sr,
        velocity[on],
        score.n,
        attack=style.chord_attack,
        decay=max(style.chord_length * step_s * 1.5, 0.05),
        release=style.chord_release,
        sr=sr,
        table=_wavetable(style.chord_partials, score.variation.brightness),
    )
    cutoff = style.chord_cutoff * score.variation.brightness
    return signal.sosfilt(_lowpass(cutoff, sr), out / len(tones))


def _lead(score: _Score, mask: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """A two-bar motif over the chord roots, repeated with small mutations."""
    style, variation = score.style, score.variation
    length = len(mask) * STEPS_PER_BAR
    motif_on = rng.random(2 * STEPS_PER_BAR) < style.lead_density
    motif_on[0] = True
    motif_degree = np.cumsum(rng.integers(-2, 3, 2 * STEPS_PER_BAR)) % 8
    repeats = (len(mask) + 1) // 2
    on = np.tile(motif_on, repeats)[:length]
    degree = np.tile(motif_degree, repeats)[:length]
    mutate = rng.random(degree.shape) < 0.08
    degree = np.where(mutate, degree + rng.integers(-2, 3, degree.shape), degree)
    degree = degree + np.repeat(score.chord_degree, STEPS_PER_BAR) % 7
    velocity = on * np.repeat(mask, STEPS_PER_BAR) * rng.uniform(0.7, 1.0, on.shape)
    keep = velocity > 0
    return _voice(
        score.grid.ravel()[keep],
        _midi_hz(_degree_midi(degree[keep], score.scale, style.tonic + 24)),
        2.0 * score.step_samples,
        velocity[keep],
        score.n,
        attack=0.005,
        decay=style.lead_decay,
        release=0.05,
        sr=score.sr,
        fm=(
            style.lead_ratio + variation.lead_ratio_shift,
            style.lead_index * variation.brightness,
            0.15,
        ),
    )


# -- space and master -------------------------------------------------------------------------


def _space(y: np.ndarray, score: _Score, *, rng: np.random.Generator) -> np.ndarray:
    """Dotted-eighth feedback echo and a small noise-tail room."""
    sr = score.sr
    out = y.copy()
    delay = round(3 * score.step_s * sr)
    for tap in range(1, 5):
        shift = tap * delay
        if shift < len(y):
            out[shift:] += y[:-shift] * score.style.echo**tap
    t = np.arange(int(0.9 * sr)) / sr
    room = rng.standard_normal(len(t)) * np.exp(-t / 0.3)
    room = signal.sosfilt(_lowpass(5000, sr), room)
    room = (room / np.sqrt((room**2).sum())).astype(np.float32)
    # One large FFT in single precision: a room tail does not need more.
    wet = signal.fftconvolve(out.astype(np.float32), room)[: len(y)]
    return out + score.style.reverb * wet


def _master(mix: np.ndarray, *, loudness_db: float, sr: int) -> np.ndarray:
    mix = (mix - mix.mean()).astype(np.float32)
    rms = float(np.sqrt(np.mean(np.square(mix, dtype=np.float64)))) or 1.0
    out = np.tanh(mix * np.float32(10 ** (loudness_db / 20) / rms)) * np.float32(0.98)
    fade_in, fade_out = min(int(0.02 * sr), len(out)), min(int(1.0 * sr), len(out))
    out[:fade_in] *= np.linspace(0, 1, fade_in, endpoint=False, dtype=np.float32)
    out[len(out) - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    return out
