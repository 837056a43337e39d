"""A notebook in a live kernel (as in JupyterLab) while a second process writes the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

LAUNCH = "import sys; from musicwb.cli import main; sys.argv[0] = 'musicwb'; main()"


def run_cells_then_write(notebook: Path, *, store: Path, parameters: str, cwd: Path) -> list:
    """Run ``notebook`` in a live kernel up to its last cell; with the kernel still alive (as in
    JupyterLab), a second process runs ``musicwb extract``, which must be able to write; then
    the last cells run. Returns the executed cells' outputs, and the extract process."""
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(f"store_path = {str(store)!r}\n{parameters}"))
    client = NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(cwd)}})
    last = len(nb.cells) - 2  # everything but the cells after the writer; `store.close()` last
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells[:last]):
            client.execute_cell(cell, index)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MUSICWB_")}
        extract = subprocess.run(
            [sys.executable, "-c", LAUNCH, "extract", "--store", str(store), "--json"],
            cwd=cwd, env=environment, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        for index, cell in enumerate(nb.cells[last:], start=last):
            client.execute_cell(cell, index)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert not errors, errors
    return [nb, extract]
