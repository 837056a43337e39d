"""The batch runner: papermill runs the notebooks, nbconvert writes offline HTML reports.

``run_batch`` (the ``musicwb batch`` command) runs every notebook in ``notebooks/`` (or the ones
asked for) on one store and writes, under ``<out_dir>/<run>/``::

    <notebook>.ipynb    the executed notebook
    <notebook>.html     its report: self-contained, renders offline, charts inlined
    index.html          each notebook with status, duration, parameters and a link

Parameters come from the runner (``store_path``, absolute; ``output_dir`` for a notebook that
declares it) and from an optional TOML or YAML batch file (see ``batch.example.toml``)::

    [defaults]                 # for every notebook that declares the parameter
    top_n = 25
    [notebooks.label_hunting]  # for one notebook; wins over [defaults]
    missing_limit = 100

Everything is validated before anything runs: an unknown notebook, an unknown parameter, a value
of the wrong type or anything that looks like a secret is a :class:`ParameterError` naming it and
what is valid. One failing notebook does not stop the others; its error is shown in the index and
the result is not ``ok``.

The store is opened for writing only briefly, to record the batch in the ``runs`` table before
and after the notebooks run; the notebooks' kernels (other processes) open it read-only, and
DuckDB allows one writing process.

Reports are safe to open: every value from the library is escaped (pandas tables, the index, and
the chart data, whose JSON is written with ``<``, ``>`` and ``&`` as unicode escapes so a title
like ``</script><script>...`` stays data), and a Content-Security-Policy forbids every network
load.

Examples
--------
>>> result = run_batch(  # doctest: +SKIP
...     store_path=Path("data/musicwb.duckdb"), out_dir=Path("reports")
... )
>>> result.ok, result.index_path.name  # doctest: +SKIP
(True, 'index.html')
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import sys
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from musicwb.errors import MusicwbError, ParameterError, StoreError

__all__ = [
    "REPORT_CSP",
    "BatchResult",
    "NotebookPlan",
    "NotebookResult",
    "available_notebooks",
    "chart_html",
    "export_html",
    "inline_charts",
    "load_batch_config",
    "plan_batch",
    "render_index",
    "run_batch",
    "safe_json",
]

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Parameters the runner sets itself; a batch file may not set them.
STORE_PARAMETER = "store_path"
OUTPUT_PARAMETER = "output_dir"
RUNNER_PARAMETERS = (STORE_PARAMETER, OUTPUT_PARAMETER)

#: Every report page forbids loading anything from anywhere: scripts and styles are inline,
#: images are data: URLs. Vega compiles its expressions with ``Function`` (hence unsafe-eval).
REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)

_VEGA_MIME = re.compile(r"^application/vnd\.(?P<mode>vega|vegalite)\.v\d+\+json$")
_SECRET_NAME = re.compile(r"token|secret|passw|api_?key|credential|(^|_)auth(_|$)", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL = "python3"  # ipykernel's spec in this environment: the kernel runs sys.executable
# CurveZMQ-encrypted kernel sockets where the kernel supports them (ipykernel does), so
# notebook code and outputs do not cross localhost TCP in plain text.
_KERNEL_CONFIG = {"KernelManager": {"transport_encryption": "auto"}}  # a traitlets Config
_EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False}}


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotebookResult:
    """How one notebook of a batch went.

    Attributes
    ----------
    name : str
        The notebook's name (its file name without ``.ipynb``).
    status : str
        ``"ok"``, ``"failed"``, or ``"not_run"`` (the batch was interrupted before it).
    duration_s : float
        Wall time of execution and export.
    parameters : dict
        The parameters it ran with (never secrets).
    ipynb_path, html_path : Path or None
        The executed notebook and its report (``None`` when not written).
    error : str or None
        ``"<Type>: message"`` and where, for a failed notebook.
    defaults : dict of str to str
        The notebook's other parameters, left at their defaults (as written in its
        ``parameters`` cell).
    """

    name: str
    status: str
    duration_s: float
    parameters: dict[str, Any]
    ipynb_path: Path | None
    html_path: Path | None
    error: str | None = None
    defaults: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "duration_s": round(self.duration_s, 3),
            "parameters": dict(self.parameters),
            "ipynb_path": None if self.ipynb_path is None else str(self.ipynb_path),
            "html_path": None if self.html_path is None else str(self.html_path),
            "error": self.error,
            "defaults": dict(self.defaults),
        }


@dataclass(frozen=True)
class BatchResult:
    """The outcome of :func:`run_batch`.

    Attributes
    ----------
    run_id : str
        Sortable timestamp id of the run (``20261122-061500-batch-ab12``): the batch's row in
        the store's ``runs`` table and the name of ``run_dir``.
    run_dir : Path
        ``<out_dir>/<run_id>``.
    index_path : Path
        ``<run_dir>/index.html``.
    notebooks : list of NotebookResult
        In the order they ran.
    duration_s : float
        Wall time of the whole batch.
    """

    run_id: str
    run_dir: Path
    index_path: Path
    notebooks: list[NotebookResult]
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every notebook ran without error."""
        return all(notebook.ok for notebook in self.notebooks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "run_dir": str(self.run_dir),
            "index_path": str(self.index_path),
            "duration_s": round(self.duration_s, 3),
            "notebooks": [notebook.as_dict() for notebook in self.notebooks],
        }

    def describe(self) -> str:
        """A few lines for people: one per notebook, then the total."""
        lines = []
        for notebook in self.notebooks:
            line = f"{notebook.name:<24} {notebook.status:<8} {notebook.duration_s:6.1f} s"
            if notebook.error:
                line += f"  {notebook.error.splitlines()[0]}"
            lines.append(line)
        failed = sum(not notebook.ok for notebook in self.notebooks)
        lines.append(
            f"batch {self.run_id}: {len(self.notebooks) - failed} ok, {failed} not ok "
            f"in {self.duration_s:.1f} s"
        )
        return "\n".join(lines)


