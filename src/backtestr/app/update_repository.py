"""The publisher side of auto-update: a static TUF repository of signed releases.

The repository is a plain folder any web server can serve::

    metadata/  1.root.json 2.root.json … timestamp.json snapshot.json targets.json
    targets/   index.json  backtestr-1.1.0.tar.gz  backtestr-1.0.0-to-1.1.0.bsdiff …

The four TUF roles each sign with their own Ed25519 key (:class:`RepositoryKeys`). ``targets``
pins the length and hashes of every file in ``targets/``, including ``index.json``, which lists
the releases (version, channel, notes, archive, patches and the hash of each uncompressed tar).
``snapshot`` pins the version of ``targets``, ``timestamp`` pins ``snapshot`` and expires soon, so
a client notices a frozen server. See ``docs/release.md`` for where the keys live.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from backtestr.app._files import write_atomic
from backtestr.app.archive import gunzip, gzip_bytes, make_delta, make_tar, sha256_hex
from backtestr.app.version import ReleaseChannel, SemVer
from backtestr.errors import ConfigError

__all__ = ["ROLES", "Expiry", "PublishedRelease", "RepositoryKeys", "UpdateRepository"]

ROLES = ("root", "targets", "snapshot", "timestamp")
INDEX_TARGET = "index.json"
_SERIALIZER = JSONSerializer(compact=False)


@dataclass(frozen=True)
class Expiry:
    """How long each role's signature stays valid after it is (re)signed."""

    root: timedelta = timedelta(days=365)
    targets: timedelta = timedelta(days=90)
    snapshot: timedelta = timedelta(days=14)
    timestamp: timedelta = timedelta(days=1)

    def of(self, role: str) -> timedelta:
        """Validity of ``role``."""
        value: timedelta = getattr(self, role)
        return value


@dataclass(frozen=True)
class RepositoryKeys:
    """One Ed25519 signer per TUF role.

    ``root`` should live offline (see docs/release.md); the other three sign at release time.
    """

    root: CryptoSigner
    targets: CryptoSigner
    snapshot: CryptoSigner
    timestamp: CryptoSigner

    @classmethod
    def generate(cls) -> RepositoryKeys:
        """Fresh random keys for every role."""
        return cls(*(CryptoSigner.generate_ed25519() for _ in ROLES))

    def signer(self, role: str) -> CryptoSigner:
        """The signer of ``role``."""
        value: CryptoSigner = getattr(self, role)
        return value

    def save(self, folder: Path, passphrase: bytes | None = None) -> None:
        """Write ``<role>.pem`` (PKCS#8, encrypted when a passphrase is given), mode 0600."""
        folder.mkdir(parents=True, exist_ok=True)
        for role in ROLES:
            private = Ed25519PrivateKey.from_private_bytes(_raw_private(self.signer(role)))
            encryption: serialization.KeySerializationEncryption = (
                serialization.BestAvailableEncryption(passphrase)
                if passphrase
                else serialization.NoEncryption()
            )
            pem = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
            path = folder / f"{role}.pem"
            write_atomic(path, pem)
            path.chmod(0o600)

    @classmethod
    def load(cls, folder: Path, passphrase: bytes | None = None) -> RepositoryKeys:
        """Read the keys written by :meth:`save`."""
        signers = []
        for role in ROLES:
            path = folder / f"{role}.pem"
            try:
                private = serialization.load_pem_private_key(path.read_bytes(), passphrase)
            except (OSError, ValueError, TypeError) as error:
                raise ConfigError(f"Cannot load the {role} key {path}: {error}") from error
            if not isinstance(private, Ed25519PrivateKey):
                raise ConfigError(f"{path} is not an Ed25519 private key")
            signers.append(CryptoSigner(private))
        return cls(*signers)


def _raw_private(signer: CryptoSigner) -> bytes:
    private = serialization.load_pem_private_key(signer.private_bytes, None)
    return private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class PublishedRelease:
    """What :meth:`UpdateRepository.publish` added."""

    version: SemVer
    archive: str
    archive_bytes: int
    tar_bytes: int
    patches: dict[str, int] = field(default_factory=dict)  # base version → patch size


