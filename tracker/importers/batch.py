"""A batch of archive records on its way into the warehouse (tracker.importers.run)."""

from __future__ import annotations

import ctypes
from typing import Any

from ..pages import page_id_of
from .formats import Record
from .reading import MemberDone


def release_memory() -> None:
    """Give freed heap memory back to the OS (glibc only): without it, the large blocks freed
    after each batch stay in the process and RSS creeps up over a long import."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None


class Batch:
    # the per-record lists, one entry per record, in step
    COLUMNS = ("page_ids", "formats", "platforms", "requests", "retrieved", "payloads",
               "assign")

    def __init__(self) -> None:
        self.page_ids: list[str] = []
        self.formats: list[str] = []
        self.platforms: list[str] = []
        self.requests: list[str] = []
        self.retrieved: list[str] = []
        # each payload as UTF-8 bytes: the line as read, or the text encoded
        self.payloads: list[bytes] = []
        self.assign: list[bool] = []     # whether `--campaign` takes the record's results
        self.quarantine: list[tuple[str, int | None, str, str | bytes | None]] = []
        self.bytes = 0
        self.records = 0
        self.members: list[MemberDone] = []   # container members that end in this batch
        self.read_from = 0   # input bytes read when the batch was started
        self.read_upto = 0   # input bytes read when the batch was full (for progress)
        self.last = False    # the final batch: with it, all the input is stored
        self.batch_id: str | None = None   # raw.pages.batch_id, given when it is prepared

    def add(self, rec: Record, origin: str, default_retrieved: str) -> None:
        self.records += 1
        for err in rec.api_errors:
            self.quarantine.append((origin, rec.line, err, None))
        if rec.payload is None or rec.format is None:
            return
        # every payload is UTF-8 text: read as such, or written by the import (formats._dumps,
        # csvrows), which quarantines what is not
        payload = rec.encoded if rec.encoded is not None else rec.payload.encode("utf-8")
        self.page_ids.append(page_id_of(rec.format, payload))
        self.formats.append(rec.format)
        self.platforms.append(rec.platform or "")
        self.requests.append(f"{origin}:{rec.line}")
        self.retrieved.append(rec.retrieved_at or default_retrieved)
        self.payloads.append(payload)
        self.assign.append(rec.assign)
        self.bytes += len(payload)

    def split(self) -> list[Batch]:
        """One batch per record (the first also carries the records without payload)."""
        parts = []
        for i in range(len(self.payloads)):
            part = Batch()
            for name in self.COLUMNS:
                getattr(part, name).append(getattr(self, name)[i])
            part.records = 1
            part.read_upto = self.read_upto
            part.last = self.last and i == len(self.payloads) - 1
            parts.append(part)
        parts[0].records += self.records - len(self.payloads)
        parts[-1].members = self.members
        parts[0].quarantine = self.quarantine
        return parts

    def slices(self, limit: int) -> list[tuple[int, int]]:
        """Index ranges of the records, each with at most `limit` payload bytes (or one)."""
        out, lo, size = [], 0, 0
        for i, payload in enumerate(self.payloads):
            if i > lo and size + len(payload) > limit:
                out.append((lo, i))
                lo, size = i, 0
            size += len(payload)
        if lo < len(self.payloads):
            out.append((lo, len(self.payloads)))
        return out

    def texts(self, lo: int, hi: int) -> list[str]:
        """Payloads [lo, hi) as text."""
        return [p.decode("utf-8") for p in self.payloads[lo:hi]]

    def drop_payloads(self) -> None:
        for name in self.COLUMNS:
            getattr(self, name).clear()

    def full(self, bytes_limit: int, records_limit: int) -> bool:
        return self.bytes >= bytes_limit or self.records >= records_limit
