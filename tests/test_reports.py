"""The batch runner: real papermill runs of the real notebooks on a real store, real nbconvert
HTML, and what a user checks in the result: every report is there, the index tells the truth,
reports load nothing from the network, library text is escaped, and no secret leaks.

``report_stores.library_batch`` (shared with test_browser.py) runs the four notebooks once per
session on a small store whose metadata holds HTML and ``</script>`` payloads, with fake tokens
in the environment.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from report_stores import (
    BATCH_TOML,
    FAKE_KEY,
    FAKE_TOKEN,
    MALICIOUS_ARTIST,
    MALICIOUS_LABEL,
    MALICIOUS_TITLE,
    build_library_store,
    library_batch,
)

from musicwb import reports
from musicwb.errors import ParameterError, StoreError
from musicwb.reports import BatchResult, run_batch
from musicwb.reports.html import WIDGET_VIEW_MIME, export_html
from musicwb.store import Store
from musicwb.store.runs import runs_frame

REPO = Path(__file__).resolve().parents[1]
MUSICWB = str(Path(sys.executable).parent / "musicwb")  # the console script of this venv
NOTEBOOKS = ["label_hunting", "match_diagnostics", "playlist_tuning", "sonic_validation"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BatchResult]:
    return library_batch(tmp_path_factory)


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of every <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"script", "style"}:
            self._inside = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inside:
            self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "script":
            self.scripts[-1] += data
        elif self._inside == "style":
            self.styles[-1] += data


def parse_html(path: Path) -> _Elements:
    parser = _Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def index_rows(path: Path) -> dict[str, dict[str, str]]:
    """The index page's table, by notebook: status, duration, parameters text, links."""
    text = path.read_text(encoding="utf-8")
    rows = {}
    for match in re.finditer(
        r'<tr class="notebook" data-notebook="([^"]+)" data-status="([^"]+)">(.*?)</tr>',
        text,
        re.DOTALL,
    ):
        body = match[3]
        rows[match[1]] = {
            "status": match[2],
            "duration": re.search(r'<td class="duration">([^<]+)</td>', body)[1],
            "links": re.findall(r'href="([^"]+)"', body),
            "body": body,
        }
    return rows


# -- the notebooks themselves ----------------------------------------------------------------


WRITING_NOTEBOOKS = {"label_hunting", "match_diagnostics"}
"""Notebooks that store results (the hunt's findings, the evaluation); the others only read."""


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_follows_the_house_rules(name: str) -> None:
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is nb.cells[1]
    # the parameters cell: annotated literals, each with a comment
    parameters = ast.parse(tagged[0].source)
    for statement in parameters.body:
        assert isinstance(statement, ast.AnnAssign), ast.unparse(statement)
        ast.literal_eval(statement.value)
    assert all("  # " in line for line in tagged[0].source.splitlines())
    # papermill reads every one of them (a line it cannot parse cannot be set by a batch)
    declared = [statement.target.id for statement in parameters.body]
    assert list(papermill.inspect_notebook(str(REPO / "notebooks" / f"{name}.ipynb"))) == declared
    assert 'store_path: str = ""' in tagged[0].source
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, "outputs must be stripped"
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            )
    source = "\n".join(cell.source for cell in code)
    if name not in WRITING_NOTEBOOKS:
        assert "read_only=True" in source
    assert "charts." in source


# -- a successful batch ----------------------------------------------------------------------


def test_batch_writes_every_report(batch: tuple[Path, BatchResult]) -> None:
    store_path, result = batch
    assert result.ok, result.describe()
    assert re.fullmatch(r"\d{8}-\d{6}-batch-[0-9a-f]{4}", result.run_id)
    assert result.run_dir == store_path.parent / "reports" / result.run_id
    assert result.index_path == result.run_dir / "index.html"
    assert [notebook.name for notebook in result.notebooks] == NOTEBOOKS
    for notebook in result.notebooks:
        assert notebook.status == "ok" and notebook.error is None
        assert notebook.ipynb_path == result.run_dir / f"{notebook.name}.ipynb"
        assert notebook.html_path == result.run_dir / f"{notebook.name}.html"
        executed = nbformat.read(notebook.ipynb_path, as_version=4)
        assert all(cell.execution_count for cell in executed.cells if cell.cell_type == "code")
        assert notebook.html_path.stat().st_size > 10_000
    as_dict = json.loads(json.dumps(result.as_dict()))
    assert as_dict["ok"] is True and len(as_dict["notebooks"]) == 4
    assert "4 ok, 0 not ok" in result.describe()


