"""The layout's one rule, checked on the source: lower packages never import higher ones.

``config``/``errors`` ← ``db`` ← ``papers`` ← ``search`` ← ``accounts`` | ``community`` ← ``library`` (the
composition root) ← ``jobs`` | ``demo`` ← ``web`` | ``cli``. Packages on one level do not import each other either.
Every import counts, also those inside functions and under ``TYPE_CHECKING``.

Within the CLI, the ``cli_*`` modules never import :mod:`dailypapers.cli`: it gathers their commands on ``main``, and
what they share is in :mod:`dailypapers.cli_common` (no import circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dailypapers"
LEVELS = {
    "__init__": 0, "__main__": 9, "config": 0, "errors": 0,
    "db": 1,
    "papers": 2,
    "search": 3,
    "topics": 3.5,  # the map, clusters, key phrases: above search (embeddings), below mail (digest section)
    "accounts": 4, "community": 4,
    "mail": 4.5,  # above accounts/community (a digest names users and papers), below the library that wires it
    "library": 5,
    "jobs": 6, "demo": 6,
    "ops": 6.5,  # above jobs (check and metrics read job runs), below the web and the CLI that serve it
    "serialize": 5,
    "web": 7, "cli": 7,
}  # fmt: skip
# modules that belong to another part
SAME = {
    **{
        f"cli_{name}": "cli"
        for name in ("common", "users", "jobs", "mail", "digest", "ingest", "backup", "ops", "topics")
    },
    "config_checks": "config",
    "config_settings": "config",
}


def _part(module: str) -> str:
    """The top-level part of ``dailypapers.<part>…``."""
    part = module.split(".")[1] if module.count(".") else "__init__"
    return SAME.get(part, part)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "dailypapers" or m.startswith("dailypapers.")}


def test_no_package_imports_a_higher_one() -> None:
    wrong = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    for path in files:
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        here = _part(".".join(relative.parts))
        assert here in LEVELS, f"place dailypapers/{here} in LEVELS"
        for module in _imports(path):
            there = _part(module)
            if there == here:
                continue
            if LEVELS[there] > LEVELS[here] or (LEVELS[there] == LEVELS[here] and LEVELS[here] > 0):
                wrong.append(f"{relative} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_web_features_never_import_each_other() -> None:
    """One module per web feature: what features share lives in small named modules of ``dailypapers.web``
    (deps, params, forms, responses, views, panels), never in another feature's module."""
    routes = PACKAGE / "web" / "routes"
    wrong = []
    for path in sorted(routes.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for module in _imports(path):
            if module.startswith("dailypapers.web.routes"):
                wrong.append(f"web/routes/{path.name} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_router_list_stays_a_list() -> None:
    """``web/routes/__init__.py`` only lists the routers (shared helpers have their own modules)."""
    lines = (PACKAGE / "web" / "routes" / "__init__.py").read_text().splitlines()
    assert len(lines) <= 75  # ~2 lines a router (its import and its entry): room for 25 features and the docstring


def test_no_cli_module_imports_the_cli() -> None:
    modules = sorted(PACKAGE.glob("cli_*.py"))
    assert len(modules) >= 6
    wrong = [p.name for p in modules if "dailypapers.cli" in _imports(p)]
    assert not wrong, f"{', '.join(wrong)} import dailypapers.cli: take what they need from dailypapers.cli_common"
