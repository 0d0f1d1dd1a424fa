"""Open a data file whatever its packaging: plain, gzip or a single-member zip; spot Parquet.

Progress is reported in bytes of the file on disk, so a progress bar over ``total_bytes`` ends at
100 % for compressed files too.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from backtestr.errors import DataFormatError

__all__ = ["DECOMPRESSION_ERRORS", "RawFile", "open_raw"]

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # an archive that is only its end-of-directory record
_PARQUET_MAGIC = b"PAR1"

DECOMPRESSION_ERRORS = (gzip.BadGzipFile, zlib.error, EOFError, zipfile.BadZipFile, OSError)


@dataclass(frozen=True, slots=True)
class RawFile:
    """A file on disk and how to get at its (decompressed) bytes."""

    path: Path
    packaging: str  # "plain" | "gzip" | "zip" | "parquet"
    total_bytes: int
    member: str | None = None
    uncompressed_bytes: int | None = None

    def open(self) -> _Stream:
        raw = self.path.open("rb")
        try:
            if self.packaging == "gzip":
                return _Stream(gzip.GzipFile(fileobj=raw, mode="rb"), raw, None)
            if self.packaging == "zip":
                archive = zipfile.ZipFile(raw)
                return _Stream(archive.open(self.member or ""), raw, self.uncompressed_bytes)
            return _Stream(raw, raw, None)
        except Exception:
            raw.close()
            raise

    def progress(self, stream: _Stream, consumed: int) -> int:
        """Bytes of the on-disk file consumed, given ``consumed`` decompressed bytes."""
        if self.packaging == "zip" and self.uncompressed_bytes:
            return min(self.total_bytes, consumed * self.total_bytes // self.uncompressed_bytes)
        if self.packaging == "gzip":
            return min(self.total_bytes, stream.raw.tell())
        return min(self.total_bytes, consumed)


class _Stream:
    """A readable decompressed stream plus the raw file under it (closed together)."""

    def __init__(self, reader: IO[bytes] | gzip.GzipFile, raw: BinaryIO, size: int | None):
        self.reader = reader
        self.raw = raw
        self.size = size

    def read(self, n: int) -> bytes:
        return self.reader.read(n)

    def readinto(self, target: memoryview) -> int:
        return self.reader.readinto(target)  # type: ignore[union-attr]

    def readline(self, limit: int) -> bytes:
        return self.reader.readline(limit)

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.raw.close()


def open_raw(path: str | Path) -> RawFile:
    """Inspect ``path``: which packaging, how big. Raises DataFormatError for unusable files."""
    file = Path(path)
    if not file.is_file():
        raise DataFormatError(file, "file not found", hint="Check the path")
    total = file.stat().st_size
    with file.open("rb") as handle:
        head = handle.read(4)
    if total == 0:
        raise DataFormatError(file, "the file is empty", hint="Export the data again")
    if head.startswith(_GZIP_MAGIC):
        return RawFile(file, "gzip", total)
    if head.startswith(_PARQUET_MAGIC):
        return RawFile(file, "parquet", total)
    if head.startswith(_EMPTY_ZIP_MAGIC):
        raise DataFormatError(
            file, "the zip archive is empty (it holds no file)", hint="Zip the data file again"
        )
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(file) as archive:
                members = [
                    m
                    for m in archive.infolist()
                    if not m.is_dir() and not m.filename.startswith("__MACOSX/")
                ]
        except (zipfile.BadZipFile, OSError) as error:
            raise DataFormatError(
                file, f"the zip archive is corrupt ({error})", hint="Download the file again"
            ) from error
        if not members:
            raise DataFormatError(
                file, "the zip archive is empty (it holds no file)", hint="Zip the data file again"
            )
        if len(members) != 1:
            names = ", ".join(m.filename for m in members[:5]) or "none"
            raise DataFormatError(
                file,
                f"a zip archive must hold exactly one data file, this one holds {len(members)} "
                f"({names})",
                hint="Extract the archive and import its files one by one",
            )
        return RawFile(file, "zip", total, members[0].filename, members[0].file_size)
    if file.suffix.lower() in (".gz", ".gzip"):
        raise DataFormatError(
            file,
            "the name ends in .gz but the content is not gzip-compressed",
            hint="Rename the file or compress it with gzip",
        )
    return RawFile(file, "plain", total)
