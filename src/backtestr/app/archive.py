"""Release archives and binary deltas between them.

An application bundle (a folder) becomes a *deterministic* tar: entries sorted, owners and
timestamps cleared. The same folder always gives the same bytes, so the publisher can diff two
releases with bsdiff4 and the client can check the patched result against the signed hash of the
new tar. Full archives travel gzip-compressed; deltas are taken between the uncompressed tars,
where unchanged files line up byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

import bsdiff4

from backtestr.errors import UpdateError

__all__ = [
    "apply_delta",
    "extract_tar",
    "gunzip",
    "gzip_bytes",
    "make_delta",
    "make_tar",
    "sha256_hex",
]


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def make_tar(folder: Path) -> bytes:
    """A reproducible tar of ``folder``'s contents (paths relative to it)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            info = tar.gettarinfo(str(path), arcname=relative)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if (path.is_dir() or os.access(path, os.X_OK)) else 0o644
            if path.is_symlink() or path.is_dir():
                tar.addfile(info)
            else:
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
    return buffer.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    """Gzip with a zero timestamp, so equal input gives equal output."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def gunzip(data: bytes, *, max_bytes: int) -> bytes:
    """Decompress, refusing output beyond ``max_bytes`` (a signed size, not the server's word)."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
        try:
            out = handle.read(max_bytes + 1)
        except (OSError, EOFError) as error:
            raise UpdateError(f"The update archive is not valid gzip: {error}") from error
    if len(out) > max_bytes:
        raise UpdateError("The update archive expands beyond its signed size; refused.")
    return out


def make_delta(old_tar: bytes, new_tar: bytes) -> bytes:
    """A bsdiff4 patch turning ``old_tar`` into ``new_tar``."""
    return bytes(bsdiff4.diff(old_tar, new_tar))


def apply_delta(old_tar: bytes, patch: bytes) -> bytes:
    """Apply a bsdiff4 patch; :class:`UpdateError` when the patch is malformed."""
    try:
        return bytes(bsdiff4.patch(old_tar, patch))
    except Exception as error:  # bsdiff4 raises ValueError/RuntimeError on corrupt input
        raise UpdateError(f"The delta patch cannot be applied: {error}") from error


def extract_tar(tar_bytes: bytes, destination: Path) -> None:
    """Unpack into ``destination`` with the ``data`` filter (no absolute paths, no escapes)."""
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise UpdateError(f"The update archive cannot be unpacked: {error}") from error
