"""Playlist commands: ``musicwb playlist`` (a playlist from a seed track) and
``musicwb genres migrate`` (normalise the genres already in the store).

``musicwb playlist --json`` prints ``{"tracks": [{"track_id", "artist", "title", "path",
"transition_in"}, ...], "diagnostics": {"pool_size", "artists", "relaxations", "mean_transition",
"min_transition", "max_per_artist", "left_out", ...}}``: scripts rely on these keys.

The artifact is the store's own (``<store stem>.artifact.npz`` beside it) unless ``--artifact``
names another; an artifact of another store, or one older than the store's features, is refused
with the command that rebuilds it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from musicwb.cli._common import App, Choices, JsonOption, StoreOption, app, print_json, store_path
from musicwb.errors import ParameterError

# The commands import what they run when they run: every `musicwb` command (and --help) loads
# this module, and the playlist stack (numpy, pandas, the sonic artifact) takes ~0.5 s.
if TYPE_CHECKING:
    import pandas as pd

    from musicwb.playlist.build import Playlist
    from musicwb.store.database import Store

_PLAYLIST_SUFFIXES = (".m3u8", ".m3u", ".csv")


def _option(flag: str, text: str) -> typer.models.OptionInfo:
    return typer.Option(flag, help=f"{text} (default: the mode's).", show_default=False)


@app.command("playlist")
def playlist(
    seed: Annotated[
        int, typer.Option("--seed", help="The seed track's id (see `musicwb tracks`).")
    ],
    length: Annotated[int, typer.Option("--length", help="Tracks in the playlist.", min=1)] = 30,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="dynamic, narrow (tighter) or discover (wider).",
            metavar=Choices("musicwb.playlist.params", "MODES"),
        ),
    ] = "dynamic",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the playlist: .m3u8 (or .m3u) or .csv.", show_default=False
        ),
    ] = None,
    relative: Annotated[
        bool,
        typer.Option(
            "--relative", help="Paths in --out relative to its folder (default absolute)."
        ),
    ] = False,
    artifact: Annotated[
        Path | None,
        typer.Option(
            "--artifact",
            help="The sonic artifact (default: <store stem>.artifact.npz beside the store).",
            show_default=False,
        ),
    ] = None,
    similarity_floor: Annotated[
        float | None,
        _option(
            "--similarity-floor", "Least hybrid similarity to the seed (-1 to 1; -1: no floor)"
        ),
    ] = None,
    genre_gate: Annotated[
        float | None, _option("--genre-gate", "Least genre similarity to the seed (0-1)")
    ] = None,
    sonic_weight: Annotated[
        float | None, _option("--sonic-weight", "Weight of sonic similarity (0-1)")
    ] = None,
    genre_weight: Annotated[
        float | None, _option("--genre-weight", "Weight of genre similarity (0-1)")
    ] = None,
    transition_floor: Annotated[
        float | None, _option("--transition-floor", "Least transition quality (0-1)")
    ] = None,
    min_gap: Annotated[
        int | None, _option("--min-gap", "Least other tracks between two of one artist")
    ] = None,
    max_artist_fraction: Annotated[
        float | None, _option("--max-artist-fraction", "Most tracks per artist, share of length")
    ] = None,
    recent_days: Annotated[
        int | None, _option("--recent-days", "Leave out tracks played within this many days")
    ] = None,
    bpm_window: Annotated[
        float | None, _option("--bpm-window", "Largest tempo change between neighbours, in %")
    ] = None,
    camelot: Annotated[
        bool | None,
        typer.Option(
            "--camelot/--no-camelot",
            help="Neighbours in Camelot-compatible keys (default: the mode's).",
            show_default=False,
        ),
    ] = None,
    include_flagged: Annotated[
        bool,
        typer.Option(
            "--include-flagged",
            help="Keep tracks flagged as silence, near-silence or steady tone (needs an artifact "
            "built with --include-flagged).",
        ),
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """A playlist from a seed track: pool by sonic+genre similarity, artists kept apart, smooth
    transitions; every relaxed rule is reported."""
    from musicwb.playlist.build import make_playlist, playlist_context
    from musicwb.playlist.params import Mode, PlaylistParams
    from musicwb.store.database import Store

    # The options named like a parameter (--similarity-floor ...) override the mode's values.
    params = PlaylistParams.for_mode(cast(Mode, mode)).replace(**PlaylistParams.given_in(locals()))
    if out is not None and out.suffix.lower() not in _PLAYLIST_SUFFIXES:
        raise ParameterError(f"--out {out}: the file must end in {', '.join(_PLAYLIST_SUFFIXES)}")
    # Read, then let go: another process (extract, scan) may write between two statements.
    with Store(store_path(store), read_only=True, hold_open=False) as opened:
        context = playlist_context(artifact, store=opened, include_flagged=include_flagged)
        result = make_playlist(context, seed_track_id=seed, length=length, params=params)
        if out is not None:
            _write(result.tracks, out, relative=relative, store=opened)
            typer.echo(f"wrote {len(result.tracks)} track(s) to {out}", err=True)
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(_describe(result))


def _write(tracks: pd.DataFrame, out: Path, *, relative: bool, store: Store) -> None:
    """Write the playlist file, with each track's duration from the store (#EXTINF)."""
    from musicwb.playlist.export import write_csv, write_m3u8
    from musicwb.store.tables.playlist import track_durations

    durations = track_durations(store, track_ids=tracks["track_id"].tolist())
    tracks = tracks.merge(durations, on="track_id", how="left")
    relative_to = out.resolve().parent if relative else None
    writer = write_csv if out.suffix.lower() == ".csv" else write_m3u8
    writer(tracks, out, relative_to=relative_to)


