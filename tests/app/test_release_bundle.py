"""End to end: freeze the app with PyInstaller, publish it, let the updater install it.

Building the bundle takes 20-60 s, so this runs only with ``BACKTESTR_RELEASE_TESTS=1``
(the release checklist in docs/release.md runs it before every release).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backtestr.app.http import UrllibClient
from backtestr.app.layout import AppPaths
from backtestr.app.settings import UpdateConfig
from backtestr.app.updater import Updater

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.release,
    pytest.mark.skipif(
        os.environ.get("BACKTESTR_RELEASE_TESTS") != "1",
        reason="builds the PyInstaller bundle; set BACKTESTR_RELEASE_TESTS=1",
    ),
]


def test_frozen_bundle_installs_through_the_updater_and_passes_its_self_test(tmp_path, published):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "release.py"), "bundle", "--out", str(dist)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    bundle = dist / "backtestr"
    # starts without any Python on PATH or in the environment
    alone = subprocess.run(
        [str(bundle / "backtestr"), "version", "--json"],
        env={"PATH": "/nonexistent", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"channel"' in alone.stdout
    published.repository.publish("1.0.0", bundle)
    updater = Updater(
        AppPaths(tmp_path / "home"),
        UpdateConfig(server_url=published.server.url),
        UrllibClient(),
        trusted_root=published.root,
        installed_version="0.1.0",
    )
    result = updater.install(updater.download())  # the default self-test runs the bundle
    assert result.version == "1.0.0"
    assert (result.path / "backtestr").is_file()
