"""Reproducible release tars and bsdiff4 deltas between them."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.app.archive import apply_delta, extract_tar, gunzip, gzip_bytes, make_delta, make_tar
from backtestr.errors import UpdateError


def _folder(root, files):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_same_folder_gives_the_same_bytes(tmp_path):
    a = _folder(tmp_path / "a", {"x/y.bin": b"1" * 100, "z.txt": b"hello"})
    b = _folder(tmp_path / "b", {"z.txt": b"hello", "x/y.bin": b"1" * 100})
    assert make_tar(a) == make_tar(b)
    assert gzip_bytes(make_tar(a)) == gzip_bytes(make_tar(b))


def test_tar_round_trips_contents_and_exec_bit(tmp_path):
    source = _folder(tmp_path / "src", {"bin/run": b"#!/bin/sh\n", "data.bin": b"\0" * 10})
    (source / "bin" / "run").chmod(0o755)
    extract_tar(make_tar(source), tmp_path / "out")
    assert (tmp_path / "out" / "data.bin").read_bytes() == b"\0" * 10
    assert (tmp_path / "out" / "bin" / "run").stat().st_mode & 0o100


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=2000), st.binary(max_size=2000))
def test_delta_turns_old_into_new(old, new):
    assert apply_delta(old, make_delta(old, new)) == new


def test_corrupt_delta_is_an_update_error():
    with pytest.raises(UpdateError, match="cannot be applied"):
        apply_delta(b"old", b"not a patch")


def test_gunzip_refuses_output_beyond_the_signed_size():
    with pytest.raises(UpdateError, match="beyond its signed size"):
        gunzip(gzip_bytes(b"\0" * 10_000), max_bytes=100)


def test_archive_with_escaping_paths_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(UpdateError, match="cannot be unpacked"):
        extract_tar(buffer.getvalue(), tmp_path / "out")
    assert not (tmp_path / "evil").exists()
