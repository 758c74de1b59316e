"""The two locks: production's (requirements/lock.txt) holds every package the product imports and nothing
only tests or benchmarks need; development's (requirements/dev.txt) pins the same versions and adds the rest.

Read from the files and the installed packages' metadata only: no network, no resolver.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)", re.MULTILINE)


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: str) -> dict[str, str]:
    return {_canon(name): version for name, version in PIN.findall((ROOT / path).read_text())}


def _declared(names: list[str]) -> set[str]:
    return {_canon(re.split(r"[<>=\[;! ]", entry, maxsplit=1)[0]) for entry in names}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:``: imports the type checker reads and the product never runs."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                inside |= {id(n) for n in ast.walk(child)}
    return inside


def _imported_roots(*folders: str, typing_only: bool = False) -> dict[str, str]:
    """Top-level module of every absolute import under ``folders`` (in functions too) → a file importing it:
    the imports that run, or with ``typing_only`` those under ``if TYPE_CHECKING:``."""
    own = {"apps", "ratc_ops", "tests", "bench", "__future__"}
    roots: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            checking = _type_checking_only(tree)
            for node in ast.walk(tree):
                if (id(node) in checking) != typing_only:
                    continue
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    root = module.split(".")[0]
                    if root not in own and root not in sys.stdlib_module_names:
                        roots.setdefault(root, str(path.relative_to(ROOT)))
    return roots


def test_every_import_of_the_product_is_declared_and_in_the_production_lock():
    declared = _declared(_project()["dependencies"])
    production = _pins("requirements/lock.txt")
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for root, where in sorted(_imported_roots("apps", "ratc_ops").items()):
        dists = {_canon(d) for d in distributions.get(root, [])}
        if not dists:
            problems.append(f"{root} ({where}): no installed distribution provides it")
        elif not dists & declared:
            problems.append(f"{root} ({where}): {sorted(dists)} not in pyproject's dependencies")
        elif not dists & production.keys():
            problems.append(f"{root} ({where}): {sorted(dists)} not pinned in requirements/lock.txt")
    assert not problems, "\n".join(problems)


def test_imports_for_the_type_checker_only_are_in_the_development_lock():
    development = _pins("requirements/dev.txt")
    distributions = importlib.metadata.packages_distributions()
    problems = [
        f"{root} ({where}): not pinned in requirements/dev.txt"
        for root, where in sorted(_imported_roots("apps", "ratc_ops", typing_only=True).items())
        if not {_canon(d) for d in distributions.get(root, [])} & development.keys()
    ]
    assert not problems, "\n".join(problems)


def test_production_lock_holds_no_test_browser_or_benchmark_package():
    project = _project()
    production_deps = _declared(project["dependencies"])
    extras = _declared(project["optional-dependencies"]["dev"] + project["optional-dependencies"]["bench"])
    leaked = sorted((extras - production_deps) & _pins("requirements/lock.txt").keys())
    assert not leaked, f"only for tests or benchmarks, yet in the production lock: {leaked}"
    assert "playwright" in _pins("requirements/dev.txt")  # the split is not an empty development lock


def test_development_lock_pins_production_at_the_same_versions():
    development = _pins("requirements/dev.txt")
    differ = {
        name: (version, development.get(name))
        for name, version in _pins("requirements/lock.txt").items()
        if development.get(name) != version
    }
    assert not differ, f"production pin vs development pin: {differ}"


def test_benchmark_only_libraries_are_in_the_bench_extra_not_in_the_product():
    bench = _declared(_project()["optional-dependencies"]["bench"])
    product = set()
    distributions = importlib.metadata.packages_distributions()
    for root in _imported_roots("apps", "ratc_ops"):
        product |= {_canon(d) for d in distributions.get(root, [])}
    for name in ("splink", "xgboost-cpu", "pydifact"):
        assert name in bench, f"{name} belongs in the bench extra"
        assert name not in product, f"{name} is imported by the product itself"
