"""Refuse to build a wheel without the built frontend (run ``./dev web`` or ``./dev build``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class FrontendPresent(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        index = Path(self.root) / "src" / "backtestr" / "server" / "static" / "index.html"
        if version == "standard" and not index.is_file():
            raise RuntimeError(
                "The frontend is not built: run `./dev web` (or `./dev build`) before building "
                "the wheel, so that the web workstation ships inside it."
            )
