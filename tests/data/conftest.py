"""Fixtures for the data tests: small files in tmp_path, the real data folder (or a skip)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def real_data_dir() -> Path:
    """``$BACKTESTR_REAL_DATA``, else ``<repo>/../shared/data/real``."""
    configured = os.environ.get("BACKTESTR_REAL_DATA")
    return Path(configured) if configured else REPO / ".." / "shared" / "data" / "real"


@pytest.fixture
def real_data() -> Path:
    folder = real_data_dir()
    if not (folder / "README.md").is_file():
        pytest.skip(f"real market data not found at {folder}")
    return folder


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """``write_file("name.csv", "text")`` or bytes; returns the path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write
