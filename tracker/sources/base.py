"""The interface every source implements.

A source declares what it is (platform, name, primary key, cursor field) and yields raw pages.
Saving is not its business: the pipeline stores each page with its cursor in one transaction.
Delivery is at-least-once; the warehouse removes duplicates by key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_iso(text: str | None) -> dt.datetime | None:
    """An ISO 8601 time (Python 3.11 accepts a trailing 'Z'), or None for an empty value."""
    return dt.datetime.fromisoformat(text) if text else None


@dataclass
class RawPage:
    """One API response page (or archive record) exactly as received, with provenance."""

    format: str                 # which normalisation applies: x_v2_page, mastodon_statuses, ...
    platform: str
    payload: str                # the body as received (JSON text)
    request: str | None = None  # url and parameters, or file:line
    retrieved_at: dt.datetime = field(default_factory=utcnow)
    client: str | None = None   # library and version
    cursor: Any = None          # source state after this page; committed with the page
    synthetic: bool = False

    @property
    def page_id(self) -> str:
        return page_id(self.format, self.payload)


def page_id(format: str, payload: str) -> str:
    """The raw layer's key: a content hash of (format, payload), the same for every loader."""
    h = hashlib.sha256()
    h.update(format.encode())
    h.update(b"\0")
    h.update(payload.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


@dataclass
class Gap:
    start: dt.datetime | None
    end: dt.datetime | None
    reason: str


@dataclass
class RunLog:
    """What a source reports about its run besides pages; written to the ledger."""

    requests: int = 0
    rate_limit_waits: int = 0
    errors: int = 0
    gaps: list[Gap] = field(default_factory=list)
    quarantine: list[tuple[str, str, str]] = field(default_factory=list)  # origin, reason, raw
    resume_after: dt.datetime | None = None
    status: str | None = None   # set by the source for an early stop: rate_limited, budget, ...
    message: str | None = None


class Source(Protocol):
    @property
    def platform(self) -> str: ...  # fixed per class, or per instance (simulated)

    primary_key: ClassVar[tuple[str, ...]]
    cursor_field: ClassVar[str]
    name: str

    def pages(self, cursor: Any, log: RunLog) -> Iterator[RawPage]:
        """Yield pages newer than `cursor`; each page carries the cursor to resume after it."""
        ...
