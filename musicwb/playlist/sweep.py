"""Parameter sweeps: one playlist per (seed, value), its diagnostics as one table row.

The sweep shows where a parameter's cliff is for a user's own library: e.g. the similarity
floor, where 0.30 starved the original system's pool to 31 tracks and 0.15 gave 670.

Examples
--------
>>> frame = sweep(artifact="data/musicwb.artifact.npz", seed_track_ids=[3, 17],
...               parameter="similarity_floor", values=[0.05, 0.15, 0.30])   # doctest: +SKIP
>>> frame.groupby("value")["pool_size"].mean()                              # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from musicwb.errors import ParameterError
from musicwb.playlist.build import PlaylistContext, make_playlist, playlist_context
from musicwb.playlist.params import PlaylistParams

if TYPE_CHECKING:
    from musicwb.sonic.artifact import Artifact
    from musicwb.store import Store

__all__ = ["SWEEP_COLUMNS", "sweep"]

SWEEP_COLUMNS = (
    "seed_track_id",
    "parameter",
    "value",
    "pool_size",
    "eligible",
    "artists",
    "mean_transition",
    "min_transition",
    "relaxations",
    "length",
    "max_per_artist",
    "seed_artist_share",
)


def sweep(
    *,
    artifact: Artifact | Mapping[str, np.ndarray] | str | Path | PlaylistContext | None = None,
    seed_track_ids: Sequence[int] | Iterable[int],
    parameter: str,
    values: Sequence[Any] | Iterable[Any],
    length: int = 30,
    mode: str = "dynamic",
    store: Store | None = None,
    progress: bool = True,
    **overrides: Any,
) -> pd.DataFrame:
    """Build a playlist for every seed and every value of one parameter.

    Parameters
    ----------
    artifact : Artifact, Mapping, str, Path or PlaylistContext, optional
        As in :func:`musicwb.playlist.build.make_playlist` (loaded once for the whole sweep);
        default: the store's own artifact, beside it.
    seed_track_ids : sequence of int
    parameter : str
        A field of :class:`~musicwb.playlist.params.PlaylistParams`, or ``"length"``.
    values : sequence
        The values to try.
    length : int, default 30
    mode : {"dynamic", "narrow", "discover"}
    store : Store, optional
        As in ``make_playlist`` (read once).
    progress : bool, default True
        A tqdm bar on stderr.
    **overrides
        Other parameters, fixed for the whole sweep.

    Returns
    -------
    pandas.DataFrame
        One row per (seed, value), shape (n_seeds · n_values, 12): :data:`SWEEP_COLUMNS`;
        ``relaxations`` is the number of relaxed positions, ``eligible`` the candidates that
        passed the floor and gates before the per-artist caps.

    Raises
    ------
    ParameterError
        Unknown parameter, no seeds or no values, or a value out of range (named).

    Examples
    --------
    >>> sweep(artifact=artifact, seed_track_ids=[1], parameter="min_gap",
    ...       values=[2, 6], length=20)[["value", "relaxations"]]          # doctest: +SKIP
    """
    known = {f.name for f in dataclasses.fields(PlaylistParams)}
    if parameter != "length" and parameter not in known:
        raise ParameterError(
            f"parameter must be 'length' or one of {', '.join(sorted(known))}; got {parameter!r}"
        )
    if parameter in overrides:
        raise ParameterError(f"{parameter} is swept; do not also fix it in the overrides")
    seeds = [int(s) for s in seed_track_ids]
    values = list(values)
    if not seeds:
        raise ParameterError("seed_track_ids is empty")
    if not values:
        raise ParameterError(f"no values given for {parameter}")
    context = playlist_context(artifact, store=store)
    settings = [
        (
            length if parameter != "length" else int(value),
            _params(mode, parameter, value, overrides),
        )
        for value in values
    ]
    rows = []
    with tqdm(
        total=len(seeds) * len(values),
        disable=not progress,
        desc=f"sweep {parameter}",
        unit="playlist",
    ) as bar:
        for seed in seeds:
            for value, (size, params) in zip(values, settings, strict=True):
                playlist = make_playlist(
                    artifact=context, seed_track_id=seed, length=size, params=params
                )
                d = playlist.diagnostics
                rows.append(
                    {
                        "seed_track_id": seed,
                        "parameter": parameter,
                        "value": value,
                        "pool_size": d["pool_size"],
                        "eligible": d["pool"]["eligible"],
                        "artists": d["artists"],
                        "mean_transition": d["mean_transition"],
                        "min_transition": d["min_transition"],
                        "relaxations": len(d["relaxations"]),
                        "length": d["length"],
                        "max_per_artist": d["max_per_artist"],
                        "seed_artist_share": d["seed_artist_share"],
                    }
                )
                bar.update()
    frame = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
    return frame.astype({"mean_transition": float, "min_transition": float})


def _params(mode: str, parameter: str, value: Any, overrides: dict[str, Any]) -> PlaylistParams:
    if parameter == "length":
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"length values must be positive integers, got {value!r}")
        return PlaylistParams.for_mode(mode, **overrides)
    if isinstance(value, np.generic):
        value = value.item()
    return PlaylistParams.for_mode(mode, **{**overrides, parameter: value})
