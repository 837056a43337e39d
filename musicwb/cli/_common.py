"""What every command module shares: the app, the common options and the output helpers.

Options used by more than one command are defined here once (``StoreOption``, ``JsonOption``,
...); :func:`option` and :func:`flag` keep a command's own options to one line each. Only
light modules are imported at module level: ``musicwb --help`` imports every command module.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import OptionInfo

from musicwb.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Choices:
    """The values an option accepts, read from the package's own constant only when a help page
    is shown (``Choices("musicwb.linkage.tracklist_files", "FORMATS")``): the constant's module
    may import pandas or duckdb, which ``musicwb --help`` must not.

    Give it as the option's ``metavar``; the value itself is still checked where it is used, so
    a bad one keeps its error message naming the valid ones.
    """

    module: str
    name: str
    extra: tuple[str, ...] = ()
    """Values the command accepts beyond the constant's (``validate --variant all``)."""

    def label(self) -> str:
        """``<a|b|c>``, as the help shows the type of any other option (``<int>``)."""
        values = [*getattr(importlib.import_module(self.module), self.name), *self.extra]
        return "<" + "|".join(str(value) for value in values) + ">"


def _tidy_for_help(params: Iterable[object]) -> None:
    """Flags (``--json``, ``--help``) show no ``<bool>`` placeholder: they take no value; a
    :class:`Choices` metavar becomes the list of values."""
    for param in params:
        if not isinstance(param, TyperOption):
            continue
        if isinstance(param.metavar, Choices):
            param.metavar = param.metavar.label()
        elif param.is_flag and param.metavar is None:
            param.metavar = ""


class HelpCommand(TyperCommand):
    """A command whose help page shows flags without a value placeholder and lists choices."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The help page (typer's), once the options are tidied."""
        _tidy_for_help(self.get_params(ctx))
        super().format_help(ctx, formatter)


class HelpGroup(TyperGroup):
    """A command group whose help page shows its options as :class:`HelpCommand` does."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The help page (typer's), once the options are tidied."""
        _tidy_for_help(self.get_params(ctx))
        super().format_help(ctx, formatter)


class App(typer.Typer):
    """A ``typer.Typer`` whose groups and commands tidy their help pages (see
    :class:`HelpCommand`); every command module makes its sub-commands with it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", HelpGroup)
        super().__init__(**kwargs)

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """``typer.Typer.command``, with :class:`HelpCommand` as the command class."""
        kwargs.setdefault("cls", HelpCommand)
        return super().command(*args, **kwargs)


app = App(
    name="musicwb",
    help="A research workbench for large DJ and music libraries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="The DuckDB store \\[default: $MUSICWB_STORE, else data/musicwb.duckdb].",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
ModeOption = Annotated[
    str,
    typer.Option(
        "--mode",
        help="fast (1 search), balanced (2) or accurate (3 + details).",
        metavar=Choices("musicwb.enrich.labels", "MODES"),
    ),
]
"""The label hunter's mode (``hunt-labels``, ``enrich run``)."""
SourcesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--sources",
        help="Tiers in order, comma-separated or repeated: library, title, musicbrainz, "
        "discogs, plug-ins \\[default: the first four].",
    ),
]
"""The label hunter's tiers (``hunt-labels``, ``enrich run``); see :func:`split_names`."""
IncludeFlaggedOption = Annotated[
    bool,
    typer.Option(
        "--include-flagged",
        help="Keep tracks flagged as silence, near-silence or steady tone (left out by default).",
    ),
]
"""Whether tracks that are not music stay in (``validate``, ``artifact build``)."""


def option(flag: str, text: str, *, show_default: bool = True, **limits: float) -> OptionInfo:
    """A command-line option ``flag`` with help ``text`` (and ``min``/``max`` limits, if any).

    Use it in an ``Annotated`` parameter: ``limit: Annotated[int | None, option("--limit",
    "At most N rows.", min=1)] = None``.
    """
    return typer.Option(flag, help=text, show_default=show_default, **limits)


def flag(name: str, text: str) -> OptionInfo:
    """An on/off option (``--prune``), off by default: ``Annotated[bool, flag(...)] = False``."""
    return typer.Option(name, help=text)


def store_path(store: Path | None) -> Path:
    """The store a command opens: ``--store``, else the settings' store."""
    from musicwb.config import get_settings  # pydantic: only when a command runs, not --help

    return get_settings(store=store).store


def print_json(value: object) -> None:
    """One JSON document on one line of stdout."""
    typer.echo(json.dumps(value, indent=None, default=str, ensure_ascii=False))


def print_frame(frame: pd.DataFrame, *, as_json: bool) -> None:
    """A DataFrame as JSON records, or as a plain table ("(none)" when empty).

    The table reads as the reports do: rounded numbers, a blank for a missing value (not
    ``None``), times to the second (:func:`musicwb.notebook.tables.format_value`).
    """
    from musicwb.notebook.tables import format_value

    if as_json:
        typer.echo(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
    elif frame.empty:
        typer.echo("(none)")
    else:
        shown = frame.astype(object).apply(lambda column: column.map(format_value))
        typer.echo(shown.to_string(index=False, max_colwidth=60))


def quiet_splink() -> None:
    """Silence splink's warnings about sparsely sampled levels; the CLI decides what is logged."""
    logging.getLogger("splink").setLevel(logging.ERROR)


def split_names(values: list[str] | None, *, option: str) -> list[str] | None:
    """Names given comma-separated and/or repeated (``--sources a,b --sources c``), or None.

    Raises
    ------
    ParameterError
        The option was given but names nothing.
    """
    if not values:
        return None
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if not names:
        raise ParameterError(f"{option} needs at least one name")
    return names


def echo_failure_reasons(reasons: Iterable[object], *, top: int = 5) -> None:
    """Print the most common failure reasons with their counts, one per line, on stderr.

    Parameters
    ----------
    reasons : iterable of str
        One reason per failed item (``"SourceError: MusicBrainz ...: Name or service not
        known"``); equal reasons are counted together.
    top : int, default 5
        How many distinct reasons to print; the rest is summed up in one line.
    """
    counts = Counter(str(reason) for reason in reasons if reason)
    if not counts:
        return
    typer.echo("top failure reasons:", err=True)
    for reason, count in counts.most_common(top):
        typer.echo(f"  {count:>5} × {reason}", err=True)
    rest = sum(counts.values()) - sum(count for _, count in counts.most_common(top))
    if rest:
        typer.echo(f"  {rest:>5} × (other reasons)", err=True)


def echo_job_result(
    *,
    as_json: bool,
    data: dict[str, Any],
    text: str,
    warning: str | None,
    failure_reasons: dict[str, int],
) -> None:
    """Print a label job's result: its JSON or its text on stdout, then on stderr the warning
    (if any) and the most common failure reasons."""
    if as_json:
        print_json(data)
    else:
        typer.echo(text)
    if warning:
        typer.echo(warning, err=True)
    echo_failure_reasons(Counter(failure_reasons).elements())