def test_parameters_reach_the_notebooks(batch: tuple[Path, BatchResult]) -> None:
    store_path, result = batch
    by_name = {notebook.name: notebook for notebook in result.notebooks}
    # the store path arrives absolute although it was given relative
    for notebook in result.notebooks:
        assert notebook.parameters["store_path"] == str(store_path)
    # and a batch is never interactive: the notebooks with live widgets are told to leave them
    assert by_name["label_hunting"].parameters == {"store_path": str(store_path),
                                                   "interactive": False}
    assert by_name["playlist_tuning"].parameters["interactive"] is False
    assert "interactive" not in by_name["sonic_validation"].parameters  # it declares none
    assert by_name["sonic_validation"].parameters["top_n"] == 7  # [defaults]
    assert by_name["sonic_validation"].parameters["duration_bin_s"] == 60
    assert by_name["playlist_tuning"].parameters["top_n"] == 1  # the notebook's table wins
    defaults = by_name["label_hunting"].defaults
    assert {"top_labels_limit": "20", "missing_limit": "50", "min_confidence": "0.7"}.items() <= (
        defaults.items()
    )

    executed = nbformat.read(by_name["playlist_tuning"].ipynb_path, as_version=4)
    assert executed.metadata.papermill.parameters["top_n"] == 1
    genres_cell = next(c for c in executed.cells if c.source.startswith("genres = "))
    table = genres_cell.outputs[0]["data"]["text/plain"]
    assert "progressive" in table and "techno" not in table  # top_n = 1 was applied


def test_index_lists_every_notebook(batch: tuple[Path, BatchResult]) -> None:
    store_path, result = batch
    rows = index_rows(result.index_path)
    assert sorted(rows) == NOTEBOOKS
    for notebook in result.notebooks:
        row = rows[notebook.name]
        assert row["status"] == "ok"
        assert row["duration"] == f"{notebook.duration_s:.1f} s"
        assert row["links"] == [f"{notebook.name}.html", f"{notebook.name}.ipynb"]
        assert (result.run_dir / row["links"][0]).is_file()
        assert f"<dt>store_path</dt><dd>{store_path}</dd>" in row["body"]
    assert "<dt>top_n</dt><dd>1</dd>" in rows["playlist_tuning"]["body"]
    assert "<dt>duration_bin_s</dt><dd>60</dd>" in rows["sonic_validation"]["body"]
    assert (
        "missing_limit" in rows["label_hunting"]["body"]
        and "(default)" in rows["label_hunting"]["body"]
    )


def test_runs_table_records_the_batch(batch: tuple[Path, BatchResult]) -> None:
    store_path, result = batch
    with Store(store_path, read_only=True) as store:
        runs = runs_frame(store, kind="batch")
    (row,) = runs[runs["run_id"] == result.run_id].itertuples()
    assert row.status == "ok" and row.finished_at is not None
    summary = json.loads(row.summary)
    assert summary["index_path"] == str(result.index_path)
    assert {name: value["status"] for name, value in summary["notebooks"].items()} == dict.fromkeys(
        NOTEBOOKS, "ok"
    )
    assert json.loads(row.parameters)["notebooks"] == NOTEBOOKS