# -- planning and validation ---------------------------------------------------------------


@dataclass(frozen=True)
class NotebookPlan:
    """One notebook to run: its file, its declared parameters and the values it gets.

    Attributes
    ----------
    name : str
    path : Path
    declared : dict
        ``papermill.inspect_notebook`` output: parameter name -> ``{inferred_type_name,
        default, help}``.
    parameters : dict
        Values from the batch file (the runner adds ``store_path`` and ``output_dir``).
    """

    name: str
    path: Path
    declared: dict[str, dict[str, Any]]
    parameters: dict[str, Any] = field(default_factory=dict)


def available_notebooks(notebooks_dir: Path | None = None) -> dict[str, Path]:
    """The notebooks of a folder by name, sorted.

    Parameters
    ----------
    notebooks_dir : Path, optional
        Defaults to the repository's ``notebooks/``.

    Returns
    -------
    dict of str to Path

    Raises
    ------
    ParameterError
        The folder does not exist or holds no notebook.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    if not folder.is_dir():
        raise ParameterError(f"notebooks folder {folder} does not exist")
    found = {path.stem: path for path in sorted(folder.glob("*.ipynb"))}
    if not found:
        raise ParameterError(f"notebooks folder {folder} holds no .ipynb file")
    return found


def load_batch_config(path: Path) -> dict[str, Any]:
    """Read a batch file (TOML, or YAML for ``.yaml``/``.yml``) and check its shape.

    Parameters
    ----------
    path : Path

    Returns
    -------
    dict
        ``{"defaults": {name: value}, "notebooks": {notebook: {name: value}}}``, both present.

    Raises
    ------
    ParameterError
        The file is missing, unreadable, or not shaped like that.

    Examples
    --------
    >>> load_batch_config(Path("batch.example.toml"))["defaults"]  # doctest: +SKIP
    {'top_n': 25}
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"batch file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
        elif suffix in {".yaml", ".yml"}:
            import yaml

            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            raise ParameterError(
                f"batch file {path}: unknown format {suffix!r}; use .toml, .yaml or .yml"
            )
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"batch file {path} is not valid TOML: {exc}") from exc
    except ParameterError:
        raise
    except Exception as exc:  # yaml.YAMLError; yaml is imported lazily
        if type(exc).__module__.startswith("yaml"):
            raise ParameterError(f"batch file {path} is not valid YAML: {exc}") from exc
        raise
    if not isinstance(raw, dict):
        raise ParameterError(f"batch file {path}: expected a table at the top level")
    unknown = sorted(set(raw) - {"defaults", "notebooks"})
    if unknown:
        raise ParameterError(
            f"batch file {path}: unknown section(s) {unknown}; valid: ['defaults', 'notebooks']"
        )
    defaults = raw.get("defaults") or {}
    notebooks = raw.get("notebooks") or {}
    if not isinstance(defaults, dict):
        raise ParameterError(f"batch file {path}: [defaults] must be a table of parameters")
    if not isinstance(notebooks, dict) or not all(isinstance(v, dict) for v in notebooks.values()):
        raise ParameterError(
            f"batch file {path}: [notebooks] must hold one table per notebook, "
            "e.g. [notebooks.label_hunting]"
        )
    return {"defaults": dict(defaults), "notebooks": {k: dict(v) for k, v in notebooks.items()}}


