"""The label_hunting notebook does not hold the store for the kernel's life.

The notebook runs in a live kernel (as in JupyterLab) on a small library, its services the local
replay server at MusicBrainz' own one request per second; then its background worker is started
from a cell. While the kernel is alive and the worker hunts, other processes run
``musicwb enrich status --json`` and ``musicwb tracks --json``: they must succeed, see the
kernel's worker running, and see it make progress between their reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_enrich_queue import make_library

from musicwb.store import Store

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import musicwb.cli.enrich; from musicwb.cli import main; main()"]
N_TRACKS = 30


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICWB_")}
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def status(store: Path, cwd: Path) -> dict:
    done = cli("enrich", "status", "--json", "--store", str(store), cwd=cwd)
    assert done.returncode == 0, done.stderr  # not locked out by the kernel or its worker
    return json.loads(done.stdout)


def test_other_processes_read_while_the_notebook_and_its_worker_run(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    # the kernel inherits the session's replay server; MusicBrainz at its real rate keeps the
    # background worker busy while the other processes read
    monkeypatch.setenv("MUSICWB_MUSICBRAINZ_RATE_PER_S", "1")
    store = make_library(tmp_path / "lib.duckdb", N_TRACKS)
    nb = nbformat.read(REPO / "notebooks" / "label_hunting.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(
        at + 1,
        nbformat.v4.new_code_cell(
            f"store_path = {str(store)!r}\nlimit = 2\nmode = 'fast'\nworker_budget_s = 0.0"
        ),
    )
    assert nb.cells[-1].source.strip() == "store.close()"
    start = nbformat.v4.new_code_cell("import os\nworker.start()\nos.getpid()")
    stop = nbformat.v4.new_code_cell("worker.stop()\nboard.close()\nworker.progress().state")
    last = len(nb.cells) - 1
    nb.cells[last:last] = [start, stop]  # before `store.close()`
    client = NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells[:last]):
            client.execute_cell(cell, index)
        # the whole notebook has run and keeps `store`: another process reads it
        tracks = cli("tracks", "--json", "--store", str(store), cwd=tmp_path)
        assert tracks.returncode == 0, tracks.stderr
        assert len(json.loads(tracks.stdout)) == N_TRACKS

        client.execute_cell(start, last)
        kernel_pid = int(start.outputs[-1]["data"]["text/plain"])
        first = status(store, tmp_path)
        assert first["state"] == "running" and first["pid"] == kernel_pid
        deadline = time.monotonic() + 90
        latest = first
        while latest["processed"] <= first["processed"] and time.monotonic() < deadline:
            tracks = cli("tracks", "--json", "--store", str(store), cwd=tmp_path)
            assert tracks.returncode == 0, tracks.stderr
            latest = status(store, tmp_path)
        assert latest["processed"] > first["processed"], "the worker wrote nothing meanwhile"
        assert latest["state"] == "running" and latest["pid"] == kernel_pid

        client.execute_cell(stop, last + 1)
        assert stop.outputs[-1]["data"]["text/plain"] == "'stopped'"
        client.execute_cell(nb.cells[-1], last + 2)
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, errors
    with Store(store, read_only=True) as opened:
        assert opened.scalar("SELECT state FROM enrich_worker") == "stopped"