def test_reports_load_nothing_from_the_network(batch: tuple[Path, BatchResult]) -> None:
    _, result = batch
    pages = sorted(result.run_dir.glob("*.html"))
    assert len(pages) == 5
    remote = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(
            r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.IGNORECASE
        ), page.name
        html = parse_html(page)
        for tag, attrs in html.tags:
            for name in ("src", "href", "data", "action", "poster", "srcset"):
                assert not remote.match(attrs.get(name) or ""), (page.name, tag, attrs)
            assert not (tag == "script" and attrs.get("src")), (page.name, attrs)
            assert not (tag == "link" and attrs.get("rel") == "stylesheet"), (page.name, attrs)
        for style in html.styles:
            assert not re.search(r"""@import|url\(\s*["']?(https?:)?//""", style), page.name
        csp = [
            a["content"]
            for t, a in html.tags
            if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
        ]
        assert csp == [reports.REPORT_CSP], page.name


def test_charts_are_inlined_once(batch: tuple[Path, BatchResult]) -> None:
    _, result = batch
    for notebook in result.notebooks:
        executed = nbformat.read(notebook.ipynb_path, as_version=4)
        n_specs = sum(
            "application/vnd.vegalite.v5+json" in output.get("data", {})
            for cell in executed.cells
            for output in cell.get("outputs", [])
        )
        assert n_specs >= 1, notebook.name
        text = notebook.html_path.read_text(encoding="utf-8")
        assert text.count('class="musicwb-chart"') == n_specs
        assert text.count("window.vegaEmbed=") == 1  # the bundle, inline, once
        # one script for the bundle and one per chart: nothing else became a script
        assert len(parse_html(notebook.html_path).scripts) == 1 + n_specs


def test_library_text_is_escaped(batch: tuple[Path, BatchResult]) -> None:
    _, result = batch
    for page in result.run_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        for payload in (MALICIOUS_TITLE, MALICIOUS_ARTIST, MALICIOUS_LABEL, "<b>bold</b>"):
            assert payload not in text, (page.name, payload)
        scripts = parse_html(page).scripts
        assert not any("alert(1)" in script and "\\u003c" not in script for script in scripts)
    label_hunting = (result.run_dir / "label_hunting.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in label_hunting  # shown, as text
    sonic = (result.run_dir / "sonic_validation.html").read_text(encoding="utf-8")
    # in the chart data: unicode escapes, which vega-embed turns back into text
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in sonic


def test_secrets_never_reach_any_output(batch: tuple[Path, BatchResult]) -> None:
    store_path, result = batch
    written = [path for path in result.run_dir.rglob("*") if path.is_file()]
    assert len(written) == 9
    for path in written:
        content = path.read_bytes()
        for secret in (FAKE_TOKEN, FAKE_KEY):
            assert secret.encode() not in content, path.name
    with Store(store_path, read_only=True) as store:
        runs = runs_frame(store).to_json()
    assert FAKE_TOKEN not in runs and FAKE_KEY not in runs


# -- failures --------------------------------------------------------------------------------


BROKEN_SOURCE = """\
import sys
print("kernel python:", sys.executable)
raise ValueError("<b>broken</b> & <script>alert(2)</script>")
"""


def _small_notebook(title: str, source: str) -> nbformat.NotebookNode:
    """A notebook with a title, a ``parameters`` cell declaring ``store_path``, and ``source``."""
    parameters = new_code_cell('store_path: str = ""  # the store')
    parameters.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell(f"# {title}"), parameters, new_code_cell(source)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture(scope="module")
def failing_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BatchResult]:
    """label_hunting with a bad value, a notebook that raises, and playlist_tuning, which works."""
    root = tmp_path_factory.mktemp("failing-batch")
    store_path = build_library_store(root / "lib.duckdb")
    folder = root / "notebooks"
    folder.mkdir()
    for name in ("label_hunting", "playlist_tuning"):
        (folder / f"{name}.ipynb").write_bytes((REPO / "notebooks" / f"{name}.ipynb").read_bytes())
    nbformat.write(_small_notebook("Broken", BROKEN_SOURCE), folder / "broken.ipynb")
    config = root / "batch.yaml"
    config.write_text("notebooks:\n  label_hunting:\n    missing_limit: 0\n", encoding="utf-8")
    result = run_batch(
        store_path=store_path,
        out_dir=root / "reports",
        config_path=config,
        notebooks_dir=folder,
        progress=False,
    )
    return store_path, result