def _describe(result: Playlist) -> str:
    """The playlist as a table, then its diagnostics and every relaxation, for a person."""
    tracks = result.tracks
    table = tracks.assign(position=range(1, len(tracks) + 1))[
        ["position", "track_id", "artist", "title", "transition_in", "seed_similarity"]
    ]
    # the seed has no transition in: a blank, not NaN
    lines = [table.to_string(index=False, max_colwidth=40, na_rep="",
                             float_format=lambda v: f"{v:.3f}")]
    diagnostics = result.diagnostics
    lines.append(
        f"pool {diagnostics['pool_size']} track(s), {diagnostics['artists']} artist(s) in the "
        f"playlist, at most {diagnostics['max_per_artist']} per artist; transition mean "
        f"{_number(diagnostics['mean_transition'])}, min {_number(diagnostics['min_transition'])}"
    )
    if diagnostics.get("stopped"):
        lines.append(
            f"stopped at {len(tracks)} of {diagnostics.get('requested_length', '?')} track(s): "
            f"{diagnostics['stopped']}"
        )
    lines.extend(_relaxation_lines(diagnostics["relaxations"]))
    left_out = _left_out_line(diagnostics.get("left_out") or {})
    if left_out:
        lines.append(left_out)
    return "\n".join(lines)


def _relaxation_lines(relaxations: list[dict[str, object]]) -> list[str]:
    """One line per relaxation level used: where, what was relaxed, and the first reason."""
    lines = []
    for level in sorted({relaxation["level"] for relaxation in relaxations}):
        at_level = [r for r in relaxations if r["level"] == level]
        positions = [str(r["position"]) for r in at_level if r.get("position") is not None]
        where = f" at position(s) {', '.join(positions)}" if positions else ""
        lines.append(
            f"relaxed to level {level}{where} ({at_level[0]['rule']}): {at_level[0]['reason']}"
        )
    return lines


def _left_out_line(left_out: dict[str, object]) -> str:
    """``left out: 2 missing file(s), 1 whose file vanished since the last scan (ids 4; ...),
    not in the artifact: 1 silence``, or ``""`` when nothing was left out."""
    parts = [f"{left_out['missing']} missing file(s)"] if left_out.get("missing") else []
    parts += [
        f"{n} {flag.replace('_', '-')}" for flag, n in (left_out.get("flagged") or {}).items()
    ]
    vanished = left_out.get("vanished") or []
    if vanished:
        ids = ", ".join(map(str, vanished[:5])) + (", ..." if len(vanished) > 5 else "")
        parts.append(
            f"{len(vanished)} whose file vanished since the last scan (ids {ids}; run "
            "`musicwb scan`)"
        )
    by_artifact = left_out.get("by_artifact") or {}
    built = [f"{by_artifact['missing']} missing file(s)"] if by_artifact.get("missing") else []
    built += [
        f"{n} {flag.replace('_', '-')}" for flag, n in (by_artifact.get("flagged") or {}).items()
    ]
    if built:
        parts.append(f"not in the artifact: {', '.join(built)}")
    if left_out.get("not_in_artifact"):
        parts.append(
            f"{left_out['not_in_artifact']} track(s) analysed since the artifact was built "
            "(`musicwb artifact build` adds them)"
        )
    return f"left out: {', '.join(parts)}" if parts else ""


def _number(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


genres_app = App(help="The genres of the library.", no_args_is_help=True)
app.add_typer(genres_app, name="genres")


@genres_app.command("migrate")
def genres_migrate(
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the new genres (default: dry run).")
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Normalise the genres already in the store (translations, synonyms, meta tags dropped,
    composite tags split); a dry run unless --apply. Each change is logged in genre_changes."""
    from musicwb.genres.migrate import migrate_genres
    from musicwb.store.database import Store

    with Store(store_path(store), read_only=not apply) as opened:
        migration = migrate_genres(opened, apply=apply, progress=not as_json)
    if as_json:
        print_json(migration.as_dict())
    else:
        typer.echo(migration.describe())
