"""How fresh the built models are.

Every `tracker build` records, in the same transaction as the models, what it was built from:
`ledger.builds` holds one row per build with the number of posts and raw pages in the
warehouse, the time the newest of those posts was loaded, and a fingerprint of the
campaigns. `tracker report` compares that with the warehouse now: if posts or pages were
added or removed, or the campaigns changed, the marts are older than the data, and the report
builds first (or, with `--no-build`, says so). Every report page shows
"Data as of <last post loaded>, built <time>".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb

from .config import Campaign, Config
from .store import segments
from .store.db import has_table, one, scalar
from .timeutil import utcnow

TABLE = "ledger.builds"
_CREATE = (f"create table if not exists {TABLE} (built_at timestamptz not null, "
           "posts bigint not null, pages bigint not null, last_loaded_at timestamptz, "
           "campaigns varchar not null, full_build boolean)")


@dataclass(frozen=True)
class Snapshot:
    """What the warehouse holds: posts, raw pages, when the newest post was loaded."""
    posts: int
    pages: int
    last_loaded_at: dt.datetime | None


@dataclass(frozen=True)
class Freshness:
    now: Snapshot
    built_at: dt.datetime | None = None      # None: never built (or before builds were recorded)
    built: Snapshot | None = None
    campaigns_changed: bool = False

    @property
    def stale(self) -> bool:
        return self.built is None or self.built != self.now or self.campaigns_changed

    def why(self) -> str:
        """One sentence: what the marts were built from and what the warehouse holds now."""
        now = (f"the warehouse has {self.now.posts:,} posts (last loaded "
               f"{show_time(self.now.last_loaded_at)}) in {self.now.pages:,} raw pages")
        if self.built is None or self.built_at is None:
            return f"the models have no recorded build; {now}"
        text = (f"the models were built {show_time(self.built_at)} from "
                f"{self.built.posts:,} posts (last loaded {show_time(self.built.last_loaded_at)})"
                f" in {self.built.pages:,} raw pages; {now}")
        if self.campaigns_changed:
            text += "; the campaigns in the config changed since"
        return text


def show_time(value: dt.datetime | None, tz: str = "UTC") -> str:
    """The time in `tz` (an IANA name; UTC unless said), with the zone named."""
    if value is None:
        return "never"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = dt.UTC if tz == "UTC" else ZoneInfo(tz)
    return value.astimezone(zone).strftime(f"%Y-%m-%d %H:%M {tz}")


def campaigns_fingerprint(campaigns: Iterable[Campaign]) -> str:
    """What the models read of the campaigns (core.campaigns and core.campaign_tags)."""
    key = sorted((c.name, c.title, c.timezone, str(c.start), str(c.end), c.tags)
                 for c in campaigns)
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


def snapshot(con: duckdb.DuckDBPyConnection) -> Snapshot:
    posts, last = one(con, "select count(*), max(first_seen_at) from norm.posts")
    pages = scalar(con, f"select count(*) from {segments.index_table(con)}")
    return Snapshot(int(posts), int(pages), last)


def record_build(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign],
                 full: bool) -> None:
    """Record a build (call inside the build's transaction, after the models)."""
    con.execute(_CREATE)
    s = snapshot(con)
    con.execute(f"insert into {TABLE} values (?, ?, ?, ?, ?, ?)",
                [utcnow(), s.posts, s.pages, s.last_loaded_at,
                 campaigns_fingerprint(campaigns), full])


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "ledger.builds")


def last_build(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """(built_at, posts, pages, last_loaded_at, campaigns) of the newest build, or None."""
    if not _has_table(con):
        return None
    return con.execute(f"select built_at, posts, pages, last_loaded_at, campaigns from {TABLE} "
                       "order by built_at desc limit 1").fetchone()


def check(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign]) -> Freshness:
    now = snapshot(con)
    last = last_build(con)
    if last is None:
        return Freshness(now)
    built_at, posts, pages, loaded, fp = last
    return Freshness(now, built_at, Snapshot(posts, pages, loaded),
                     campaigns_changed=fp != campaigns_fingerprint(campaigns))


def as_of_line(con: duckdb.DuckDBPyConnection, tz: str = "UTC") -> str:
    """The line every report page shows: when the data it was built from was loaded (in the
    page's time zone: the campaign's on a campaign page, else UTC)."""
    last = last_build(con)
    if last is None:
        return "Data as of: unknown (built before builds were recorded; run `tracker build`)"
    return (f"Data as of {show_time(last[3], tz)} (last post loaded), "
            f"built {show_time(last[0], tz)}")


def as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """When the newest post in the last build was loaded (None if unknown)."""
    last = last_build(con)
    return None if last is None else last[3]


def ensure_fresh(cfg: Config, *, build: bool, wait: float = 30.0,
                 on_note: Callable[[str], None]) -> Freshness:
    """Before a report: build when the marts are older than the data (if `build`), else warn.

    Returns the freshness found before any build.
    """
    from .store.db import connect

    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=wait, on_wait=on_note)
    try:
        found = check(con, cfg.campaigns)
    finally:
        con.close()
    if not found.stale:
        return found
    if not build:
        on_note(f"Warning: the figures are older than the data: {found.why()}. "
                "Run `tracker build` (or `tracker report` without --no-build).")
        return found
    from .models import build as build_models

    on_note(f"Building the models first: {found.why()}.")
    con = connect(cfg.warehouse, lake=cfg.lake, wait=wait, on_wait=on_note)
    try:
        build_models(con, cfg.campaigns)
    finally:
        con.close()
    return found
