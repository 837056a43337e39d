"""``musicwb titles parse``: the title parser on stdin."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from musicwb.cli._common import (
    App,
    Choices,
    JsonOption,
    app,
    print_json,
)
from musicwb.titles import parse_titles

titles_app = App(help="Parse track titles and file names.", no_args_is_help=True)
app.add_typer(titles_app, name="titles")

_TITLE_TABLE_COLUMNS = (
    "input",
    "artist",
    "title",
    "mix",
    "label",
    "catalog",
    "pattern",
    "confidence",
)


@titles_app.command("parse")
def titles_parse(
    as_json: JsonOption = False,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="auto, tracklist, store, filename or karaoke.",
            metavar=Choices("musicwb.titles.parse", "SOURCES"),
        ),
    ] = "auto",
) -> None:
    """Read one title per line from stdin; print one JSON object per line (--json) or a table."""
    lines = [line.rstrip("\r\n") for line in sys.stdin]
    parsed = parse_titles(lines, source=source)
    if as_json:
        for item in parsed:
            print_json(item.as_dict())
        return
    rows = [
        [("" if getattr(p, c) is None else str(getattr(p, c)))[:40] for c in _TITLE_TABLE_COLUMNS]
        for p in parsed
    ]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(_TITLE_TABLE_COLUMNS)]
    for row in [list(_TITLE_TABLE_COLUMNS), *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
