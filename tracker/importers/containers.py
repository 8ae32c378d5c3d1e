"""Containers and compression: what an import input holds, member by member.

An input (a file or stdin) is decompressed as its first bytes say (gzip, zstd, bz2, xz, or
none); if what comes out is a tar archive, its members are read in order, streaming (the tar
is never held whole, nor seeked), each decompressed as its own first bytes say: the Internet
Archive's Twitter Stream Grab is a tar of per-minute `.json.bz2` / `.json.gz` files. A zip
archive (files only: zip needs to seek) yields its members in order, each decompressed the
same way. Anything else is one member: the input itself.

The bytes read of the input as stored (compressed) are counted, for progress.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import zstandard

from ..errors import ImportFormatError
from .inputs import Input

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZ2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1 << 20
# Errors a broken compressed stream or tar raises while being read.
READ_ERRORS = (OSError, EOFError, zstandard.ZstdError, lzma.LZMAError, tarfile.TarError,
               zipfile.BadZipFile, ValueError)


def compression_of(head: bytes) -> str | None:
    """The compression its first bytes name: gzip, zstd, bz2, xz, or None."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(BZ2_MAGIC) and head[3:4].isdigit():
        return "bz2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    return None


def decompressed(stream: Any) -> tuple[BinaryIO, str | None]:
    """A buffered stream of the data, decompressed as its first bytes say."""
    kind = compression_of(stream.peek(6)[:6])
    out: Any
    if kind == "gzip":
        out = gzip.GzipFile(fileobj=stream, mode="rb")
    elif kind == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_size=CHUNK)
        out = io.BufferedReader(reader, CHUNK)
    elif kind == "bz2":
        out = io.BufferedReader(bz2.BZ2File(stream), CHUNK)
    elif kind == "xz":
        out = io.BufferedReader(lzma.LZMAFile(stream), CHUNK)
    else:
        return stream, None
    return out, kind


def decompress_bytes(data: bytes) -> bytes:
    """A whole member's bytes, decompressed as its first bytes say (for the scan workers)."""
    kind = compression_of(data[:6])
    if kind == "bz2":
        return bz2.decompress(data)
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "xz":
        return lzma.decompress(data)
    if kind == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


def is_tar(head: bytes) -> bool:
    """A POSIX/GNU tar header: 'ustar' at offset 257."""
    return len(head) >= 262 and head[257:262] == b"ustar"


class _Counting(io.RawIOBase):
    """A file read through this counts its bytes read (the furthest position, if seeked)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.count = 0
        self._pos = 0
        self._seekable = raw.seekable() if hasattr(raw, "seekable") else False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = self.raw.seek(offset, whence)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, b) -> int:
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self._pos += n
        self.count = max(self.count, self._pos) if self._seekable else self.count + n
        return n


@dataclass
class Member:
    """One file to read records from: the input itself, or a member of its tar/zip."""

    name: str              # the input's name, or "<input>/<member path>" for a member
    member: str | None     # the member path inside the container (None: the input itself)
    raw: Any               # the member as stored (possibly compressed), read once

    def open(self) -> BinaryIO:
        """The member's decompressed bytes (read `raw` through this, or raw, not both)."""
        if self.member is None:     # the input itself: already decompressed
            return self.raw
        stream = self.raw if hasattr(self.raw, "peek") else \
            io.BufferedReader(self.raw, CHUNK)
        return decompressed(stream)[0]


class Container:
    """An open input: `kind` is tar, zip or file; `members()` yields what it holds."""

    def __init__(self, inp: Input):
        self.input = inp
        try:
            raw: BinaryIO = sys.stdin.buffer if inp.path is None else open(inp.path, "rb")
        except OSError as exc:
            raise ImportFormatError(f"{inp.name}: cannot open: {exc.strerror}") from None
        self._raw = raw
        try:
            self._open()
        except BaseException:
            if inp.path is not None:   # a broken input is closed, not left open
                raw.close()
            raise

    def _open(self) -> None:
        inp, raw = self.input, self._raw
        self.counter = _Counting(raw)
        self._head = io.BufferedReader(self.counter, CHUNK)
        magic = self._head.peek(6)[:6]
        self.compression: str | None = None
        self.kind = "file"
        self._stream: Any = self._head
        if magic.startswith(ZIP_MAGIC):
            if inp.path is None:
                raise ImportFormatError("a zip archive cannot be read from stdin (it is "
                                        "read from its end): give its file name")
            self.kind = "zip"
            return
        self._stream, self.compression = decompressed(self._head)
        try:
            peek = self._stream.peek(512)[:512]
        except READ_ERRORS as exc:
            raise ImportFormatError(f"cannot decompress ({self.compression}): {exc}") from None
        if is_tar(peek):
            self.kind = "tar"

    @property
    def bytes_read(self) -> int:
        return self.counter.count

    def members(self, skip: frozenset[str] = frozenset()) -> Iterator[Member]:
        """Members in stored order (directories and links skipped); those named in `skip`
        (already imported) are passed over without being decompressed."""
        if self.kind == "file":
            yield Member(self.input.name, None, self._stream)
        elif self.kind == "tar":
            yield from self._tar(skip)
        else:
            yield from self._zip(skip)

    def _tar(self, skip: frozenset[str]) -> Iterator[Member]:
        try:
            tar = tarfile.open(fileobj=self._stream, mode="r|")
            for info in tar:
                if not info.isfile() or info.name in skip:
                    continue
                fh = tar.extractfile(info)
                if fh is not None:
                    yield Member(f"{self.input.name}/{info.name}", info.name,
                fh)
        except READ_ERRORS as exc:
            raise ImportFormatError(f"tar archive broken after {self.bytes_read} bytes: "
                                    f"{exc}") from None

    def _zip(self, skip: frozenset[str]) -> Iterator[Member]:
        try:
            with zipfile.ZipFile(self.counter) as zf:
                for info in zf.infolist():
                    if info.is_dir() or info.filename in skip:
                        continue
                    with zf.open(info) as fh:
                        yield Member(f"{self.input.name}/{info.filename}", info.filename,
                    fh)
        except READ_ERRORS as exc:
            raise ImportFormatError(f"zip archive broken: {exc}") from None

    def close(self) -> None:
        if self.input.path is not None:
            self._raw.close()

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
