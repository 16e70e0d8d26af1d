"""The package's architecture, checked: layers that only look down, no import cycle, and
each third-party engine imported in exactly one place.

Every import is found by reading the source (module level, inside functions and
under TYPE_CHECKING), so a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import provarchive

PACKAGE = Path(provarchive.__file__).parent

# Lower numbers are lower layers. A module may import modules of lower layers, and
# modules of its own layer only inside its own sub-package.
LAYERS: list[tuple[int, tuple[str, ...]]] = [
    (0, ("meta", "errors", "digests", "findings", "processes", "search", "timestamps")),
    (1, ("config", "search.engine", "search.analysis")),
    (2, ("store", "cleaning", "search.query", "search.snippets")),
    (3, ("catalog", "tlog")),
    (4, ("search.whoosh_engine", "seeds")),
    (5, ("home",)),
    (6, ("derivations", "lineage", "search.sync", "ledger", "views")),
    (7, ("recovery",)),
    (8, ("ingest", "verify", "dryrun", "withdrawal")),
    (9, ("archive",)),
    (10, ("__init__",)),
    (11, ("cli",)),
    (12, ("__main__",)),
]
ONLY_IN = {
    "sqlalchemy": ("catalog",),
    "alembic": ("catalog",),
    # search.analysis borrows Whoosh's stemmer module (whoosh.lang.snowball), none of
    # the engine: both engines' terms come from one stemmer.
    "whoosh": ("search.whoosh_engine", "search.analysis"),
    "typer": ("cli",),
    "rich": ("cli",),
}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".") if module != "__init__" else []
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def imports(name: str, path: Path) -> set[str]:
    """Modules ``name`` imports: internal ones relative to the package, external by top name."""
    is_package = path.name == "__init__.py"
    known = modules()
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("provarchive."):
                    out.add(alias.name[len("provarchive.") :])
                elif alias.name != "provarchive":
                    out.add("ext:" + alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                mod = node.module or ""
                if mod == "provarchive":
                    candidates = [a.name for a in node.names]
                    out.update(c for c in candidates if c in known) or out.add("__init__")
                elif mod.startswith("provarchive."):
                    out.add(mod[len("provarchive.") :])
                elif mod != "__future__":
                    out.add("ext:" + mod.split(".")[0])
                continue
            target = _resolve(name, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                out.add(sub if sub in known else target or "__init__")
    return {m for m in out if m != name}


def layer_of(module: str) -> tuple[int, str]:
    """(layer, the LAYERS entry it falls under): the longest matching entry wins."""
    matches = [
        (len(prefix), rank, prefix)
        for rank, prefixes in LAYERS
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"module {module!r} has no layer in LAYERS: add it")
    _, rank, prefix = max(matches)
    return rank, prefix


def graph() -> dict[str, set[str]]:
    return {name: imports(name, path) for name, path in modules().items()}


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_imports_only_look_down() -> None:
    wrong = []
    for name, targets in graph().items():
        rank, home = layer_of(name)
        for target in sorted(t for t in targets if not t.startswith("ext:")):
            t_rank, t_home = layer_of(target)
            if t_rank > rank or (t_rank == rank and t_home != home):
                wrong.append(f"{name} (layer {rank}) imports {target} (layer {t_rank})")
    assert wrong == []


def test_no_import_cycle() -> None:
    edges = {n: {t for t in ts if not t.startswith("ext:")} for n, ts in graph().items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    # A package __init__ that re-exports its own modules is not a cycle of code.
    real = [c for c in cycles if not any(m.endswith("__init__") for m in c)]
    assert real == []


def test_third_party_engines_are_imported_in_one_place() -> None:
    wrong = []
    for name, targets in graph().items():
        for lib, homes in ONLY_IN.items():
            if f"ext:{lib}" in targets and not any(
                name == h or name.startswith(h + ".") for h in homes
            ):
                wrong.append(f"{name} imports {lib}")
    assert wrong == []


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(
        "def f():\n    from .ingest import ingest\n    import sqlalchemy\n"
        "    from . import recovery\n"
    )
    assert imports("home", path) >= {"ingest", "ext:sqlalchemy", "recovery"}


# -- start-up (#14): what the command line loads before it needs it --------------------------

HEAVY = ("sqlalchemy", "alembic", "whoosh", "prov", "charset_normalizer", "pydantic", "psycopg")


def _loaded_after(
    code: str, heavy: tuple[str, ...] = HEAVY, env: dict[str, str] | None = None
) -> list[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return [m for m in done.stdout.split() if m.split(".")[0] in heavy or m in heavy]


def test_the_command_table_loads_no_library_engine() -> None:
    """``provarchive --help`` builds every command's options from the command table alone:
    the catalog, the engines and the cleaner come in only when a command runs."""
    code = "import provarchive.cli as c, typer.main\ntyper.main.get_command(c.app)"
    assert _loaded_after(code) == []


def test_the_pure_python_analysis_loads_only_whoosh_s_stemmer() -> None:
    """The PostgreSQL engine's terms (and every snippet) come from ``search.analysis``,
    which takes Whoosh's stemmer module and nothing of Whoosh's index or searcher."""
    code = "from provarchive.search.analysis import analyse\nassert analyse('Labourers ran')"
    loaded = _loaded_after(code, ("whoosh", "nltk"))
    assert "whoosh.lang.snowball.english" in loaded
    assert [m for m in loaded if m != "whoosh" and not m.startswith("whoosh.lang")] == []


def test_the_package_front_door_is_imported_on_first_use() -> None:
    assert _loaded_after("import provarchive") == []
    from provarchive.archive import Archive

    assert provarchive.Archive is Archive  # the front door itself is real, only deferred
    assert "Archive" in dir(provarchive)


def test_version_answers_without_the_command_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provarchive", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout == f"provarchive {provarchive.__version__}\n"
    code = "import sys\nsys.argv = ['provarchive', '--version']\nfrom provarchive.cli import main\nmain()"
    probe = f"{code}\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_verify_fixity_reads_the_store_without_the_catalog_half(seeded_archive) -> None:
    """``verify --fixity`` checks the storage root only: it starts without SQLAlchemy,
    the cleaner or the search engines, as ``validate`` does."""
    root = seeded_archive.config.root
    code = (
        "import sys\n"
        f"sys.argv = ['provarchive', '--archive', {str(root)!r}, 'verify', '--fixity']\n"
        "from provarchive.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code"
    )
    assert _loaded_after(code) == []
    # Nor what only writers, the seeds check or the log check need.
    writers = (
        "filelock",
        "pathspec",
        "provarchive.seeds",
        "provarchive.tlog",
        "provarchive.ledger",
    )
    assert _loaded_after(code, writers) == []
    loaded = _loaded_after(code.replace("'--fixity'", "'--json'"))
    assert "sqlalchemy" in loaded  # the full verify reads the catalog


def test_a_command_that_prints_json_or_plain_lines_does_not_import_rich(
    seeded_archive,
) -> None:
    """rich (30 ms of start-up) comes in only to style a terminal's output, or a table:
    JSON, and lines of text to a file or a pipe, are written without it."""
    root = seeded_archive.config.root
    code = (
        "import sys\n"
        f"sys.argv = ['provarchive', '--archive', {str(root)!r}, 'verify', '--fixity', 'JSON']\n"
        "from provarchive.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code"
    )
    assert _loaded_after(code.replace("JSON", "--json"), ("rich",)) == []
    plain = code.replace(", 'JSON'", "")
    quiet = {"FORCE_COLOR": "", "TTY_COMPATIBLE": "", "TTY_INTERACTIVE": ""}
    assert _loaded_after(plain, ("rich",), env=quiet) == []
    assert "rich" in _loaded_after(plain, ("rich",), env={**quiet, "FORCE_COLOR": "1"})
