"""Engagement re-measured as posts age: `tracker repoll` and the daemon's re-poll job.

A campaign's matched posts (not reposts, not synthetic) are read again by id at each age of
`[repoll] ages` after posting (default 1 h, 24 h, 7 d). The slot (post, age) is due from
created_at + age until created_at + 1.5 × age; a pass later than that would not measure that
age, and the slot is left out (never recorded). Each pass reads at most `max_posts` posts per
campaign and platform, and for X no more than the monthly budget leaves (tracker.lookup.budget);
when the due posts are more, the most engaged (latest reading) go first.

Readings go through the one store path: the lookup's page is stored in raw.pages and
normalised by the platform's SQL, which appends the reading to norm.engagement_observations
(an unchanged reading adds no row: the latest one before it holds). Each slot read is
recorded in ledger.repolls in the same transaction. A pass with posts due is one row of
ledger.runs per (campaign, platform): kind `repoll`, source `repoll-<platform>`.

Requests are made with the warehouse closed (`opener` gives a connection for the planning
and the storing), so the daemon does not hold the file while it waits on the network.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb

from ..config import Campaign, Config
from ..errors import TrackerError
from ..pages import RawPage, RunLog
from ..pipeline import deferred_until, failure
from ..store import ledger, lookups
from ..store.load import store_batch
from ..store.normalise import prepare
from ..timeutil import utcnow
from .budget import x_budget
from .x import FOUND

KIND = "repoll"
PLATFORMS = ("x", "bluesky", "mastodon")
LATE = 1.5          # a slot (post, age) is due from age until LATE × age after posting
READ = "read"
Opener = Callable[[], contextlib.AbstractContextManager[duckdb.DuckDBPyConnection | None]]


class Lookup(Protocol):
    @property
    def batch(self) -> int: ...

    def lookup(self, ids: list[str], log: RunLog
               ) -> tuple[RawPage | None, dict[str, tuple[str, str | None]]]: ...


@dataclass
class Due:
    """A post to read, with its slots due now."""
    post_id: str
    slots: list[tuple[int, dt.datetime]]     # (age seconds, due_at)


@dataclass
class RepollSummary:
    campaign: str
    platform: str
    run_id: str | None = None
    status: str = "ok"
    due: int = 0               # posts with a slot due
    asked: int = 0             # posts asked (the rest: over max_posts or the budget)
    read: int = 0
    missing: int = 0           # answered not found / protected / ...
    requests: int = 0
    message: str | None = None

    def line(self) -> str:
        text = (f"{self.campaign}/repoll-{self.platform}: {self.status}, {self.due} posts due, "
                f"{self.asked} asked, {self.read} read, {self.missing} gone, "
                f"{self.requests} requests")
        return text + (f" - {self.message}" if self.message else "")


_DUE = """
with
ages as (
    select unnest($ages::integer[]) as age_seconds
),
posts as (
    select p.platform, p.post_id, p.created_at
    from norm.posts p
    semi join norm.campaign_posts c
           on c.campaign = $campaign and c.platform = p.platform and c.post_id = p.post_id
    where p.platform = $platform and coalesce(p.matched, true) and not p.synthetic
      and p.kind <> 'repost' and p.created_at is not null
),
slots as (
    select p.post_id, p.created_at, a.age_seconds,
           p.created_at + to_seconds(a.age_seconds) as due_at
    from posts p, ages a
    where $now >= p.created_at + to_seconds(a.age_seconds)
      and $now < p.created_at + to_seconds(cast(a.age_seconds * $late as bigint))
),
open_slots as (
    select s.* from slots s
    anti join ledger.repolls r
           on r.campaign = $campaign and r.platform = $platform and r.post_id = s.post_id
          and r.age_seconds = s.age_seconds
),
engagement as (
    select e.post_id,
           arg_max(coalesce(e.likes, 0) + coalesce(e.reposts, 0) + coalesce(e.replies, 0)
                   + coalesce(e.quotes, 0), e.observed_at) as engagement
    from norm.engagement_observations e
    semi join open_slots o on o.post_id = e.post_id
    where e.platform = $platform
    group by all
)
select o.post_id, list((o.age_seconds, o.due_at) order by o.age_seconds) as slots
from open_slots o
left join engagement g using (post_id)
group by o.post_id, o.created_at, g.engagement
order by g.engagement desc nulls last, o.created_at, o.post_id
"""


def due(con: duckdb.DuckDBPyConnection, campaign: str, platform: str, ages: tuple[int, ...],
        now: dt.datetime) -> list[Due]:
    """The campaign's posts on `platform` with a slot due at `now`, most engaged first."""
    if not ages:
        return []
    rows = con.execute(_DUE, {"ages": list(ages), "campaign": campaign, "platform": platform,
                              "now": now, "late": LATE}).fetchall()
    return [Due(pid, [(int(a), d) for a, d in slots]) for pid, slots in rows]


