"""The match_diagnostics notebook run by papermill on a copy of the demo store, exported as the
batch does it, and opened in headless Chromium with the network cut off: every chart (splink's
own included) is drawn, nothing is fetched, and the evaluation lands in linkage_evaluations."""

from __future__ import annotations

import re
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
CHARTS = 13  # every chart of the notebook on a store with unknown slots (the waterfall last)
NEW_CHART_TITLES = ("Recall of the candidate sources", "The model beside the baselines",
                    "Top-k accuracy", "Precision against coverage", "by the DJ's number of sets")


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


def assert_new_sections(outputs: list[dict]) -> None:
    """The evaluation's sections are in the outputs: recall per source, the baselines, the
    top-k, the DJ groups, the labels and the targets, as tables whose cells read well."""
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    for header in ("candidate source", "all sources (union, k = ", "co-occurrence",  # recall
                   "seed formula", "DJ history", "neighbours", "strongest baseline",  # baselines
                   "masked slots", "DJ's sets in the corpus",  # DJ groups
                   "label proposals", "DJ's label history", "neighbours' labels",  # labels
                   "verdict", "true artist among the candidates", "label top-1"):  # targets
        assert header in html, header
    assert "The strongest baseline is" in text
    assert any(verdict in html for verdict in (">met<", ">MISSED<", ">not applicable<"))
    assert ">None<" not in html and ">NaN<" not in html  # a cell with nothing reads "—"
    assert not re.search(r"\d\.\d{5,}", html), re.search(r".{40}\d\.\d{5,}.{10}", html)


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
    # sets, recall, baselines, top-k, precision-coverage, DJ groups, threshold, calibration,
    # m/u, match weights, accuracy, precision-recall, waterfall
    assert len(charts) == CHARTS
    titles = str([c["data"]["application/vnd.vegalite.v5+json"].get("title") for c in charts])
    for expected in NEW_CHART_TITLES + ("Entries per set", "precision and coverage by threshold",
                                        "Calibration", "Match weights waterfall"):
        assert expected in titles, titles
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "top-1 accuracy" in html and "calibration error" in html
    assert_new_sections(outputs)
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
    assert expected == CHARTS
    assert all(c["drawn"] and not c["failed"] for c in charts), charts
    assert blocked == [] and errors == []
    for drawn_text in ("Match weight threshold", "Precision", "co_neighbours", "Final score"):
        assert drawn_text in svg_text  # splink's accuracy, PR, m/u and waterfall charts drew


DJMIX_SETS = 1500  # of the 4,031 of the dev corpus: the notebook runs in about a minute
DJMIX_EVALUATED = 400  # the sets of the evaluate_on file; the rest is context


@pytest.mark.slow
def test_notebook_on_the_djmix_corpus(shared_data, tmp_path):
    """The notebook as batch.djmix.toml runs it, on real DJ Mix sets: every section of the
    evaluation is in the report, and only the evaluate_on file's sets are masked."""
    import json

    from musicwb.linkage.tracklists import import_tracklists
    from musicwb.reports.plan import load_batch_config

    papermill = pytest.importorskip("papermill")
    corpus = shared_data / "djsets" / "djmix" / "djmix-dataset-dev.json"
    if not corpus.is_file():
        pytest.skip(f"{corpus} not found")
    mixes = json.loads(corpus.read_text(encoding="utf-8"))[:DJMIX_SETS]
    part, evaluated = tmp_path / "djmix-part.json", tmp_path / "djmix-evaluated.json"
    part.write_text(json.dumps(mixes), encoding="utf-8")
    evaluated.write_text(json.dumps(mixes[:DJMIX_EVALUATED]), encoding="utf-8")
    store = tmp_path / "djmix.duckdb"
    with Store(store) as opened:
        import_tracklists(opened, [part], fmt="djmix")
    batch = load_batch_config(NOTEBOOK.parent.parent / "batch.djmix.toml")
    parameters = {**batch["notebooks"]["match_diagnostics"], "store_path": str(store),
                  "evaluate_on": str(evaluated), "explained_proposals": 3}
    out = tmp_path / "match_diagnostics.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters,
                               kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOK.parent))
    nb = nbformat.read(out, as_version=4)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert_new_sections(outputs)
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert f"masked: entries of the {DJMIX_EVALUATED} sets of 1 evaluate_on file(s)" in text
    masked_in = re.search(r"masked answers in ([\d,]+) of ([\d,]+) sets", text)
    assert masked_in and int(masked_in[1]) <= DJMIX_EVALUATED < int(masked_in[2].replace(",", ""))
    charts = [o for o in outputs if "application/vnd.vegalite.v5+json" in o.get("data", {})]
    titles = str([c["data"]["application/vnd.vegalite.v5+json"].get("title") for c in charts])
    for expected in NEW_CHART_TITLES:
        assert expected in titles, titles
    with Store(store, read_only=True) as opened:
        stored = evaluations_frame(opened)
    assert len(stored) == 1 and "evaluated on" in stored["source"].iloc[0]
