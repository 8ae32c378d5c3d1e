"""What the import reads from one input, member by member: records, and member ends.

Every member of a tar or zip is read in order as a file of its own (its origin is
`<input>/<member>`). With the campaign filter on (`--filter-campaigns`; `auto`: on for
stream-grab-like inputs, `streamgrab.looks_like_grab`), members are scanned instead: lines
are counted by kind and only the lines that carry a campaign's tag become records.

After a container member's records comes a `MemberDone`: stored in the transaction of the
batch that holds it (`ledger.import_members`), so a killed import, run again, passes over
the members already stored (`skip`) instead of reading the archive from its start.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ImportFormatError
from .archive import records
from .containers import Container, Member
from .formats import Bad, Record, parse_line, to_records, with_encoded
from .inputs import Input
from .prefilter import Prefilter
from .streamgrab import Scanned, carries, carries_itself, looks_like_grab, scan_members

FILTER_CHOICES = ("auto", "yes", "no")
IDENTITY_BYTES = 1 << 20


@dataclass
class MemberDone:
    """A container member read to its end (its records are before this in the batches)."""

    input_id: str
    member: str
    records: int
    lines: int | None = None        # the scan's counts (None: not scanned)
    statuses: int | None = None
    deletes: int | None = None
    other: int | None = None
    matched: int | None = None


@dataclass
class Reading:
    """How inputs are read: the import's options and what earlier imports finished."""

    fmt: str = "auto"
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    mapping: str | None = None
    filter: str = "auto"
    tags: frozenset[str] = frozenset()    # campaign tags, normalised
    # with `--campaign`: that campaign's tags; a kept status carrying none of them itself is
    # stored without the campaign (it joins other campaigns by its own tags)
    assign_tags: frozenset[str] | None = None
    done: dict[str, set[str]] = field(default_factory=dict)   # input id -> members done
    inputs: set[str] = field(default_factory=set)   # ids of the containers this import read
    workers: int | None = None
    _prefilter: Prefilter | None = None

    def prefilter(self) -> Prefilter:
        if self._prefilter is None:
            self._prefilter = Prefilter(self.tags)
        return self._prefilter


@dataclass
class Counts:
    """Scan counts of one import (the run summary's)."""

    lines: int = 0
    statuses: int = 0
    deletes: int = 0
    other: int = 0
    matched: int = 0      # statuses kept (stored)
    quoting: int = 0      # of those, kept only for a status they quote
    others: int = 0       # of those carrying a tag, only other campaigns' (`--campaign`)
    skipped_members: int = 0

    def line(self) -> str:
        """The run summary's words for the scan ("" when nothing was scanned)."""
        text = ""
        if self.lines:
            quoting = (f", {self.quoting:,} more quoting a status that carries one"
                       if self.quoting else "")
            others = (f" ({self.others:,} of them only other campaigns', not given "
                      "--campaign)" if self.others else "")
            text += (f"; campaign filter: {self.lines:,} lines scanned, {self.statuses:,} "
                     f"statuses ({self.matched - self.quoting:,} carrying a campaign tag"
                     f"{others}{quoting}), {self.deletes:,} delete notices, "
                     f"{self.other:,} other lines")
        if self.skipped_members:
            text += (f"; {self.skipped_members:,} archive member(s) imported earlier, "
                     "passed over")
        return text


def input_id(inp: Input) -> str | None:
    """An input's identity for resuming: name, size and a hash of its first MiB."""
    if inp.path is None:
        return None
    try:
        with open(inp.path, "rb") as fh:
            head = fh.read(IDENTITY_BYTES)
    except OSError:
        return None
    return f"{inp.path.name}:{inp.size}:{hashlib.sha256(head).hexdigest()[:16]}"


Item = Record | Bad | MemberDone


def items(box: Container, reading: Reading, counts: Counts,
          notes: list[str]) -> Iterator[tuple[str, Item]]:
    """(origin, record / bad record / member end) for everything `box` holds."""
    ident = input_id(box.input) if box.kind != "file" else None
    if ident:
        reading.inputs.add(ident)
    done = reading.done.get(ident or "", set())
    counts.skipped_members += len(done)
    members = box.members(frozenset(done))
    first = next(members, None)
    if first is None:
        return
    members = itertools.chain([first], members)
    grab = looks_like_grab(box, first.member)
    if reading.filter == "yes" or (reading.filter == "auto" and grab):
        if not reading.tags:
            if reading.filter == "yes":
                raise ImportFormatError("--filter-campaigns yes: no campaign has hashtags")
        else:
            yield from _scanned(members, reading, counts, ident)
            return
    for m in members:
        yield from _member(m, reading, notes, ident)


def _member(m: Member, reading: Reading, notes: list[str],
            ident: str | None) -> Iterator[tuple[str, Item]]:
    n = 0
    try:
        for item in records(m.open(), m.member or m.name, reading.fmt, reading.mappings,
                            reading.mapping):
            n += 1
            yield m.name, item
    except ImportFormatError as exc:
        if m.member is None:
            raise
        n += 1
        notes.append(f"{m.name}: {exc}")
        yield m.name, Bad(None, str(exc), None)
    if ident and m.member is not None:
        yield m.name, MemberDone(ident, m.member, n)


def _scanned(members: Iterator[Member], reading: Reading, counts: Counts,
             ident: str | None) -> Iterator[tuple[str, Item]]:
    for scan in scan_members(members, reading.prefilter(), workers=reading.workers):
        n, matched = 0, 0
        for line, data in scan.hits:
            for item in _hit(data, line, reading, counts):
                n += 1
                matched += isinstance(item, Record)
                yield scan.name, item
        if scan.error:
            n += 1
            yield scan.name, Bad(None, scan.error, None)
        counts.lines += scan.lines
        counts.statuses += scan.statuses
        counts.deletes += scan.deletes
        counts.other += scan.other
        counts.matched += matched
        if ident and scan.member is not None:
            yield scan.name, _done(ident, scan, n, matched)


def _done(ident: str, scan: Scanned, n: int, matched: int) -> MemberDone:
    return MemberDone(ident, scan.member or "", n, scan.lines, scan.statuses, scan.deletes,
                      scan.other, matched)


def _hit(data: bytes, line: int, reading: Reading, counts: Counts) -> list[Record | Bad]:
    """A line the prefilter passed: its records if it carries a campaign tag, else none.
    `--campaign` takes only the records that carry one of its tags themselves."""
    try:
        obj: Any = json.loads(data)
    except (ValueError, RecursionError):
        return parse_line(data, line, reading.fmt)   # the reason it cannot be read
    if not carries(obj, reading.tags):
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:   # json reads UTF-16, and surrogates as UTF-8 bytes
        return parse_line(data, line, reading.fmt)   # the reason it cannot be read
    out = with_encoded(to_records(obj, text, line, reading.fmt), text, data)
    own = carries_itself(obj, reading.tags)
    mine = own if reading.assign_tags is None else carries_itself(obj, reading.assign_tags)
    records = [item for item in out if isinstance(item, Record)]
    counts.quoting += 0 if own else len(records)
    counts.others += len(records) if own and not mine else 0
    if not mine:
        for item in records:
            item.assign = False
    return out
