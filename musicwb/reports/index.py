"""The index page of a batch run: one row per notebook with status, duration, parameters, links.

Rendered with Jinja (``templates/index.html.j2``) with autoescaping on, so every value from the
library or from an error message shows as text; the page carries the same
Content-Security-Policy as the reports.

Examples
--------
>>> import datetime as dt
>>> from pathlib import Path
>>> from musicwb.reports.results import NotebookResult
>>> page = render_index(
...     run_id="20260101-120000-batch-ab12",
...     store_path=Path("/data/musicwb.duckdb"),
...     started_at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
...     total_s=3.5,
...     notebooks=[NotebookResult("broken", "failed", 1.0, {}, None, None, "ValueError: <b>")],
... )
>>> "ValueError: &lt;b&gt;" in page
True
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from musicwb.reports.html import REPORT_CSP, TEMPLATES_DIR
from musicwb.reports.results import NotebookResult

__all__ = ["render_index"]


def render_index(
    *,
    run_id: str,
    store_path: Path,
    started_at: dt.datetime,
    total_s: float,
    notebooks: list[NotebookResult],
) -> str:
    """The index page of a batch run (every value escaped).

    Parameters
    ----------
    run_id : str
    store_path : Path
    started_at : datetime
    total_s : float
    notebooks : list of NotebookResult
        Report links are relative to the run folder.

    Returns
    -------
    str
    """
    import jinja2  # only when a page is written

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("index.html.j2").render(
        run_id=run_id,
        store_path=str(store_path),
        started_at=started_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        total_s=total_s,
        notebooks=[_row(notebook) for notebook in notebooks],
        ok_count=sum(notebook.ok for notebook in notebooks),
        csp=REPORT_CSP,
    )


def _row(notebook: NotebookResult) -> dict[str, Any]:
    """What the template shows of one notebook: parameter values as written in TOML/JSON."""
    return {
        "name": notebook.name,
        "status": notebook.status,
        "duration_s": notebook.duration_s,
        "parameters": [(key, _show(value)) for key, value in notebook.parameters.items()],
        "defaults": list(notebook.defaults.items()),
        "html_name": notebook.html_path.name if notebook.html_path else None,
        "ipynb_name": notebook.ipynb_path.name if notebook.ipynb_path else None,
        "error": notebook.error,
    }


def _show(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
