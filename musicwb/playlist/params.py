"""Every playlist parameter in one frozen, validated object.

The defaults are the original system's numbers (``DESIGN.md``, "Numbers from the original
system"). Three modes start from them:

- ``"dynamic"``: the defaults;
- ``"narrow"``: a tighter pool (higher similarity floor and genre gate, fewer artists, fewer
  tracks per artist) and more weight on the seed;
- ``"discover"``: a wider pool (lower floor and gate, more artists, no seed-artist bonus) and
  less weight on the seed.

Callers build the parameters once, from a mode and the values a user gave (CLI options,
notebook parameters: :meth:`PlaylistParams.given_in` picks them by field name), and hand them
on whole.

Examples
--------
>>> params = PlaylistParams.for_mode("narrow").replace(min_gap=4)
>>> params.similarity_floor, params.target_artists, params.min_gap, params.mode
(0.25, 12, 4, 'narrow')
>>> options = {"min_gap": 4, "beta": None, "out": "list.m3u8"}
>>> PlaylistParams.given_in(options)
{'min_gap': 4}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from musicwb.errors import ParameterError

__all__ = ["MODES", "PARAMETER_NAMES", "Mode", "ParameterValue", "PlaylistParams"]

Mode = Literal["dynamic", "narrow", "discover"]
"""The starting points of the parameters."""

MODES: tuple[Mode, ...] = get_args(Mode)
"""The names :meth:`PlaylistParams.for_mode` knows."""

ParameterValue = int | float | bool | None
"""The value of one playlist parameter."""

_MODE_OVERRIDES: dict[Mode, dict[str, ParameterValue]] = {
    "dynamic": {},
    "narrow": {
        "similarity_floor": 0.25,
        "genre_gate": 0.3,
        "target_artists": 12,
        "per_artist": 4,
        "alpha_start": 0.75,
        "alpha_mid": 0.60,
        "alpha_end": 0.70,
    },
    "discover": {
        "similarity_floor": 0.08,
        "genre_gate": 0.1,
        "target_artists": 40,
        "per_artist": 4,
        "seed_artist_bonus": 0,
        "alpha_start": 0.45,
        "alpha_mid": 0.25,
        "alpha_end": 0.40,
        "gamma": 0.10,
    },
}

# (name, lowest, highest) for the numbers that live in a closed interval.
_UNIT_INTERVAL = (
    "genre_gate",
    "sonic_weight",
    "genre_weight",
    "genre_smoothing",
    "max_artist_fraction",
    "transition_floor",
    "alpha_start",
    "alpha_mid",
    "alpha_end",
    "beta",
    "gamma",
)
_POSITIVE_INTS = ("max_pool", "target_artists", "per_artist")
_NON_NEGATIVE_INTS = ("seed_artist_bonus", "recent_days", "min_gap", "relaxation_levels")


@dataclass(frozen=True)
class PlaylistParams:
    """Parameters of the pool, the ordering and the DJ rules.

    Pool
        max_pool : int, default 1200
            Most tracks in the pool.
        target_artists : int, default 22
            Distinct artists the pool aims at: artists are taken best first until the pool
            has this many artists and ``target_artists · per_artist`` tracks (the seed's artist
            always counts among them when it has candidates).
        per_artist : int, default 6
            Most tracks per artist in the pool.
        seed_artist_bonus : int, default 2
            Extra pool places for the seed's own artist.
        similarity_floor : float, default 0.15
            Least hybrid similarity to the seed, in [-1, 1] (0.30 starved the original's pool;
            -1 is no floor).
        genre_gate : float, default 0.2
            Least genre similarity to the seed, for tracks that have genres when the seed has.
        sonic_weight, genre_weight : float, default 0.67 and 0.33
            Weights of the hybrid similarity ``(ws·sonic + wg·genre) / (ws + wg)``.
        genre_smoothing : float, default 0.0
            Tree smoothing of the genre vectors (see :func:`musicwb.genres.genre_matrix`).
        duplicate_similarity : float, default 0.98
            Cosine of full-track embeddings at and above which two tracks are the same audio.
        recent_days : int, default 14
            Tracks played within this many days are left out (needs a store).
    Order
        min_gap : int, default 6
            Least number of other tracks between two tracks of one artist.
        max_artist_fraction : float, default 0.125
            Most tracks per artist as a fraction of the length (at least one track each).
        relaxation_levels : int, default 4
            How many relaxation levels may be used when no candidate passes the rules (0..4).
        transition_floor : float, default 0.15
            Least transition quality (end of the previous track → start of the next).
        transition_gamma : float, default 1.0
            Shape of the transition quality: ``sign(c)·|c|**gamma`` of the cosine ``c``.
        alpha_start, alpha_mid, alpha_end : float, default 0.65, 0.45, 0.60
            Weight of the seed similarity along the playlist (linear between the three).
        beta : float, default 0.45
            Weight of the transition quality.
        gamma : float, default 0.04
            Weight of the diversity (1 − highest similarity to a track already chosen).
    DJ rules
        bpm_window : float or None, default None
            Largest tempo change between neighbours in percent (half/double tempo count as the
            same tempo); None: no tempo rule.
        camelot : bool, default False
            Neighbours must be Camelot-compatible keys (same, ±1 on the wheel, or relative).
    Origin
        mode : {"dynamic", "narrow", "discover"}, default "dynamic"
            The mode the parameters started from (:meth:`for_mode`); reported with a
            playlist, not a parameter itself (not in :meth:`as_dict`, not compared).

    Raises
    ------
    ParameterError
        A value is out of range (the message names the parameter).
    """

    max_pool: int = 1200
    target_artists: int = 22
    per_artist: int = 6
    seed_artist_bonus: int = 2
    similarity_floor: float = 0.15
    genre_gate: float = 0.2
    sonic_weight: float = 0.67
    genre_weight: float = 0.33
    genre_smoothing: float = 0.0
    duplicate_similarity: float = 0.98
    recent_days: int = 14
    min_gap: int = 6
    max_artist_fraction: float = 0.125
    relaxation_levels: int = 4
    transition_floor: float = 0.15
    transition_gamma: float = 1.0
    alpha_start: float = 0.65
    alpha_mid: float = 0.45
    alpha_end: float = 0.60
    beta: float = 0.45
    gamma: float = 0.04
    bpm_window: float | None = None
    camelot: bool = False
    mode: Mode = field(default="dynamic", compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ParameterError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        for name in _POSITIVE_INTS + _NON_NEGATIVE_INTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParameterError(f"{name} must be an integer, got {value!r}")
            if value < (1 if name in _POSITIVE_INTS else 0):
                raise ParameterError(
                    f"{name} must be at least {int(name in _POSITIVE_INTS)}, got {value}"
                )
        if self.relaxation_levels > 4:
            raise ParameterError(f"relaxation_levels must be 0..4, got {self.relaxation_levels}")
        for name in _UNIT_INTERVAL:
            _check_number(name, getattr(self, name), 0.0, 1.0)
        # Cosines go down to -1: a floor of -1 is no floor at all (for very small libraries).
        _check_number("similarity_floor", self.similarity_floor, -1.0, 1.0)
        _check_number("duplicate_similarity", self.duplicate_similarity, 0.5, 1.0)
        _check_number("transition_gamma", self.transition_gamma, 0.1, 10.0)
        if self.sonic_weight + self.genre_weight <= 0:
            raise ParameterError("sonic_weight and genre_weight cannot both be 0")
        if self.genre_smoothing >= 1.0:
            raise ParameterError(f"genre_smoothing must be below 1, got {self.genre_smoothing}")
        if self.bpm_window is not None:
            _check_number("bpm_window", self.bpm_window, 0.0, 100.0)
        if not isinstance(self.camelot, bool):
            raise ParameterError(f"camelot must be True or False, got {self.camelot!r}")

    @classmethod
    def for_mode(cls, mode: Mode = "dynamic", **overrides: ParameterValue) -> PlaylistParams:
        """The parameters of a mode, with some of them changed.

        Parameters
        ----------
        mode : {"dynamic", "narrow", "discover"}
        **overrides
            Any field of :class:`PlaylistParams`; None values are ignored (so CLI options
            that were not given can be passed through).

        Returns
        -------
        PlaylistParams

        Raises
        ------
        ParameterError
            Unknown mode or parameter name, or a value out of range.

        Examples
        --------
        >>> PlaylistParams.for_mode("discover").seed_artist_bonus
        0
        """
        if mode not in _MODE_OVERRIDES:
            raise ParameterError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(mode=mode).replace(**{**_MODE_OVERRIDES[mode], **given})

    def replace(self, **changes: ParameterValue) -> PlaylistParams:
        """A copy with some parameters changed (validated again), from the same mode.

        Raises
        ------
        ParameterError
            Unknown parameter name or a value out of range.

        Examples
        --------
        >>> PlaylistParams().replace(beta=0.5).beta
        0.5
        """
        unknown = sorted(set(changes) - set(PARAMETER_NAMES))
        if unknown:
            raise ParameterError(
                f"unknown playlist parameter(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(PARAMETER_NAMES))}"
            )
        return dataclasses.replace(self, **changes)

    @staticmethod
    def given_in(values: Mapping[str, object]) -> dict[str, ParameterValue]:
        """The parameters among ``values`` that were given: named like a parameter, not None.

        For CLI options and notebook parameters, where None means "the mode's".

        Parameters
        ----------
        values : Mapping of str to object
            E.g. a command's options; names that are no parameter are ignored.

        Returns
        -------
        dict of str to int, float or bool
        """
        return {
            name: values[name]  # type: ignore[misc]
            for name in PARAMETER_NAMES
            if name in values and values[name] is not None
        }

    def changed_from_mode(self) -> dict[str, ParameterValue]:
        """The parameters that differ from those of :attr:`mode`.

        Examples
        --------
        >>> PlaylistParams.for_mode("narrow", min_gap=2).changed_from_mode()
        {'min_gap': 2}
        """
        start = PlaylistParams.for_mode(self.mode)
        return {
            name: getattr(self, name)
            for name in PARAMETER_NAMES
            if getattr(self, name) != getattr(start, name)
        }

    def as_dict(self) -> dict[str, ParameterValue]:
        """Every parameter as a plain dict (JSON-safe); the mode is not among them."""
        return {name: getattr(self, name) for name in PARAMETER_NAMES}

    def max_per_artist(self, length: int) -> int:
        """Most tracks per artist allowed in a playlist of ``length`` tracks (at least 1).

        Examples
        --------
        >>> PlaylistParams().max_per_artist(30), PlaylistParams().max_per_artist(20)
        (3, 2)
        """
        return max(1, math.floor(self.max_artist_fraction * length + 1e-9))

    def alpha_at(self, position: int, length: int) -> float:
        """Weight of the seed similarity at ``position`` (0-based) of ``length`` tracks.

        Linear from ``alpha_start`` (first track) to ``alpha_mid`` (middle) to ``alpha_end``
        (last track).

        Examples
        --------
        >>> p = PlaylistParams()
        >>> p.alpha_at(0, 31), p.alpha_at(15, 31), p.alpha_at(30, 31)
        (0.65, 0.45, 0.6)
        """
        t = position / (length - 1) if length > 1 else 0.0
        if t <= 0.5:
            return self.alpha_start + (self.alpha_mid - self.alpha_start) * (t / 0.5)
        return self.alpha_mid + (self.alpha_end - self.alpha_mid) * ((t - 0.5) / 0.5)


PARAMETER_NAMES: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(PlaylistParams) if f.name != "mode"
)
"""Every parameter's name, in field order: the one list of what can be changed."""


def _check_number(name: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ParameterError(f"{name} must be in [{low}, {high}], got {value}")
