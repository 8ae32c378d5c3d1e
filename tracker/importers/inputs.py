"""Import inputs: files, directories, globs and `-` (stdin), gzip or zstd compressed.

Compression is recognised by the first bytes, not the name, so `cat a.jsonl.gz | tracker
import -` works. Lines are read in bounded memory: a line longer than `MAX_LINE` is reported
(and skipped) instead of being held whole.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from ..errors import ImportFormatError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_LINE = 256 * 1024 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Input:
    """One thing to read: a file path, or '-' for standard input."""

    name: str
    path: Path | None = None

    @property
    def size(self) -> int | None:
        try:
            return self.path.stat().st_size if self.path else None
        except OSError:
            return None

    @property
    def mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime if self.path else None
        except OSError:
            return None


def expand(args: list[str]) -> list[Input]:
    """Files, directories (all files below, sorted), globs and '-' -> inputs, in order.

    A name that matches nothing is an error, before anything is imported.
    """
    out: list[Input] = []
    for arg in args:
        if arg == "-":
            out.append(Input("-"))
            continue
        p = Path(arg)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            out.extend(Input(str(f), f) for f in files)
        elif p.is_file():
            out.append(Input(arg, p))
        elif glob.has_magic(arg):
            matches = sorted(Path(m) for m in glob.glob(arg, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise ImportFormatError(f"{arg}: no file matches")
            out.extend(Input(str(f), f) for f in files)
        else:
            raise ImportFormatError(f"{arg}: no such file or directory")
    return out


class _Counting(io.RawIOBase):
    """Counts the compressed bytes read, for progress."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        return n


class Opened:
    """An open input: a buffered binary stream of decompressed bytes."""

    def __init__(self, inp: Input):
        self.input = inp
        try:
            raw: BinaryIO = sys.stdin.buffer if inp.path is None else open(inp.path, "rb")
        except OSError as exc:
            raise ImportFormatError(f"{inp.name}: cannot open: {exc.strerror}") from None
        self._raw = raw
        self.counter = _Counting(raw)
        head = io.BufferedReader(self.counter, _CHUNK)
        magic = head.peek(4)[:4]
        self.compression = None
        stream: BinaryIO = head
        if magic.startswith(GZIP_MAGIC):
            self.compression = "gzip"
            stream = gzip.GzipFile(fileobj=head, mode="rb")  # type: ignore[assignment]
        elif magic.startswith(ZSTD_MAGIC):
            self.compression = "zstd"
            reader = zstandard.ZstdDecompressor().stream_reader(head, read_size=_CHUNK)
            stream = io.BufferedReader(reader, _CHUNK)
        self.stream = stream

    @property
    def bytes_read(self) -> int:
        return self.counter.count

    def close(self) -> None:
        if self.input.path is not None:
            self._raw.close()

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Line:
    number: int          # 1-based
    data: bytes          # without the line ending; empty if too long
    too_long: int = 0    # the length, when the line was longer than MAX_LINE
    error: str | None = None  # the stream broke here (corrupt compressed data); last line


def read_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[Line]:
    """Yield the lines of a binary stream, numbered, without their line endings.

    If the (compressed) stream is corrupt, the last line yielded carries the error.
    """
    number = 0
    try:
        while True:
            data = stream.readline(max_line + 1)
            if not data:
                return
            number += 1
            if len(data) > max_line and not data.endswith(b"\n"):
                length = len(data)
                while data and not data.endswith(b"\n"):
                    data = stream.readline(_CHUNK)
                    length += len(data)
                yield Line(number, b"", too_long=length)
                continue
            yield Line(number, data.rstrip(b"\r\n"))
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        yield Line(number + 1, b"", error=f"cannot decompress from here on: {exc}")


def display_name(inp: Input) -> str:
    """The name stored in `request` and the quarantine (never contains a newline)."""
    name = "<stdin>" if inp.path is None else os.fspath(inp.name)
    return name.replace("\n", "?").replace("\r", "?")
