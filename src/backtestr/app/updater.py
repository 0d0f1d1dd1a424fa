"""The update client: TUF-verified checks, delta-or-full downloads, side-by-side installs.

Trust starts from the ``root.json`` embedded in the app (``trusted_root.json``) and follows the
repository's signed chain of root versions from there; python-tuf's ``ngclient`` then refuses
metadata that is unsigned, signed by the wrong keys, expired (a frozen server), older than what
this machine has already seen (a rollback), inconsistent across roles (mix-and-match) or longer
than its signed length (endless data). Every downloaded file is checked against the length and
hash signed in ``targets``; a delta patch's *result* is checked against the signed hash of the
new release's tar, and any doubt about a patch falls back to the full archive.

The network is reached only through the injected :class:`~backtestr.app.http.HttpClient`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from tuf.api import exceptions as tuf_errors
from tuf.ngclient import Updater as TufUpdater
from tuf.ngclient.fetcher import FetcherInterface

from backtestr.app._files import write_atomic
from backtestr.app.archive import apply_delta, gunzip, sha256_hex
from backtestr.app.http import HttpClient, HttpStatusError
from backtestr.app.installer import CommandSelfTest, Installer, InstallResult, SelfTest
from backtestr.app.layout import AppPaths
from backtestr.app.settings import UpdateConfig
from backtestr.app.version import ReleaseChannel, SemVer, current_version
from backtestr.errors import ConfigError, UpdateError

__all__ = [
    "EMBEDDED_ROOT",
    "DownloadedUpdate",
    "UpdateInfo",
    "UpdateService",
    "Updater",
]

EMBEDDED_ROOT = Path(__file__).with_name("trusted_root.json")
INDEX_TARGET = "index.json"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateInfo:
    """A newer release the client may install.

    Parameters
    ----------
    version
        The release's version.
    channel
        The channel it was published on.
    release_notes
        Notes shown to the user.
    required
        ``True`` when this or a skipped release in between is flagged as required.
    size_bytes
        Size of the full archive.
    patch_size_bytes
        Size of the delta from the installed version, ``None`` when there is none.
    """

    version: SemVer
    channel: ReleaseChannel
    release_notes: str
    required: bool
    size_bytes: int
    patch_size_bytes: int | None


@dataclass(frozen=True)
class DownloadedUpdate:
    """A verified release tar in the download cache, ready to install."""

    version: SemVer
    tar_path: Path
    used_patch: bool
    downloaded_bytes: int
    patch_problem: str | None = None


def _embedded_root() -> bytes:
    try:
        return EMBEDDED_ROOT.read_bytes()
    except OSError as error:
        raise UpdateError(
            "This build carries no trusted update key (trusted_root.json), so updates are "
            "off; pass --root with a repository's root.json to use one."
        ) from error


class _Fetcher(FetcherInterface):
    """Adapts our :class:`HttpClient` to python-tuf's fetcher interface."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def _fetch(self, url: str) -> Iterator[bytes]:
        try:
            return self._http.stream(url)
        except HttpStatusError as error:
            # ngclient needs the status: a 404 for the next root version ends its root walk
            raise tuf_errors.DownloadHTTPError(str(error), error.status) from error

    @contextlib.contextmanager
    def download_file(self, url: str, max_length: int) -> Iterator[IO[bytes]]:
        """Like the base class, but closes the connection as soon as the download stops.

        Stopping at ``max_length`` is what defeats an endless response; closing the stream then,
        rather than whenever it is garbage-collected, releases the socket at once.
        """
        chunks = self.fetch(url)
        try:
            with tempfile.TemporaryFile() as temp_file:
                received = 0
                for chunk in chunks:
                    received += len(chunk)
                    if received > max_length:
                        raise tuf_errors.DownloadLengthMismatchError(
                            f"Downloaded {received} bytes exceeding the maximum of {max_length}"
                        )
                    temp_file.write(chunk)
                temp_file.seek(0)
                yield temp_file
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()


