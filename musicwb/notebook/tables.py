"""How the notebooks' tables read: rounded numbers, blank cells, whole texts, a sentence when empty.

pandas' own HTML shows what a report reader should not have to decode: ``0.515625`` for a share,
``2027-01-17 04:44:38.751969`` for a time, ``None`` in an empty cell, texts cut at 50 characters
with ``...``, and a bare header row for a table without rows. :func:`table_html` renders a
DataFrame for people instead; :func:`use_report_tables` makes it the way every DataFrame a cell
shows is drawn (in JupyterLab and in the batch reports, which keep the cells' HTML).

A glue function can say what an empty table means with ``frame.attrs["empty_note"]`` (for
example "Every rule held: no position needed a relaxed rule."); without it an empty table reads
"No rows."; with ``frame.attrs["max_rows"]`` a long table shows its first rows only. Text is
escaped: a title like ``<script>`` is shown, never run.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"share": [0.515625, 0.484375], "label": ["Ferrous", None]})
>>> html = table_html(frame)
>>> "0.516" in html, "0.515625" in html, "None" in html
(True, False, False)
>>> empty = frame.iloc[:0]
>>> empty.attrs["empty_note"] = "Nothing failed."
>>> "Nothing failed." in table_html(empty)
True
"""

from __future__ import annotations

import html
import math
import numbers
import re

import numpy as np
import pandas as pd

__all__ = ["BLANK", "MAX_ROWS", "format_value", "table_html", "use_report_tables"]

BLANK = ""
"""What a missing value (None, NaN, NaT) shows as."""

MAX_ROWS = 200
"""Rows a table shows before it says how many more there are."""

# The selectors name the wrapper, the table and the cell: JupyterLab's own rule
# (":not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td", right-aligned) outweighs a shorter one.
_CELLS = "div.musicwb-table-wrap table.musicwb-table"
_STYLE = (
    "<style>"
    ".musicwb-table-wrap{overflow-x:auto;max-width:100%}"
    f"{_CELLS} td,{_CELLS} th{{white-space:normal;max-width:42em;"
    "overflow-wrap:break-word;vertical-align:top;text-align:left}"
    f"{_CELLS} td.num,{_CELLS} th.num{{text-align:right;font-variant-numeric:tabular-nums}}"
    f"{_CELLS} td.num{{white-space:nowrap}}"
    f"{_CELLS} .whole{{white-space:nowrap}}"
    "</style>"
)
# a date or an id ("2024-01-10", "demo-halden-ray-1") stays on one line: a cell wraps at its
# spaces, not after a hyphen; longer runs (paths) may still wrap anywhere
_HYPHENATED = re.compile(r"(?<!\S)(?=\S*-)\S{8,24}(?!\S)")


_SHORT = 16
"""A text cell this short never wraps ("≥ 0.55", "not applicable")."""


def _text_cell(value: object) -> str:
    text = format_value(value)
    escaped = html.escape(text, quote=False)
    if len(text) <= _SHORT:
        return f'<td class="whole">{escaped}</td>'
    return "<td>" + _HYPHENATED.sub(r'<span class="whole">\g<0></span>', escaped) + "</td>"


