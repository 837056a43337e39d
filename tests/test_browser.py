"""Every HTML report of a batch, opened in headless Debian Chromium with the network cut off.

What a user sees offline: each chart is drawn (vega-embed put an <svg> or <canvas> into its
container), the console shows no error, nothing tried to reach the network, and the library's
``<script>alert(1)</script>`` title is shown as text while no dialog ever opens.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from report_stores import MALICIOUS_ARTIST, MALICIOUS_TITLE, library_batch

from musicwb.reports import BatchResult

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    _, result = library_batch(tmp_path_factory)
    assert result.ok, result.describe()
    return result


def _open_offline(browser, page_path: Path) -> dict:
    """Load one report via file:// with every other request aborted; return what happened."""
    seen: dict = {"console": [], "page_errors": [], "network": [], "dialogs": []}
    context = browser.new_context()
    page = context.new_page()

    def route(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            seen["network"].append(route.request.url)
            route.abort()

    def on_dialog(dialog) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    context.route("**/*", route)
    page.on("console", lambda message: seen["console"].append((message.type, message.text)))
    page.on("pageerror", lambda error: seen["page_errors"].append(str(error)))
    page.on("dialog", on_dialog)
    page.on("requestfailed", lambda request: seen["network"].append(request.url))
    page.goto(page_path.as_uri(), wait_until="load")
    expected = page.locator(".musicwb-chart").count()
    if expected:
        # vega-embed renders asynchronously: wait until every container holds its drawing
        page.wait_for_function(
            "n => document.querySelectorAll('.musicwb-chart > svg, .musicwb-chart canvas,"
            " .musicwb-chart svg.marks').length >= n || document.querySelector('.musicwb-chart-error')",
            arg=expected,
            timeout=30_000,
        )
    seen["charts"] = page.eval_on_selector_all(
        ".musicwb-chart",
        "els => els.map(e => ({id: e.id, drawn: !!e.querySelector('svg, canvas'),"
        " failed: e.classList.contains('musicwb-chart-error'), text: e.textContent.slice(0, 200)}))",
    )
    seen["text"] = page.inner_text("body")
    seen["svg_text"] = page.eval_on_selector_all(
        ".musicwb-chart svg text", "els => els.map(e => e.textContent)"
    )
    seen["script_count"] = page.locator("script").count()
    context.close()
    return seen


def _chart_outputs(ipynb_path: Path) -> int:
    """Chart outputs (Vega or Vega-Lite) of an executed notebook."""
    nb = nbformat.read(ipynb_path, as_version=4)
    return sum(
        any(
            mime.startswith(("application/vnd.vegalite", "application/vnd.vega."))
            for mime in output.get("data", {})
        )
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )


def test_every_report_renders_offline_and_safely(browser, batch: BatchResult) -> None:
    pages = sorted(batch.run_dir.glob("*.html"))
    assert [page.name for page in pages] == [
        "index.html",
        "label_hunting.html",
        "match_diagnostics.html",
        "playlist_tuning.html",
        "sonic_validation.html",
    ]
    expected = {
        f"{notebook.name}.html": _chart_outputs(notebook.ipynb_path) for notebook in batch.notebooks
    }
    for page_path in pages:
        seen = _open_offline(browser, page_path)
        name = page_path.name
        errors = [text for kind, text in seen["console"] if kind == "error"]
        assert errors == [], (name, errors)
        assert seen["page_errors"] == [], name
        assert seen["network"] == [], (name, seen["network"])
        assert seen["dialogs"] == [], (name, seen["dialogs"])
        for chart in seen["charts"]:
            assert chart["drawn"] and not chart["failed"], (name, chart)
        if name != "index.html":
            # every chart the notebook produced is drawn in its report
            assert len(seen["charts"]) == expected[name], (
                name,
                len(seen["charts"]),
                expected[name],
            )
            assert seen["charts"], f"{name} has no chart"
        if name == "label_hunting.html":
            assert MALICIOUS_TITLE in seen["text"]  # shown, as text
        if name == "sonic_validation.html":
            # the artist from the chart data is drawn as an axis label, as text
            assert any(MALICIOUS_ARTIST in text for text in seen["svg_text"]), seen["svg_text"]


def test_index_links_open_the_reports(browser, batch: BatchResult) -> None:
    context = browser.new_context()
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith("file://") else route.abort()
        ),
    )
    page = context.new_page()
    page.goto(batch.index_path.as_uri())
    links = page.locator("a.report")
    assert links.count() == 4
    links.nth(0).click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/label_hunting.html")
    assert page.title() == "label_hunting"
    context.close()
