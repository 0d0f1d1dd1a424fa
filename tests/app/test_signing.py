"""Detached Ed25519 signatures of release artifacts, checked against the trusted root."""

from __future__ import annotations

import json

import pytest

from backtestr.app.signing import sign_artifact, signature_path, verify_artifact
from backtestr.app.update_repository import RepositoryKeys, UpdateRepository
from backtestr.app.updater import EMBEDDED_ROOT
from backtestr.errors import UpdateError


@pytest.fixture
def keys_and_root(tmp_path):
    keys = RepositoryKeys.generate()
    root = UpdateRepository(tmp_path / "repo", keys).create()
    return keys, root


def test_signed_artifact_verifies(tmp_path, keys_and_root):
    keys, root = keys_and_root
    wheel = tmp_path / "backtestr-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    sign_artifact(wheel, keys.targets)
    verify_artifact(wheel, root)  # does not raise


def test_modified_artifact_is_refused(tmp_path, keys_and_root):
    keys, root = keys_and_root
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"wheel bytes")
    sign_artifact(wheel, keys.targets)
    wheel.write_bytes(b"wheel bytes, patched")
    with pytest.raises(UpdateError, match="does not match"):
        verify_artifact(wheel, root)


def test_signature_by_an_untrusted_key_is_refused(tmp_path, keys_and_root):
    _, root = keys_and_root
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"wheel bytes")
    sign_artifact(wheel, RepositoryKeys.generate().targets)
    with pytest.raises(UpdateError, match="not a trusted targets key"):
        verify_artifact(wheel, root)


def test_signature_of_another_role_is_refused(tmp_path, keys_and_root):
    keys, root = keys_and_root
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"x")
    sign_artifact(wheel, keys.timestamp)
    with pytest.raises(UpdateError, match="not a trusted targets key"):
        verify_artifact(wheel, root)


def test_missing_signature_is_refused(tmp_path, keys_and_root):
    _, root = keys_and_root
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"x")
    with pytest.raises(UpdateError, match="Cannot read the signature"):
        verify_artifact(wheel, root)
    assert signature_path(wheel).name == "a.whl.sig"


def test_keys_survive_saving_encrypted(tmp_path, keys_and_root):
    keys, root = keys_and_root
    keys.save(tmp_path / "keys", passphrase=b"correct horse")
    loaded = RepositoryKeys.load(tmp_path / "keys", passphrase=b"correct horse")
    assert loaded.targets.public_key.keyid == keys.targets.public_key.keyid
    assert (tmp_path / "keys" / "root.pem").stat().st_mode & 0o077 == 0
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"x")
    sign_artifact(wheel, loaded.targets)
    verify_artifact(wheel, root)


def test_the_app_embeds_a_root_with_ed25519_keys_for_every_role():
    root = json.loads(EMBEDDED_ROOT.read_text())["signed"]
    assert set(root["roles"]) == {"root", "targets", "snapshot", "timestamp"}
    assert {key["keytype"] for key in root["keys"].values()} == {"ed25519"}