def plan_batch(
    config: Mapping[str, Any] | None,
    *,
    notebooks_dir: Path | None = None,
    selected: Iterable[str] | None = None,
    secrets: Iterable[str] = (),
) -> list[NotebookPlan]:
    """Check a batch file against the notebooks and work out each notebook's parameters.

    Parameters
    ----------
    config : mapping or None
        As returned by :func:`load_batch_config`.
    notebooks_dir : Path, optional
        Defaults to the repository's ``notebooks/``.
    selected : iterable of str, optional
        Names of the notebooks to run (in that order); all of them by default.
    secrets : iterable of str
        Secret values (tokens, keys) that must not appear in any parameter value.

    Returns
    -------
    list of NotebookPlan

    Raises
    ------
    ParameterError
        An unknown notebook or parameter, a wrong type, a runner-owned parameter, a notebook
        without a ``parameters`` cell, or something that looks like a secret; the message names
        it and lists what is valid.
    """
    import papermill

    config = config or {"defaults": {}, "notebooks": {}}
    defaults: dict[str, Any] = dict(config.get("defaults") or {})
    per_notebook: dict[str, dict[str, Any]] = dict(config.get("notebooks") or {})
    available = available_notebooks(notebooks_dir)
    valid_names = sorted(available)

    names = list(dict.fromkeys(selected)) if selected else valid_names
    for name in [*names, *per_notebook]:
        if name not in available:
            raise ParameterError(f"unknown notebook {name!r}; valid notebooks: {valid_names}")

    declared = {name: papermill.inspect_notebook(str(path)) for name, path in available.items()}
    for name, parameters in declared.items():
        if STORE_PARAMETER not in parameters:
            raise ParameterError(
                f"notebook {name} has no `{STORE_PARAMETER}` parameter: every notebook needs a "
                "cell tagged `parameters` that declares it"
            )

    secret_values = [value for value in secrets if value]
    everything = {**{f"[defaults] {k}": v for k, v in defaults.items()}}
    for name, values in per_notebook.items():
        everything.update({f"[notebooks.{name}] {k}": v for k, v in values.items()})
    for where, value in everything.items():
        key = where.split("] ", 1)[1]
        if key in RUNNER_PARAMETERS:
            raise ParameterError(
                f"batch file {where}: `{key}` is set by the runner (the store comes from "
                "--store or $MUSICWB_STORE); remove it"
            )
        if _SECRET_NAME.search(key) or _contains_secret(value, secret_values):
            raise ParameterError(
                f"batch file {where}: looks like a secret; tokens and keys belong in the "
                "environment (e.g. MUSICWB_DISCOGS_TOKEN), never in notebook parameters"
            )

    accepted_anywhere = sorted(
        {p for params in declared.values() for p in params} - set(RUNNER_PARAMETERS)
    )
    for key in defaults:
        if not any(key in params for params in declared.values()):
            raise ParameterError(
                f"batch file [defaults] {key}: no notebook has this parameter; "
                f"valid parameters: {accepted_anywhere}"
            )
    for name, values in per_notebook.items():
        valid = sorted(set(declared[name]) - set(RUNNER_PARAMETERS))
        for key in values:
            if key not in declared[name]:
                raise ParameterError(
                    f"batch file [notebooks.{name}] {key}: notebook {name} has no such "
                    f"parameter; valid parameters of {name}: {valid}"
                )

    plans = []
    for name in names:
        values = {k: v for k, v in defaults.items() if k in declared[name]}
        values.update(per_notebook.get(name, {}))
        for key, value in values.items():
            _check_type(value, declared[name][key], where=f"notebook {name} parameter {key}")
        plans.append(NotebookPlan(name, available[name], declared[name], values))
    return plans


