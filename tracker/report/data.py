"""The report's data: small, already-aggregated rows read from the marts, never raw posts.

Every function takes the campaign and a `Window` (--since / --until, inclusive calendar days
in the campaign's time zone) and filters in SQL: marts with a day or hour column through it;
marts without one (headline figures, top contributors, hashtags, languages, heatmap) through
`window.Scope`, which runs the mart's own SQL over the window's posts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb

from ..config import Campaign
from ..errors import TrackerError
from ..store.db import one

if TYPE_CHECKING:
    from .window import Scope

REQUIRED_MARTS = (
    "volume_hourly", "volume_daily", "contributors_daily", "reach_daily", "campaign_summary",
    "top_contributors", "top_posts", "hashtag_cooccurrence", "languages", "share_of_voice",
    "activity_heatmap",
)
OPTIONAL_MARTS = ("bursts", "coverage")
Rows = list[dict[str, Any]]
# Local wall-clock times are written as if UTC ("...Z") and shown with UTC scales, so every
# browser and the PNG/SVG renderer show the campaign's clock whatever their own time zone.
ISO = "%Y-%m-%dT%H:%M:%SZ"

# Bucket sizes for time charts, chosen from the span of the data shown.
HOUR_SPAN_MAX = dt.timedelta(days=3)
DAY_SPAN_MAX = dt.timedelta(days=180)
WEEK_SPAN_MAX = dt.timedelta(days=3 * 365)


@dataclass(frozen=True)
class Window:
    """Inclusive calendar days in the campaign's time zone; None = open."""

    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def is_set(self) -> bool:
        return self.since is not None or self.until is not None

    def describe(self) -> str:
        if not self.is_set:
            return "all data"
        return f"{self.since or 'the start'} to {self.until or 'the end'} (inclusive)"

    def days(self, column: str) -> tuple[str, list[Any]]:
        """SQL condition and parameters on a DATE column."""
        cond, params = ["true"], []
        if self.since:
            cond.append(f"{column} >= ?")
            params.append(self.since)
        if self.until:
            cond.append(f"{column} <= ?")
            params.append(self.until)
        return " and ".join(cond), params

    def local(self, column: str, tz: str) -> tuple[str, list[Any]]:
        """SQL condition and parameters on a TIMESTAMPTZ column, by local calendar day.

        The days become UTC instants (local midnights), so the column is compared as is:
        no per-row time zone conversion, and DuckDB can skip row groups by their min/max.
        """
        cond, params = ["true"], []
        zone = ZoneInfo(tz)
        if self.since:
            cond.append(f"{column} >= ?")
            params.append(dt.datetime.combine(self.since, dt.time(), zone))
        if self.until:
            cond.append(f"{column} < ?")
            params.append(dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(),
                                              zone))
        return " and ".join(cond), params