def test_one_failure_does_not_stop_the_others(failing_batch: tuple[Path, BatchResult]) -> None:
    store_path, result = failing_batch
    assert not result.ok
    status = {notebook.name: notebook.status for notebook in result.notebooks}
    assert status == {"broken": "failed", "label_hunting": "failed", "playlist_tuning": "ok"}
    by_name = {notebook.name: notebook for notebook in result.notebooks}
    assert by_name["broken"].error.startswith(
        "ValueError: <b>broken</b> & <script>alert(2)</script>"
    )
    assert (
        "ParameterError" in by_name["label_hunting"].error
        and "limit" in by_name["label_hunting"].error
    )
    # failed notebooks still get their executed notebook and report, showing where they stopped
    for notebook in result.notebooks:
        assert notebook.ipynb_path.is_file() and notebook.html_path.is_file()
    assert "1 ok, 2 not ok" in result.describe()
    with Store(store_path, read_only=True) as store:
        runs = runs_frame(store, kind="batch")
    assert runs.loc[runs["run_id"] == result.run_id, "status"].item() == "failed"


def test_index_shows_errors_escaped(failing_batch: tuple[Path, BatchResult]) -> None:
    _, result = failing_batch
    rows = index_rows(result.index_path)
    assert rows["broken"]["status"] == "failed" and rows["playlist_tuning"]["status"] == "ok"
    assert (
        "ValueError: &lt;b&gt;broken&lt;/b&gt; &amp; &lt;script&gt;alert(2)&lt;/script&gt;"
        in rows["broken"]["body"]
    )
    assert '<pre class="error">' in rows["label_hunting"]["body"]
    assert "<dt>missing_limit</dt><dd>0</dd>" in rows["label_hunting"]["body"]
    for page in result.run_dir.glob("*.html"):
        assert "<script>alert(2)</script>" not in page.read_text(encoding="utf-8"), page.name


def test_kernels_use_this_python(failing_batch: tuple[Path, BatchResult]) -> None:
    _, result = failing_batch
    executed = nbformat.read(result.run_dir / "broken.ipynb", as_version=4)
    printed = "".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    assert f"kernel python: {sys.executable}" in printed


