"""Ready tables, charts and the live sliders panel of the ``playlist_tuning`` notebook.

The notebook only orchestrates; what it shows is computed here.

- :func:`tuning_artifact`: the artifact to tune on (the store's artifact file beside it when it
  was built from the store's current features, else built in memory from those features
  through :mod:`musicwb.sonic.artifact`), with a sentence saying which and why;
- :func:`pick_seeds`: the ``seed_tracks`` parameter checked, or a few seeds of different artists;
- :func:`playlist_table`, :func:`diagnostics_table`, :func:`relaxations_table`: a playlist as
  a reader checks it;
- :func:`sweep_summary` and :func:`sweep_chart`: a parameter sweep averaged over the seeds, one
  panel per measure (pool size, distinct artists, mean and min transition, relaxations);
- :func:`tuning_panel`: ipywidgets sliders that rebuild the playlist live in JupyterLab. In a
  batch run (papermill, nbval) it is built and shown like any output and changes nothing.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"seed_track_id": [1, 2, 1, 2], "parameter": "similarity_floor",
...                       "value": [0.1, 0.1, 0.3, 0.3], "pool_size": [40, 60, 5, 7],
...                       "artists": [9, 11, 2, 3], "mean_transition": [0.5, 0.6, 0.4, 0.5],
...                       "min_transition": [0.2, 0.3, 0.1, 0.1], "relaxations": [0, 0, 3, 5]})
>>> summary = sweep_summary(frame)
>>> summary[summary.measure == "pool size"][["value", "mean", "low", "high"]].to_dict("list")
{'value': [0.1, 0.3], 'mean': [50.0, 6.0], 'low': [40.0, 5.0], 'high': [60.0, 7.0]}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from musicwb.errors import ParameterError
from musicwb.playlist.build import Playlist, PlaylistContext, make_playlist
from musicwb.playlist.params import MODES, PlaylistParams
from musicwb.sonic.artifact import (
    ArtifactMismatchError,
    build_artifact_arrays,
    check_artifact,
    chosen_variant,
    left_out_of,
    load_artifact,
    load_feature_set,
)
from musicwb.store.database import Store
from musicwb.store.paths import StorePaths
from musicwb.store.tables.playlist import analysed_track_count

if TYPE_CHECKING:  # ipywidgets is imported only when a panel is made (see tuning_panel)
    import ipywidgets

__all__ = [
    "MIN_TRACKS",
    "SLIDERS",
    "SWEEP_MEASURES",
    "diagnostics_table",
    "pick_seeds",
    "playlist_table",
    "relaxations_table",
    "sweep_chart",
    "sweep_summary",
    "tuning_artifact",
    "tuning_panel",
]

MIN_TRACKS = 3
"""An artifact needs at least this many analysed tracks."""

SWEEP_MEASURES = {
    "pool_size": "pool size",
    "artists": "distinct artists",
    "mean_transition": "mean transition",
    "min_transition": "min transition",
    "relaxations": "relaxations",
}
"""Sweep columns charted, with their titles."""

SLIDERS = {
    # parameter: (low, high, step)
    "similarity_floor": (0.0, 0.6, 0.01),
    "genre_gate": (0.0, 0.8, 0.01),
    "sonic_weight": (0.0, 1.0, 0.01),
    "genre_weight": (0.0, 1.0, 0.01),
    "transition_floor": (0.0, 0.6, 0.01),
    "beta": (0.0, 1.0, 0.01),
    "min_gap": (0, 12, 1),
    "max_artist_fraction": (0.05, 1.0, 0.005),
}
"""The parameters of the live panel and their slider ranges."""


# -- the artifact and the seeds ---------------------------------------------------------------


def tuning_artifact(
    store: Store, *, path: str | Path | None = None, include_flagged: bool = False
) -> tuple[Mapping[str, np.ndarray] | None, str]:
    """The artifact to tune on, and a sentence saying where it comes from.

    Parameters
    ----------
    store : Store
        May be read-only (and need not hold the file open).
    path : str or Path, optional
        An artifact file to use; it must have been built from this store's current features
        (else :class:`~musicwb.sonic.artifact.ArtifactMismatchError` says how to rebuild it).
        Without it, the store's own artifact (``<stem>.artifact.npz`` beside the store, where
        ``musicwb artifact build`` writes it) is used when it was built from the store's
        current features; otherwise the artifact is built in memory from those features (the
        variant of the last ``musicwb validate``, as ``musicwb artifact build`` does), so the
        notebook always tunes on this store as it is now.
    include_flagged : bool, default False
        Keep tracks flagged as silence, near-silence or a steady tone. Tracks whose file is
        missing are always left out.

    Returns
    -------
    artifact : Mapping of str to ndarray, or None
        None when the store has fewer than :data:`MIN_TRACKS` usable analysed tracks.
    source : str
        Which artifact, why, and how many analysed tracks were left out and why.

    Raises
    ------
    ParameterError
        ``path`` is given but is not an artifact, or not this store's current one.
    """
    if path:
        artifact = load_artifact(path)
        check_artifact(artifact, store, include_flagged=include_flagged)
        return artifact, f"artifact {path}: {len(artifact['track_ids'])} tracks"
    usable = analysed_track_count(store, include_flagged=include_flagged)
    left = left_out_of(store, include_flagged=include_flagged, include_missing=False).describe()
    left = f"; {left}" if left else ""
    if usable < MIN_TRACKS:
        return None, (
            f"{usable} track(s) have sonic features{left}; playlists need at least "
            f"{MIN_TRACKS}: run `musicwb extract`"
        )
    paths = StorePaths.of(store.path)
    own = paths.artifact
    if own.is_file():
        artifact = load_artifact(own)
        try:
            checked = check_artifact(artifact, store, include_flagged=include_flagged)
        except ArtifactMismatchError as exc:
            why = str(exc)
        else:
            lacking = (
                f"; {checked.not_in_artifact} track(s) analysed since are not in it "
                f"(`{checked.rebuild}` adds them)"
                if checked.not_in_artifact
                else ""
            )
            return artifact, f"artifact {own}: {len(artifact['track_ids'])} tracks{left}{lacking}"
    else:
        why = f"no artifact at {own}"
    variant, settings, variant_source = chosen_variant(store)
    features = load_feature_set(store, include_flagged=include_flagged)
    arrays = build_artifact_arrays(
        features, variant=variant, settings=settings, variant_source=variant_source
    )
    command = f"musicwb artifact build --store {paths.store}"
    command += " --include-flagged" if include_flagged else ""
    return arrays, (
        f"{why}: built in memory from the store's features ({len(features)} tracks, "
        f"variant {variant}){left}; `{command}` writes it for the command line"
    )


def pick_seeds(
    artifact: Mapping[str, np.ndarray], *, seed_tracks: Sequence[int] = (), n: int = 3
) -> list[int]:
    """The seed tracks: those asked for (checked), else ``n`` tracks of different artists.

    Parameters
    ----------
    artifact : Mapping of str to ndarray
        With ``track_ids`` and ``artist_keys``.
    seed_tracks : sequence of int, optional
        Track ids; each must be in the artifact.
    n : int, default 3
        How many seeds to pick when ``seed_tracks`` is empty: the first track (lowest id) of
        each of the ``n`` artists with most tracks, so that every seed can fill a playlist.

    Returns
    -------
    list of int

    Raises
    ------
    ParameterError
        A seed is not in the artifact (named), or ``n`` < 1.

    Examples
    --------
    >>> artifact = {"track_ids": np.array([4, 5, 6, 9]), "artist_keys": np.array(["a", "b", "b", "c"])}
    >>> pick_seeds(artifact, n=2), pick_seeds(artifact, seed_tracks=[9])
    ([5, 4], [9])
    """
    ids = np.asarray(artifact["track_ids"], dtype=np.int64)
    if seed_tracks:
        wanted = [int(track) for track in seed_tracks]
        missing = sorted(set(wanted) - set(ids.tolist()))
        if missing:
            raise ParameterError(
                f"seed_tracks {missing} are not in the artifact (tracks without sonic features "
                "or not in this store); leave seed_tracks empty to pick seeds"
            )
        return wanted
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n_seeds must be a whole number >= 1, got {n!r}")
    frame = pd.DataFrame({"track_id": ids, "artist": np.asarray(artifact["artist_keys"])})
    firsts = frame.groupby("artist", sort=False).agg(
        tracks=("track_id", "size"), first=("track_id", "min")
    )
    firsts = firsts.sort_values(["tracks", "first"], ascending=[False, True])
    return [int(track) for track in firsts["first"].head(n)]


# -- a playlist as a reader checks it ---------------------------------------------------------


def playlist_table(playlist: Playlist) -> pd.DataFrame:
    """The playlist in order, for display.

    Parameters
    ----------
    playlist : Playlist

    Returns
    -------
    pandas.DataFrame, shape (n, 6)
        ``position`` (from 1), ``artist``, ``title``, ``track_id``, ``transition_in`` (from
        the previous track; missing for the first) and ``seed_similarity``, rounded to 3.
    """
    tracks = playlist.tracks
    return pd.DataFrame(
        {
            "position": np.arange(1, len(tracks) + 1),
            "artist": tracks["artist"].to_numpy(),
            "title": tracks["title"].to_numpy(),
            "track_id": tracks["track_id"].to_numpy(),
            "transition_in": tracks["transition_in"].astype(float).round(3).to_numpy(),
            "seed_similarity": tracks["seed_similarity"].astype(float).round(3).to_numpy(),
        }
    )


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def diagnostics_table(playlist: Playlist) -> pd.DataFrame:
    """What the playlist's diagnostics say, one measure per row.

    Parameters
    ----------
    playlist : Playlist

    Returns
    -------
    pandas.DataFrame
        ``measure`` and ``value`` (text): length (of requested), pool size and the candidates
        that passed the floor and gates, the tracks left out (played recently, file missing,
        flagged as not music, file vanished since the scan), distinct artists, most tracks of
        one artist, the seed artist's share, mean and min transition, relaxed positions and why
        it stopped short.
    """
    d = playlist.diagnostics
    pool = d.get("pool", {})
    left_out = d.get("left_out", {})
    rows = [
        ("length", f"{d.get('length', len(playlist.tracks))} of {d.get('requested_length', '?')}"),
        ("pool size", d["pool_size"]),
        ("candidates past floor and gates", pool.get("eligible")),
        ("below the similarity floor", pool.get("below_floor")),
        ("left out: played recently", left_out.get("played_recently", pool.get("excluded"))),
        ("left out: file missing", left_out.get("missing")),
        ("left out: not music (flagged)", sum((left_out.get("flagged") or {}).values())),
        ("left out: file vanished since the scan", len(left_out.get("vanished") or [])),
        ("distinct artists", d["artists"]),
        ("most tracks of one artist", d["max_per_artist"]),
        ("seed artist's share", d.get("seed_artist_share")),
        ("mean transition", d["mean_transition"]),
        ("min transition", d["min_transition"]),
        ("relaxed positions", len(d["relaxations"])),
        ("stopped short", d.get("stopped") or "no"),
    ]
    return pd.DataFrame(
        {"measure": [name for name, _ in rows], "value": [_shown(value) for _, value in rows]}
    )


def relaxations_table(playlist: Playlist) -> pd.DataFrame:
    """Every relaxed rule: at which position, which level, what was relaxed and why.

    Returns
    -------
    pandas.DataFrame
        ``position``, ``level``, ``rule``, ``reason``; no rows when no rule was relaxed, and
        then its ``attrs["empty_note"]`` says so.
    """
    columns = ["position", "level", "rule", "reason"]
    rows = [
        {column: r.get(column) for column in columns} for r in playlist.diagnostics["relaxations"]
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["empty_note"] = "Every rule held: no position needed a relaxed rule."
    return frame


# -- the sweep --------------------------------------------------------------------------------


def sweep_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """A sweep averaged over its seeds, in long form for :func:`sweep_chart`.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`musicwb.playlist.sweeps.sweep`: one row per (seed, value) with ``parameter``,
        ``value`` and the columns of :data:`SWEEP_MEASURES`.

    Returns
    -------
    pandas.DataFrame, shape (n_values · 5, 7)
        ``parameter``, ``value``, ``measure`` (title), ``mean``, ``low``, ``high`` (over the
        seeds) and ``seeds`` (how many seeds had a value, e.g. a transition).

    Raises
    ------
    ParameterError
        A column is missing.
    """
    missing = [c for c in ("parameter", "value", *SWEEP_MEASURES) if c not in frame.columns]
    if missing:
        raise ParameterError(f"the sweep frame has no column(s) {missing}")
    long = frame.melt(
        id_vars=["parameter", "value"],
        value_vars=list(SWEEP_MEASURES),
        var_name="column",
        value_name="result",
    )
    long["result"] = long["result"].astype(float)
    summary = (
        long.groupby(["parameter", "value", "column"], sort=False)["result"]
        .agg(mean="mean", low="min", high="max", seeds="count")
        .reset_index()
    )
    summary["measure"] = summary["column"].map(SWEEP_MEASURES)
    order = {column: i for i, column in enumerate(SWEEP_MEASURES)}
    summary = summary.sort_values(
        ["column", "value"], key=lambda s: s.map(order) if s.name == "column" else s
    )
    return summary[["parameter", "value", "measure", "mean", "low", "high", "seeds"]].reset_index(
        drop=True
    )


def sweep_chart(
    summary: pd.DataFrame, *, current: float | None = None, title: str | None = None
) -> alt.VConcatChart:
    """One small panel per measure: the mean over the seeds as a line, their range as a band.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`sweep_summary`.
    current : float, optional
        The value in use, drawn as a dashed vertical rule in every panel.
    title : str, optional
        Default: "What <parameter> does to the playlists ...".

    Returns
    -------
    altair.VConcatChart
        Its data is ``summary``, inline; every panel has its own y scale.

    Examples
    --------
    >>> frame = pd.DataFrame({"parameter": "min_gap", "value": [2, 2, 6, 6],
    ...                       "measure": ["pool size", "relaxations"] * 2,
    ...                       "mean": [9.0, 0.0, 9.0, 4.0], "low": [8.0, 0.0, 8.0, 2.0],
    ...                       "high": [10.0, 0.0, 10.0, 6.0]})
    >>> len(sweep_chart(frame, current=6).to_dict()["vconcat"])
    2
    """
    needed = ("parameter", "value", "measure", "mean", "low", "high")
    missing = [c for c in needed if c not in summary.columns]
    if missing:
        raise ParameterError(f"sweep_chart: the summary has no column(s) {missing}")
    parameter = str(summary["parameter"].iloc[0]) if len(summary) else "value"
    tooltip = [
        alt.Tooltip("value:Q", title=parameter),
        alt.Tooltip("measure:N"),
        alt.Tooltip("mean:Q", format=",.3~f"),
        alt.Tooltip("low:Q", format=",.3~f"),
        alt.Tooltip("high:Q", format=",.3~f"),
    ]
    measures = list(dict.fromkeys(summary["measure"]))
    panels = []
    for k, measure in enumerate(measures):
        last = k == len(measures) - 1
        x = alt.X(
            "value:Q",
            title=parameter if last else None,
            scale=alt.Scale(zero=False, nice=False),
            axis=alt.Axis(tickCount=8, format="~g", labels=last),
        )
        selected = alt.Chart(summary).transform_filter(alt.datum.measure == measure)
        layers = [
            selected.mark_area(opacity=0.2).encode(
                x=x, y=alt.Y("low:Q", title=measure), y2="high:Q"
            ),
            selected.mark_line(point=True).encode(
                x=x, y=alt.Y("mean:Q", title=measure), tooltip=tooltip
            ),
        ]
        if current is not None:
            layers.append(
                alt.Chart(pd.DataFrame({"value": [float(current)]}))
                .mark_rule(strokeDash=[4, 4], color="gray")
                .encode(x="value:Q")
            )
        panels.append(alt.layer(*layers).properties(width=520, height=100))
    return alt.vconcat(*panels, spacing=8).properties(
        title=title
        or f"What {parameter} does to the playlists (line: mean over the seeds; band: range)"
    )


# -- the live panel ---------------------------------------------------------------------------


def tuning_panel(
    context: PlaylistContext,
    *,
    seed_tracks: Iterable[int],
    length: int = 20,
    params: PlaylistParams | None = None,
) -> ipywidgets.VBox:
    """Sliders that rebuild the playlist whenever one moves (JupyterLab).

    Parameters
    ----------
    context : PlaylistContext
        From :func:`musicwb.playlist.build.playlist_context` (the artifact and store are read
        once, so a rebuild takes milliseconds).
    seed_tracks : iterable of int
        The seeds offered in the seed menu (the first is selected).
    length : int, default 20
    params : PlaylistParams, optional
        Where the menus and sliders start (default ``PlaylistParams()``). Parameters without a
        slider keep the values it changed from its mode, whichever mode is chosen.

    Returns
    -------
    ipywidgets.VBox
        Seed and mode menus, a length slider, one slider per :data:`SLIDERS` parameter, and an
        output area with the playlist and its diagnostics. Changing the mode resets the sliders
        to that mode's values. ``panel.controls`` maps ``"seed"``, ``"mode"``, ``"length"``
        and the parameter names to their widgets; ``panel.playlist`` is the playlist shown.

    Raises
    ------
    ParameterError
        No seed, or a starting value out of range.
    """
    # Function-level: ipywidgets and IPython are needed only for a live panel.
    import ipywidgets as widgets
    from IPython.display import display

    seeds = [int(seed) for seed in seed_tracks]
    if not seeds:
        raise ParameterError("tuning_panel needs at least one seed track")
    start = params if params is not None else PlaylistParams()
    kept = {name: value for name, value in start.changed_from_mode().items() if name not in SLIDERS}
    seed_menu = widgets.Dropdown(options=seeds, value=seeds[0], description="seed")
    mode_menu = widgets.Dropdown(options=list(MODES), value=start.mode, description="mode")
    length_slider = widgets.IntSlider(value=length, min=2, max=100, description="length")
    sliders = {}
    for name, (low, high, step) in SLIDERS.items():
        kind = widgets.IntSlider if isinstance(step, int) else widgets.FloatSlider
        sliders[name] = kind(
            value=getattr(start, name),
            min=low,
            max=high,
            step=step,
            description=name,
            continuous_update=False,
            style={"description_width": "150px"},
            layout=widgets.Layout(width="480px"),
        )
    output = widgets.Output()
    state = {"resetting": False}

    def rebuild(_change: object = None) -> None:
        if state["resetting"]:
            return
        chosen = {name: slider.value for name, slider in sliders.items()}
        with output:
            output.clear_output(wait=True)
            try:
                playlist = make_playlist(
                    context,
                    seed_track_id=seed_menu.value,
                    length=length_slider.value,
                    params=PlaylistParams.for_mode(mode_menu.value).replace(**kept, **chosen),
                )
            except ParameterError as exc:  # a slider combination the parameters refuse
                print(f"not a valid combination: {exc}")
                return
            panel.playlist = playlist
            display(diagnostics_table(playlist), playlist_table(playlist))

    def reset_to_mode(change: dict[str, object]) -> None:
        fresh = PlaylistParams.for_mode(change["new"])
        state["resetting"] = True
        try:
            for name, slider in sliders.items():
                slider.value = getattr(fresh, name)
        finally:
            state["resetting"] = False
        rebuild()

    controls = widgets.VBox(
        [widgets.HBox([seed_menu, mode_menu, length_slider]), *sliders.values()]
    )
    panel = widgets.VBox([controls, output])
    panel.controls = {"seed": seed_menu, "mode": mode_menu, "length": length_slider, **sliders}
    panel.playlist = None
    mode_menu.observe(reset_to_mode, names="value")
    for control in (seed_menu, length_slider, *sliders.values()):
        control.observe(rebuild, names="value")
    rebuild()
    return panel