def _contains_secret(value: Any, secrets: list[str]) -> bool:
    if isinstance(value, str):
        return any(secret in value for secret in secrets)
    if isinstance(value, Mapping):
        return any(
            _contains_secret(v, secrets) or _contains_secret(k, secrets) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(_contains_secret(v, secrets) for v in value)
    return False


_TYPE_CHECKS = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
}


def _check_type(value: Any, declared: Mapping[str, Any], *, where: str) -> None:
    # papermill gives the annotation as written: "int", "float", "Optional[str]", "list[str]",
    # "int | None", or "None" when there is none (then anything goes).
    type_name = str(declared.get("inferred_type_name") or "None")
    base = re.match(r"\s*(?:Optional\[)?\s*([A-Za-z_]*)", type_name)[1].lower()
    optional = "Optional[" in type_name or re.search(r"\|\s*None\b|\bNone\s*\|", type_name)
    if value is None and (optional or base == "none"):
        return
    check = _TYPE_CHECKS.get(base)
    if check is not None and not check(value):
        raise ParameterError(f"{where}: expected {type_name}, got {type(value).__name__} {value!r}")


# -- charts and HTML -----------------------------------------------------------------------


def safe_json(value: Any) -> str:
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


def chart_html(spec: Mapping[str, Any], *, element_id: str, mode: str = "vega-lite") -> str:
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
    if mode not in {"vega-lite", "vega"}:
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


def inline_charts(nb: Any) -> tuple[Any, int]:
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
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") not in {"display_data", "execute_result"}:
                continue
            data = output.get("data", {})
            for mime in list(data):
                match = _VEGA_MIME.match(mime)
                if not match:
                    continue
                spec = data[mime]
                if isinstance(spec, str):
                    spec = json.loads(spec)
                mode = "vega" if match["mode"] == "vega" else "vega-lite"
                data["text/html"] = chart_html(
                    spec, element_id=f"musicwb-chart-{n_charts}", mode=mode
                )
                n_charts += 1
                break
    return nb, n_charts


