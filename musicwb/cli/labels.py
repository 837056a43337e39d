"""Label review commands: ``musicwb labels review|accept|reject|search|calibrate``.

``review`` lists the findings waiting for a decision (below the acceptance threshold) with their
evidence; ``accept`` and ``reject`` record the user's decision (source ``manual``, confidence
1.0; a rejected label is never proposed to that track again); ``search`` finds tracks by any
spelling of a catalogue number; ``calibrate`` measures the offline tiers' precision on masked
labels and stores it for ``hunt-labels``. The notebook's review table calls the same functions
(:mod:`musicwb.enrich.review`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from musicwb.cli._common import (
    App,
    JsonOption,
    StoreOption,
    app,
    option,
    print_frame,
    print_json,
    split_names,
    store_path,
)

labels_app = App(
    help="Review the label hunter's findings, accept or reject them, search catalogue numbers, "
    "calibrate the tiers.",
    no_args_is_help=True,
)
app.add_typer(labels_app, name="labels")

TrackArgument = Annotated[int, typer.Argument(metavar="TRACK_ID", help="The track's id.")]
@labels_app.command("review")
def review(
    store: StoreOption = None,
    as_json: JsonOption = False,
    below: Annotated[
        float | None,
        option(
            "--below",
            "List findings under this confidence instead of the hunts' threshold.",
            show_default=False,
            min=0.0,
            max=1.0,
        ),
    ] = None,
    limit: Annotated[int | None, option("--limit", "At most N rows.", min=1)] = None,
) -> None:
    """List the findings waiting for a decision, with their evidence, surest first.

    Each track's newest finding its hunt did not accept, unless the user rejected that label or
    the track carries a label of the user's own. Decide with `musicwb labels accept TRACK_ID`
    or `musicwb labels reject TRACK_ID`.
    """
    from musicwb.enrich.review import review_queue
    from musicwb.store import Store

    with Store(store_path(store), read_only=True) as opened:
        frame = review_queue(opened, below=below, limit=limit)
    if as_json:
        print_frame(frame, as_json=True)
        return
    for row in frame.itertuples(index=False):
        catalogue = f" – {row.catalog}" if isinstance(row.catalog, str) and row.catalog else ""
        typer.echo(
            f"#{row.track_id} {row.artist or '(no artist)'} – {row.title or '(no title)'}\n"
            f"    {row.label}{catalogue} ({row.source}, {row.confidence:.2f}): {row.evidence}"
        )
    typer.echo(f"{len(frame)} finding(s) waiting for a decision")


@labels_app.command("accept")
def accept(
    track_id: TrackArgument,
    label: Annotated[
        str | None,
        option("--label", "The label \\[default: the track's finding].", show_default=False),
    ] = None,
    catalogue: Annotated[
        list[str] | None,
        option(
            "--catalogue",
            "A catalogue number of the release (repeat for several).",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a label the track's own (source manual, confidence 1.0): the finding's, or --label.

    No later hunt, tier, cool-down or re-scan overwrites it.
    """
    from musicwb.enrich.review import accept_label
    from musicwb.store import Store

    with Store(store_path(store)) as opened:
        decision = accept_label(opened, track_id, label=label, catalogues=catalogue or ())
    if as_json:
        print_json(decision.as_dict())
    else:
        typer.echo(decision.describe())


@labels_app.command("reject")
def reject(
    track_id: TrackArgument,
    label: Annotated[
        str | None,
        option("--label", "The label \\[default: the track's finding].", show_default=False),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject the track's finding (or --label): it is never proposed to this track again."""
    from musicwb.enrich.review import reject_label
    from musicwb.store import Store

    with Store(store_path(store)) as opened:
        decision = reject_label(opened, track_id, label=label)
    if as_json:
        print_json(decision.as_dict())
    else:
        typer.echo(decision.describe())


@labels_app.command("search")
def search(
    catalogue: Annotated[
        str, option("--catalogue", "A catalogue number, in any spelling (cat 012, CAT-012).")
    ],
    prefix: Annotated[
        bool, typer.Option("--prefix", help="Numbers that start with it (KW finds KW 20).")
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the tracks that carry a catalogue number, however it is written."""
    from musicwb.enrich.review import search_catalogue
    from musicwb.store import Store

    with Store(store_path(store), read_only=True) as opened:
        frame = search_catalogue(opened, catalogue, prefix=prefix)
    print_frame(frame, as_json=as_json)


@labels_app.command("calibrate")
def calibrate(
    djmix: Annotated[
        Path | None,
        option(
            "--djmix",
            "Measure on this DJ Mix Dataset file instead of the store's labels.",
            show_default=False,
        ),
    ] = None,
    tiers: Annotated[
        list[str] | None,
        option(
            "--tiers",
            "Tiers to measure, comma-separated \\[default: library,title].",
            show_default=False,
        ),
    ] = None,
    folds: Annotated[int, option("--folds", "Folds of the held-out check.", min=2)] = 5,
    seed: Annotated[int, option("--seed", "Seed of the folds.")] = 0,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Measure the offline tiers' precision on masked labels and store the calibration.

    Each known label is hidden in turn and the tier asked for it; an isotonic map from the
    tier's raw score to the observed precision is fitted, checked on held-out artists (per
    decile of stated confidence) and stored with its date and sample size. hunt-labels states
    the latest one's values as the findings' confidences.
    """
    from musicwb.enrich.calibration import CALIBRATED_TIERS
    from musicwb.enrich.calibration import calibrate as run_calibration
    from musicwb.store import Store

    names = split_names(tiers, option="--tiers") or list(CALIBRATED_TIERS)
    with Store(store_path(store)) as opened:
        result = run_calibration(
            opened,
            corpus="djmix" if djmix is not None else "store",
            djmix_path=djmix,
            tiers=names,
            folds=folds,
            seed=seed,
        )
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(result.describe())
