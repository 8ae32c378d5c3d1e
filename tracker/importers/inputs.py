"""Import inputs: files, directories, globs and `-` (stdin); their lines.

What an input holds (compression, tar and zip members) is read by `containers`. Lines are
read in bounded memory: a line longer than `MAX_LINE` is reported (and skipped) instead of
being held whole.
"""

from __future__ import annotations

import glob
import lzma
import os
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from ..errors import ImportFormatError

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
    except (OSError, EOFError, zstandard.ZstdError, lzma.LZMAError, tarfile.TarError,
            zipfile.BadZipFile) as exc:
        yield Line(number + 1, b"", error=f"cannot decompress from here on: {exc}")


def display_name(inp: Input) -> str:
    """The name stored in `request` and the quarantine (never contains a newline)."""
    name = "<stdin>" if inp.path is None else os.fspath(inp.name)
    return name.replace("\n", "?").replace("\r", "?")
