"""The ``musicwb`` command.

Every command finds the store through ``--store PATH``, else ``$MUSICWB_STORE``, else
``data/musicwb.duckdb`` under the current directory. ``--json`` prints machine-readable output on
stdout; progress and messages go to stderr. Errors of the musicwb family print one clear line and
exit with status 1 (2 for a bad parameter); Ctrl-C exits with 130 after a clean stop.

One module per domain registers its commands on the shared ``app``; importing them here is what
adds them to the command line.
"""

from __future__ import annotations

import sys

import typer

from musicwb.cli import (  # noqa: F401  (importing a module registers its commands)
    enrich,
    labels,
    library,
    linkage,
    playlist,
    sonic,
    tags,
    titles,
)
from musicwb.cli._common import app
from musicwb.errors import MusicwbError, ParameterError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the console script: run the app, turning musicwb errors into messages.

    Usage errors exit with 2 and Ctrl-C with 1 ("Aborted!"), as click does; a bad parameter
    value exits with 2 and any other musicwb error with 1, each with one line on stderr.
    """
    try:
        app()
    except ParameterError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except MusicwbError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
