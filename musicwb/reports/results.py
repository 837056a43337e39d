"""What a batch run produced: one :class:`NotebookResult` per notebook, one :class:`BatchResult`.

Plain values, shown by the index page, printed by ``musicwb batch`` (``describe`` or, with
``--json``, ``as_dict``) and summarised in the store's ``runs`` table.

Examples
--------
>>> from pathlib import Path
>>> result = BatchResult(
...     run_id="r",
...     run_dir=Path("/reports/r"),
...     index_path=Path("/reports/r/index.html"),
...     notebooks=[NotebookResult("label_hunting", "ok", 12.5, {}, None, None)],
...     duration_s=13.0,
... )
>>> result.ok, result.describe().splitlines()[-1]
(True, 'batch r: 1 ok, 0 not ok in 13.0 s')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BatchInterrupted", "BatchResult", "NotebookResult"]


@dataclass(frozen=True)
class NotebookResult:
    """How one notebook of a batch went.

    Attributes
    ----------
    name : str
        The notebook's name (its file name without ``.ipynb``).
    status : str
        ``"ok"``, ``"failed"``, ``"interrupted"`` (Ctrl-C while it ran: what it had written is
        kept) or ``"not_run"`` (the batch was interrupted before it).
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
            "ipynb_path": _path_text(self.ipynb_path),
            "html_path": _path_text(self.html_path),
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
            line = f"{notebook.name:<24} {notebook.status:<11} {notebook.duration_s:6.1f} s"
            if notebook.error:
                line += f"  {notebook.error.splitlines()[0]}"
            lines.append(line)
        failed = sum(not notebook.ok for notebook in self.notebooks)
        lines.append(
            f"batch {self.run_id}: {len(self.notebooks) - failed} ok, {failed} not ok "
            f"in {self.duration_s:.1f} s"
        )
        return "\n".join(lines)


def _path_text(path: Path | None) -> str | None:
    return None if path is None else str(path)


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch; ``result`` says what ran, and the index page is written.

    Parameters
    ----------
    result : BatchResult
    """

    def __init__(self, result: BatchResult) -> None:
        super().__init__(f"batch {result.run_id} interrupted; index: {result.index_path}")
        self.result = result
