"""Read one archive file: decide JSON lines, one JSON document or CSV, and yield its records."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

from ..errors import ImportFormatError
from .csvrows import csv_records
from .formats import CSV_FORMATS, Bad, Record, parse_line, to_records
from .inputs import MAX_LINE, Line, read_lines

MAX_DOCUMENT = 64 * 1024 * 1024   # a pretty-printed JSON document is read whole up to this
_LOOKAHEAD = 20


def _looks_csv(name: str, head: list[Line]) -> bool:
    base = name.lower()
    for suffix in (".gz", ".zst", ".zstd", ".bz2", ".xz"):
        base = base.removesuffix(suffix)
    if base.endswith((".csv", ".tsv")):
        return True
    if base.endswith((".json", ".jsonl", ".ndjson")):
        return False
    starts = [ln.data.lstrip()[:1] for ln in head if ln.data.strip()]
    if not starts or any(s in (b"{", b"[") for s in starts):
        return False
    try:
        first = next(ln.data for ln in head if ln.data.strip()).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "," in first or "\t" in first or ";" in first


def records(stream, name: str, fmt: str, mappings: dict[str, dict[str, str]],
            mapping_name: str | None) -> Iterator[Record | Bad]:
    """All records of one decompressed stream. Raises ImportFormatError for a file-level
    problem (e.g. a CSV whose columns match no mapping)."""
    lines = read_lines(stream, MAX_LINE)
    head = list(itertools.islice(lines, _LOOKAHEAD))
    if not head:
        return
    rest: Iterator[Line] = itertools.chain(head, lines)
    if fmt in CSV_FORMATS or (fmt == "auto" and (mapping_name or _looks_csv(name, head))):
        yield from csv_records(_csv_text(rest), fmt, mappings, mapping_name)
        return
    first = next((ln for ln in head if ln.data.strip() or ln.too_long or ln.error), None)
    if first is None:
        return
    if not any(ln.data.lstrip()[:1] in (b"{", b"[") or ln.too_long or ln.error for ln in head):
        raise ImportFormatError(f"not JSON lines nor CSV (line {first.number} starts with "
                                f"{first.data.strip()[:40]!r})")
    if _maybe_document(first):
        doc, rest = _read_document(rest)
        if doc is not None:
            yield from to_records(doc, None, first.number, fmt)
            return
    for ln in rest:
        if ln.error:
            yield Bad(ln.number, ln.error, None)
        elif ln.too_long:
            yield Bad(ln.number, f"line of {ln.too_long} bytes is longer than the "
                                 f"{MAX_LINE // 2**20} MB limit", None)
        elif ln.data.strip():
            yield from parse_line(ln.data, ln.number, fmt)


def _csv_text(lines: Iterator[Line]) -> Iterator[str]:
    for ln in lines:
        if ln.error:
            raise ImportFormatError(f"line {ln.number}: {ln.error}")
        if ln.too_long:
            raise ImportFormatError(f"line {ln.number}: longer than {MAX_LINE // 2**20} MB")
        yield ln.data.decode("utf-8-sig" if ln.number == 1 else "utf-8",
                             "surrogateescape") + "\n"


def _maybe_document(first: Line) -> bool:
    """A first line that opens a JSON value but is not one: a pretty-printed document?"""
    data = first.data.strip()
    if data[:1] not in (b"{", b"[") or len(data) > 4096:
        return False
    try:
        json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return True
    return False


def _read_document(lines: Iterator[Line]) -> tuple[object | None, Iterator[Line]]:
    """Parse all lines as one JSON document if it is one (and not too big); else give the
    lines back to be read one by one."""
    seen: list[Line] = []
    size = 0
    for ln in lines:
        seen.append(ln)
        size += len(ln.data) + 1
        if ln.too_long or ln.error or size > MAX_DOCUMENT:
            return None, itertools.chain(seen, lines)
    try:
        return json.loads(b"\n".join(ln.data for ln in seen)), iter(())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None, iter(seen)