def format_value(value: object) -> str:
    """One cell as a person reads it.

    Floats get three decimals, trailing zeros dropped (three significant digits below 0.001),
    whole floats no decimals; times drop their fraction of a second, and midnight reads as the
    day alone; missing values are blank.

    Parameters
    ----------
    value : object
        A cell of a DataFrame.

    Returns
    -------
    str
        The text of the cell, not yet escaped.

    Examples
    --------
    >>> [format_value(v) for v in (0.105263157894736848, 12.0, 0.000123456, None, float("nan"))]
    ['0.105', '12', '0.000123', '', '']
    >>> format_value(pd.Timestamp("2027-01-17 04:44:38.751969"))
    '2027-01-17 04:44:38'
    >>> format_value(pd.Timestamp("2026-12-06"))
    '2026-12-06'
    >>> format_value(True), format_value(1234567), format_value(["a", "b"])
    ('True', '1234567', 'a, b')
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return BLANK
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return BLANK
        if math.isinf(number):
            return "∞" if number > 0 else "-∞"
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        if abs(number) < 0.001:
            return f"{number:.3g}"
        return f"{number:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return BLANK
        if stamp == stamp.normalize():  # a day (a measurement's date), not a moment
            return stamp.strftime("%Y-%m-%d")
        return stamp.floor("s").isoformat(sep=" ")
    if isinstance(value, pd.Timedelta):
        return str(value.floor("s"))
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(format_value(item) for item in value)
    return str(value)


# a figure already written as text: "0.058", "44.7%", "1.71×", "≥ 0.55", "1,234", "—"
_FIGURE = re.compile(r"(?:[≥≤<>]\s?)?[-+−]?\d[\d,]*(?:\.\d+)?\s?(?:%|×)?")
_NO_FIGURE = {BLANK, "—"}


def _is_numeric(column: pd.Series) -> bool:
    """Numbers, or texts that are all figures (a glue function's formatted shares and ratios):
    both line up on the right."""
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    if not pd.api.types.is_object_dtype(column) and not pd.api.types.is_string_dtype(column):
        return False
    texts = [format_value(value) for value in column]
    figures = [text for text in texts if text not in _NO_FIGURE]
    return bool(figures) and all(isinstance(v, str) for v in column.dropna()) and all(
        _FIGURE.fullmatch(text) for text in figures)


def table_html(frame: pd.DataFrame, *, max_rows: int = MAX_ROWS) -> str:
    """A DataFrame as an HTML table for people (see the module's description).

    Parameters
    ----------
    frame : pandas.DataFrame
        Any frame; an unnamed integer index (pandas' row counter) is left out, any other
        index is shown as columns.
    max_rows : int, default MAX_ROWS
        Rows shown (``frame.attrs["max_rows"]`` when the frame says); a sentence says how
        many there are in all.

    Returns
    -------
    str
        HTML: a style block and the table, or a sentence when the frame has no rows.

    Examples
    --------
    >>> print(table_html(pd.DataFrame({"a": []})))
    <p class="musicwb-empty"><em>No rows.</em></p>
    >>> dated = pd.DataFrame({"set": ["Obi Nwosu, 2024-01-10"]})
    >>> '<span class="whole">2024-01-10</span>' in table_html(dated)
    True
    """
    if frame.empty:
        note = frame.attrs.get("empty_note") or "No rows."
        return f'<p class="musicwb-empty"><em>{html.escape(str(note))}</em></p>'
    # an unnamed integer index is pandas' row counter, not information
    unnamed = all(name is None for name in frame.index.names)
    if not (unnamed and pd.api.types.is_integer_dtype(frame.index)):
        frame = frame.reset_index()
    max_rows = int(frame.attrs.get("max_rows", max_rows))
    shown = frame.iloc[:max_rows]
    numeric = [_is_numeric(shown[name]) for name in shown.columns]
    head = "".join(
        f'<th class="{"num" if is_number else "text"}">'
        f"{html.escape(format_value(name), quote=False)}</th>"
        for name, is_number in zip(shown.columns, numeric, strict=True)
    )
    rows = []
    for values in shown.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="num">{html.escape(format_value(v), quote=False)}</td>'
            if is_number
            else _text_cell(v)
            for v, is_number in zip(values, numeric, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    more = (
        f'<p class="musicwb-more"><em>The first {max_rows:,} of {len(frame):,} rows.</em></p>'
        if len(frame) > max_rows
        else ""
    )
    return (
        f'{_STYLE}<div class="musicwb-table-wrap"><table class="dataframe musicwb-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def use_report_tables() -> bool:
    """Draw every DataFrame a cell shows with :func:`table_html` (in IPython; else nothing).

    Returns
    -------
    bool
        Whether an IPython kernel was there to change.

    Examples
    --------
    >>> use_report_tables()  # outside IPython there is nothing to change
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks extra
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, table_html)
    return True