def _tz(tz: str) -> str:
    # Validated by the config (an IANA name); quote-safe anyway.
    return tz.replace("'", "''")


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Rows:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def check_marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The optional marts present; a clear error if a required one is missing."""
    have = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()}
    missing = [f"marts.{m}" for m in REQUIRED_MARTS if m not in have]
    if missing:
        raise TrackerError(f"warehouse has no {', '.join(missing)}: run `tracker build` first")
    return {m for m in OPTIONAL_MARTS if m in have}


# --- time buckets ---------------------------------------------------------------------------
def choose_bucket(con: duckdb.DuckDBPyConnection, c: Campaign, w: Window) -> str:
    """'hour', 'day', 'week' or 'month', from the span of the posts in the window."""
    cond, params = w.local("hour", c.timezone)
    first, last = one(
        con, f"select min(hour), max(hour) from marts.volume_hourly where campaign = ? and {cond}",
        [c.name, *params])
    if first is None:
        return "day"
    span = last - first
    if span <= HOUR_SPAN_MAX:
        return "hour"
    if span <= DAY_SPAN_MAX:
        return "day"
    return "week" if span <= WEEK_SPAN_MAX else "month"


def _bucketed(con: duckdb.DuckDBPyConnection, c: Campaign, w: Window, bucket: str,
              by: str, measures: str, daily_table: str) -> Rows:
    """Rows (t, <by>, measures...) from volume_hourly (bucket 'hour') or a daily mart."""
    tz = _tz(c.timezone)
    if bucket == "hour" and daily_table == "marts.volume_daily":
        cond, params = w.local("hour", c.timezone)
        t, when = f"timezone('{tz}', hour)", "hour"
        source = "marts.volume_hourly"
    else:
        cond, params = w.days("day")
        t = "day" if bucket in ("hour", "day") else f"date_trunc('{bucket}', day)"
        when, source = "day", daily_table
    by_col = f", {by}" if by else ""
    # posts without a known posting time are in no bucket (`untimed_posts` counts them)
    return rows(con, f"""
        with picked as (
            select cast({t} as timestamp) as t{by_col}, {measures}
            from {source} where campaign = ? and {cond} and {when} is not null
            group by all
        )
        select strftime(t, '{ISO}') as t, * exclude (t) from picked
        order by picked.t{by_col}""", [c.name, *params])


def untimed_posts(con: duckdb.DuckDBPyConnection, c: Campaign, w: Window) -> int:
    """The campaign's posts whose posting time is not known (an X response requested without
    created_at): in the figures, in no time chart. None fall in a --since/--until window."""
    if w.is_set:
        return 0
    return one(con, "select coalesce(sum(posts), 0)::bigint from marts.volume_daily "
                    "where campaign = ? and day is null", [c.name])[0]


def daily_bucket(bucket: str) -> str:
    """The bucket of charts from daily marts: days when the volume is shown per hour."""
    return "day" if bucket == "hour" else bucket


def volume_by_kind(con, c: Campaign, w: Window, bucket: str) -> Rows:
    return _bucketed(con, c, w, bucket, "kind", "sum(posts)::bigint as posts",
                     "marts.volume_daily")


def volume_by_platform(con, c: Campaign, w: Window, bucket: str) -> Rows:
    return _bucketed(con, c, w, bucket, "platform", "sum(posts)::bigint as posts",
                     "marts.volume_daily")


def contributors(con, c: Campaign, w: Window, bucket: str) -> Rows:
    return _bucketed(con, c, w, bucket, "",
                     "sum(new_authors)::bigint as new_authors, "
                     "max(cumulative_authors)::bigint as cumulative_authors",
                     "marts.contributors_daily")


def impressions(con, c: Campaign, w: Window, bucket: str) -> Rows:
    return _bucketed(con, c, w, bucket, "platform",
                     "sum(potential_impressions)::bigint as potential_impressions, "
                     "sum(actual_impressions)::bigint as actual_impressions",
                     "marts.reach_daily")


def bursts(con, c: Campaign, w: Window, present: set[str]) -> Rows:
    if "bursts" not in present:
        return []
    tz = _tz(c.timezone)
    cond, params = w.local("peak_hour", c.timezone)
    return rows(con, f"""
        select burst,
               strftime(timezone('{tz}', start_hour), '{ISO}') as start,
               strftime(timezone('{tz}', end_hour) + interval 1 hour,
                        '{ISO}') as "end",
               strftime(timezone('{tz}', peak_hour), '%Y-%m-%d %H:%M') as peak,
               peak_posts, baseline_posts
        from marts.bursts where campaign = ? and {cond} order by start_hour""",
                [c.name, *params])


def coverage_gaps(con, c: Campaign, w: Window, present: set[str]) -> Rows:
    """Per source, the days with a recorded gap or without a successful run."""
    return _coverage(con, c, w, present, "incomplete")


def coverage_unknown(con, c: Campaign, w: Window, present: set[str]) -> Rows:
    """Per source, the days whose coverage is not known (imported from archives)."""
    return _coverage(con, c, w, present, "unknown")


def _coverage(con, c: Campaign, w: Window, present: set[str], state: str) -> Rows:
    if "coverage" not in present:
        return []
    cond, params = w.days("day")
    return rows(con, f"""
        select source, min(day) as first_day, max(day) as last_day, count(*) as days,
               sum(gaps)::bigint as gaps,
               string_agg(distinct reasons, '; ') as reasons
        from marts.coverage
        where campaign = ? and state = ? and {cond}
        group by source order by source""", [c.name, state, *params])


# --- rankings and distributions: the mart, or its SQL over the window (window.Scope) ---------
def _scope(con, c: Campaign, w: Window) -> Scope:
    from .window import Scope
    return Scope(con, c, w)


def top_contributors(con, c: Campaign, scope: Scope, limit: int = 15) -> Rows:
    return rows(con, f"""
        select metric, rank, platform, handle, value,
               coalesce(handle, author_id) || ' (' || platform || ')' as account
        from {scope.table("marts.top_contributors")} where campaign = ? and rank <= ?
        order by metric, rank""", [c.name, limit])


def hashtag_pairs(con, c: Campaign, scope: Scope, limit: int = 20) -> Rows:
    return rows(con, f"""
        select '#' || tag_a || ' + #' || tag_b as pair, tag_a, tag_b, posts
        from {scope.table("marts.hashtag_cooccurrence")} where campaign = ?
        order by posts desc, tag_a, tag_b limit ?""", [c.name, limit])


def languages(con, c: Campaign, scope: Scope, limit: int = 15) -> Rows:
    """(lang, language, posts, share): the code as reported and its name (tracker.languages)."""
    from ..languages import with_names
    return with_names(rows(con, f"""
        select lang, posts, share from {scope.table("marts.languages")} where campaign = ?
        order by posts desc, lang limit ?""", [c.name, limit]))


def heatmap(con, c: Campaign, scope: Scope) -> Rows:
    return rows(con, f"""
        select weekday, weekday_name, hour_of_day, posts
        from {scope.table("marts.activity_heatmap")}
        where campaign = ? order by weekday, hour_of_day""", [c.name])


def top_posts(con, c: Campaign, w: Window, limit: int = 25,
              scope: Scope | None = None) -> Rows:
    """The campaign's most engaged posts; with a window, ranked among the window's posts."""
    table = (scope or _scope(con, c, w)).table("marts.top_posts")
    return rows(con, f"""
        select rank, platform, handle, text, url, kind,
               strftime(timezone('{_tz(c.timezone)}', created_at), '%Y-%m-%d %H:%M') as posted,
               likes, reposts, replies, quotes, engagement
        from {table} where campaign = ?
        order by rank limit ?""", [c.name, limit])


# --- headline figures -------------------------------------------------------------------------
SUMMARY_COLUMNS = ("posts", "contributors", "followers_known_posts", "followers_known_share",
                   "potential_reach", "potential_impressions", "impressions_known_posts",
                   "impressions_known_share", "actual_impressions", "engageable_posts",
                   "engagement_known_posts", "engagement_known_share", "likes", "reposts",
                   "replies", "quotes", "engagement", "engagement_per_post", "first_post",
                   "last_post", "peak_hour", "peak_hour_posts", "synthetic", "platforms")

def summary(con, c: Campaign, w: Window, scope: Scope | None = None) -> dict[str, Any]:
    """Headline figures: marts.campaign_summary, or the same figures over the window (the
    mart's SQL over the window's posts, window.Scope)."""
    table = (scope or _scope(con, c, w)).table("marts.campaign_summary")
    found = rows(con, f"select {', '.join(SUMMARY_COLUMNS)} from {table} where campaign = ?",
                 [c.name])
    if not found:
        return {k: 0 if k in ("posts", "contributors") else None for k in SUMMARY_COLUMNS} | {
            "synthetic": False, "platforms": ""}
    return found[0]


def campaign_summaries(con) -> dict[str, dict[str, Any]]:
    return {r["campaign"]: r for r in rows(
        con, f"select campaign, {', '.join(SUMMARY_COLUMNS)} from marts.campaign_summary")}


def share_of_voice(con, campaigns: list[str]) -> Rows:
    return rows(con, """
        select strftime(day, '%Y-%m-%dT00:00:00Z') as t, campaign, posts, share
        from marts.share_of_voice where list_contains(?, campaign) order by day, campaign""",
                [campaigns])


def daily_volume_all(con, campaigns: list[str]) -> Rows:
    """Posts per UTC day and campaign (the comparison page is in UTC, like share of voice)."""
    return rows(con, """
        select strftime(timezone('UTC', hour), '%Y-%m-%dT00:00:00Z') as t, campaign,
               sum(posts)::bigint as posts
        from marts.volume_hourly where list_contains(?, campaign) and hour is not null
        group by all order by 1, 2""", [campaigns])
