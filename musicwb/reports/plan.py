"""Planning a batch: which notebooks run, with which parameters, checked before anything runs.

A batch file (TOML, or YAML) has ``[defaults]`` for every notebook that declares a parameter
and ``[notebooks.<name>]`` for one notebook, which wins. :func:`plan_batch` checks it against
the parameters the notebooks declare in their ``parameters`` cell (read by papermill): an
unknown notebook or parameter, a value of the wrong type, a parameter the runner sets itself
(``store_path``, ``output_dir``) or anything that looks like a secret is a
:class:`~musicwb.errors.ParameterError` that names it and lists what is valid.

Examples
--------
>>> plans = plan_batch(
...     {"defaults": {"top_n": 25}, "notebooks": {"label_hunting": {"missing_limit": 100}}}
... )
>>> {plan.name: plan.parameters for plan in plans}["label_hunting"]
{'missing_limit': 100}
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musicwb.config import get_settings
from musicwb.errors import ParameterError

__all__ = [
    "INTERACTIVE_PARAMETER",
    "NOTEBOOKS_DIR",
    "OUTPUT_PARAMETER",
    "RUNNER_PARAMETERS",
    "STORE_PARAMETER",
    "NotebookPlan",
    "available_notebooks",
    "load_batch_config",
    "plan_batch",
    "settings_secrets",
]

#: The repository's notebooks, next to the package (the ``notebooks_dir`` setting overrides it).
NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"

#: Parameters the runner sets itself; a batch file may not set them.
STORE_PARAMETER = "store_path"
OUTPUT_PARAMETER = "output_dir"
#: False in a batch, for the notebooks that declare it: they leave out their live widgets
#: (sliders, buttons), which a static report cannot use and whose messages can stall a
#: headless kernel client (nbclient waits out the cell timeout, jupyter/nbclient#312).
INTERACTIVE_PARAMETER = "interactive"
RUNNER_PARAMETERS = (STORE_PARAMETER, OUTPUT_PARAMETER, INTERACTIVE_PARAMETER)

_SECRET_NAME = re.compile(r"token|secret|passw|api_?key|credential|(^|_)auth(_|$)", re.IGNORECASE)
_NOTEBOOKS_SETTING = "MUSICWB_NOTEBOOKS_DIR"


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
        Defaults to the repository's ``notebooks/`` (:data:`NOTEBOOKS_DIR`).

    Returns
    -------
    dict of str to Path

    Raises
    ------
    ParameterError
        The folder does not exist or holds no notebook; the message names the folder and the
        setting that chooses it (``MUSICWB_NOTEBOOKS_DIR``).
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    hint = f"set {_NOTEBOOKS_SETTING} (or pass notebooks_dir) to the folder of the .ipynb files"
    if not folder.exists():
        raise ParameterError(f"notebooks folder {folder} does not exist; {hint}")
    if not folder.is_dir():
        raise ParameterError(f"notebooks folder {folder} is not a folder; {hint}")
    found = {path.stem: path for path in sorted(folder.glob("*.ipynb"))}
    if not found:
        raise ParameterError(f"notebooks folder {folder} holds no .ipynb file; {hint}")
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
    >>> load_batch_config(NOTEBOOKS_DIR.parent / "batch.example.toml")["defaults"]
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
            import yaml  # only for YAML batch files

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
    import papermill  # heavy (nbclient, jupyter): only when a batch is planned

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
    sections = {"[defaults]": defaults}
    sections.update({f"[notebooks.{name}]": values for name, values in per_notebook.items()})
    for section, values in sections.items():
        for key, value in values.items():
            _refuse_runner_or_secret(
                key, value, where=f"batch file {section} {key}", secrets=secret_values
            )
    _check_declared(defaults, per_notebook, declared)

    plans = []
    for name in names:
        values = {k: v for k, v in defaults.items() if k in declared[name]}
        values.update(per_notebook.get(name, {}))
        for key, value in values.items():
            _check_type(value, declared[name][key], where=f"notebook {name} parameter {key}")
        plans.append(NotebookPlan(name, available[name], declared[name], values))
    return plans


def settings_secrets() -> list[str]:
    """The secret values of the current settings (tokens, keys) that no parameter may hold."""
    settings = get_settings()
    return [
        secret.get_secret_value()
        for secret in (settings.discogs_token, settings.llm_api_key)
        if secret is not None and secret.get_secret_value()
    ]


def _refuse_runner_or_secret(key: str, value: object, *, where: str, secrets: list[str]) -> None:
    """Refuse a parameter the runner owns and anything that looks like a secret."""
    if key in RUNNER_PARAMETERS:
        raise ParameterError(
            f"{where}: `{key}` is set by the runner (the store comes from --store or "
            "$MUSICWB_STORE, the output folder is the run's, a batch is never interactive); "
            "remove it"
        )
    if _SECRET_NAME.search(key) or _contains_secret(value, secrets):
        raise ParameterError(
            f"{where}: looks like a secret; tokens and keys belong in the "
            "environment (e.g. MUSICWB_DISCOGS_TOKEN), never in notebook parameters"
        )


def _check_declared(
    defaults: Mapping[str, Any],
    per_notebook: Mapping[str, Mapping[str, Any]],
    declared: Mapping[str, Mapping[str, Any]],
) -> None:
    """Refuse a parameter no notebook (or not the named notebook) declares, listing the valid."""
    for key in defaults:
        if not any(key in params for params in declared.values()):
            anywhere = _settable_parameters(p for params in declared.values() for p in params)
            raise ParameterError(
                f"batch file [defaults] {key}: no notebook has this parameter; "
                f"valid parameters: {anywhere}"
            )
    for name, values in per_notebook.items():
        for key in values:
            if key not in declared[name]:
                raise ParameterError(
                    f"batch file [notebooks.{name}] {key}: notebook {name} has no such "
                    f"parameter; valid parameters of {name}: {_settable_parameters(declared[name])}"
                )


def _settable_parameters(parameters: Iterable[str]) -> list[str]:
    """The parameters a batch file may set, sorted: all but the runner's."""
    return sorted(set(parameters) - set(RUNNER_PARAMETERS))


def _contains_secret(value: object, secrets: list[str]) -> bool:
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


def _check_type(value: object, declared: Mapping[str, Any], *, where: str) -> None:
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
