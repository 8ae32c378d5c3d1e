"""Scanning a Twitter Stream Grab (or any JSON-lines member) for campaign statuses.

A member is decompressed in blocks cut at line ends; each block's lines are counted by kind
from their first bytes (statuses `{"created_at"`, as the streaming API wrote them; delete
notices `{"delete"`; other lines: `{"limit"` and other notices, blank lines, anything else)
and only the lines the prefilter passes are kept.
Those few are parsed later and kept if they carry a campaign's tag (`carries`).

Members are scanned by a pool of processes (decompression is the cost, and one process is
held to one core by the GIL): the reader sends each member's stored (compressed) bytes, a
worker decompresses and prefilters it and sends back the counts and matching lines only;
results come back in member order, a bounded number in flight. A container's first member,
a member too big to send whole, or WORKERS = 1 is scanned in this process.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ..errors import ImportFormatError
from ..hashtags import normalise_tag
from .containers import CHUNK, READ_ERRORS, Container, Member, decompressed
from .inputs import MAX_LINE
from .prefilter import Prefilter

WORKERS = int(os.environ.get("TRACKER_IMPORT_WORKERS", "0")) or min(2, os.cpu_count() or 1)
BLOCK = 8 * 1024 * 1024          # decompressed bytes scanned at once
POOL_MAX_MEMBER = 256 * 1024 * 1024   # a larger stored member is scanned here, streaming
IN_FLIGHT_PER_WORKER = 2
GRAB_MEMBER = re.compile(r"\.json(\.(bz2|gz|xz|zst))?$")


@dataclass
class Scanned:
    """What a member holds: counts of its lines by kind, and the lines that may match."""

    name: str
    member: str | None
    lines: int = 0
    statuses: int = 0
    deletes: int = 0
    other: int = 0
    hits: list[tuple[int, bytes]] = field(default_factory=list)   # (line number, line)
    error: str | None = None     # the member broke here; what was read before is kept


def _count(scan: Scanned, block: bytes) -> None:
    """Count the lines of `block` (whole lines, without the last line end) by kind."""
    n = block.count(b"\n") + 1
    deletes = block.count(b'\n{"delete"') + block.startswith(b'{"delete"')
    statuses = block.count(b'\n{"created_at"') + block.startswith(b'{"created_at"')
    scan.lines += n
    scan.deletes += deletes
    scan.statuses += statuses
    scan.other += n - deletes - statuses


def scan_stream(stream: BinaryIO, pf: Prefilter, name: str, member: str | None) -> Scanned:
    """Scan a decompressed stream block by block (bounded memory)."""
    scan = Scanned(name, member)
    carry = b""
    line = 1
    try:
        while True:
            data = stream.read(BLOCK)
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
            else:
                block, carry = data[:cut], data[cut + 1:]
                line = _block(scan, pf, block, line)
            if len(carry) > MAX_LINE:   # no status is that long: bounded memory first
                scan.error = (f"line {line} is longer than {MAX_LINE // 2**20} MB: the rest "
                              "of the member is not read")
                return scan
    except READ_ERRORS as exc:
        scan.error = f"cannot decompress from line {line} on: {exc}"
        return scan
    if carry:
        _block(scan, pf, carry, line)
    return scan


def _block(scan: Scanned, pf: Prefilter, block: bytes, line: int) -> int:
    """Count and prefilter one block of whole lines starting at line number `line`; the
    number of the line after it."""
    _count(scan, block)
    pos = 0
    for start, end in pf.lines(block):
        line += block.count(b"\n", pos, start)
        pos = start
        text = block[start:end].rstrip(b"\r")
        if text.strip():
            scan.hits.append((line, text))
    return line + block.count(b"\n", pos) + 1


# --- the worker pool ------------------------------------------------------------------------
_worker_filter: Prefilter | None = None


def _init(pf: Prefilter, parent: int) -> None:
    global _worker_filter
    _worker_filter = pf
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True).start()


def _orphan_watch(parent: int) -> None:
    """End this worker when the import process is gone (killed: it cannot tell the pool to
    stop), also if that happened while this worker was starting."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _scan_bytes(data: bytes, name: str, member: str | None) -> Scanned:
    assert _worker_filter is not None
    raw = io.BufferedReader(io.BytesIO(data), CHUNK)
    try:
        stream = decompressed(raw)[0]
    except READ_ERRORS as exc:
        return Scanned(name, member, error=f"cannot decompress: {exc}")
    return scan_stream(stream, _worker_filter, name, member)