def test_cli_exits_non_zero_when_a_notebook_fails(tmp_path: Path) -> None:
    store_path = build_library_store(tmp_path / "lib.duckdb")
    config = tmp_path / "bad.toml"
    config.write_text("[notebooks.label_hunting]\nmissing_limit = 0\n", encoding="utf-8")
    done = subprocess.run(
        [
            MUSICWB,
            "batch",
            "--store",
            str(store_path),
            "--out",
            str(tmp_path / "reports"),
            "--config",
            str(config),
            "--notebook",
            "label_hunting",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "without encryption" not in done.stderr  # kernel sockets use CurveZMQ
    summary = json.loads(done.stdout)
    assert summary["ok"] is False
    assert [n["status"] for n in summary["notebooks"]] == ["failed"]
    assert Path(summary["index_path"]).is_file()


def test_ctrl_c_records_the_running_notebook_and_prints_where_the_index_is(tmp_path: Path) -> None:
    """Ctrl-C in a terminal signals the batch's process group: the notebook that was running is
    recorded as interrupted with its time (not 'not_run 0.0 s'), the index says so, the runs
    row says interrupted, and the terminal shows the index path and no kernel traceback."""
    import signal
    import time

    store_path = build_library_store(tmp_path / "lib.duckdb")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    slow = 'open(store_path + ".started", "w").close()\nimport time\ntime.sleep(120)'
    nbformat.write(_small_notebook("Slow", slow), folder / "slow.ipynb")
    nbformat.write(_small_notebook("Later", "print(1)"), folder / "zz_later.ipynb")
    started_marker = Path(str(store_path) + ".started")
    batch = subprocess.Popen(
        [MUSICWB, "batch", "--store", str(store_path), "--out", str(tmp_path / "reports")],
        env={**os.environ, "MUSICWB_NOTEBOOKS_DIR": str(folder)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
    )
    deadline = time.monotonic() + 120
    while not started_marker.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert started_marker.exists(), "the slow notebook never started"
    time.sleep(1.0)
    os.killpg(batch.pid, signal.SIGINT)
    out, err = batch.communicate(timeout=120)
    assert batch.returncode == 130, err
    assert "Traceback" not in err and "ZMQError" not in err
    index = Path(err.split("interrupted; what ran is in ")[1].split()[0])
    assert index.is_file()
    rows = index_rows(index)
    assert rows["slow"]["status"] == "interrupted" and rows["zz_later"]["status"] == "not_run"
    assert float(out.split("slow")[1].split()[1]) >= 1.0  # its real time, not 0.0 s
    with Store(store_path, read_only=True) as store:
        runs = runs_frame(store, kind="batch")
    assert runs["status"].tolist() == ["interrupted"]


# -- validation before anything runs -----------------------------------------------------------


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    return build_library_store(tmp_path / "lib.duckdb")


def _refused(store_path: Path, tmp_path: Path, config: str | None, **kwargs) -> str:
    """Run a batch that must be refused; check nothing was written; return the message."""
    config_path = None
    if config is not None:
        config_path = tmp_path / kwargs.pop("config_name", "batch.toml")
        config_path.write_text(config, encoding="utf-8")
    error = kwargs.pop("error", ParameterError)
    with pytest.raises(error) as caught:
        run_batch(
            store_path=store_path,
            out_dir=tmp_path / "reports",
            config_path=config_path,
            progress=False,
            **kwargs,
        )
    assert not (tmp_path / "reports").exists(), "nothing may be written before validation passes"
    if store_path.exists():
        with Store(store_path, read_only=True) as store:
            assert runs_frame(store, kind="batch").empty
    return str(caught.value)


def test_unknown_notebook_is_named_with_the_valid_ones(store_path: Path, tmp_path: Path) -> None:
    message = _refused(store_path, tmp_path, None, notebooks=["label_hunting", "lable_hunting"])
    assert (
        "'lable_hunting'" in message
        and "label_hunting" in message
        and "sonic_validation" in message
    )
    message = _refused(store_path, tmp_path, "[notebooks.sonic]\ntop_n = 3\n")
    assert "'sonic'" in message and "sonic_validation" in message


def test_unknown_parameter_is_named_with_the_valid_ones(store_path: Path, tmp_path: Path) -> None:
    message = _refused(store_path, tmp_path, "[notebooks.label_hunting]\ntop_n = 3\n")
    assert "top_n" in message and "label_hunting" in message
    assert "missing_limit" in message and "top_labels_limit" in message
    message = _refused(store_path, tmp_path, "[defaults]\nlimitt = 3\n")
    assert "limitt" in message and "duration_bin_s" in message


def test_wrong_types_and_runner_parameters(store_path: Path, tmp_path: Path) -> None:
    message = _refused(store_path, tmp_path, '[notebooks.playlist_tuning]\ntop_n = "many"\n')
    assert "top_n" in message and "int" in message and "'many'" in message
    _refused(store_path, tmp_path, "[notebooks.playlist_tuning]\ntop_n = true\n")
    message = _refused(store_path, tmp_path, '[defaults]\nstore_path = "/elsewhere.duckdb"\n')
    assert "store_path" in message and "runner" in message
    message = _refused(store_path, tmp_path, "[notebooks.playlist_tuning]\ninteractive = true\n")
    assert "interactive" in message and "never interactive" in message
    # an int where a float is declared is fine: nothing refused, so check the plan only
    plans = reports.plan_batch({"defaults": {"duration_bin_s": 45}, "notebooks": {}})
    assert {p.name: p.parameters for p in plans}["sonic_validation"] == {"duration_bin_s": 45}


def test_secrets_are_refused_as_parameters(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(store_path, tmp_path, '[defaults]\ndiscogs_token = "abc"\n')
    assert "secret" in message and "environment" in message
    monkeypatch.setenv("DISCOGS_USER_TOKEN", FAKE_TOKEN)
    message = _refused(
        store_path, tmp_path, f'[notebooks.label_hunting]\nmissing_limit = "{FAKE_TOKEN}"\n'
    )
    assert "secret" in message and FAKE_TOKEN not in message


def test_malformed_batch_files(store_path: Path, tmp_path: Path) -> None:
    assert "unknown section" in _refused(store_path, tmp_path, "[default]\ntop_n = 3\n")
    assert "not valid TOML" in _refused(store_path, tmp_path, "[defaults\n")
    assert "not valid YAML" in _refused(
        store_path, tmp_path, "defaults: [1, 2\n", config_name="b.yaml"
    )
    assert "unknown format" in _refused(store_path, tmp_path, "{}", config_name="b.json")
    assert "one table per notebook" in _refused(
        store_path, tmp_path, "[notebooks]\nlabel_hunting = 3\n"
    )
    with pytest.raises(ParameterError, match="does not exist"):
        run_batch(
            store_path=store_path, out_dir=tmp_path / "reports", config_path=tmp_path / "nope.toml"
        )
    assert not (tmp_path / "reports").exists()


def test_yaml_and_toml_give_the_same_plan(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(
        "defaults:\n  top_n: 7\nnotebooks:\n  playlist_tuning:\n    top_n: 1\n", encoding="utf-8"
    )
    (tmp_path / "b.toml").write_text(BATCH_TOML, encoding="utf-8")
    from_yaml = reports.plan_batch(reports.load_batch_config(tmp_path / "b.yaml"))
    from_toml = reports.plan_batch(reports.load_batch_config(tmp_path / "b.toml"))
    assert {p.name: p.parameters["top_n"] for p in from_yaml if "top_n" in p.parameters} == {
        "playlist_tuning": 1,
        "sonic_validation": 7,
    }
    assert {p.name: p.parameters.get("top_n") for p in from_toml} == {
        p.name: p.parameters.get("top_n") for p in from_yaml
    }


def test_the_example_batch_file_is_valid() -> None:
    plans = reports.plan_batch(reports.load_batch_config(REPO / "batch.example.toml"))
    assert [plan.name for plan in plans] == NOTEBOOKS


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    message = _refused(tmp_path / "nowhere.duckdb", tmp_path, None, error=StoreError)
    assert "nowhere.duckdb" in message and "musicwb demo" in message


def test_a_notebook_without_parameters_cell_is_refused(store_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), folder / "bare.ipynb")
    message = _refused(store_path, tmp_path, None, notebooks_dir=folder)
    assert "bare" in message and "parameters" in message


def test_missing_notebooks_folder_names_the_path_and_the_setting(
    store_path: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-notebooks"
    message = _refused(store_path, tmp_path, None, notebooks_dir=missing)
    assert str(missing) in message and "MUSICWB_NOTEBOOKS_DIR" in message


def test_cli_runs_the_notebooks_of_the_configured_folder(store_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my-notebooks"
    command = [MUSICWB, "batch", "--store", str(store_path), "--out", str(tmp_path / "reports")]
    environment = {**os.environ, "MUSICWB_NOTEBOOKS_DIR": str(folder)}

    def batch() -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, "--json"],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    refused = batch()
    assert refused.returncode == 2, refused.stderr
    assert str(folder) in refused.stderr and "MUSICWB_NOTEBOOKS_DIR" in refused.stderr
    assert not (tmp_path / "reports").exists()

    folder.mkdir()
    nbformat.write(_small_notebook("Store", "print(store_path)"), folder / "store_only.ipynb")
    done = batch()
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert [(n["name"], n["status"]) for n in summary["notebooks"]] == [("store_only", "ok")]
    executed = nbformat.read(summary["notebooks"][0]["ipynb_path"], as_version=4)
    printed = "".join(output.get("text", "") for output in executed.cells[-1].outputs)
    assert printed.strip() == str(store_path)


# -- the HTML pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"title": "</script><script>alert(1)</script>"},
        {"a": "<!-- x -->", "b": "&amp; \u2028 \u2029", "n": [1, 2.5, None, True]},
    ],
)
def test_safe_json_round_trips_without_markup(value: dict) -> None:
    text = reports.safe_json(value)
    assert json.loads(text) == value
    assert not set("<>&\u2028\u2029") & set(text)


def test_inline_charts_adds_offline_html_and_keeps_the_input() -> None:
    spec = {"mark": "bar", "data": {"values": [{"artist": "</script><b>x</b>"}]}}
    nb = new_notebook(cells=[new_code_cell("chart")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output(
            "display_data", data={"application/vnd.vegalite.v5+json": spec, "text/plain": "chart"}
        )
    ]
    inlined, n_charts = reports.inline_charts(nb)
    assert n_charts == 1
    assert "text/html" not in nb.cells[0].outputs[0]["data"]
    html = inlined.cells[0].outputs[0]["data"]["text/html"]
    assert html.count("</script>") == 1 and "<b>" not in html
    assert 'id="musicwb-chart-0"' in html and "vegaEmbed(" in html


def test_widget_views_are_left_out_of_the_static_report() -> None:
    nb = new_notebook(cells=[new_code_cell("bar"), new_code_cell("print(1)")])
    widget = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    nb.cells[0].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={WIDGET_VIEW_MIME: widget, "text/plain": "HBox(children=(FloatProgress()))"},
        ),
        nbformat.v4.new_output("stream", name="stdout", text="hunted 64 track(s)"),
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    html = export_html(nb, name="widgets")
    assert "FloatProgress" not in html and "hunted 64 track(s)" in html
    assert "widget-state" not in html and len(nb.cells[0].outputs) == 2  # input unchanged


def test_export_without_input_hides_code(batch: tuple[Path, BatchResult]) -> None:
    _, result = batch
    executed = nbformat.read(result.run_dir / "label_hunting.ipynb", as_version=4)
    with_code = reports.export_html(executed)
    without = reports.export_html(executed, no_input=True)
    assert "label_coverage" in with_code and "jp-mod-noInput" not in with_code
    assert "label_coverage" not in without and "jp-mod-noInput" in without
    assert "Tracks missing a label" in without  # markdown and outputs stay
    charts = sum(
        any(mime.startswith("application/vnd.vegalite") for mime in output.get("data", {}))
        for cell in executed.cells
        for output in cell.get("outputs", [])
    )
    assert charts >= 2
    assert without.count('class="musicwb-chart"') == with_code.count('class="musicwb-chart"') == charts


def test_describe_lines() -> None:
    result = BatchResult(
        run_id="r",
        run_dir=Path("/r"),
        index_path=Path("/r/index.html"),
        notebooks=[
            reports.NotebookResult("a", "ok", 1.3, {}, None, None),
            reports.NotebookResult("b", "failed", 2.0, {}, None, None, "ValueError: no\ntrace"),
        ],
        duration_s=3.3,
    )
    lines = result.describe().splitlines()
    assert lines[0].split() == ["a", "ok", "1.3", "s"]
    assert lines[1].endswith("ValueError: no")
    assert lines[-1] == "batch r: 1 ok, 1 not ok in 3.3 s"
    assert not result.ok


def test_interrupt_stops_cleanly_and_says_so(tmp_path: Path) -> None:
    """Ctrl-C while a notebook runs: exit 130, an index that says what did not run, the run
    recorded as interrupted, no kernel left behind."""
    import signal
    import time

    store_path = build_library_store(tmp_path / "lib.duckdb")
    out_dir = tmp_path / "reports"
    process = subprocess.Popen(
        [MUSICWB, "batch", "--store", str(store_path),
         "--out", str(out_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(out_dir.glob("*/*.ipynb")) and time.monotonic() < deadline:
        time.sleep(0.2)  # papermill writes the output notebook as soon as it starts
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    (index,) = out_dir.glob("*/index.html")
    statuses = re.findall(r'data-status="(\w+)"', index.read_text(encoding="utf-8"))
    assert len(statuses) == 4 and statuses[-1] == "not_run"
    with Store(store_path, read_only=True) as store:
        assert runs_frame(store, kind="batch")["status"].tolist() == ["interrupted"]
