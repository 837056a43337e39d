"""What a reader sees in every report of the demo batch and of a batch on the 75 real tracks.

Opened in headless Chromium, as a user opens them: every chart has marks (bars with a height, not
floating dashes), legends name categories (not counts), no axis label is cut short, and no report
shows a stderr box, ``None`` or ``NaN`` in a table cell, an unrounded float, or a text cut short.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from musicwb.reports import BatchResult, run_batch
from musicwb.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
UNROUNDED = re.compile(r"\d\.\d{5,}")
NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+%?$")
REAL_BATCH_TOML = """\
# the 75 real tracks' own labels and titles only: no service is asked in a test
[notebooks.label_hunting]
sources = ["library", "title"]
"""


def _batch(store_path: Path, config: Path) -> BatchResult:
    result = run_batch(
        store_path=store_path, out_dir=store_path.parent / "reports", config_path=config,
        progress=False,
    )  # fmt: skip
    assert result.ok, result.describe()
    return result


@pytest.fixture(scope="module")
def demo_batch(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    """`make demo`'s steps on a copy of the demo store: extract, artifact, the demo batch."""
    from musicwb.sonic.artifact import build_artifact
    from musicwb.sonic.extract import extract_library

    root = tmp_path_factory.mktemp("demo-batch")
    path = root / "demo.duckdb"
    shutil.copy(demo_store, path)
    with Store(path) as store:
        summary = extract_library(store, workers=2, progress=False, data_dir=root)
        assert summary.failed == 0, summary.describe()
        build_artifact(store)
    return _batch(path, REPO / "batch.demo.toml")


@pytest.fixture(scope="module")
def real_batch(realmusic_store, tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    source, _ = realmusic_store
    root = tmp_path_factory.mktemp("real-batch")
    path = root / "realmusic.duckdb"
    shutil.copy(source, path)
    config = root / "batch.toml"
    config.write_text(REAL_BATCH_TOML, encoding="utf-8")
    return _batch(path, config)


_SEEN_JS = """() => {
  const box = el => { const b = el.getBBox(); return [b.width, b.height]; };
  const charts = [...document.querySelectorAll('.musicwb-chart')].map(chart => ({
    id: chart.id,
    title: [...chart.querySelectorAll('.role-title-text text, .role-title text')]
      .map(t => t.textContent).join(' '),
    bars: [...chart.querySelectorAll('path[aria-roledescription="bar"]')].map(box),
    marks: chart.querySelectorAll('[role="graphics-symbol"]').length,
    legend_labels: [...chart.querySelectorAll('.role-legend-label text')].map(t => t.textContent),
    axis_labels: [...chart.querySelectorAll('.role-axis-label text')].map(t => t.textContent),
  }));
  const cells = [...document.querySelectorAll('.jp-OutputArea td, .jp-OutputArea th')]
    .map(c => c.textContent.trim());
  const stderr = [...document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.textContent.slice(0, 300));
  const aligned = [...document.querySelectorAll('table.musicwb-table td')]
    .map(c => [c.classList.contains('num'), getComputedStyle(c).textAlign, c.textContent.trim()]);
  const wrapping = [...document.querySelectorAll('table.musicwb-table .whole')]
    .filter(e => getComputedStyle(e).whiteSpace !== 'nowrap').map(e => e.textContent.trim());
  const broken = [...document.querySelectorAll('.jp-OutputArea-output pre')]
    .filter(e => getComputedStyle(e).wordBreak === 'break-all').length;
  return {charts, cells, stderr, aligned, wrapping, broken};
}"""


def _look(browser, page_path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_path.as_uri(), wait_until="load")
    expected = page.locator(".musicwb-chart").count()
    if expected:
        page.wait_for_function(
            "n => document.querySelectorAll('.musicwb-chart svg.marks, .musicwb-chart canvas')"
            ".length >= n",
            arg=expected,
            timeout=30_000,
        )
    seen = page.evaluate(_SEEN_JS)
    page.close()
    return seen


def _problems(seen: dict) -> list[str]:
    problems = [f"stderr box: {text!r}" for text in seen["stderr"]]
    for cell in seen["cells"]:
        if cell in {"None", "NaN", "nan", "NaT", "<NA>"}:
            problems.append(f"table cell {cell!r}")
        elif UNROUNDED.search(cell):
            problems.append(f"unrounded number in a table cell: {cell!r}")
        elif cell.endswith(("...", "…")):
            problems.append(f"table text cut short: {cell!r}")
    # numbers line up on the right, text reads from the left (the page's own CSS sets right)
    misaligned = {text for is_number, align, text in seen["aligned"]
                  if align != ("right" if is_number else "left")}
    if misaligned:
        problems.append(f"table cells aligned against their kind: {sorted(misaligned)[:3]}")
    if seen["broken"]:
        problems.append(f"{seen['broken']} printed outputs break lines inside words")
    if seen["wrapping"]:
        problems.append(f"short cells or dates that may wrap: {seen['wrapping'][:3]}")
    for chart in seen["charts"]:
        name = chart["title"] or chart["id"]
        if chart["marks"] == 0:
            problems.append(f"chart {name!r} has no marks")
        if chart["bars"] and not any(w >= 2 and h >= 8 for w, h in chart["bars"]):
            problems.append(f"chart {name!r}: bars are dashes {chart['bars'][:3]}")
        legend = chart["legend_labels"]
        if legend and all(NUMBER.match(label) for label in legend) and len(legend) < 8:
            problems.append(f"chart {name!r}: its legend lists numbers {legend}")
        cut = [label for label in chart["axis_labels"] + legend if label.endswith("…")]
        if cut:
            problems.append(f"chart {name!r}: labels cut short {cut[:3]}")
    return problems


@pytest.mark.parametrize("which", ["demo", "real"])
def test_every_report_reads_cleanly(browser, request, which: str) -> None:
    batch: BatchResult = request.getfixturevalue(f"{which}_batch")
    pages = sorted(batch.run_dir.glob("*.html"))
    assert len(pages) == 5
    found = {}
    for page_path in pages:
        seen = _look(browser, page_path)
        if page_path.name != "index.html":
            assert seen["charts"], f"{page_path.name} has no chart"
        problems = _problems(seen)
        if problems:
            found[page_path.name] = problems
    assert not found, "\n".join(
        f"{name}: {problem}" for name, problems in found.items() for problem in problems
    )
