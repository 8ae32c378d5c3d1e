"""The X monthly budget as lookups see it: the campaign's X source's `monthly_budget` (the
smallest, if it has several), spent by the collector (its cursor's count for the month) and by
hydrations and re-polls of the campaign (ledger.hydration, ledger.repolls) together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from ..config import Campaign
from ..sources.retry import month_key
from ..store import ledger, lookups


@dataclass
class Budget:
    limit: int | None       # posts a month; None: no budget configured
    read: int               # posts read this month so far
    month: str

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.read)

    def message(self) -> str:
        return (f"monthly budget of {self.limit} posts reached ({self.read} read in "
                f"{self.month} by the collector, hydrations and re-polls); resumes next month")


def x_budget(con: duckdb.DuckDBPyConnection, campaign: Campaign, now: dt.datetime,
             limit: int | None = None) -> Budget:
    """The campaign's X budget at `now`; `limit` replaces the configured one."""
    month = month_key(now)
    xs = [s for s in campaign.sources if s.type == "x"]
    limits = [s.options["monthly_budget"] for s in xs if "monthly_budget" in s.options]
    read = 0
    for s in xs:
        spent = (ledger.get_cursor(con, campaign.name, s.name) or {}).get("budget") or {}
        if spent.get("month") == month:
            read += int(spent.get("read") or 0)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    read += lookups.x_reads_since(con, campaign.name, first)
    chosen = limit if limit is not None else (min(limits) if limits else None)
    return Budget(chosen, read, month)
