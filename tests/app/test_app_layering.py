"""The life-cycle services sit below the faces: ``backtestr.app`` never imports the CLI or server,
and nothing in it imports PyInstaller (a release-time tool only)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "src" / "backtestr" / "app"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_app_does_not_import_faces_or_release_tools():
    offenders = [
        f"{path.name} imports {name}"
        for path in sorted(APP.glob("*.py"))
        for name in _imported_modules(path)
        if name.startswith(("backtestr.cli", "backtestr.server", "PyInstaller", "fastapi"))
    ]
    assert offenders == []
