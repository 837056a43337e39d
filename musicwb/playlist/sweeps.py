"""Parameter sweeps: one playlist per (seed, value), its diagnostics as one table row.

The sweep shows where a parameter's cliff is for a user's own library: e.g. the similarity
floor, where 0.30 starved the original system's pool to 31 tracks and 0.15 gave 670.

Examples
--------
>>> import numpy as np
>>> from musicwb.playlist.build import playlist_context
>>> angles = np.linspace(0.0, 3.0, 12)
>>> artifact = {"track_ids": np.arange(1, 13), "artist_keys": np.array(list("abcd") * 3),
...             "embedded_full": np.c_[np.cos(angles), np.sin(angles)].astype(np.float32)}
>>> frame = sweep(playlist_context(artifact), seed_track_ids=[1, 2],
...               parameter="similarity_floor", values=[0.0, 0.5, 0.9], length=6, progress=False)
>>> frame.groupby("value")["eligible"].mean().to_dict()  # a higher floor lets fewer in
{0.0: 5.5, 0.5: 3.5, 0.9: 1.5}
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from musicwb.errors import ParameterError
from musicwb.playlist.build import PlaylistContext, make_playlist
from musicwb.playlist.params import PARAMETER_NAMES, ParameterValue, PlaylistParams

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
    context: PlaylistContext,
    *,
    seed_track_ids: Iterable[int],
    parameter: str,
    values: Iterable[ParameterValue],
    length: int = 30,
    params: PlaylistParams | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Build a playlist for every seed and every value of one parameter.

    Parameters
    ----------
    context : PlaylistContext
        The artifact and store, read once for the whole sweep
        (:func:`musicwb.playlist.build.playlist_context`).
    seed_track_ids : iterable of int
    parameter : str
        A field of :class:`~musicwb.playlist.params.PlaylistParams`, or ``"length"``.
    values : iterable
        The values to try.
    length : int, default 30
    params : PlaylistParams, optional
        Every other parameter, fixed for the whole sweep (the swept one is replaced by each
        value); default ``PlaylistParams()``.
    progress : bool, default True
        A tqdm bar on stderr.

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
    """
    if parameter != "length" and parameter not in PARAMETER_NAMES:
        raise ParameterError(
            f"parameter must be 'length' or one of {', '.join(sorted(PARAMETER_NAMES))}; "
            f"got {parameter!r}"
        )
    fixed = params if params is not None else PlaylistParams()
    seeds = [int(s) for s in seed_track_ids]
    values = list(values)
    if not seeds:
        raise ParameterError("seed_track_ids is empty")
    if not values:
        raise ParameterError(f"no values given for {parameter}")
    settings = [_setting(fixed, parameter, value, length=length) for value in values]
    rows = []
    with tqdm(
        total=len(seeds) * len(values),
        disable=not progress,
        desc=f"sweep {parameter}",
        unit="playlist",
    ) as bar:
        for seed in seeds:
            for value, (size, swept) in zip(values, settings, strict=True):
                playlist = make_playlist(context, seed_track_id=seed, length=size, params=swept)
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


def _setting(
    params: PlaylistParams, parameter: str, value: ParameterValue, *, length: int
) -> tuple[int, PlaylistParams]:
    """The length and parameters of one swept value (checked)."""
    if parameter == "length":
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"length values must be positive integers, got {value!r}")
        return int(value), params
    if isinstance(value, np.generic):
        value = value.item()
    return length, params.replace(**{parameter: value})