def _translate(error: Exception, url: str) -> UpdateError:
    """One line for each way an update can be refused."""
    reasons: list[tuple[type[Exception], str]] = [
        (
            tuf_errors.ExpiredMetadataError,
            "the update metadata has expired (a stale or frozen server); refusing to trust it",
        ),
        (tuf_errors.EqualVersionNumberError, "the update metadata is inconsistent; refusing it"),
        (
            tuf_errors.BadVersionNumberError,
            "the update metadata is older than what this machine "
            "already trusts (rollback attempt) or inconsistent across roles; refusing it",
        ),
        (
            tuf_errors.UnsignedMetadataError,
            "the update metadata is not signed by the trusted keys; refusing it",
        ),
        (
            tuf_errors.LengthOrHashMismatchError,
            "a downloaded file does not match its signed "
            "hash or length (tampered or mixed releases); refusing it",
        ),
        (
            tuf_errors.DownloadLengthMismatchError,
            "the server sent more data than was signed; refusing it",
        ),
        (tuf_errors.RepositoryError, "the update repository is invalid"),
    ]
    for kind, text in reasons:
        if isinstance(error, kind):
            return UpdateError(f"Update refused: {text} ({url}).")
    if isinstance(error, tuf_errors.DownloadHTTPError):
        return UpdateError(f"The update server at {url} answered HTTP {error.status_code}.")
    return UpdateError(f"Cannot reach the update server at {url}: {error.__cause__ or error}.")


