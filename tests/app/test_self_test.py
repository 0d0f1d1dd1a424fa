"""The installation self-test the updater runs in each new version."""

from __future__ import annotations

from backtestr.app.self_test import run_self_test


def test_every_check_passes_in_a_working_installation():
    results = run_self_test()
    assert [r.name for r in results] == ["modules", "numpy", "jit"]
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]
    assert results[0].detail.endswith("modules")
    assert int(results[0].detail.split()[0]) >= 20
