"""Pure, deterministic synthesis of the demo library's music.

A track is rendered from an artist :class:`Style` (tempo range, key and mode, chord progressions,
the harmonic profile of the chord instrument, an FM lead, a bassline pattern, a 16-step drum
pattern, loudness), an :class:`AlbumVariation` of it (tempo shift, brighter or darker timbre,
denser or sparser drums) and a seed that picks the progression, the melody and the arrangement.
Everything is vectorised numpy: notes become per-sample index arrays, drums are impulse trains
convolved with one-shots. The same arguments give the same samples, bit for bit, on one machine.

Examples
--------
>>> y = render_track(STYLES["techno"], variation=AlbumVariation(), bpm=130, bars=2, seed=1)
>>> y.dtype, y.shape, float(abs(y).max()) < 1.0
(dtype('float32'), (94645,), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from musicwb.errors import ParameterError

__all__ = [
    "SAMPLE_RATE",
    "STYLES",
    "AlbumVariation",
    "DrumPattern",
    "Style",
    "key_name",
    "render_track",
    "track_bars",
]

SAMPLE_RATE = 22050
_TABLE_SIZE = 4096  # a power of two: phase wraps with a bit mask
_SINE = np.sin(2 * np.pi * np.arange(_TABLE_SIZE) / _TABLE_SIZE).astype(np.float32)
_STEPS_PER_BAR = 16

_MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}
_PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _steps(*on: int, velocity: float = 1.0) -> tuple[float, ...]:
    return tuple(velocity if step in on else 0.0 for step in range(_STEPS_PER_BAR))


@dataclass(frozen=True)
class DrumPattern:
    """One bar of drums on a 16-step grid; each entry is a velocity in [0, 1].

    Attributes
    ----------
    kick, snare, hat : tuple of 16 float
    """

    kick: tuple[float, ...]
    snare: tuple[float, ...]
    hat: tuple[float, ...]


@dataclass(frozen=True)
class Style:
    """The recognisable sound of one artist.

    Attributes
    ----------
    bpm : (float, float)
        Tempo range; each track picks a tempo in it (before the album's shift).
    tonic : int
        MIDI note of the key's tonic in the bass octave (e.g. 45 = A2).
    mode : str
        ``"major"``, ``"minor"``, ``"dorian"`` or ``"phrygian"``.
    progressions : tuple of tuple of int
        Chord progressions as scale degrees (0 = tonic), one chord per ``bars_per_chord`` bars.
    chord_partials : tuple of float
        Harmonic amplitudes of the chord instrument (additive synthesis), fundamental first.
    chord_steps : tuple of int
        Steps of the bar on which the chord strikes (``(0,)`` = a held pad).
    chord_length : float
        How long a chord strike sounds, in 16th steps.
    chord_attack, chord_release : float
        Envelope times of the chord instrument, in seconds.
    chord_cutoff : float
        Low-pass cutoff of the chord bus, in Hz (the album's brightness scales it).
    sevenths : bool
        Whether chords carry their seventh.
    bass_steps : tuple of int
        Steps of the bar on which the bass plays.
    bass_length : float
        Bass note length in steps.
    bass_partials : tuple of float
        Harmonic amplitudes of the bass.
    lead_ratio, lead_index : float
        FM lead: modulator/carrier frequency ratio and modulation index.
    lead_decay : float
        Lead note decay, in seconds.
    lead_density : float
        Probability that a 16th step of the melody's two-bar motif starts a note.
    drums : DrumPattern
    kick_hz, kick_decay : float
        Kick pitch (Hz; tuned to the nearest octave of the tonic) and decay (s).
    snare_tone : float
        Body pitch of the snare/clap (Hz); the noise part is band-passed around 3 kHz.
    hat_decay : float
        Closed-hat decay (s); longer sounds like an open hat.
    swing : float
        Delay of every second 16th step, as a fraction of a step.
    echo : float
        Feedback echo (dotted eighth) on chords and lead, 0 = dry.
    reverb : float
        Wet level of the room on chords and lead.
    gains : dict
        Level of each layer: kick, snare, hat, bass, chords, lead.
    loudness_db : float
        Target RMS level of the master, in dBFS.
    bars_per_chord : int
    """

    bpm: tuple[float, float]
    tonic: int
    mode: str
    progressions: tuple[tuple[int, ...], ...]
    chord_partials: tuple[float, ...]
    chord_steps: tuple[int, ...]
    chord_length: float
    chord_attack: float
    chord_release: float
    chord_cutoff: float
    sevenths: bool
    bass_steps: tuple[int, ...]
    bass_length: float
    bass_partials: tuple[float, ...]
    lead_ratio: float
    lead_index: float
    lead_decay: float
    lead_density: float
    drums: DrumPattern
    kick_hz: float
    kick_decay: float
    snare_tone: float
    hat_decay: float
    swing: float
    echo: float
    reverb: float
    gains: dict[str, float] = field(hash=False)
    loudness_db: float
    bars_per_chord: int = 1


@dataclass(frozen=True)
class AlbumVariation:
    """How one album varies its artist's style.

    Attributes
    ----------
    bpm_shift : float
        Added to every tempo of the album.
    brightness : float
        > 1 brighter (more high partials, higher cutoff), < 1 darker.
    density : float
        Probability of extra ghost hats and kicks per empty step (0 = the plain pattern).
    lead_ratio_shift : float
        Added to the FM lead's ratio: a different lead timbre on this album.
    """

    bpm_shift: float = 0.0
    brightness: float = 1.0
    density: float = 0.0
    lead_ratio_shift: float = 0.0


_MINOR_PROGRESSIONS = ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 0, 4))
_MAJOR_PROGRESSIONS = ((0, 4, 5, 3), (0, 3, 0, 4), (5, 3, 0, 4), (0, 5, 3, 4))
_FOUR_ON_FLOOR = _steps(0, 4, 8, 12)

# fmt: off
STYLES: dict[str, Style] = {
    "techno": Style(
        bpm=(130, 134), tonic=45, mode="minor", progressions=((0, 0, 5, 6), (0, 0, 3, 0)),
        chord_partials=(1, 0.5, 0.33, 0.25, 0.2, 0.17, 0.14, 0.12), chord_steps=(3, 11),
        chord_length=1.5, chord_attack=0.003, chord_release=0.08, chord_cutoff=2400,
        sevenths=False, bass_steps=(2, 6, 10, 14), bass_length=1.5,
        bass_partials=(1, 0.6, 0.4, 0.3), lead_ratio=3.5, lead_index=2.5, lead_decay=0.12,
        lead_density=0.28,
        drums=DrumPattern(_FOUR_ON_FLOOR, _steps(4, 12, velocity=0.5),
                          tuple(0.9 if s % 4 == 2 else 0.35 for s in range(16))),
        kick_hz=50, kick_decay=0.32, snare_tone=190, hat_decay=0.035, swing=0.0, echo=0.2,
        reverb=0.25, gains={"kick": 1.0, "snare": 0.35, "hat": 0.3, "bass": 0.45, "chords": 0.3,
                            "lead": 0.18}, loudness_db=-11.0),
    "dub_techno": Style(
        bpm=(117, 121), tonic=48, mode="minor", progressions=((0, 0, 5, 5), (0, 0, 3, 3)),
        chord_partials=(1, 0.7, 0.5, 0.4, 0.3, 0.2, 0.15), chord_steps=(2, 10),
        chord_length=1.0, chord_attack=0.005, chord_release=0.25, chord_cutoff=1300,
        sevenths=True, bass_steps=(0, 7, 10), bass_length=3.0, bass_partials=(1, 0.15),
        lead_ratio=1.0, lead_index=0.6, lead_decay=0.6, lead_density=0.08,
        drums=DrumPattern(_steps(0, 4, 8, 12, velocity=0.8), _steps(12, velocity=0.25),
                          _steps(2, 6, 10, 14, velocity=0.6)),
        kick_hz=46, kick_decay=0.45, snare_tone=160, hat_decay=0.06, swing=0.0, echo=0.65,
        reverb=0.55, gains={"kick": 0.9, "snare": 0.25, "hat": 0.25, "bass": 0.5,
                            "chords": 0.45, "lead": 0.12}, loudness_db=-15.0, bars_per_chord=2),
    "deep_house": Style(
        bpm=(120, 124), tonic=41, mode="dorian", progressions=((0, 3, 1, 4), (0, 6, 3, 4)),
        chord_partials=(1, 0.25, 0.5, 0.1, 0.2, 0.05), chord_steps=(2, 6, 10, 14),
        chord_length=1.2, chord_attack=0.01, chord_release=0.15, chord_cutoff=3000,
        sevenths=True, bass_steps=(0, 3, 6, 10, 14), bass_length=1.8,
        bass_partials=(1, 0.3, 0.1), lead_ratio=2.0, lead_index=1.2, lead_decay=0.35,
        lead_density=0.22,
        drums=DrumPattern(_FOUR_ON_FLOOR, _steps(4, 12, velocity=0.9),
                          tuple(0.8 if s % 4 == 2 else (0.25 if s % 2 else 0.0) for s in range(16))),
        kick_hz=55, kick_decay=0.28, snare_tone=230, hat_decay=0.09, swing=0.18, echo=0.15,
        reverb=0.35, gains={"kick": 0.95, "snare": 0.45, "hat": 0.3, "bass": 0.5, "chords": 0.38,
                            "lead": 0.2}, loudness_db=-13.0),
    "minimal": Style(
        bpm=(124, 127), tonic=50, mode="phrygian", progressions=((0, 0, 1, 0), (0, 6, 0, 1)),
        chord_partials=(1, 0.0, 0.45, 0.0, 0.25, 0.0, 0.12), chord_steps=(3, 7, 14),
        chord_length=0.6, chord_attack=0.002, chord_release=0.04, chord_cutoff=3500,
        sevenths=False, bass_steps=(2, 5, 10, 13), bass_length=0.8, bass_partials=(1, 0.05),
        lead_ratio=5.0, lead_index=3.0, lead_decay=0.05, lead_density=0.35,
        drums=DrumPattern(_FOUR_ON_FLOOR, _steps(6, 13, velocity=0.35),
                          tuple(0.5 if s % 2 == 0 else 0.2 for s in range(16))),
        kick_hz=60, kick_decay=0.18, snare_tone=420, hat_decay=0.02, swing=0.08, echo=0.3,
        reverb=0.15, gains={"kick": 1.0, "snare": 0.4, "hat": 0.28, "bass": 0.35, "chords": 0.28,
                            "lead": 0.2}, loudness_db=-14.0),
    "electro": Style(
        bpm=(126, 130), tonic=40, mode="minor", progressions=((0, 0, 6, 5), (0, 3, 0, 6)),
        chord_partials=(1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3), chord_steps=(0, 8),
        chord_length=2.0, chord_attack=0.002, chord_release=0.05, chord_cutoff=4200,
        sevenths=False, bass_steps=(0, 3, 6, 8, 11, 14), bass_length=1.0,
        bass_partials=(1, 0.8, 0.6, 0.5, 0.4, 0.3), lead_ratio=1.5, lead_index=4.0,
        lead_decay=0.18, lead_density=0.3,
        drums=DrumPattern(_steps(0, 7, 10), _steps(4, 12), tuple(0.6 for _ in range(16))),
        kick_hz=48, kick_decay=0.5, snare_tone=200, hat_decay=0.015, swing=0.0, echo=0.1,
        reverb=0.1, gains={"kick": 1.0, "snare": 0.55, "hat": 0.22, "bass": 0.4, "chords": 0.2,
                           "lead": 0.22}, loudness_db=-10.5),
    "progressive": Style(
        bpm=(136, 140), tonic=43, mode="major", progressions=_MAJOR_PROGRESSIONS[:2],
        chord_partials=(1, 0.5, 0.33, 0.25, 0.2, 0.16, 0.14, 0.12, 0.1), chord_steps=tuple(range(0, 16, 2)),
        chord_length=1.6, chord_attack=0.004, chord_release=0.06, chord_cutoff=5000,
        sevenths=False, bass_steps=(2, 6, 10, 14), bass_length=1.6,
        bass_partials=(1, 0.5, 0.33, 0.25), lead_ratio=1.0, lead_index=1.8, lead_decay=0.25,
        lead_density=0.45,
        drums=DrumPattern(_FOUR_ON_FLOOR, _steps(4, 12, velocity=0.6), _steps(2, 6, 10, 14)),
        kick_hz=52, kick_decay=0.25, snare_tone=210, hat_decay=0.12, swing=0.0, echo=0.35,
        reverb=0.45, gains={"kick": 1.0, "snare": 0.3, "hat": 0.28, "bass": 0.4, "chords": 0.3,
                            "lead": 0.25}, loudness_db=-10.0),
    "electronica": Style(
        bpm=(90, 96), tonic=39, mode="major", progressions=_MAJOR_PROGRESSIONS[2:],
        chord_partials=(1, 0.1, 0.3, 0.05, 0.1), chord_steps=(0,), chord_length=14.0,
        chord_attack=0.4, chord_release=0.8, chord_cutoff=2000, sevenths=True,
        bass_steps=(0, 10), bass_length=4.0, bass_partials=(1, 0.2),
        lead_ratio=3.0, lead_index=0.8, lead_decay=0.8, lead_density=0.18,
        drums=DrumPattern(_steps(0, 10, velocity=0.8), _steps(4, 12, velocity=0.7),
                          tuple(0.45 if s % 2 == 0 else 0.0 for s in range(16))),
        kick_hz=62, kick_decay=0.22, snare_tone=260, hat_decay=0.04, swing=0.22, echo=0.3,
        reverb=0.6, gains={"kick": 0.7, "snare": 0.45, "hat": 0.2, "bass": 0.45, "chords": 0.5,
                           "lead": 0.28}, loudness_db=-17.0),
    "drum_and_bass": Style(
        bpm=(170, 174), tonic=42, mode="minor", progressions=((0, 0, 5, 6), (0, 6, 5, 4)),
        chord_partials=(1, 0.3, 0.2, 0.1), chord_steps=(0,), chord_length=15.0,
        chord_attack=0.3, chord_release=0.5, chord_cutoff=1800, sevenths=True,
        bass_steps=(0, 3, 10), bass_length=2.5, bass_partials=(1, 0.9, 0.7, 0.5, 0.3),
        lead_ratio=2.0, lead_index=1.0, lead_decay=0.3, lead_density=0.12,
        drums=DrumPattern(_steps(0, 10), _steps(4, 12), tuple(0.5 for _ in range(16))),
        kick_hz=58, kick_decay=0.2, snare_tone=240, hat_decay=0.025, swing=0.0, echo=0.2,
        reverb=0.3, gains={"kick": 0.9, "snare": 0.7, "hat": 0.2, "bass": 0.55, "chords": 0.3,
                           "lead": 0.15}, loudness_db=-11.5, bars_per_chord=2),
}
# fmt: on


def key_name(style: Style) -> str:
    """The key of a style as musicians write it, e.g. ``"A minor"`` (dorian and phrygian count
    as minor).

    Examples
    --------
    >>> key_name(STYLES["techno"])
    'A minor'
    """
    quality = "major" if style.mode == "major" else "minor"
    return f"{_PITCH_NAMES[style.tonic % 12]} {quality}"


def track_bars(bpm: float, *, target_s: float) -> int:
    """The number of whole bars (4/4) whose length is closest to ``target_s`` seconds, even.

    Examples
    --------
    >>> track_bars(120, target_s=40)
    20
    """
    if bpm <= 0 or target_s <= 0:
        raise ParameterError(
            f"bpm and target_s must be positive, got bpm={bpm}, target_s={target_s}"
        )
    bar_s = 4 * 60.0 / bpm
    return max(2, 2 * round(target_s / bar_s / 2))


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
    n = round((bars * _STEPS_PER_BAR * step_s + 0.6) * sr)
    grid = _step_samples(bars, step_s=step_s, swing=style.swing, sr=sr)
    masks = _arrangement(bars)
    scale = _MODES[style.mode]
    progression = style.progressions[int(rng.integers(len(style.progressions)))]
    chord_degree = np.array(
        [progression[(bar // style.bars_per_chord) % len(progression)] for bar in range(bars)]
    )

    layers = {
        "kick": _drum_layer("kick", style, variation, masks["kick"], grid, n, rng=rng, sr=sr),
        "snare": _drum_layer("snare", style, variation, masks["snare"], grid, n, rng=rng, sr=sr),
        "hat": _drum_layer("hat", style, variation, masks["hat"], grid, n, rng=rng, sr=sr),
        "bass": _bass(
            style, variation, chord_degree, scale, masks["bass"], grid, n, rng=rng, sr=sr
        ),
    }
    chords = _chords(
        style, variation, chord_degree, scale, masks["chords"], grid, n, step_s=step_s, sr=sr
    )
    lead = _lead(style, variation, chord_degree, scale, masks["lead"], grid, n, rng=rng, sr=sr)
    wet = _space(
        chords * style.gains["chords"] + lead * style.gains["lead"],
        style,
        step_s=step_s,
        rng=rng,
        sr=sr,
    )
    mix = sum(layers[name] * style.gains[name] for name in layers) + wet
    return _master(mix, loudness_db=style.loudness_db, sr=sr)


# -- timing -----------------------------------------------------------------------------------


def _step_samples(bars: int, *, step_s: float, swing: float, sr: int) -> np.ndarray:
    """Sample index of every 16th step, shape (bars, 16), with swing on the off-16ths."""
    steps = np.arange(bars * _STEPS_PER_BAR)
    seconds = (steps + swing * (steps % 2)) * step_s
    return np.round(seconds * sr).astype(np.int64).reshape(bars, _STEPS_PER_BAR)


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
    kind: str,
    style: Style,
    variation: AlbumVariation,
    mask: np.ndarray,
    grid: np.ndarray,
    n: int,
    *,
    rng: np.random.Generator,
    sr: int,
) -> np.ndarray:
    bars = len(mask)
    base = np.tile(np.asarray(getattr(style.drums, kind), dtype=np.float64), (bars, 1))
    if kind in ("hat", "kick") and variation.density > 0:
        # The album's density adds ghost notes on empty steps (fewer for the kick).
        chance = variation.density * (0.15 if kind == "kick" else 1.0)
        ghosts = (base == 0) & (rng.random(base.shape) < chance)
        base = base + ghosts * (0.3 if kind == "hat" else 0.5)
    elif kind == "hat" and variation.density < 0:
        base = base * (rng.random(base.shape) >= -variation.density)
    base = base * rng.uniform(0.85, 1.0, base.shape)  # humanised velocities
    positions, velocities = _hits(base, mask, grid)
    shot = _one_shot(kind, style, variation, rng=rng, sr=sr)
    out = np.zeros(n + len(shot))
    for position, velocity in zip(positions.tolist(), velocities.tolist()):  # one add per hit
        out[position : position + len(shot)] += velocity * shot
    return out[:n]


def _one_shot(
    kind: str, style: Style, variation: AlbumVariation, *, rng: np.random.Generator, sr: int
) -> np.ndarray:
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
    low = min(7000 * variation.brightness, sr * 0.45 - 1)
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


def _bass(
    style: Style,
    variation: AlbumVariation,
    chord_degree: np.ndarray,
    scale: tuple[int, ...],
    mask: np.ndarray,
    grid: np.ndarray,
    n: int,
    *,
    rng: np.random.Generator,
    sr: int,
) -> np.ndarray:
    bars = len(mask)
    steps = np.asarray(style.bass_steps)
    onsets = grid[:, steps]
    degree = np.repeat(chord_degree[:, None], len(steps), axis=1)
    # Now and then the fifth or the octave instead of the root.
    degree = degree + np.where(rng.random(degree.shape) < 0.15, 4, 0)
    midi = _degree_midi(degree, scale, style.tonic) - 12 * (style.tonic >= 45)
    midi = midi + np.where(rng.random(midi.shape) < 0.1, 12, 0)
    velocity = np.repeat(mask[:, None], len(steps), axis=1) * rng.uniform(0.85, 1.0, midi.shape)
    step_len = (grid[0, 1] - grid[0, 0]) if bars else 0
    on = velocity.ravel() > 0
    table = _wavetable(style.bass_partials, variation.brightness)
    y = _voice(
        onsets.ravel()[on],
        _midi_hz(midi.ravel()[on]),
        style.bass_length * step_len,
        velocity.ravel()[on],
        n,
        attack=0.004,
        decay=0.6,
        release=0.03,
        sr=sr,
        table=table,
    )
    sub = signal.sosfilt(_lowpass(180, sr), y)
    return 0.6 * y + 0.8 * sub


def _chords(
    style: Style,
    variation: AlbumVariation,
    chord_degree: np.ndarray,
    scale: tuple[int, ...],
    mask: np.ndarray,
    grid: np.ndarray,
    n: int,
    *,
    step_s: float,
    sr: int,
) -> np.ndarray:
    steps = np.asarray(style.chord_steps)
    onsets = grid[:, steps].ravel()
    velocity = np.repeat(mask[:, None], len(steps), axis=1).ravel()
    on = velocity > 0
    tones = (0, 2, 4, 6) if style.sevenths else (0, 2, 4)
    table = _wavetable(style.chord_partials, variation.brightness)
    length = style.chord_length * step_s * sr
    midi = _degree_midi(chord_degree[None, :] + np.asarray(tones)[:, None], scale, style.tonic + 12)
    # Keep voicings in one octave band above the tonic so chords lead smoothly.
    midi = np.where(midi >= style.tonic + 24, midi - 12, midi)
    per_strike = np.repeat(midi, len(steps), axis=1)
    out = _voice(
        onsets[on],
        _midi_hz(per_strike[:, on]),
        length,
        velocity[on],
        n,
        attack=style.chord_attack,
        decay=max(style.chord_length * step_s * 1.5, 0.05),
        release=style.chord_release,
        sr=sr,
        table=table,
    )
    return signal.sosfilt(_lowpass(style.chord_cutoff * variation.brightness, sr), out / len(tones))


def _lead(
    style: Style,
    variation: AlbumVariation,
    chord_degree: np.ndarray,
    scale: tuple[int, ...],
    mask: np.ndarray,
    grid: np.ndarray,
    n: int,
    *,
    rng: np.random.Generator,
    sr: int,
) -> np.ndarray:
    """A two-bar motif over the chord roots, repeated with small mutations."""
    bars = len(mask)
    motif_on = rng.random(2 * _STEPS_PER_BAR) < style.lead_density
    motif_on[0] = True
    motif_degree = np.cumsum(rng.integers(-2, 3, 2 * _STEPS_PER_BAR)) % 8
    repeats = (bars + 1) // 2
    on = np.tile(motif_on, repeats)[: bars * _STEPS_PER_BAR]
    degree = np.tile(motif_degree, repeats)[: bars * _STEPS_PER_BAR]
    mutate = rng.random(degree.shape) < 0.08
    degree = np.where(mutate, degree + rng.integers(-2, 3, degree.shape), degree)
    degree = degree + np.repeat(chord_degree, _STEPS_PER_BAR) % 7
    velocity = on * np.repeat(mask, _STEPS_PER_BAR) * rng.uniform(0.7, 1.0, on.shape)
    keep = velocity > 0
    midi = _degree_midi(degree[keep], scale, style.tonic + 24)
    step_len = grid[0, 1] - grid[0, 0]
    return _voice(
        grid.ravel()[keep],
        _midi_hz(midi),
        2.0 * step_len,
        velocity[keep],
        n,
        attack=0.005,
        decay=style.lead_decay,
        release=0.05,
        sr=sr,
        fm=(
            style.lead_ratio + variation.lead_ratio_shift,
            style.lead_index * variation.brightness,
            0.15,
        ),
    )


# -- space and master -------------------------------------------------------------------------


def _space(
    y: np.ndarray, style: Style, *, step_s: float, rng: np.random.Generator, sr: int
) -> np.ndarray:
    """Dotted-eighth feedback echo and a small noise-tail room."""
    out = y.copy()
    delay = round(3 * step_s * sr)
    for tap in range(1, 5):
        shift = tap * delay
        if shift < len(y):
            out[shift:] += y[:-shift] * style.echo**tap
    t = np.arange(int(0.9 * sr)) / sr
    room = rng.standard_normal(len(t)) * np.exp(-t / 0.3)
    room = signal.sosfilt(_lowpass(5000, sr), room)
    room = (room / np.sqrt((room**2).sum())).astype(np.float32)
    # One large FFT in single precision: a room tail does not need more.
    wet = signal.fftconvolve(out.astype(np.float32), room)[: len(y)]
    return out + style.reverb * wet


def _master(mix: np.ndarray, *, loudness_db: float, sr: int) -> np.ndarray:
    mix = (mix - mix.mean()).astype(np.float32)
    rms = float(np.sqrt(np.mean(np.square(mix, dtype=np.float64)))) or 1.0
    out = np.tanh(mix * np.float32(10 ** (loudness_db / 20) / rms)) * np.float32(0.98)
    fade_in, fade_out = min(int(0.02 * sr), len(out)), min(int(1.0 * sr), len(out))
    out[:fade_in] *= np.linspace(0, 1, fade_in, endpoint=False, dtype=np.float32)
    out[len(out) - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    return out