class UpdateRepository:
    """Create and extend a signed update repository in ``directory``.

    Parameters
    ----------
    directory
        Root of the static repository (``metadata/`` and ``targets/`` are created below).
    keys
        The role signers.
    expiry
        How long each signature stays valid.
    clock
        Returns the current UTC time; injected so tests can publish already-expired metadata.
    """

    def __init__(
        self,
        directory: Path,
        keys: RepositoryKeys,
        *,
        expiry: Expiry | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = directory
        self.keys = keys
        self.expiry = expiry or Expiry()
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def metadata_dir(self) -> Path:
        """Where the signed metadata lives."""
        return self.directory / "metadata"

    @property
    def targets_dir(self) -> Path:
        """Where archives, patches and the release index live."""
        return self.directory / "targets"

    def _expires(self, role: str) -> datetime:
        return (self._clock() + self.expiry.of(role)).replace(microsecond=0)

    def create(self) -> bytes:
        """Initialise an empty repository; return the ``root.json`` bytes to embed in the app."""
        if (self.metadata_dir / "1.root.json").exists():
            raise ConfigError(f"{self.directory} already holds an update repository")
        root = Root(expires=self._expires("root"), consistent_snapshot=False)
        for role in ROLES:
            root.add_key(self.keys.signer(role).public_key, role)
        root_md = Metadata(root)
        root_md.sign(self.keys.root)
        self._write_root(root_md)
        self._write_index({"releases": []}, version=1)
        return self.root_bytes()

    def root_bytes(self) -> bytes:
        """The newest signed root metadata (what a client bootstraps its trust from)."""
        return (self.metadata_dir / "root.json").read_bytes()

    def _write_root(self, root_md: Metadata[Root]) -> None:
        data = root_md.to_bytes(_SERIALIZER)
        write_atomic(self.metadata_dir / f"{root_md.signed.version}.root.json", data)
        write_atomic(self.metadata_dir / "root.json", data)

    def read_index(self) -> dict[str, list[dict[str, object]]]:
        """The release index as published."""
        path = self.targets_dir / INDEX_TARGET
        data: dict[str, list[dict[str, object]]] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def publish(
        self,
        version: str,
        bundle_dir: Path,
        *,
        channel: ReleaseChannel = ReleaseChannel.STABLE,
        required: bool = False,
        notes: str = "",
        patch_bases: int = 2,
    ) -> PublishedRelease:
        """Add a release built in ``bundle_dir`` and re-sign targets, snapshot and timestamp.

        A bsdiff4 patch is published from each of the ``patch_bases`` newest earlier releases.
        """
        semver = SemVer.parse(version)
        index = self.read_index()
        releases = index["releases"]
        if any(SemVer.parse(str(r["version"])).same_precedence(semver) for r in releases):
            raise ConfigError(f"Version {semver} is already published")
        tar = make_tar(bundle_dir)
        archive_name = f"backtestr-{semver}.tar.gz"
        archive = gzip_bytes(tar)
        write_atomic(self.targets_dir / archive_name, archive)
        patches: dict[str, str] = {}
        patch_sizes: dict[str, int] = {}
        older = sorted(
            (r for r in releases if SemVer.parse(str(r["version"])) < semver),
            key=lambda r: SemVer.parse(str(r["version"])).precedence_key(),
        )
        for base in older[-patch_bases:] if patch_bases > 0 else []:
            base_version = str(base["version"])
            base_archive = (self.targets_dir / str(base["archive"])).read_bytes()
            base_tar = gunzip(base_archive, max_bytes=int(str(base["tar_length"])))
            patch = make_delta(base_tar, tar)
            patch_name = f"backtestr-{base_version}-to-{semver}.bsdiff"
            write_atomic(self.targets_dir / patch_name, patch)
            patches[base_version] = patch_name
            patch_sizes[base_version] = len(patch)
        releases.append(
            {
                "version": str(semver),
                "channel": channel.value,
                "required": required,
                "notes": notes,
                "published": self._clock().replace(microsecond=0).isoformat(),
                "archive": archive_name,
                "archive_length": len(archive),
                "tar_sha256": sha256_hex(tar),
                "tar_length": len(tar),
                "patches": patches,
                "patch_lengths": patch_sizes,
            }
        )
        self._write_index(index, version=self._read_version("targets") + 1)
        return PublishedRelease(semver, archive_name, len(archive), len(tar), patch_sizes)

    def _write_index(self, index: dict[str, list[dict[str, object]]], *, version: int) -> None:
        text = json.dumps(index, indent=2, sort_keys=True).encode("utf-8")
        write_atomic(self.targets_dir / INDEX_TARGET, text)
        targets = Targets(version=version, expires=self._expires("targets"))
        for path in sorted(self.targets_dir.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                targets.targets[path.name] = TargetFile.from_file(path.name, str(path), ["sha256"])
        self._sign_and_write("targets", Metadata(targets))
        self._resign_snapshot_and_timestamp()

    def _resign_snapshot_and_timestamp(self) -> None:
        old_snapshot = self._read_version("snapshot")
        snapshot = Snapshot(version=old_snapshot + 1, expires=self._expires("snapshot"))
        snapshot.meta["targets.json"] = MetaFile(version=self._read_version("targets"))
        self._sign_and_write("snapshot", Metadata(snapshot))
        self.refresh_timestamp()

    def refresh_timestamp(self) -> None:
        """Re-sign ``timestamp`` (run on a schedule so clients can tell fresh from frozen)."""
        snapshot_version = self._read_version("snapshot")
        timestamp = Timestamp(
            version=self._read_version("timestamp") + 1,
            expires=self._expires("timestamp"),
            snapshot_meta=MetaFile(version=snapshot_version),
        )
        self._sign_and_write("timestamp", Metadata(timestamp))

    def refresh(self, margin: timedelta = timedelta(days=3)) -> list[str]:
        """Re-sign every role whose signature expires within ``margin``; always the timestamp.

        Run daily (``scripts/release.py refresh``): without it ``snapshot`` and ``targets`` would
        expire between releases and clients would, rightly, stop trusting the repository.
        Returns the roles re-signed.
        """
        deadline = self._clock() + margin
        if self._read_expiry("targets") <= deadline:
            self._write_index(self.read_index(), version=self._read_version("targets") + 1)
            return ["targets", "snapshot", "timestamp"]
        if self._read_expiry("snapshot") <= deadline:
            self._resign_snapshot_and_timestamp()
            return ["snapshot", "timestamp"]
        self.refresh_timestamp()
        return ["timestamp"]

    def _read_expiry(self, role: str) -> datetime:
        path = self.metadata_dir / f"{role}.json"
        expires = json.loads(path.read_text(encoding="utf-8"))["signed"]["expires"]
        return datetime.fromisoformat(str(expires).replace("Z", "+00:00"))

    def _read_version(self, role: str) -> int:
        path = self.metadata_dir / f"{role}.json"
        if not path.exists():
            return 0
        version = json.loads(path.read_text(encoding="utf-8"))["signed"]["version"]
        return int(version)

    def _sign_and_write(
        self, role: str, metadata: Metadata[Targets] | Metadata[Snapshot] | Metadata[Timestamp]
    ) -> None:
        metadata.sign(self.keys.signer(role))
        write_atomic(self.metadata_dir / f"{role}.json", metadata.to_bytes(_SERIALIZER))

    def rotate_key(self, role: str, new_signer: CryptoSigner) -> RepositoryKeys:
        """Replace ``role``'s key: a new root version, signed by the old and new root keys.

        Returns the new key set. Clients follow the chain of root versions, so an app that
        embeds an older root still trusts the rotated repository.
        """
        if role not in ROLES:
            raise ConfigError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}")
        root_md = Metadata[Root].from_file(str(self.metadata_dir / "root.json"))
        old_key = self.keys.signer(role).public_key
        root_md.signed.revoke_key(old_key.keyid, role)
        root_md.signed.add_key(new_signer.public_key, role)
        root_md.signed.version += 1
        root_md.signed.expires = self._expires("root")
        root_md.signatures.clear()
        new_keys = RepositoryKeys(
            **{r: (new_signer if r == role else self.keys.signer(r)) for r in ROLES}
        )
        root_md.sign(new_keys.root, append=True)
        if role == "root":
            root_md.sign(self.keys.root, append=True)  # the old root vouches for the new one
        self._write_root(root_md)
        self.keys = new_keys
        if role != "root":
            index = self.read_index()
            self._write_index(index, version=self._read_version("targets") + 1)
        return new_keys
