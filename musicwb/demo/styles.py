"""How each demo artist sounds: the :class:`Style` presets and an album's :class:`AlbumVariation`.

Pure data plus the two bits of musical arithmetic the library plan needs (:func:`key_name`,
:func:`track_bars`); :mod:`musicwb.demo.audio` renders a style into samples.

Examples
--------
>>> sorted(STYLES)[:3], key_name(STYLES["deep_house"])
(['deep_house', 'drum_and_bass', 'dub_techno'], 'F minor')
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from musicwb.errors import ParameterError

__all__ = [
    "MODES",
    "STEPS_PER_BAR",
    "STYLES",
    "AlbumVariation",
    "DrumPattern",
    "ScaleMode",
    "Style",
    "artist_style",
    "key_name",
    "track_bars",
]

STEPS_PER_BAR = 16
"""Sixteenth steps in a 4/4 bar: the grid of drum patterns and melodies."""

ScaleMode = Literal["major", "minor", "dorian", "phrygian"]
"""The musical modes the demo's styles are written in."""

MODES: dict[ScaleMode, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}
"""Semitones above the tonic of each scale degree, per mode."""

_PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _steps(*on: int, velocity: float = 1.0) -> tuple[float, ...]:
    return tuple(velocity if step in on else 0.0 for step in range(STEPS_PER_BAR))


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
    mode : ScaleMode
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
    mode: ScaleMode
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


def artist_style(base: Style, *, voice: int) -> Style:
    """One artist's twist of a family's base style: pure and deterministic.

    Voice 0 is the base itself. Other voices move the tonic a fifth up or down (a neighbour on
    the Camelot wheel, so the family's keys mix) or keep it, shift the tempo range by up to
    2 BPM, and change the lead's timbre, the hats, the swing and the room a little: artists of
    one family sound related (their tracks mix into one playlist) yet recognisable.

    Parameters
    ----------
    base : Style
    voice : int
        Non-negative; the same voice always gives the same style.

    Returns
    -------
    Style

    Examples
    --------
    >>> artist_style(STYLES["techno"], voice=0) == STYLES["techno"]
    True
    >>> twisted = artist_style(STYLES["techno"], voice=3)
    >>> twisted.mode == "minor", abs(twisted.bpm[0] - 130) <= 2
    (True, True)
    """
    if isinstance(voice, bool) or not isinstance(voice, int) or voice < 0:
        raise ParameterError(f"voice must be a non-negative integer, got {voice!r}")
    if voice == 0:
        return base
    rng = np.random.default_rng([voice, 11])
    tonic_shift = (0, 7, -5)[voice % 3]
    bpm_shift = float(rng.uniform(-2.0, 2.0))
    return replace(
        base,
        bpm=(base.bpm[0] + bpm_shift, base.bpm[1] + bpm_shift),
        tonic=base.tonic + tonic_shift,
        progressions=tuple(base.progressions[::-1]) if voice % 2 else base.progressions,
        lead_ratio=base.lead_ratio + float(rng.choice([-0.5, 0.0, 0.5, 1.0])),
        lead_index=base.lead_index * float(rng.uniform(0.7, 1.3)),
        lead_density=base.lead_density * float(rng.uniform(0.7, 1.3)),
        chord_cutoff=base.chord_cutoff * float(rng.uniform(0.8, 1.25)),
        hat_decay=base.hat_decay * float(rng.uniform(0.8, 1.3)),
        swing=min(0.3, base.swing + float(rng.uniform(0.0, 0.06))),
        echo=float(np.clip(base.echo + rng.uniform(-0.1, 0.1), 0.0, 0.8)),
        reverb=float(np.clip(base.reverb + rng.uniform(-0.1, 0.1), 0.0, 0.8)),
        loudness_db=base.loudness_db + float(rng.uniform(-1.5, 1.5)),
    )


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
