"""Where things live: rooms import only rooms below them, no import circles, and the SQL that
names the store's tables lives under ``musicwb/store/`` only.

The floors, from the bottom up (README, "Layout"):

0. ``errors``, ``_version``, ``config``, ``text``, ``genres``, ``titles``, ``charts``, ``store``
   (they may use one another, without circles);
1. ``library``;
2. the jobs ``enrich``, ``linkage``, ``sonic`` (none imports another);
3. ``playlist`` (it builds on sonic features);
4. ``demo``, ``overview``;
5. ``notebook`` (one glue module per notebook), ``reports``;
6. ``cli``.

Imports inside functions count: a circle hidden in a function is still a circle.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "musicwb"

FLOORS = {
    "errors": 0,
    "_version": 0,
    "config": 0,
    "text": 0,
    "genres": 0,
    "titles": 0,
    "charts": 0,
    "store": 0,
    "library": 1,
    "enrich": 2,
    "linkage": 2,
    "sonic": 2,
    "playlist": 3,
    "demo": 4,
    "overview": 4,
    "notebook": 5,
    "reports": 5,
    "cli": 6,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    """The package's modules that ``module`` imports, wherever the import statement stands."""
    is_package = path.name == "__init__.py"
    targets: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {_resolve(a.name) for a in node.names if a.name.startswith("musicwb")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base.startswith("musicwb"):
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if submodule in MODULES else _resolve(base))
    targets.discard(None)
    targets.discard(module)
    return {target for target in targets if target is not None}


EDGES = {module: _imports(module, path) for module, path in MODULES.items()}


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _circles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in EDGES[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(sorted(component))

    for node in EDGES:
        if node not in index:
            visit(node)
    faces = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    # A package face re-exports its modules; a circle through the face alone is not a circle.
    return [c for c in found if len([m for m in c if m not in faces]) > 1]


def test_every_room_has_a_floor() -> None:
    rooms = {_room(module) for module in MODULES} - {None}
    assert rooms <= set(FLOORS), f"rooms without a floor: {sorted(rooms - set(FLOORS))}"


def test_no_import_circles() -> None:
    assert _circles() == []


def test_no_import_runs_up_a_floor_or_sideways() -> None:
    wrong = []
    for module, targets in EDGES.items():
        room = _room(module)
        if room is None:  # the package face lists everything
            continue
        for target in targets:
            other = _room(target)
            if other is None:
                wrong.append(f"{module} -> {target} (the package face)")
            elif other != room and not (
                FLOORS[other] < FLOORS[room] or FLOORS[other] == FLOORS[room] == 0
            ):
                wrong.append(f"{module} (floor {FLOORS[room]}) -> {target} (floor {FLOORS[other]})")
    assert wrong == []


def _schema_tables() -> set[str]:
    pattern = re.compile(
        r"create\s+(?:or\s+replace\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)",
        re.IGNORECASE,
    )
    tables = set()
    for path in (PACKAGE / "store" / "migrations").glob("*.sql"):
        tables |= {name.lower() for name in pattern.findall(path.read_text(encoding="utf-8"))}
    return tables


def test_sql_naming_a_schema_table_lives_under_store() -> None:
    tables = _schema_tables()
    assert {"tracks", "runs", "sonic_features"} <= tables
    naming = re.compile(
        r"\b(?:from|join|into|update|table)\s+("
        + "|".join(sorted(tables, key=len, reverse=True))
        + r")\b",
        re.IGNORECASE,
    )
    outside = {}
    for module, path in MODULES.items():
        if module == "musicwb.store" or module.startswith("musicwb.store."):
            continue
        hits = naming.findall(path.read_text(encoding="utf-8"))
        if hits:
            outside[str(path.relative_to(PACKAGE.parent))] = sorted(set(hits))
    assert outside == {}


def test_only_the_store_imports_duckdb() -> None:
    importers = sorted(
        module
        for module, path in MODULES.items()
        if re.search(r"^\s*(?:import duckdb|from duckdb\b)", path.read_text(encoding="utf-8"), re.M)
    )
    assert importers == ["musicwb.store.database"]


@pytest.mark.parametrize(
    "face", sorted(m for m, p in MODULES.items() if p.name == "__init__.py"), ids=str
)
def test_package_faces_are_lazy_stubs_or_plain(face: str) -> None:
    """A face that exports lazily does it with lazy_loader and its ``.pyi`` stub, one style."""
    path = MODULES[face]
    text = path.read_text(encoding="utf-8")
    if "__getattr__" in text:
        assert "lazy.attach_stub(__name__, __file__)" in text
        assert path.with_suffix(".pyi").exists()


@pytest.mark.parametrize(
    "stub", sorted(PACKAGE.rglob("__init__.pyi")), ids=lambda p: str(p.parent.relative_to(PACKAGE))
)
def test_no_face_exports_a_name_its_submodule_has(stub: Path) -> None:
    """Importing ``pkg.name`` as a module would replace the function ``pkg.name`` the face exports."""
    package = stub.parent
    submodules = {p.stem for p in package.glob("*.py")} | {
        p.name for p in package.iterdir() if (p / "__init__.py").exists()
    }
    exported = set(re.findall(r"^from \.[\w.]* import (\w+) as \w+", stub.read_text(), re.M))
    assert exported & submodules == set()


README = PACKAGE.parent / "README.md"


def _readme_layout() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Layout") :]


def test_the_readme_layout_names_every_module_and_room() -> None:
    """A new engineer finds every module of the tree in the README's layout, and no ghost."""
    layout = _readme_layout()
    named = set(re.findall(r"[A-Za-z_][\w*]*\.py\b|[A-Za-z_]\w*/", layout))
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py" or "__pycache__" in path.parts:
            continue
        covered = path.name in named or any(
            "*" in pattern and re.fullmatch(pattern.replace("*", r"\w*"), path.name)
            for pattern in named
        )
        room = path.relative_to(PACKAGE).parts[0]
        # a module of a sub-package is covered by the sub-package's name (sources/, cooldown/)
        inner = path.parent != PACKAGE and path.parent.parent != PACKAGE
        if not covered and not (inner and f"{path.parent.name}/" in named):
            missing.append(str(path.relative_to(PACKAGE)))
        assert f"{room}/" in named or room.endswith(".py"), room
    assert missing == [], f"README's layout does not name {missing}"
    ghosts = [
        name
        for name in named
        if name.endswith(".py") and "*" not in name
        and not any(list(folder.rglob(name)) for folder in (PACKAGE, PACKAGE.parent / "tests"))
    ]  # fmt: skip
    assert ghosts == [], f"README's layout names modules that do not exist: {ghosts}"


def test_the_readme_points_at_nothing_outside_the_repository() -> None:
    assert "../" not in README.read_text(encoding="utf-8")


def test_make_lab_starts_jupyterlab_on_the_notebooks_and_allows_root_in_containers() -> None:
    import os
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # under `make test`, MAKELEVEL and MAKEFLAGS would make this make print its directory
    environment = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS")}
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "lab"], cwd=PACKAGE.parent, env=environment,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (command,) = [line for line in done.stdout.splitlines() if "jupyter" in line]
    assert "jupyter lab notebooks/" in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)
