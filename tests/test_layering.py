"""Dependencies point one way (DESIGN.md): the core never imports a face or an edge."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "backtestr"

# layer -> packages of ours it must never import
FORBIDDEN = {
    "model": {
        "data",
        "bars",
        "engine",
        "strategy",
        "stats",
        "optimize",
        "report",
        "server",
        "app",
        "cli",
    },
    "bars": {"data", "engine", "strategy", "stats", "optimize", "report", "server", "app", "cli"},
    "engine": {"data", "strategy", "optimize", "report", "server", "app", "cli"},
    "stats": {"data", "strategy", "optimize", "report", "server", "app", "cli"},
    "data": {"engine", "strategy", "stats", "optimize", "report", "server", "cli"},
    "report": {"data", "strategy", "optimize", "server", "app", "cli"},
    "optimize": {"server", "cli"},  # report is below optimize: results have a .plot()
    "server": {"cli"},
}
# the pure core must not reach for I/O or the outside world
CORE_FORBIDDEN_MODULES = {"fastapi", "click", "os", "duckdb", "platformdirs"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_reach_up(layer: str) -> None:
    folder = SRC / layer
    if not folder.exists():
        pytest.skip(f"{layer} not built yet")
    offenders = []
    for path in folder.rglob("*.py"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "backtestr" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
            if layer in {"model", "bars", "engine", "stats"} and parts[0] in CORE_FORBIDDEN_MODULES:
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offenders, "\n".join(offenders)
