"""The match_diagnostics notebook run by papermill on a copy of the demo store, exported as the
batch does it, and opened in headless Chromium with the network cut off: every chart (splink's
own included) is drawn, nothing is fetched, and the evaluation lands in linkage_evaluations."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from musicwb.linkage import evaluations_frame
from musicwb.reports.html import export_html
from musicwb.store import Store

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "match_diagnostics.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
DRAWN = ".musicwb-chart > svg, .musicwb-chart canvas, .musicwb-chart svg.marks"


@pytest.fixture(scope="module")
def executed(demo_store, tmp_path_factory) -> tuple[Path, nbformat.NotebookNode]:
    papermill = pytest.importorskip("papermill")
    root = tmp_path_factory.mktemp("match-diagnostics")
    store = root / "demo.duckdb"
    shutil.copy(demo_store, store)
    out = root / "match_diagnostics.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"store_path": str(store), "explained_proposals": 3},
        kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOK.parent),
    )  # fmt: skip
    return store, nbformat.read(out, as_version=4)


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]


def test_notebook_shape():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in code) == 1
    assert not any(cell.outputs or cell.execution_count for cell in code)  # stripped in git
    assert not any(line.lstrip().startswith(("def ", "class ")) for cell in code
                   for line in cell.source.splitlines())  # fmt: skip


def test_notebook_on_the_demo_store(executed):
    store, nb = executed
    outputs = _outputs(nb)
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "masked answers" in text and "stored as evaluate-" in text
    charts = [o for o in outputs if "application/vnd.vegalite.v5+json" in o.get("data", {})]
    # sets, threshold, calibration, m/u, match weights, accuracy, precision-recall, waterfall
    assert len(charts) == 8
    titles = str([c["data"]["application/vnd.vegalite.v5+json"].get("title") for c in charts])
    for expected in ("Entries per set", "precision and coverage by threshold", "Calibration",
                     "Match weights waterfall"):  # fmt: skip
        assert expected in titles, titles
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "top-1 accuracy" in html and "calibration error" in html
    with Store(store, read_only=True) as opened:
        stored = evaluations_frame(opened)
    assert len(stored) == 1 and stored["source"].iloc[0] == "store"
    assert stored["n_masked"].iloc[0] > 10


@pytest.mark.browser
def test_report_draws_every_chart_offline(executed, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"headless Chromium not found at {CHROMIUM} (Debian package `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, nb = executed
    page_path = tmp_path / "match_diagnostics.html"
    page_path.write_text(export_html(nb, no_input=True, name="match_diagnostics"), encoding="utf-8")
    blocked, errors = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context()
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            "file://") else (blocked.append(route.request.url), route.abort()))
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri(), wait_until="load")
        expected = page.locator(".musicwb-chart").count()
        page.wait_for_function(
            f"n => document.querySelectorAll('{DRAWN}').length >= n "
            "|| document.querySelector('.musicwb-chart-error')", arg=expected, timeout=60_000,
        )  # fmt: skip
        charts = page.eval_on_selector_all(
            ".musicwb-chart", "els => els.map(e => ({drawn: !!e.querySelector('svg, canvas'),"
            " failed: e.classList.contains('musicwb-chart-error')}))",
        )  # fmt: skip
        svg_text = " ".join(page.eval_on_selector_all(".musicwb-chart svg text",
                                                      "els => els.map(e => e.textContent)"))
        browser.close()
    assert expected == 8
    assert all(c["drawn"] and not c["failed"] for c in charts), charts
    assert blocked == [] and errors == []
    for drawn_text in ("Match weight threshold", "Precision", "co_neighbours", "Final score"):
        assert drawn_text in svg_text  # splink's accuracy, PR, m/u and waterfall charts drew
