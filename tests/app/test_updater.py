"""The update client against a real signed repository served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backtestr.app.http import UrllibClient
from backtestr.app.layout import AppPaths
from backtestr.app.settings import UpdateConfig
from backtestr.app.update_repository import RepositoryKeys, UpdateRepository
from backtestr.app.updater import Updater, UpdateService
from backtestr.app.version import ReleaseChannel, SemVer
from backtestr.errors import UpdateError


def _updater(
    published,
    app_paths: AppPaths,
    *,
    channel: ReleaseChannel = ReleaseChannel.STABLE,
    root: bytes | None = None,
    url: str | None = None,
) -> Updater:
    config = UpdateConfig(channel=channel, server_url=url or published.server.url)
    return Updater(
        app_paths,
        config,
        UrllibClient(timeout_s=5),
        trusted_root=root or published.root,
        installed_version="0.9.0",
        self_test=_run_bundle_self_test,
    )


def _run_bundle_self_test(version_dir: Path) -> bool:
    from backtestr.app.installer import CommandSelfTest

    return CommandSelfTest(arguments=(), timeout_s=10)(version_dir)


def _install_newest(updater: Updater) -> str:
    downloaded = updater.download()
    return updater.install(downloaded).version


def _current_payload_version(app_paths: AppPaths, updater: Updater) -> str:
    current = updater.installer.current()
    assert current is not None
    return (app_paths.versions_dir / current / "lib" / "VERSION").read_text(encoding="utf-8")


def test_check_reports_the_newest_release_on_the_followed_channel(published, app_paths):
    published.publish("1.0.0", notes="first")
    published.publish("1.1.0-beta.1", channel=ReleaseChannel.BETA)
    stable = _updater(published, app_paths).check()
    beta = _updater(published, app_paths, channel=ReleaseChannel.BETA).check()
    assert stable is not None
    assert str(stable.version) == "1.0.0"
    assert stable.release_notes == "first"
    assert beta is not None
    assert str(beta.version) == "1.1.0-beta.1"


def test_check_returns_none_when_nothing_is_newer(published, app_paths):
    published.publish("0.9.0")
    assert _updater(published, app_paths).check() is None


def test_required_flag_of_a_skipped_release_carries_over(published, app_paths):
    published.publish("1.0.0", required=True)
    published.publish("1.1.0")
    info = _updater(published, app_paths).check()
    assert info is not None
    assert str(info.version) == "1.1.0"
    assert info.required


def test_first_install_downloads_the_full_archive_and_switches(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    downloaded = updater.download()
    assert not downloaded.used_patch
    result = updater.install(downloaded)
    assert result.version == "1.0.0"
    assert updater.installer.current() == "1.0.0"
    assert _current_payload_version(app_paths, updater) == "1.0.0"


def test_next_update_uses_the_delta_and_it_is_much_smaller(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    info = updater.check()
    assert info is not None
    assert info.patch_size_bytes is not None
    downloaded = updater.download(info)
    assert downloaded.used_patch
    assert downloaded.downloaded_bytes < info.size_bytes / 10
    updater.install(downloaded)
    assert _current_payload_version(app_paths, updater) == "1.1.0"
    assert updater.installer.previous() == "1.0.0"


def test_tampered_patch_is_refused_and_the_full_archive_used(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    patch = published.repository.targets_dir / "backtestr-1.0.0-to-1.1.0.bsdiff"
    data = bytearray(patch.read_bytes())
    data[len(data) // 2] ^= 0xFF
    patch.write_bytes(bytes(data))
    downloaded = updater.download()
    assert not downloaded.used_patch
    assert downloaded.patch_problem is not None
    assert "signed hash" in downloaded.patch_problem
    updater.install(downloaded)
    assert _current_payload_version(app_paths, updater) == "1.1.0"


def test_corrupted_cached_base_falls_back_to_the_full_archive(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    base = updater.downloads_dir / "backtestr-1.0.0.tar"
    base.write_bytes(b"x" + base.read_bytes()[1:])
    published.publish("1.1.0")
    downloaded = updater.download()
    assert not downloaded.used_patch
    assert "cached base" in (downloaded.patch_problem or "")


def test_tampered_archive_is_refused_and_the_app_is_intact(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    archive = published.repository.targets_dir / "backtestr-1.1.0.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    # without a usable delta the client must fetch the (tampered) full archive
    (updater.downloads_dir / "backtestr-1.0.0.tar").unlink()
    with pytest.raises(UpdateError, match="does not match its signed hash"):
        updater.download()
    assert updater.installer.current() == "1.0.0"
    assert _current_payload_version(app_paths, updater) == "1.0.0"


def _installed_1_0_then_1_1_published(published, app_paths) -> Updater:
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    return updater


def _assert_refused_and_intact(updater: Updater, app_paths: AppPaths, message: str) -> None:
    with pytest.raises(UpdateError, match=message) as caught:
        updater.install(updater.download())
    assert "\n" not in str(caught.value)
    assert updater.installer.current() == "1.0.0"
    assert _current_payload_version(app_paths, updater) == "1.0.0"
    assert not (app_paths.versions_dir / "1.1.0").exists()


def test_rollback_of_metadata_to_an_older_signed_state_is_refused(published, app_paths):
    published.publish("1.0.0")
    old_metadata = {p.name: p.read_bytes() for p in published.repository.metadata_dir.iterdir()}
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    assert updater.check() is not None  # the client has now seen the newer metadata
    for name, data in old_metadata.items():
        (published.repository.metadata_dir / name).write_bytes(data)
    _assert_refused_and_intact(updater, app_paths, "rollback")


def test_mix_and_match_of_metadata_from_different_releases_is_refused(published, app_paths):
    published.publish("1.0.0")
    old_targets = (published.repository.metadata_dir / "targets.json").read_bytes()
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    (published.repository.metadata_dir / "targets.json").write_bytes(old_targets)
    _assert_refused_and_intact(updater, app_paths, "refus")


def test_expired_metadata_of_a_frozen_server_is_refused(published, app_paths):
    updater = _installed_1_0_then_1_1_published(published, app_paths)
    frozen = UpdateRepository(
        published.repository.directory,
        published.keys,
        clock=lambda: datetime.now(UTC) - timedelta(days=3),
    )
    frozen.refresh_timestamp()  # a timestamp that expired two days ago
    _assert_refused_and_intact(updater, app_paths, "expired")


def test_metadata_signed_with_the_wrong_key_is_refused(published, app_paths, tmp_path):
    updater = _installed_1_0_then_1_1_published(published, app_paths)
    impostor = UpdateRepository(tmp_path / "impostor", RepositoryKeys.generate())
    impostor.create()
    impostor.publish("1.1.0", published.bundles / "1.1.0")
    # the impostor's metadata and files, served where the genuine repository was
    shutil.rmtree(published.repository.directory / "metadata")
    shutil.rmtree(published.repository.directory / "targets")
    shutil.copytree(impostor.metadata_dir, published.repository.metadata_dir)
    shutil.copytree(impostor.targets_dir, published.repository.targets_dir)
    _assert_refused_and_intact(updater, app_paths, "not signed by the trusted keys")


def test_oversized_metadata_is_refused(published, app_paths):
    updater = _installed_1_0_then_1_1_published(published, app_paths)
    timestamp = published.repository.metadata_dir / "timestamp.json"
    timestamp.write_bytes(timestamp.read_bytes() + b" " * 100_000)
    _assert_refused_and_intact(updater, app_paths, "more data than was signed")


def test_oversized_archive_is_cut_off_at_its_signed_length(published, app_paths):
    published.publish("1.0.0")
    archive = published.repository.targets_dir / "backtestr-1.0.0.tar.gz"
    archive.write_bytes(archive.read_bytes() + b"\0" * 1_000_000)
    updater = _updater(published, app_paths)
    with pytest.raises(UpdateError, match="more data than was signed"):
        updater.download()
    assert updater.installer.current() is None


def test_unreachable_server_is_a_one_line_error(published, app_paths, dead_url):
    with pytest.raises(UpdateError, match="Cannot reach the update server") as caught:
        _updater(published, app_paths, url=dead_url).check()
    assert "\n" not in str(caught.value)


def test_failed_self_test_rolls_back_to_the_previous_version(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0", self_test_ok=False)
    downloaded = updater.download()
    with pytest.raises(UpdateError, match=r"failed its self-test; rolled back to 1\.0\.0"):
        updater.install(downloaded)
    assert updater.installer.current() == "1.0.0"
    assert updater.installer.installed() == ["1.0.0"]


def test_rollback_returns_to_the_previous_version(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    _install_newest(updater)
    result = updater.rollback()
    assert result.version == "1.0.0"
    assert _current_payload_version(app_paths, updater) == "1.0.0"


def test_interrupted_install_leaves_the_app_and_cleans_up(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    # an install that died half-way: an unfinished staging folder is all that is left
    staging = app_paths.versions_dir / ".staging-deadbeef"
    (staging / "lib").mkdir(parents=True)
    assert updater.installer.installed() == ["1.0.0"]
    assert updater.installer.current() == "1.0.0"
    published.publish("1.1.0")
    _install_newest(updater)
    assert not staging.exists()


def test_cached_download_is_reverified_before_reuse(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    first = updater.download()
    assert first.downloaded_bytes > 0
    assert updater.download().downloaded_bytes == 0  # verified cache hit
    first.tar_path.write_bytes(b"tampered")
    again = updater.download()
    assert again.downloaded_bytes > 0


def test_rotated_keys_are_followed_from_the_embedded_root(published, app_paths):
    published.publish("1.0.0")
    published.repository.rotate_key("root", RepositoryKeys.generate().root)
    published.repository.rotate_key("targets", RepositoryKeys.generate().targets)
    published.publish("1.1.0")
    info = _updater(published, app_paths).check()  # trusts only the original root
    assert info is not None
    assert info.version == SemVer.parse("1.1.0")


def test_background_service_notifies_and_degrades_quietly(published, app_paths, dead_url):
    published.publish("1.0.0")
    found: list[str] = []
    service = UpdateService(_updater(published, app_paths), lambda i: found.append(str(i.version)))
    assert service.run_once() is not None
    assert found == ["1.0.0"]
    broken = UpdateService(_updater(published, app_paths, url=dead_url), found.append)
    assert broken.run_once() is None
    assert broken.last_error is not None
    broken.start()
    broken.stop()


def test_release_index_is_a_signed_target(published):
    published.publish("1.0.0")
    targets = json.loads((published.repository.metadata_dir / "targets.json").read_text())
    assert "index.json" in targets["signed"]["targets"]


def test_interrupted_download_leaves_no_partial_file_and_the_app_intact(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("1.1.0")
    (updater.downloads_dir / "backtestr-1.0.0.tar").unlink()  # force the full archive
    archive = published.repository.targets_dir / "backtestr-1.1.0.tar.gz"
    archive.write_bytes(archive.read_bytes()[:5000])  # the transfer stops part-way
    with pytest.raises(UpdateError, match="signed hash or length"):
        updater.download()
    assert sorted(p.name for p in updater.downloads_dir.iterdir()) == []
    assert updater.installer.current() == "1.0.0"
    assert _current_payload_version(app_paths, updater) == "1.0.0"


def test_an_older_release_is_never_offered(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    _install_newest(updater)
    published.publish("0.9.5")  # validly signed, but older than what is installed
    assert updater.check() is None


def test_last_check_is_recorded_for_the_ui(published, app_paths):
    published.publish("1.0.0", required=True, notes="Security fix.")
    updater = _updater(published, app_paths)
    assert updater.last_check() is None
    updater.check()
    last = updater.last_check()
    assert last is not None
    assert (last["available"], last["required"], last["release_notes"]) == (
        "1.0.0",
        True,
        "Security fix.",
    )


def test_daily_refresh_keeps_a_quiet_repository_trusted(published, app_paths):
    published.publish("1.0.0")
    updater = _updater(published, app_paths)
    assert updater.check() is not None
    # 89 days later, with no release in between: targets would expire within the margin
    later = UpdateRepository(
        published.repository.directory,
        published.keys,
        clock=lambda: datetime.now(UTC) + timedelta(days=89),
    )
    assert later.refresh() == ["targets", "snapshot", "timestamp"]
    assert published.repository.refresh() == ["timestamp"]  # today nothing else is due
    assert updater.check() is not None


def test_index_entries_from_a_newer_format_are_skipped(published, app_paths):
    published.publish("1.0.0")
    index_path = published.repository.targets_dir / "index.json"
    index = json.loads(index_path.read_text())
    index["releases"].append({"version": "9.0.0", "channel": "nightly-canary"})
    index["releases"].append({"flavour": "unknown"})
    index_path.write_text(json.dumps(index))
    # re-sign targets over the edited index, as the publisher's refresh would
    UpdateRepository(
        published.repository.directory,
        published.keys,
        clock=lambda: datetime.now(UTC) + timedelta(days=89),
    ).refresh()
    info = _updater(published, app_paths).check()
    assert info is not None
    assert str(info.version) == "1.0.0"


def test_background_service_installs_when_auto_install_is_on(published, app_paths):
    published.publish("1.0.0")
    updater = Updater(
        app_paths,
        UpdateConfig(auto_install=True, server_url=published.server.url),
        UrllibClient(timeout_s=5),
        trusted_root=published.root,
        installed_version="0.9.0",
        self_test=_run_bundle_self_test,
    )
    service = UpdateService(updater, lambda info: None, interval_s=3600)
    service.start()
    deadline = time.monotonic() + 20
    while updater.installer.current() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    service.stop()
    assert updater.installer.current() == "1.0.0"
