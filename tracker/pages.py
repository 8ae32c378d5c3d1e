"""What a source hands over: raw pages with their cursor, and a log of its run.

Shared by the sources (which produce them), the store and the daemon's spool (which keep
them), so none of those depends on another for these types.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from .timeutil import utcnow


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
    return page_id_of(format, payload.encode("utf-8", "surrogatepass"))


def page_id_of(format: str, encoded: bytes) -> str:
    """`page_id` of a payload given as its UTF-8 bytes (lone surrogates as "surrogatepass")."""
    h = hashlib.sha256()
    h.update(format.encode())
    h.update(b"\0")
    h.update(encoded)
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