def make_lookup(platform: str, campaign: Campaign, config: Config,
                now: Callable[[], dt.datetime]) -> Lookup:
    """The platform's lookup, with the campaign's source settings (credentials, tokens)."""
    sources = [s for s in campaign.sources if s.type == platform]
    if platform == "x":
        from .x import XLookup

        return XLookup(f"re-polls of campaign '{campaign.name}'", now=now)
    if platform == "bluesky":
        from .bluesky import BlueskyLookup

        if not sources:
            raise TrackerError(f"campaign '{campaign.name}' has no Bluesky source: its "
                               "Bluesky posts are not re-polled (the lookup logs in with it)")
        return BlueskyLookup(campaign, sources[0], config.warehouse.parent, now=now)
    from .mastodon import MastodonLookup

    return MastodonLookup(campaign, sources[0] if sources else None, now=now)


def repoll(opener: Opener, config: Config, *, campaign: str | None = None,
           platform: str | None = None, now: bool = False,
           clock: Callable[[], dt.datetime] | None = None,
           lookups_for: Callable[[str, Campaign], Lookup] | None = None
           ) -> list[RepollSummary]:
    """One re-poll pass of every campaign and platform (or the ones named)."""
    clock = clock or utcnow
    camps = [config.campaign(campaign)] if campaign else list(config.campaigns)
    out = []
    for camp in camps:
        for plat in [platform] if platform else PLATFORMS:
            make = lookups_for or (lambda p, c: make_lookup(p, c, config, clock))
            out.append(_pass(opener, config, camp, plat, now=now, clock=clock, make=make))
    return out


def _pass(opener: Opener, config: Config, camp: Campaign, platform: str, *, now: bool,
          clock: Callable[[], dt.datetime], make: Callable[[str, Campaign], Lookup]
          ) -> RepollSummary:
    out = RepollSummary(camp.name, platform)
    source = f"{KIND}-{platform}"
    settings = config.repoll
    with opener() as con:
        if con is None:
            out.status, out.message = "skipped", "warehouse busy"
            return out
        prepare(con, config.campaigns)
        last = ledger.last_run(con, camp.name, source, kind=KIND)
        until = None if now else deferred_until(last, clock())
        if until is not None:
            out.status = "deferred"
            out.message = f"the last re-poll said to wait until {until:%Y-%m-%d %H:%M:%S} UTC"
            return out
        todo = due(con, camp.name, platform, settings.ages, clock())
        out.due = limit = len(todo)
        limit = min(limit, settings.max_posts)
        note = None
        if platform == "x":
            spend = x_budget(con, camp, clock())
            if spend.left is not None and spend.left < limit:
                limit, note = spend.left, spend.message()
        if not todo:
            return out
        out.run_id = ledger.start_run(con, KIND, camp.name, source, started_at=clock())
    runlog = RunLog()
    batches: list[tuple[RawPage | None, list[tuple[Any, ...]]]] = []
    try:
        batches = list(_fetch(make(platform, camp), todo[:limit], runlog, platform))
    except (Exception, KeyboardInterrupt) as exc:
        runlog.status, runlog.message = failure(exc)
        runlog.errors += runlog.status == "failed"
        if isinstance(exc, KeyboardInterrupt):
            _finish(opener, out, runlog, batches, camp.name, source, note, clock)
            raise
    _finish(opener, out, runlog, batches, camp.name, source, note, clock)
    return out


def _fetch(lookup: Lookup, todo: list[Due], log: RunLog, platform: str
           ) -> Iterator[tuple[RawPage | None, list[tuple[Any, ...]]]]:
    """(page, ledger.repolls rows) per request; stops at a failure (recorded on `log`)."""
    from ..sources.retry import CallFailed

    slots = {d.post_id: d.slots for d in todo}
    ids = list(slots)
    for i in range(0, len(ids), lookup.batch):
        chunk = ids[i:i + lookup.batch]
        try:
            page, answers = lookup.lookup(chunk, log)
        except CallFailed as exc:
            exc.apply(log)
            return
        at = page.retrieved_at if page is not None else utcnow()
        rows = [(platform, pid, age, due_at, at, READ if status == FOUND else status, reason)
                for pid, (status, reason) in answers.items() for age, due_at in slots[pid]]
        yield page, rows


def _finish(opener: Opener, out: RepollSummary, runlog: RunLog,
            batches: list[tuple[RawPage | None, list[tuple[Any, ...]]]], campaign: str,
            source: str, note: str | None, clock: Callable[[], dt.datetime]) -> None:
    assert out.run_id is not None
    run_id = out.run_id
    out.requests = runlog.requests
    for _, rows in batches:
        out.asked += len({r[1] for r in rows})
        out.read += len({r[1] for r in rows if r[5] == READ})
        out.missing += len({r[1] for r in rows if r[5] != READ})
    out.status = runlog.status or "ok"
    out.message = "; ".join(m for m in (runlog.message, note) if m) or None
    with opener() as con:
        if con is None:     # the daemon could not open the warehouse: read again next pass
            return
        for page, rows in batches:
            def record(c: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]] = rows
                       ) -> None:
                lookups.record_repolls(c, run_id, campaign, rows)

            store_batch(con, [page] if page is not None else [], run_id=run_id, source=source,
                        campaign=campaign, also=record)
        ledger.end_run(con, run_id, campaign, source, out.status, out.line().split(": ", 1)[1],
                       runlog, ended_at=clock())


def single(con: duckdb.DuckDBPyConnection) -> Opener:
    """An opener that gives the one open connection (`tracker repoll`)."""
    return lambda: contextlib.nullcontext(con)
