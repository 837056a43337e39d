"""Ordering a pool into a playlist: greedy steps under hard rules, relaxed step by step.

The playlist starts with the seed. At every position ``k`` each remaining pool track ``c`` after
the previous track ``p`` is scored

    ``alpha(k)·seed_similarity(c) + beta·transition(p, c) + gamma·diversity(c)``

where ``alpha`` follows the arc start → mid → end (:meth:`PlaylistParams.alpha_at`),
``transition(p, c) = sign(x)·|x|**transition_gamma`` of the cosine ``x`` of ``p``'s END-segment
embedding and ``c``'s START-segment embedding, and ``diversity(c)`` is 1 minus ``c``'s highest
full-track cosine to a track already in the playlist. The best track that passes the hard rules
is taken (vectorised over the remaining pool with numpy).

Hard rules (level 0) and their relaxations (:func:`rules_at`), used one level at a time and only
at a position where no remaining track passes the stricter level:

===== ================= ========= ================ ========== ============
level transition floor  min gap   max per artist   BPM window Camelot
===== ================= ========= ================ ========== ============
0     floor             min_gap   fraction·length  window     on
1     floor / 2         min_gap   fraction·length  2·window   off
2     floor / 2         min_gap/2 fraction·length  2·window   off
3     none              1         fraction·length  none       off
4     none              0         fewest so far    none       off
===== ================= ========= ================ ========== ============

At level 4 the artist cap is lifted only for the artists with the fewest tracks in the playlist
so far (among the remaining tracks), so a thin pool spreads its extra tracks over the artists.

``params.relaxation_levels`` limits the levels that may be used; when even the last allowed
level has no candidate (or the pool is used up) the playlist stops short and
``diagnostics["stopped"]`` says why. Every relaxed position is reported in
``diagnostics["relaxations"]`` with the level, what that level relaxes (``rule``), the rules
then in force (``in_force``) and why (how many remaining tracks each rule of the stricter level
blocked).

"Min gap ``g``" means at least ``g`` other tracks between two tracks of one artist. Tracks of
unknown tempo or key pass the BPM and Camelot rules (nothing says they clash).

Examples
--------
>>> import numpy as np
>>> from musicwb.playlist.params import PlaylistParams
>>> from musicwb.playlist.pool import build_pool
>>> rng = np.random.default_rng(0)
>>> n = 40
>>> base = rng.normal(size=(1, 8)) + 0.3 * rng.normal(size=(n, 8))
>>> unit = base / np.linalg.norm(base, axis=1, keepdims=True)
>>> artifact = {"track_ids": np.arange(n), "artist_keys": np.array([f"a{i % 10}" for i in range(n)]),
...             "embedded_full": unit.astype(np.float32)}
>>> params = PlaylistParams(min_gap=2, transition_floor=0.0)
>>> pool = build_pool(artifact, seed_index=0, params=params)
>>> ordering = order_playlist(artifact, pool, seed_index=0, length=8, params=params)
>>> len(ordering), int(ordering.indices[0]), ordering.diagnostics["max_per_artist"]
(8, 0, 1)
>>> longer = order_playlist(artifact, pool, seed_index=0, length=12, params=params)
>>> [(r["position"], r["level"]) for r in longer.diagnostics["relaxations"]][:2]
[(10, 4), (11, 4)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from musicwb.errors import ParameterError
from musicwb.playlist.params import PlaylistParams
from musicwb.playlist.pool import Library, Pool, library_of, one_blas_thread
from musicwb.text.camelot import camelot_compatible, estimate_camelot

__all__ = [
    "LEVEL_RULES",
    "Ordering",
    "RuleSet",
    "order_playlist",
    "rules_at",
    "tempo_distance",
    "transition_quality",
]

LEVEL_RULES = {
    1: "transition floor halved, BPM window doubled, Camelot off",
    2: "min gap halved",
    3: "transition floor, BPM window and Camelot off; min gap 1",
    4: "max artist fraction lifted for the artists with the fewest tracks so far; min gap 0",
}
"""What each relaxation level relaxes, beyond the level before."""


@dataclass(frozen=True)
class RuleSet:
    """The hard rules in force at one relaxation level.

    Attributes
    ----------
    level : int
    transition_floor : float or None
        Least transition quality; None: no floor.
    min_gap : int
        Least number of other tracks between two tracks of one artist.
    max_per_artist : int or None
        Most tracks per artist; None: no limit.
    bpm_window : float or None
        Largest tempo change in percent (half/double tempo allowed); None: no tempo rule.
    camelot : bool
        Whether neighbours must have compatible keys.
    """

    level: int
    transition_floor: float | None
    min_gap: int
    max_per_artist: int | None
    bpm_window: float | None
    camelot: bool

    def describe(self) -> str:
        """The rules as one line, e.g. ``"transition ≥ 0.15, gap ≥ 6, ≤ 3 per artist"``."""
        parts = [
            f"transition >= {self.transition_floor:g}"
            if self.transition_floor is not None
            else "no transition floor",
            f"gap >= {self.min_gap}",
            f"<= {self.max_per_artist} per artist"
            if self.max_per_artist is not None
            else "no artist limit",
        ]
        if self.bpm_window is not None:
            parts.append(f"tempo within {self.bpm_window:g}%")
        if self.camelot:
            parts.append("Camelot-compatible keys")
        return ", ".join(parts)


def rules_at(level: int, params: PlaylistParams, *, length: int) -> RuleSet:
    """The rules in force at a relaxation level (see the module's table).

    Parameters
    ----------
    level : int
        0 (every rule) to 4.
    params : PlaylistParams
    length : int
        Playlist length (for the max artist fraction).

    Returns
    -------
    RuleSet

    Examples
    --------
    >>> rules_at(2, PlaylistParams(), length=30).describe()
    'transition >= 0.075, gap >= 3, <= 3 per artist'
    """
    if not 0 <= level <= 4:
        raise ParameterError(f"relaxation level must be 0..4, got {level}")
    floor: float | None = params.transition_floor
    window = params.bpm_window
    gap = params.min_gap
    cap: int | None = params.max_per_artist(length)
    camelot = params.camelot
    if level >= 1:
        floor = floor / 2
        window = None if window is None else min(2 * window, 100.0)
        camelot = False
    if level >= 2:
        gap = gap // 2
    if level >= 3:
        floor, window, gap = None, None, min(gap, 1)
    if level >= 4:
        gap, cap = 0, None
    return RuleSet(level, floor, gap, cap, window, camelot)


@dataclass(frozen=True, eq=False)
class Ordering:
    """An ordered playlist as artifact rows.

    Attributes
    ----------
    indices : ndarray, shape (k,), int64
        Artifact rows in playlist order; the seed first. ``k <= length``.
    transitions : ndarray, shape (k,), float64
        Transition quality into each track (NaN for the first).
    levels : ndarray, shape (k,), int64
        Relaxation level each track was placed at (0: every rule held).
    seed_similarity : ndarray, shape (k,), float64
        Hybrid similarity to the seed (1.0 for the seed).
    diagnostics : dict
        ``pool_size``, ``artists``, ``relaxations`` (list of dicts with ``position``,
        ``level``, ``rule``, ``reason``), ``mean_transition``, ``min_transition``,
        ``max_per_artist``, ``seed_artist_share``, ``length``, ``requested_length``,
        ``stopped`` (None or why the playlist is short), ``rules`` (level 0, as a line).
    """

    indices: np.ndarray
    transitions: np.ndarray
    levels: np.ndarray
    seed_similarity: np.ndarray
    diagnostics: dict[str, Any]

    def __len__(self) -> int:
        return int(self.indices.shape[0])


# ---------------------------------------------------------------------------------------------
# DJ rules: tempo (Camelot keys: musicwb.text.camelot)


def tempo_distance(previous_bpm: float, bpm: np.ndarray) -> np.ndarray:
    """Tempo change in percent from ``previous_bpm`` to each ``bpm``, half/double tempo allowed.

    NaN where either tempo is unknown (0 or NaN).

    Examples
    --------
    >>> tempo_distance(128.0, np.array([130.0, 64.0, 250.0, 0.0])).round(1)
    array([1.6, 0. , 2.3, nan])
    """
    bpm = np.asarray(bpm, dtype=np.float64)
    if not previous_bpm or not math.isfinite(previous_bpm) or previous_bpm <= 0:
        return np.full(bpm.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.stack([bpm / previous_bpm, 2 * bpm / previous_bpm, bpm / (2 * previous_bpm)])
        distance = np.min(np.abs(ratios - 1.0), axis=0) * 100.0
    return np.where((bpm > 0) & np.isfinite(bpm), distance, np.nan)


def transition_quality(cosine: np.ndarray, *, gamma: float = 1.0) -> np.ndarray:
    """Transition quality ``sign(x)·|x|**gamma`` of end→start cosines ``x``.

    Examples
    --------
    >>> transition_quality(np.array([0.25, -0.25]), gamma=2.0)
    array([ 0.0625, -0.0625])
    """
    cosine = np.clip(np.asarray(cosine, dtype=np.float64), -1.0, 1.0)
    if gamma == 1.0:
        return cosine
    return np.sign(cosine) * np.abs(cosine) ** gamma


# ---------------------------------------------------------------------------------------------
# Ordering


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def order_playlist(
    artifact: Mapping[str, np.ndarray] | Library,
    pool: Pool,
    *,
    seed_index: int,
    length: int,
    params: PlaylistParams,
    bpm: np.ndarray | None = None,
    keys: np.ndarray | None = None,
) -> Ordering:
    """Order the seed and its pool into a playlist of ``length`` tracks (see the module).

    Parameters
    ----------
    artifact : Artifact, Mapping or Library
        The artifact the pool was built from.
    pool : Pool
        From :func:`musicwb.playlist.pool.build_pool` for the same seed.
    seed_index : int
        Artifact row of the seed (the first track).
    length : int
        Wanted number of tracks, seed included (at least 1).
    params : PlaylistParams
    bpm : ndarray, shape (n,), optional
        Tempo per artifact row (0 or NaN: unknown). Default: the artifact's own (rhythm
        features); needed only with ``params.bpm_window``.
    keys : ndarray, shape (n,), optional
        Camelot codes per artifact row (:func:`camelot_code`, −1 unknown). Default: estimated
        from the artifact's chroma (:func:`estimate_camelot`); needed only with
        ``params.camelot``.

    Returns
    -------
    Ordering

    Raises
    ------
    ParameterError
        ``length`` below 1, a pool of another seed, or a DJ rule asked for without the data it
        needs (the message says which).
    """
    library = library_of(artifact)
    with one_blas_thread():
        return _order(artifact, library, pool, seed_index, length, params, bpm, keys)


def _order(
    artifact: Mapping[str, np.ndarray] | Library,
    library: Library,
    pool: Pool,
    seed_index: int,
    length: int,
    params: PlaylistParams,
    bpm: np.ndarray | None,
    keys: np.ndarray | None,
) -> Ordering:
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ParameterError(f"length must be a positive integer, got {length!r}")
    if pool.seed_index != seed_index:
        raise ParameterError(
            f"the pool was built for row {pool.seed_index}, not the seed row {seed_index}"
        )
    length = int(length)
    tempo = _tempo(library, bpm, params)
    key_codes = _keys(artifact, library, keys, params)

    rows = np.r_[seed_index, pool.indices].astype(np.int64)
    size = rows.size
    seed_sim = np.r_[1.0, pool.similarity]
    starts = _unit_rows(library.start[rows])
    ends = _unit_rows(library.end[rows])
    fulls = _unit_rows(library.full[rows])
    # Artists as local codes 0..k-1, so positions and counts are arrays indexed by artist.
    _, artists = np.unique(library.artist_codes[rows], return_inverse=True)
    seed_artist = artists[0]
    last_position = np.full(artists.max() + 1, -(10**9), dtype=np.int64)
    counts = np.zeros(artists.max() + 1, dtype=np.int64)
    last_position[seed_artist] = 0
    counts[seed_artist] = 1

    used = np.zeros(size, dtype=bool)
    used[0] = True
    closest = (fulls @ fulls[0]).astype(np.float64)  # highest cosine to a chosen track
    rulesets = [
        rules_at(level, params, length=length) for level in range(params.relaxation_levels + 1)
    ]

    chosen, transitions, levels = [0], [math.nan], [0]
    relaxations: list[dict[str, Any]] = []
    stopped = None
    for position in range(1, length):
        remaining = np.flatnonzero(~used)
        if remaining.size == 0:
            stopped = f"the pool is used up after {position} tracks (pool size {pool.indices.size})"
            break
        previous = chosen[-1]
        quality = transition_quality(
            starts[remaining] @ ends[previous], gamma=params.transition_gamma
        )
        candidate_artists = artists[remaining]
        since = position - last_position[candidate_artists] - 1
        played = counts[candidate_artists]
        tempo_change = (
            tempo_distance(tempo[rows[previous]], tempo[rows[remaining]])
            if tempo is not None
            else None
        )
        key_ok = (
            camelot_compatible(key_codes[rows[previous]], key_codes[rows[remaining]])
            if key_codes is not None
            else None
        )
        failures: dict[str, np.ndarray] = {}
        passing = None
        for rules in rulesets:
            failures = _failures(rules, quality, since, played, tempo_change, key_ok)
            ok = (
                ~np.logical_or.reduce(list(failures.values()))
                if failures
                else np.ones(remaining.size, bool)
            )
            if ok.any():
                passing = (rules.level, ok)
                break
            previous_failures = failures
        if passing is None:
            stopped = (
                f"no track passes even relaxation level {params.relaxation_levels} at position "
                f"{position} ({remaining.size} remaining; {_blocked(failures)})"
            )
            break
        level, ok = passing
        in_force = rulesets[level].describe()
        if level == 4:  # lift the artist cap only as far as needed: the least-played artists
            least = int(played[ok].min())
            ok &= played == least
            in_force += f"; artists with {least} track(s) so far"
        if level > 0:
            relaxations.append(
                {
                    "position": position,
                    "level": level,
                    "rule": LEVEL_RULES[level],
                    "in_force": in_force,
                    "reason": (
                        f"no track of {remaining.size} remaining passes level {level - 1} "
                        f"({rulesets[level - 1].describe()}): {_blocked(previous_failures)}"
                    ),
                }
            )
        score = (
            params.alpha_at(position, length) * seed_sim[remaining]
            + params.beta * quality
            + params.gamma * (1.0 - closest[remaining])
        )
        score[~ok] = -np.inf
        pick_at = int(np.argmax(score))
        pick = int(remaining[pick_at])
        used[pick] = True
        last_position[artists[pick]] = position
        counts[artists[pick]] += 1
        np.maximum(closest, fulls @ fulls[pick], out=closest)
        chosen.append(pick)
        transitions.append(float(quality[pick_at]))
        levels.append(level)

    chosen_rows = rows[np.asarray(chosen)]
    transitions_arr = np.asarray(transitions, dtype=np.float64)
    per_artist = np.unique(artists[np.asarray(chosen)], return_counts=True)[1]
    inner = transitions_arr[1:]
    diagnostics = {
        "pool_size": int(pool.indices.size),
        "artists": int(per_artist.size),
        "relaxations": relaxations,
        "mean_transition": float(inner.mean()) if inner.size else None,
        "min_transition": float(inner.min()) if inner.size else None,
        "max_per_artist": int(per_artist.max()),
        "seed_artist_share": float(np.mean(artists[np.asarray(chosen)] == seed_artist)),
        "length": len(chosen),
        "requested_length": length,
        "stopped": stopped,
        "rules": rulesets[0].describe(),
    }
    return Ordering(
        indices=chosen_rows,
        transitions=transitions_arr,
        levels=np.asarray(levels, dtype=np.int64),
        seed_similarity=seed_sim[np.asarray(chosen)],
        diagnostics=diagnostics,
    )


def _failures(
    rules: RuleSet,
    quality: np.ndarray,
    since: np.ndarray,
    played: np.ndarray,
    tempo_change: np.ndarray | None,
    key_ok: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """Per rule, which remaining tracks break it (boolean arrays)."""
    failures = {"min_gap": since < rules.min_gap}
    if rules.max_per_artist is not None:
        failures["max_artist_fraction"] = played >= rules.max_per_artist
    if rules.transition_floor is not None:
        failures["transition_floor"] = quality < rules.transition_floor
    if rules.bpm_window is not None and tempo_change is not None:
        failures["bpm_window"] = tempo_change > rules.bpm_window  # NaN (unknown) passes
    if rules.camelot and key_ok is not None:
        failures["camelot"] = ~key_ok
    return failures


def _blocked(failures: dict[str, np.ndarray]) -> str:
    return ", ".join(
        f"{rule} blocks {int(mask.sum())}" for rule, mask in failures.items() if mask.any()
    )


def _tempo(library: Library, bpm: np.ndarray | None, params: PlaylistParams) -> np.ndarray | None:
    if params.bpm_window is None:
        return None
    tempo = library.bpm if bpm is None else np.asarray(bpm, dtype=np.float64)
    if tempo is None:
        raise ParameterError(
            "bpm_window needs each track's tempo: the artifact has no raw_full_rhythm features "
            "and no bpm was given; rebuild the artifact or pass bpm"
        )
    if tempo.shape != (library.n,):
        raise ParameterError(f"bpm must have shape ({library.n},), got {tempo.shape}")
    return tempo


def _keys(
    artifact: Mapping[str, np.ndarray] | Library,
    library: Library,
    keys: np.ndarray | None,
    params: PlaylistParams,
) -> np.ndarray | None:
    if not params.camelot:
        return None
    if keys is None:
        if isinstance(artifact, Library) or "raw_full_harmony" not in artifact:
            raise ParameterError(
                "camelot needs each track's key: the artifact has no raw_full_harmony (chroma) "
                "and no keys were given; pass keys (Camelot codes) or rebuild the artifact"
            )
        keys = estimate_camelot(np.asarray(artifact["raw_full_harmony"][:, :12]))
    keys = np.asarray(keys, dtype=np.int64)
    if keys.shape != (library.n,):
        raise ParameterError(f"keys must have shape ({library.n},), got {keys.shape}")
    return keys
