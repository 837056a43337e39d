"""Offline HTML for reports: chart inlining, JSON safe inside ``<script>``, notebook export.

A report must render with no network: nbconvert's ``lab`` template without its CDN scripts
(``templates/report.html.j2``), vega, vega-lite and vega-embed inlined once from vl-convert,
and every Altair chart output given a ``text/html`` rendering that draws it. Library text stays
data: pandas tables are escaped by nbconvert, chart specs are written with :func:`safe_json`,
and :data:`REPORT_CSP` forbids every network load.

Examples
--------
>>> safe_json({"artist": "</script>"})
'{"artist": "\\\\u003c/script\\\\u003e"}'
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from musicwb.errors import MusicwbError, ParameterError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "REPORT_CSP",
    "TEMPLATES_DIR",
    "WIDGET_VIEW_MIME",
    "ChartMode",
    "chart_html",
    "drop_widget_views",
    "export_html",
    "inline_charts",
    "safe_json",
]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Every report page forbids loading anything from anywhere: scripts and styles are inline,
#: images are data: URLs. Vega compiles its expressions with ``Function`` (hence unsafe-eval).
REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
_VEGA_MIME = re.compile(r"^application/vnd\.(?P<mode>vega|vegalite)\.v\d+\+json$")
ChartMode = Literal["vega-lite", "vega"]
"""How vega-embed reads a chart's spec: Vega-Lite (what Altair writes) or Vega."""

_EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False}}


def safe_json(value: object) -> str:
    """JSON that can sit inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e``, ``\\u0026`` (they only occur
    inside JSON strings, where the escapes mean the same), so no value can close the script
    element or open a comment, whatever text a track's metadata holds.

    Parameters
    ----------
    value : JSON-serialisable object

    Returns
    -------
    str

    Examples
    --------
    >>> safe_json({"title": "</script><script>alert(1)</script>"})
    '{"title": "\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def chart_html(spec: Mapping[str, Any], *, element_id: str, mode: ChartMode = "vega-lite") -> str:
    """The HTML of one chart in a report: a container and the vega-embed call that fills it.

    Parameters
    ----------
    spec : mapping
        A Vega-Lite (or Vega) spec with its data inline.
    element_id : str
        Id of the container (letters, digits, ``-`` and ``_``).
    mode : {"vega-lite", "vega"}

    Returns
    -------
    str
        Needs vega-embed on the page (the report template inlines it once).
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", element_id):
        raise ParameterError(f"chart element id {element_id!r} is not a plain HTML id")
    if mode not in get_args(ChartMode):
        raise ParameterError(f"chart mode must be 'vega-lite' or 'vega', got {mode!r}")
    options = {**_EMBED_OPTIONS, "mode": mode}
    return (
        f'<div class="musicwb-chart" id="{element_id}"></div>\n'
        '<script type="text/javascript">\n'
        "(function () {\n"
        f'  var target = document.getElementById("{element_id}");\n'
        f"  vegaEmbed(target, {safe_json(dict(spec))}, {safe_json(options)})"
        ".catch(function (error) {\n"
        '    target.className += " musicwb-chart-error";\n'
        '    target.textContent = "This chart could not be drawn: " + error;\n'
        "    console.error(error);\n"
        "  });\n"
        "})();\n"
        "</script>"
    )


def _outputs(nb: NotebookNode) -> Iterator[dict[str, Any]]:
    """Every output of every cell of ``nb``, in order."""
    for cell in nb.cells:
        yield from cell.get("outputs", [])


def inline_charts(nb: NotebookNode) -> tuple[NotebookNode, int]:
    """Give every chart output of a notebook an offline HTML rendering.

    Altair's ``mimetype`` renderer stores a chart as its Vega-Lite spec
    (``application/vnd.vegalite.v5+json``), which nbconvert cannot show. This adds a
    ``text/html`` rendering built by :func:`chart_html` to each such output.

    Parameters
    ----------
    nb : nbformat.NotebookNode

    Returns
    -------
    nb : nbformat.NotebookNode
        A copy; the input is not changed.
    n_charts : int
    """
    nb = copy.deepcopy(nb)
    n_charts = 0
    for output in _outputs(nb):
        if output.get("output_type") not in {"display_data", "execute_result"}:
            continue
        data = output.get("data", {})
        charts = [(mime, match) for mime in data if (match := _VEGA_MIME.match(mime))]
        if not charts:
            continue
        mime, match = charts[0]
        spec = json.loads(data[mime]) if isinstance(data[mime], str) else data[mime]
        mode: ChartMode = "vega" if match["mode"] == "vega" else "vega-lite"
        data["text/html"] = chart_html(spec, element_id=f"musicwb-chart-{n_charts}", mode=mode)
        n_charts += 1
    return nb, n_charts


def drop_widget_views(nb: NotebookNode) -> tuple[NotebookNode, int]:
    """Remove ipywidgets views (progress bars, dashboards) from a notebook's outputs.

    A widget is drawn by a live kernel; a static, offline page can show neither it nor its
    state, and its plain-text fallback is the widget's Python repr. Notebooks print the final
    state of long work as text or tables for the report.

    Returns
    -------
    tuple of (nbformat.NotebookNode, int)
        A copy of ``nb`` without widget views (the input is not changed), and how many views
        were dropped.
    """
    nb = copy.deepcopy(nb)
    dropped = 0
    for cell in (cell for cell in nb.cells if "outputs" in cell):
        kept = [out for out in cell["outputs"] if WIDGET_VIEW_MIME not in out.get("data", {})]
        dropped += len(cell["outputs"]) - len(kept)
        cell["outputs"] = kept
    nb.metadata.pop("widgets", None)
    return nb, dropped


@lru_cache(maxsize=1)
def _vega_embed_script() -> str:
    """vega, vega-lite and vega-embed in one script, from vl-convert (no network)."""
    # vl-convert and altair are heavy: loaded for the first report with a chart.
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    script = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
    if re.search(r"</script|<!--", script, re.IGNORECASE):
        raise MusicwbError("the vega-embed bundle of vl-convert cannot be inlined in a <script>")
    return script


def export_html(nb: NotebookNode, *, no_input: bool = False, name: str = "Notebook") -> str:
    """A notebook as one self-contained HTML page that renders offline.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Usually an executed notebook.
    no_input : bool, default False
        Hide code cells (and prompts); keep markdown and outputs.
    name : str, default "Notebook"
        The page title.

    Returns
    -------
    str
        The page: nbconvert's lab template without network scripts, the charts inlined.
    """
    from nbconvert import HTMLExporter  # heavy: only when a report is exported

    nb, _ = drop_widget_views(nb)
    nb, n_charts = inline_charts(nb)
    exporter = HTMLExporter(
        template_name="lab",
        template_file="report.html.j2",
        extra_template_paths=[str(TEMPLATES_DIR)],
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=no_input,
        embed_images=True,
    )
    resources = {
        "metadata": {"name": name},
        "musicwb_csp": REPORT_CSP,
        "musicwb_vega_script": _vega_embed_script() if n_charts else "",
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body
