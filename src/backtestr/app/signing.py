"""Detached Ed25519 signatures for release artifacts (wheel, sdist, bundle archive).

Files served through the update repository are already protected by TUF ``targets`` metadata.
Artifacts handed out elsewhere (a package index, a download page) get a ``<file>.sig`` signed by
the same ``targets`` key, and are verified against the keys listed in the ``root.json`` embedded
in the app — the one trust anchor for everything we publish.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import CryptoSigner, Signature
from tuf.api.metadata import Metadata, Root

from backtestr.app._files import write_atomic
from backtestr.errors import UpdateError

__all__ = ["sign_artifact", "signature_path", "verify_artifact"]

_CONTEXT = b"backtestr-artifact-v1\n"  # domain separation: a metadata signature is not a file's


def signature_path(artifact: Path) -> Path:
    """Where the detached signature of ``artifact`` lives (``<name>.sig``)."""
    return artifact.with_name(artifact.name + ".sig")


def _payload(artifact: Path) -> bytes:
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    return _CONTEXT + f"{artifact.name}\n{digest}\n".encode()


def sign_artifact(artifact: Path, signer: CryptoSigner) -> Path:
    """Write ``<artifact>.sig`` (JSON: key id and Ed25519 signature) and return its path."""
    signature = signer.sign(_payload(artifact))
    path = signature_path(artifact)
    write_atomic(path, json.dumps(signature.to_dict(), indent=2).encode("utf-8"))
    return path


def verify_artifact(artifact: Path, trusted_root: bytes, *, role: str = "targets") -> None:
    """Check ``<artifact>.sig`` against ``role``'s keys in ``trusted_root``.

    Raises :class:`UpdateError` when the signature is missing, malformed, made by a key the root
    does not list for ``role``, or does not match the file (renamed files fail too).
    """
    try:
        root = Metadata[Root].from_bytes(trusted_root).signed
        signature = Signature.from_dict(
            json.loads(signature_path(artifact).read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UpdateError(f"Cannot read the signature of {artifact.name}: {error}") from error
    role_keys = root.get_delegated_role(role).keyids
    if signature.keyid not in role_keys:
        raise UpdateError(f"{artifact.name} is signed by a key that is not a trusted {role} key.")
    try:
        root.get_key(signature.keyid).verify_signature(signature, _payload(artifact))
    except UnverifiedSignatureError as error:
        raise UpdateError(f"The signature of {artifact.name} does not match the file.") from error