@lru_cache(maxsize=1)
def _vega_embed_script() -> str:
    """vega, vega-lite and vega-embed in one script, from vl-convert (no network)."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    script = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
    if re.search(r"</script|<!--", script, re.IGNORECASE):
        raise MusicwbError("the vega-embed bundle of vl-convert cannot be inlined in a <script>")
    return script


def export_html(nb: Any, *, no_input: bool = False, name: str = "Notebook") -> str:
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
    from nbconvert import HTMLExporter

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
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    rows = [
        {
            "name": notebook.name,
            "status": notebook.status,
            "duration_s": notebook.duration_s,
            "parameters": [(key, _show(value)) for key, value in notebook.parameters.items()],
            "defaults": list(notebook.defaults.items()),
            "html_name": notebook.html_path.name if notebook.html_path else None,
            "ipynb_name": notebook.ipynb_path.name if notebook.ipynb_path else None,
            "error": notebook.error,
        }
        for notebook in notebooks
    ]
    return environment.get_template("index.html.j2").render(
        run_id=run_id,
        store_path=str(store_path),
        started_at=started_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        total_s=total_s,
        notebooks=rows,
        ok_count=sum(notebook.ok for notebook in notebooks),
        csp=REPORT_CSP,
    )


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# -- running -------------------------------------------------------------------------------


def _execution_error(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        where = (
            f"cell [{exc.exec_count}]" if exc.exec_count is not None else f"cell {exc.cell_index}"
        )
        trace = _ANSI.sub("", "\n".join(exc.traceback or []))
        tail = "\n".join(trace.strip().splitlines()[-12:])
        return f"{exc.ename}: {exc.evalue} (in {where})\n\n{tail}".rstrip()
    return f"{type(exc).__name__}: {exc}"


def _run_one(
    plan: NotebookPlan,
    *,
    run_dir: Path,
    store_path: Path,
    no_input: bool,
    cell_timeout_s: float | None,
) -> NotebookResult:
    import nbformat
    import papermill
    from traitlets.config import Config

    started = time.perf_counter()
    parameters: dict[str, Any] = {STORE_PARAMETER: str(store_path)}
    if OUTPUT_PARAMETER in plan.declared:
        output_dir = run_dir / f"{plan.name}_files"
        output_dir.mkdir(exist_ok=True)
        parameters[OUTPUT_PARAMETER] = str(output_dir)
    parameters.update(plan.parameters)
    ipynb_path = run_dir / f"{plan.name}.ipynb"
    html_path = run_dir / f"{plan.name}.html"
    errors: list[str] = []
    try:
        papermill.execute_notebook(
            str(plan.path),
            str(ipynb_path),
            parameters=parameters,
            kernel_name=_KERNEL,
            progress_bar=False,
            log_output=False,
            cwd=str(plan.path.parent),
            execution_timeout=cell_timeout_s,
            config=Config(_KERNEL_CONFIG),
        )
    except Exception as exc:  # noqa: BLE001 -- recorded, shown in the index; the batch goes on
        errors.append(_execution_error(exc))
    if ipynb_path.exists():
        try:
            nb = nbformat.read(ipynb_path, as_version=4)
            html_path.write_text(
                export_html(nb, no_input=no_input, name=plan.name), encoding="utf-8"
            )
        except Exception as exc:  # noqa: BLE001 -- recorded, shown in the index; the batch goes on
            errors.append(f"HTML export failed: {type(exc).__name__}: {exc}")
    return NotebookResult(
        name=plan.name,
        status="failed" if errors else "ok",
        duration_s=time.perf_counter() - started,
        parameters=parameters,
        ipynb_path=ipynb_path if ipynb_path.exists() else None,
        html_path=html_path if html_path.exists() else None,
        error="\n\n".join(errors) or None,
        defaults={
            key: str(declared.get("default"))
            for key, declared in plan.declared.items()
            if key not in parameters
        },
    )


def _secret_values() -> list[str]:
    from musicwb.config import get_settings

    settings = get_settings()
    return [
        secret.get_secret_value()
        for secret in (settings.discogs_token, settings.llm_api_key)
        if secret is not None and secret.get_secret_value()
    ]


def _finish_record(
    store_path: Path,
    run_id: str,
    *,
    status: str,
    run_dir: Path,
    total_s: float,
    notebooks: list[NotebookResult],
) -> None:
    from musicwb import runs
    from musicwb.errors import StoreLockedError
    from musicwb.store import Store

    summary = {
        "run_dir": str(run_dir),
        "index_path": str(run_dir / "index.html"),
        "duration_s": round(total_s, 3),
        "notebooks": {
            result.name: {"status": result.status, "duration_s": round(result.duration_s, 3)}
            for result in notebooks
        },
    }
    try:
        with Store(store_path) as store:
            runs.finish_run(store, run_id, status=status, summary=summary)
    except StoreLockedError as exc:
        raise StoreLockedError(
            f"{exc} The batch's reports are written ({run_dir}), but its run {run_id} still "
            "says 'running' in the store."
        ) from exc


def run_batch(
    *,
    store_path: Path,
    out_dir: Path,
    config_path: Path | None = None,
    notebooks: list[str] | None = None,
    no_input: bool = False,
    progress: bool = True,
    notebooks_dir: Path | None = None,
    cell_timeout_s: float | None = 600.0,
) -> BatchResult:
    """Run the notebooks on a store and write their reports and an index page.

    Parameters
    ----------
    store_path : Path
        The DuckDB store; it must exist. Passed to every notebook as an absolute path.
    out_dir : Path
        The reports folder; this run writes ``<out_dir>/<run_id>/``.
    config_path : Path, optional
        TOML or YAML batch file with ``[defaults]`` and ``[notebooks.<name>]`` tables.
    notebooks : list of str, optional
        Run only these notebooks (by name); all by default.
    no_input : bool, default False
        Hide code cells in the HTML reports.
    progress : bool, default True
        Show a progress bar over notebooks on stderr.
    notebooks_dir : Path, optional
        Where the notebooks are; the repository's ``notebooks/`` by default.
    cell_timeout_s : float or None, default 600
        A cell running longer fails its notebook; ``None`` for no limit.

    Returns
    -------
    BatchResult
        ``ok`` is False when any notebook failed (the others still ran).

    Raises
    ------
    ParameterError
        Bad batch file, notebook name or parameter (nothing has been written).
    StoreError
        No store at ``store_path``, or it cannot be opened for writing.

    Examples
    --------
    >>> result = run_batch(  # doctest: +SKIP
    ...     store_path=Path("data/musicwb.duckdb"), out_dir=Path("reports")
    ... )
    >>> print(result.describe())  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from musicwb import runs
    from musicwb.store import Store

    started_wall = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    store_path = Path(store_path).expanduser().resolve()
    out_dir = Path(out_dir).expanduser().resolve()
    config = load_batch_config(Path(config_path)) if config_path is not None else None
    plans = plan_batch(
        config, notebooks_dir=notebooks_dir, selected=notebooks, secrets=_secret_values()
    )
    if not store_path.is_file():
        raise StoreError(
            f"no store at {store_path}: build one with `musicwb scan PATH` or `musicwb demo`, "
            "or pass --store"
        )

    # The store is written only here and at the end: the kernels open it read-only meanwhile.
    with Store(store_path) as store:
        run_id = runs.start_run(
            store,
            kind="batch",
            parameters={
                "notebooks": [plan.name for plan in plans],
                "parameters": {plan.name: plan.parameters for plan in plans},
                "out_dir": str(out_dir),
                "no_input": no_input,
            },
        )
    run_dir = out_dir / run_id
    index_path = run_dir / "index.html"
    results: list[NotebookResult] = []
    status, stopped_because = "failed", "the batch stopped on an unexpected error"
    try:
        run_dir.mkdir(parents=True)
        bar = tqdm(plans, desc="notebooks", unit="notebook", file=sys.stderr, disable=not progress)
        for plan in bar:
            bar.set_postfix_str(plan.name)
            results.append(
                _run_one(
                    plan,
                    run_dir=run_dir,
                    store_path=store_path,
                    no_input=no_input,
                    cell_timeout_s=cell_timeout_s,
                )
            )
        bar.close()
        status = "ok" if all(result.ok for result in results) else "failed"
    except KeyboardInterrupt:
        status, stopped_because = "interrupted", "the batch was interrupted"
        raise
    finally:
        total_s = time.perf_counter() - started_wall
        done = {result.name for result in results}
        shown = results + [
            NotebookResult(plan.name, "not_run", 0.0, {}, None, None, stopped_because)
            for plan in plans
            if plan.name not in done
        ]
        if run_dir.is_dir():
            index_path.write_text(
                render_index(
                    run_id=run_id,
                    store_path=store_path,
                    started_at=started_at,
                    total_s=total_s,
                    notebooks=shown,
                ),
                encoding="utf-8",
            )
        _finish_record(
            store_path, run_id, status=status, run_dir=run_dir, total_s=total_s, notebooks=shown
        )
    return BatchResult(
        run_id=run_id,
        run_dir=run_dir,
        index_path=index_path,
        notebooks=results,
        duration_s=time.perf_counter() - started_wall,
    )
