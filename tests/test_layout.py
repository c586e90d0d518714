"""The package's shape: no import cycles, folders grouped by concept, public names' module.

The import graph is built with ``ast`` from the package's files, counting every import:
top-level, under ``TYPE_CHECKING`` and inside functions (a cycle of concerns is a cycle
however it is spelled). Size is no rule: a function's complexity is (ruff's C901, PLR0912 and
PLR0915, pinned here so they cannot be switched off unseen).
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import aws_batch_async

PACKAGE = Path(aws_batch_async.__file__).parent
ROOT = PACKAGE.parent
#: More modules than this in one folder is a sign a concept is missing (STYLE.md).
MAX_MODULES_PER_FOLDER = 15
#: ruff's complexity rules and their limits, as pyproject.toml sets them.
COMPLEXITY_RULES = ("C901", "PLR0912", "PLR0915")
COMPLEXITY_LIMITS = {
    "mccabe": {"max-complexity": 12},
    "pylint": {"max-branches": 12, "max-statements": 50},
}


def module_name(path: Path) -> str:
    parts = ["aws_batch_async", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            targets = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_import_graph_is_acyclic() -> None:
    graph = import_graph()
    assert "aws_batch_async._models.jobs" in graph["aws_batch_async._service"] or any(
        "aws_batch_async._models.jobs" in deps for deps in graph.values()
    )
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_sees_type_checking_and_function_imports(tmp_path: Path) -> None:
    a = tmp_path / "a.py"
    a.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import X\n")
    b = tmp_path / "b.py"
    b.write_text("def f():\n    from .a import Y\n")
    known = {"aws_batch_async.a", "aws_batch_async.b"}
    graph = {
        "aws_batch_async.a": imports_of("aws_batch_async.a", a, known),
        "aws_batch_async.b": imports_of("aws_batch_async.b", b, known),
    }
    assert find_cycle(graph) is not None


def test_the_library_never_imports_its_tools() -> None:
    graph = import_graph()
    tools = ("aws_batch_async.testing", "aws_batch_async._cli", "aws_batch_async.cli")

    def is_tool(module: str) -> bool:
        return any(module == t or module.startswith(f"{t}.") for t in tools)

    core = [n for n in graph if not is_tool(n) and n != "aws_batch_async.__main__"]
    for name in core:
        for dep in graph[name]:
            assert not is_tool(dep), (name, dep)


def test_no_folder_holds_more_than_15_modules() -> None:
    folders: dict[Path, int] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name != "__init__.py":
            folders[path.parent] = folders.get(path.parent, 0) + 1
    crowded = {str(f.relative_to(PACKAGE.parent)): n for f, n in folders.items()}
    assert {f: n for f, n in crowded.items() if n > MAX_MODULES_PER_FOLDER} == {}


def _ruff_settings() -> dict[str, Any]:
    toml = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    lint: dict[str, Any] = toml.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    return lint


def test_ruff_checks_complexity_with_the_agreed_limits() -> None:
    lint = _ruff_settings()
    assert set(COMPLEXITY_RULES) <= set(lint["select"])
    assert not set(COMPLEXITY_RULES) & set(lint.get("ignore", ())), lint["ignore"]
    for section, limits in COMPLEXITY_LIMITS.items():
        assert {k: lint[section].get(k) for k in limits} == limits, section


def test_no_function_of_the_package_is_too_complex(tmp_path: Path) -> None:
    """ruff with only the complexity rules: the package is clean, and a branchy function is not."""
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed (nox -s lint runs it)")
    branchy = tmp_path / "branchy.py"
    ifs = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(13))
    branchy.write_text(f"def branchy(x: int) -> int:\n{ifs}    return -1\n")

    def ruff(*paths: Path) -> subprocess.CompletedProcess[str]:
        select = ",".join(COMPLEXITY_RULES)
        config = ["--config", str(ROOT / "pyproject.toml")]
        argv = ["check", "--no-cache", "--output-format", "concise", "--select", select]
        return subprocess.run(
            [sys.executable, "-m", "ruff", *argv, *config, *map(str, paths)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    package = ruff(PACKAGE)
    assert package.returncode == 0, package.stdout
    flagged = ruff(branchy)
    assert "C901 `branchy` is too complex (14 > 12)" in flagged.stdout, flagged.stdout
    assert "PLR0912" in flagged.stdout


def test_subpackages_are_import_free() -> None:
    """A subpackage's ``__init__.py`` imports nothing: importing one module loads no other."""
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent in (PACKAGE, PACKAGE / "testing", PACKAGE / "_cli"):
            continue  # the public faces
        tree = ast.parse(init.read_text())
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not imports, init


def test_no_module_defines_a_mixin() -> None:
    """``BatchService`` holds its parts (``docs/architecture.md``) instead of inheriting them:
    no class of the package is a mixin to be inherited across modules (its bases are pinned
    by ``test_service_surface.py``)."""
    mixins = [
        f"{path.relative_to(PACKAGE)}:{node.name}"
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ClassDef) and node.name.endswith("Mixin")
    ]
    assert mixins == []


def test_public_classes_report_the_public_module() -> None:
    for name in aws_batch_async.__all__:
        obj = getattr(aws_batch_async, name)
        if isinstance(obj, type):
            assert obj.__module__ == "aws_batch_async", name


def _fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing of the package imported yet); its stdout."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_importing_the_package_leaves_the_rarely_used_parts_unloaded() -> None:
    """Cold start: every public name loads on first use, so a bare import loads nothing else."""
    loaded = set(
        _fresh(
            "import sys, aws_batch_async; "
            "print(' '.join(m for m in sys.modules if m.startswith('aws_batch_async')))"
        ).split()
    )
    # Every public name loads on first use; array_index (for the job's own code) is all there is.
    assert loaded == {
        "aws_batch_async",
        "aws_batch_async._lifecycle",
        "aws_batch_async._lifecycle.array_index",
    }, sorted(loaded)
    assert set(aws_batch_async._LAZY) <= set(aws_batch_async.__all__)
    assert set(aws_batch_async._LAZY) <= set(dir(aws_batch_async))


def test_lazy_public_classes_get_the_public_module_however_they_load() -> None:
    # Through the service (as a first describe_job_queues would), not through the package.
    printed = _fresh(
        "import aws_batch_async._operations.operations, aws_batch_async._models.requests as r, "
        "aws_batch_async._infrastructure.views as i; "
        "print(i.JobQueue.__module__, r.JobRequest.__module__, i.InfraCache.__module__)"
    )
    assert printed == "aws_batch_async aws_batch_async aws_batch_async._infrastructure.views"
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(aws_batch_async, "no_such_name")  # noqa: B009
