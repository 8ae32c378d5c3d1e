"""The bucket still being collected: the hour, day, week or month that holds the time the
newest post of the build was loaded ("data as of"). Its bar covers only part of its period,
so the time charts draw it lighter, with a legend entry, and the page says so; otherwise a
live campaign's current day would read as a collapse.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .data import ISO, Rows


def cutoff(as_of: dt.datetime | None, tz: str, bucket: str) -> str | None:
    """The start of the bucket holding `as_of`, as the charts' local time strings: rows from
    it on are partial. None when `as_of` is unknown."""
    if as_of is None:
        return None
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    local = as_of.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    start = local.replace(minute=0, second=0, microsecond=0)
    if bucket != "hour":
        start = start.replace(hour=0)
    if bucket == "week":   # DuckDB's date_trunc('week'): weeks start on Monday
        start -= dt.timedelta(days=start.weekday())
    elif bucket == "month":
        start = start.replace(day=1)
    return start.strftime(ISO)


def partial_from(rows: Rows, cut: str | None) -> str | None:
    """`cut` if some row is in a partial bucket, else None (nothing to draw differently)."""
    if cut is None or not any(r["t"] >= cut for r in rows):
        return None
    return cut
