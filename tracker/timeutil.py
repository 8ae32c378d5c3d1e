"""Time helpers shared by sources, the store and the daemon: one clock, one text format."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """A time as ISO 8601 text in UTC to the second, `2016-04-22T10:00:00Z` (None stays None).

    The one text form of a time the tracker writes: API parameters, cursors, the daemon's
    state file. Strings in this form sort in time order.
    """
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def parse_iso(text: str | None) -> dt.datetime | None:
    """An ISO 8601 time (Python 3.11 accepts a trailing 'Z'), or None for an empty value."""
    return dt.datetime.fromisoformat(text) if text else None


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time read back from DuckDB (naive means UTC) as an aware UTC time."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