class Updater:
    """Checks for, downloads, installs and rolls back application updates.

    Parameters
    ----------
    paths
        The installation's paths (metadata cache, downloads, versions).
    config
        The update settings (channel, server URL …).
    http
        The only way to the network.
    trusted_root
        Root metadata to bootstrap trust from; defaults to the one embedded in the app.
    installed_version
        Version installed now; defaults to the ``current`` pointer, else the running app.
    self_test
        Run on a newly installed version before it is kept.
    """

    def __init__(
        self,
        paths: AppPaths,
        config: UpdateConfig,
        http: HttpClient,
        *,
        trusted_root: bytes | None = None,
        installed_version: str | None = None,
        self_test: SelfTest | None = None,
    ) -> None:
        self.paths = paths
        self.config = config
        self._http = http
        self._trusted_root = trusted_root
        self._installed_override = installed_version
        self.installer = Installer(paths.versions_dir, self_test or CommandSelfTest())
        self._lock = threading.Lock()  # one check/download/install at a time

    @property
    def base_url(self) -> str:
        """The repository URL, with a trailing slash."""
        url = self.config.server_url
        return url if url.endswith("/") else url + "/"

    @property
    def installed_version(self) -> SemVer:
        """What is installed now."""
        text = self.installer.current() or self._installed_override
        if text is None:
            return current_version().version
        return SemVer.parse(text)

    @property
    def downloads_dir(self) -> Path:
        """Verified tars, kept to re-install and as bases for deltas."""
        return self.paths.update_cache_dir / "downloads"

    def _metadata_dir(self) -> Path:
        # one trusted-metadata folder per repository: pointing --url elsewhere must not look
        # like a rollback of the usual repository
        key = hashlib.sha256(self.base_url.encode("utf-8")).hexdigest()[:16]
        return self.paths.update_cache_dir / "metadata" / key

    def _tuf(self) -> TufUpdater:
        metadata_dir = self._metadata_dir()
        metadata_dir.mkdir(parents=True, exist_ok=True)
        bootstrap: bytes | None
        if (metadata_dir / "root.json").exists():
            bootstrap = None  # the cached root was reached through the signed chain
        else:
            bootstrap = self._trusted_root or _embedded_root()
        try:
            updater = TufUpdater(
                metadata_dir=str(metadata_dir),
                metadata_base_url=self.base_url + "metadata/",
                target_base_url=self.base_url + "targets/",
                target_dir=str(self.downloads_dir),
                fetcher=_Fetcher(self._http),
                bootstrap=bootstrap,
            )
            updater.refresh()
        except (tuf_errors.RepositoryError, tuf_errors.DownloadError, OSError, ValueError) as e:
            raise _translate(e, self.base_url) from e
        return updater

    def _download_target(self, updater: TufUpdater, name: str) -> bytes:
        try:
            info = updater.get_targetinfo(name)
            if info is None:
                raise UpdateError(f"The update repository does not list {name}.")
            with tempfile.TemporaryDirectory(dir=self._ensure_downloads()) as temp:
                path = updater.download_target(info, filepath=str(Path(temp) / "download"))
                return Path(path).read_bytes()
        except (tuf_errors.RepositoryError, tuf_errors.DownloadError, OSError) as error:
            raise _translate(error, self.base_url) from error

    def _ensure_downloads(self) -> Path:
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        return self.downloads_dir

    def _releases(self, updater: TufUpdater) -> list[dict[str, object]]:
        try:
            index = json.loads(self._download_target(updater, INDEX_TARGET))
            releases = index["releases"]
        except (ValueError, KeyError, TypeError) as error:
            raise UpdateError(f"The release index at {self.base_url} is malformed.") from error
        if not isinstance(releases, list):
            raise UpdateError(f"The release index at {self.base_url} is malformed.")
        return [r for r in releases if isinstance(r, dict)]

    def check(self) -> UpdateInfo | None:
        """The newest release on an accepted channel that is newer than the installed one."""
        with self._lock:
            updater = self._tuf()
            info = self._newest(self._releases(updater))[0]
            self._record_check(info)
            return info

    @property
    def last_check_file(self) -> Path:
        """The outcome of the last successful check, for UIs that must not go online to ask."""
        return self.paths.update_cache_dir / "last-check.json"

    def _record_check(self, info: UpdateInfo | None) -> None:
        record = {
            "checked_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "installed": str(self.installed_version),
            "available": None if info is None else str(info.version),
            "required": bool(info and info.required),
            "release_notes": "" if info is None else info.release_notes,
        }
        try:
            write_atomic(self.last_check_file, json.dumps(record, indent=2).encode("utf-8"))
        except OSError as error:  # a read-only cache must not turn a check into a failure
            _log.info("could not record the update check: %s", error)

    def last_check(self) -> dict[str, str | bool | None] | None:
        """What the last successful check found (``None`` if none was recorded)."""
        try:
            data = json.loads(self.last_check_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _newest(
        self, releases: list[dict[str, object]]
    ) -> tuple[UpdateInfo | None, dict[str, object] | None]:
        installed = self.installed_version
        candidates = []
        for release in releases:
            try:
                version = SemVer.parse(str(release["version"]))
                channel = ReleaseChannel.parse(str(release["channel"]))
            except (ConfigError, KeyError):
                continue  # an entry this client does not understand (a newer index format)
            if version > installed and self.config.channel.accepts(channel):
                candidates.append((version, channel, release))
        if not candidates:
            return None, None
        candidates.sort(key=lambda item: item[0].precedence_key())
        version, channel, release = candidates[-1]
        lengths = release.get("patch_lengths", {})
        patch_length = lengths.get(str(installed)) if isinstance(lengths, dict) else None
        info = UpdateInfo(
            version=version,
            channel=channel,
            release_notes=str(release.get("notes", "")),
            required=any(bool(r.get("required")) for _, _, r in candidates),
            size_bytes=int(str(release.get("archive_length", 0))),
            patch_size_bytes=None if patch_length is None else int(patch_length),
        )
        return info, release

    def _tar_path(self, version: SemVer | str) -> Path:
        return self.downloads_dir / f"backtestr-{version}.tar"

    def download(self, info: UpdateInfo | None = None) -> DownloadedUpdate:
        """Download and verify ``info`` (default: the newest), via a delta when possible."""
        with self._lock:
            updater = self._tuf()
            releases = self._releases(updater)
            if info is None:
                release = self._newest(releases)[1]
            else:
                wanted = str(info.version)
                release = next((r for r in releases if str(r["version"]) == wanted), None)
            if release is None:
                raise UpdateError("No update is available.")
            return self._fetch_release(updater, release, releases)

    def _fetch_release(
        self,
        updater: TufUpdater,
        release: dict[str, object],
        releases: list[dict[str, object]],
    ) -> DownloadedUpdate:
        version = SemVer.parse(str(release["version"]))
        want_sha = str(release["tar_sha256"])
        want_length = int(str(release["tar_length"]))
        cached = self._tar_path(version)
        if cached.is_file() and sha256_hex(cached.read_bytes()) == want_sha:
            return DownloadedUpdate(version, cached, used_patch=False, downloaded_bytes=0)
        problem = None
        try:
            tar, size = self._via_patch(updater, release, releases, want_sha)
            used_patch = True
        except UpdateError as error:
            problem = str(error)
            archive = self._download_target(updater, str(release["archive"]))
            tar, size, used_patch = gunzip(archive, max_bytes=want_length), len(archive), False
            if sha256_hex(tar) != want_sha:
                raise UpdateError(
                    f"Update refused: the archive of {version} does not unpack to its signed "
                    "contents."
                ) from None
        write_atomic(cached, tar)
        return DownloadedUpdate(version, cached, used_patch, size, problem)

    def _via_patch(
        self,
        updater: TufUpdater,
        release: dict[str, object],
        releases: list[dict[str, object]],
        want_sha: str,
    ) -> tuple[bytes, int]:
        installed = str(self.installed_version)
        patches = release.get("patches", {})
        patch_name = patches.get(installed) if isinstance(patches, dict) else None
        if patch_name is None:
            raise UpdateError(f"no delta from {installed}")
        base = next((r for r in releases if str(r["version"]) == installed), None)
        base_path = self._tar_path(installed)
        if base is None or not base_path.is_file():
            raise UpdateError(f"the base {installed} is not in the download cache")
        base_tar = base_path.read_bytes()
        if sha256_hex(base_tar) != str(base["tar_sha256"]):
            raise UpdateError(f"the cached base {installed} does not match its signed hash")
        patch = self._download_target(updater, str(patch_name))
        tar = apply_delta(base_tar, patch)
        if sha256_hex(tar) != want_sha:
            raise UpdateError("the patched result does not match the signed hash")
        return tar, len(patch)

    def install(self, downloaded: DownloadedUpdate) -> InstallResult:
        """Install a verified download side by side and switch to it (self-test, rollback)."""
        with self._lock:
            tar = downloaded.tar_path.read_bytes()
            result = self.installer.install(str(downloaded.version), tar)
            self._prune_downloads(keep={result.version, result.previous})
            last = self.last_check()
            if last is not None and last.get("available") == result.version:
                self._record_check(None)  # what the last check offered is now installed
            return result

    def rollback(self) -> InstallResult:
        """Return to the previous installed version."""
        with self._lock:
            return self.installer.rollback()

    def _prune_downloads(self, keep: set[str | None]) -> None:
        for path in self.downloads_dir.glob("backtestr-*.tar"):
            version = path.name.removeprefix("backtestr-").removesuffix(".tar")
            if version not in keep:
                path.unlink(missing_ok=True)


class UpdateService:
    """Checks periodically in a background thread; never raises into the app.

    Parameters
    ----------
    updater
        Does the work.
    on_update_available
        Called (in the service thread) with each newly found update; the UI/CLI hook.
    interval_s
        Seconds between checks; defaults to the configured ``check_interval_hours``.
    """

    def __init__(
        self,
        updater: Updater,
        on_update_available: Callable[[UpdateInfo], None],
        *,
        interval_s: float | None = None,
    ) -> None:
        self.updater = updater
        self.on_update_available = on_update_available
        self.interval_s = (
            interval_s if interval_s is not None else updater.config.check_interval_hours * 3600
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        """Start checking (first check at once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="backtestr-updater", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop checking and wait for the thread to finish its current step."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def run_once(self) -> UpdateInfo | None:
        """One check (and download/install when configured); failures are kept, not raised."""
        try:
            info = self.updater.check()
            if info is None:
                return None
            config = self.updater.config
            if config.auto_download or config.auto_install:
                downloaded = self.updater.download(info)
                if config.auto_install:
                    self.updater.install(downloaded)
            self.on_update_available(info)
            self.last_error = None
            return info
        except Exception as error:  # degrade quietly: an update problem never breaks the app
            self.last_error = str(error)
            _log.info("update check failed: %s", error)
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_s)
