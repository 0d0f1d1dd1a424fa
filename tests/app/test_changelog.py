"""The changelog configuration (git-cliff, in pyproject.toml) groups conventional commits."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GIT_CLIFF = Path(sys.executable).parent / "git-cliff"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def history(tmp_path: Path) -> Path:
    if not GIT_CLIFF.exists():
        pytest.skip("git-cliff is not installed (dev dependency)")
    repo = tmp_path / "project"
    repo.mkdir()
    shutil.copy(REPO / "pyproject.toml", repo / "pyproject.toml")
    _git(repo, "init", "-q")
    for message in [
        "feat: tick import",
        "fix(data): reject bars with high below low",
        "chore(release): 1.0.0",
    ]:
        _git(repo, "commit", "-q", "--allow-empty", "-m", message)
    _git(repo, "tag", "v1.0.0")
    for message in [
        "feat(engine): limit orders",
        "perf: numba bar loop",
        "docs: release guide",
        "fix: crash on empty file",
        "tidy things up",
    ]:
        _git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return repo


def _cliff(repo: Path, *args: str) -> str:
    return subprocess.run(
        [str(GIT_CLIFF), *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_next_entry_groups_commits_since_the_last_tag(history):
    entry = _cliff(history, "--unreleased", "--bump", "--strip", "header")
    assert entry.lstrip().startswith("## [1.1.0] - ")  # a feature bumps the minor version
    sections = [line for line in entry.splitlines() if line.startswith("### ")]
    assert sections == [
        "### Features",
        "### Bug Fixes",
        "### Performance Improvements",
        "### Documentation",
        "### Other",
    ]
    assert "- **engine**: Limit orders (" in entry
    assert "high below low" not in entry  # released already, in 1.0.0


def test_full_changelog_keeps_released_versions_and_skips_release_commits(history):
    text = _cliff(history)
    assert text.startswith("# Changelog")
    assert "## [1.0.0] - " in text
    assert "- **data**: Reject bars with high below low (" in text
    assert "chore(release)" not in text
    assert "Release" not in text.split("## [1.0.0]")[1]