def _scan_here(m: Member, pf: Prefilter) -> Scanned:
    try:
        stream = m.open()
    except READ_ERRORS as exc:
        return Scanned(m.name, m.member, error=f"cannot decompress: {exc}")
    return scan_stream(stream, pf, m.name, m.member)


def scan_members(members: Iterable[Member], pf: Prefilter,
                 workers: int | None = None) -> Iterator[Scanned]:
    """Each member scanned, in order. A broken container raises ImportFormatError (from the
    member iterator) after the members read before the break."""
    workers = WORKERS if workers is None else workers
    pool: ProcessPoolExecutor | None = None
    pending: deque[Future[Scanned] | Scanned] = deque()
    try:
        for i, m in enumerate(_until_broken(members, pending)):
            if i == 0 or workers <= 1:
                yield _scan_here(m, pf)
                continue
            try:
                data = m.raw.read(POOL_MAX_MEMBER + 1)
            except READ_ERRORS as exc:
                pending.append(Scanned(m.name, m.member, error=f"cannot read: {exc}"))
                continue
            if len(data) > POOL_MAX_MEMBER:   # too big to send: in order, here
                while pending:
                    yield _result(pending.popleft())
                rest = io.BufferedReader(_Joined(data, m.raw), CHUNK)
                yield _scan_here(Member(m.name, m.member, rest), pf)
                continue
            if pool is None:
                pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"),
                                           initializer=_init, initargs=(pf, os.getpid()))
            pending.append(pool.submit(_scan_bytes, data, m.name, m.member))
            while len(pending) > workers * IN_FLIGHT_PER_WORKER:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _until_broken(members: Iterable[Member],
                  pending: deque[Future[Scanned] | Scanned]) -> Iterator[Member]:
    """The members; if the container breaks, the members sent before the break are marked
    so that they are still yielded (their results first, then the error)."""
    try:
        yield from members
    except ImportFormatError as exc:
        pending.append(_Broken(exc))


class _Broken(Scanned):
    def __init__(self, exc: ImportFormatError):
        super().__init__("", None)
        self.exc = exc


def _result(item: Future[Scanned] | Scanned) -> Scanned:
    if isinstance(item, _Broken):
        raise item.exc
    return item if isinstance(item, Scanned) else item.result()


class _Joined(io.RawIOBase):
    """Bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[:len(data)] = data
        return len(data)


# --- the proper check, on parsed lines ----------------------------------------------------
def _tags(status: Any) -> Iterator[str]:
    if not isinstance(status, dict):
        return
    for holder in (status, status.get("extended_tweet")):
        ents = holder.get("entities") if isinstance(holder, dict) else None
        for h in (ents.get("hashtags") or []) if isinstance(ents, dict) else []:
            if isinstance(h, dict) and isinstance(h.get("text"), str):
                yield normalise_tag(h["text"])


def carries(obj: Any, tags: frozenset[str], *, by_quote: bool = True) -> bool:
    """Whether a parsed line carries one of `tags` (normalised): an X v1.1 status by its own
    hashtags or those of the status it retweets or (with `by_quote`) quotes, or the retweeted
    status quotes; a search response by any of its statuses. Any other record is kept (its
    own importer and the campaign rules decide)."""
    if isinstance(obj, dict) and isinstance(obj.get("statuses"), list):
        return any(carries(s, tags, by_quote=by_quote) for s in obj["statuses"])
    if isinstance(obj, list):
        return any(carries(s, tags, by_quote=by_quote) for s in obj)
    if not (isinstance(obj, dict) and "id_str" in obj and "user" in obj):
        return True
    rt = obj.get("retweeted_status")
    carried = [obj, rt]
    if by_quote:
        carried += [obj.get("quoted_status"),
                    rt.get("quoted_status") if isinstance(rt, dict) else None]
    return any(t in tags for s in carried for t in _tags(s))


def carries_itself(obj: Any, tags: frozenset[str]) -> bool:
    """Whether a record `carries` kept carries a tag itself: by its own hashtags or, a
    retweet, by those of the status it retweets (a matched retweet joins the campaigns of
    what it retweets, docs/models.md), not only by a status it quotes."""
    return carries(obj, tags, by_quote=False)


def looks_like_grab(box: Container, first_member: str | None) -> bool:
    """A stream-grab-like input: a tar or zip of per-file compressed (or plain) JSON, or an
    input named like the Internet Archive's items."""
    if "twitter-stream" in box.input.name:
        return True
    return box.kind in ("tar", "zip") and bool(first_member) and \
        bool(GRAB_MEMBER.search(first_member or ""))
