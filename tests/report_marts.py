"""Hand-made marts (the contract's columns) for report tests that need exact, hostile or
edge-case rows that the pipeline would not produce on its own. Real-pipeline tests build
their marts with `tracker.models.build` instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

DDL = """
create schema if not exists marts;
create schema if not exists core;
create table if not exists marts.volume_hourly(campaign varchar, hour timestamptz,
    platform varchar, kind varchar, posts bigint, authors bigint);
create table if not exists marts.volume_daily(campaign varchar, day date, platform varchar,
    kind varchar, posts bigint, authors bigint);
create table if not exists marts.contributors_daily(campaign varchar, day date, authors bigint,
    new_authors bigint, returning_authors bigint, cumulative_authors bigint);
create table if not exists marts.reach_daily(campaign varchar, day date, platform varchar,
    posts bigint, potential_impressions bigint, potential_reach bigint,
    actual_impressions bigint);
create table if not exists marts.campaign_summary(campaign varchar, posts bigint,
    contributors bigint, followers_known_posts bigint, followers_known_share double,
    potential_reach bigint, potential_impressions bigint, impressions_known_posts bigint,
    impressions_known_share double, actual_impressions bigint, engageable_posts bigint,
    engagement_known_posts bigint, engagement_known_share double, likes bigint,
    reposts bigint, replies bigint, quotes bigint, engagement bigint,
    engagement_per_post double, first_post timestamptz,
    last_post timestamptz, peak_hour timestamptz, peak_hour_posts bigint, synthetic boolean,
    platforms varchar);
create table if not exists marts.top_contributors(campaign varchar, metric varchar,
    rank integer, platform varchar, author_id varchar, handle varchar, value double);
create table if not exists marts.top_posts(campaign varchar, rank integer, platform varchar,
    post_id varchar, url varchar, handle varchar, text varchar, created_at timestamptz,
    kind varchar, likes bigint, reposts bigint, replies bigint, quotes bigint,
    engagement bigint);
create table if not exists marts.hashtag_cooccurrence(campaign varchar, tag_a varchar,
    tag_b varchar, posts bigint);
create table if not exists marts.hashtags(campaign varchar, tag varchar, tag_text varchar,
    posts bigint, is_campaign_tag boolean);
create table if not exists marts.languages(campaign varchar, lang varchar, posts bigint,
    share double);
create table if not exists marts.platform_share(campaign varchar, platform varchar,
    posts bigint, share double);
create table if not exists marts.share_of_voice(day date, campaign varchar, posts bigint,
    share double);
create table if not exists marts.bursts(campaign varchar, burst integer,
    start_hour timestamptz, peak_hour timestamptz, end_hour timestamptz, peak_posts bigint,
    baseline_posts double);
create table if not exists marts.coverage(campaign varchar, source varchar, day date,
    state varchar, complete boolean, gaps bigint, reasons varchar);
create table if not exists marts.activity_heatmap(campaign varchar, weekday integer,
    weekday_name varchar, hour_of_day integer, posts bigint);
"""


def create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    for r in rows:
        cols = ", ".join(r)
        con.execute(f"insert into marts.{table} ({cols}) values "
                    f"({', '.join('?' for _ in r)})", list(r.values()))


def hostile_campaign(con: duckdb.DuckDBPyConnection, name: str, *, synthetic: bool = False,
                     start: dt.datetime = dt.datetime(2016, 4, 27, 9, tzinfo=dt.UTC)) -> None:
    """One day of posts whose text, handles and links are attacks on the page."""
    create(con)
    script = "<script>window.__pwned=1</script>"
    img = '<img src=x onerror="window.__pwned=1">'
    js = "javascript:window.__pwned=1"
    day = start.date()
    insert(con, "volume_hourly", [
        {"campaign": name, "hour": start + dt.timedelta(hours=h), "platform": "x",
         "kind": k, "posts": 3 + h, "authors": 2} for h in range(3) for k in ("original",
                                                                                  "repost")])
    insert(con, "volume_daily", [{"campaign": name, "day": day, "platform": "x", "kind": k,
                                  "posts": 12, "authors": 2} for k in ("original", "repost")])
    insert(con, "contributors_daily", [{"campaign": name, "day": day, "authors": 2,
                                        "new_authors": 2, "returning_authors": 0,
                                        "cumulative_authors": 2}])
    insert(con, "reach_daily", [{"campaign": name, "day": day, "platform": "x", "posts": 24,
                                 "potential_impressions": 4800, "potential_reach": 300,
                                 "actual_impressions": None}])
    insert(con, "campaign_summary", [{
        "campaign": name, "posts": 24, "contributors": 2, "potential_reach": 300,
        "potential_impressions": 4800, "actual_impressions": None, "likes": 5, "reposts": 12,
        "replies": 1, "quotes": 0, "engagement": 18, "engagement_per_post": 1.5,
        "first_post": start, "last_post": start + dt.timedelta(hours=2, minutes=50),
        "peak_hour": start + dt.timedelta(hours=2), "peak_hour_posts": 10,
        "synthetic": synthetic, "platforms": "x"}])
    insert(con, "top_contributors", [
        {"campaign": name, "metric": m, "rank": i + 1, "platform": "x", "author_id": str(i),
         "handle": h, "value": 10 - i} for m in ("posts", "engagement")
        for i, h in enumerate([img, script])])
    insert(con, "top_posts", [
        {"campaign": name, "rank": 1, "platform": "x", "post_id": "1", "url": js,
         "handle": img, "text": script, "created_at": start, "kind": "original", "likes": 5,
         "reposts": 12, "replies": 1, "quotes": 0, "engagement": 18},
        {"campaign": name, "rank": 2, "platform": "x", "post_id": "2",
         "url": "https://example.org/post/2", "handle": script, "text": img + " " + js,
         "created_at": start + dt.timedelta(hours=1), "kind": "original", "likes": 0,
         "reposts": 0, "replies": 0, "quotes": 0, "engagement": 0}])
    insert(con, "hashtag_cooccurrence", [{"campaign": name, "tag_a": "<b>bold</b>",
                                          "tag_b": "aleppo", "posts": 4}])
    insert(con, "languages", [{"campaign": name, "lang": "<i>x</i>", "posts": 24,
                               "share": 1.0}])
    insert(con, "share_of_voice", [{"day": day, "campaign": name, "posts": 24,
                                    "share": 1.0}])
    insert(con, "activity_heatmap", [
        {"campaign": name, "weekday": d, "weekday_name": n, "hour_of_day": h,
         "posts": 8 if (d == start.weekday() and 9 <= h < 12) else 0}
        for d, n in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                               "Saturday", "Sunday"]) for h in range(24)])
    insert(con, "coverage", [{"campaign": name, "source": img, "day": day,
                              "state": "incomplete", "complete": False,
                              "gaps": 1, "reasons": script}])


def insert_posts(con: duckdb.DuckDBPyConnection, campaign: str,
                 posts: list[dict[str, Any]]) -> None:
    """Hand-made normalised posts (and their authors, engagement and campaign membership),
    for the real models to build marts from. Each dict: post_id, created_at, author_id,
    handle, text, url, and optionally platform, kind, lang, followers, likes, impressions, tags (as
    written, without '#'; stored casefolded as the normalised tag) and mentions (handles)."""
    seen = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for p in posts:
        platform = p.get("platform", "x")
        con.execute("""
            insert into norm.posts (platform, post_id, url, created_at, author_id, text, lang,
                                    kind, synthetic, first_page_id, first_seen_at)
            values (?, ?, ?, ?, ?, ?, ?, ?, false, 'hand-made', ?)""",
                    [platform, p["post_id"], p.get("url"), p["created_at"], p["author_id"],
                     p.get("text"), p.get("lang", "en"), p.get("kind", "original"), seen])
        # norm.* has no primary keys (the loader dedupes): skip authors already written
        con.execute("""
            insert into norm.authors (platform, author_id, handle, name, author_key,
                                      handle_key)
            select ?, ?, ?, ?, author_key(?, ?), author_key(?, ?) where not exists (
                select 1 from norm.authors where platform = ? and author_id = ?)""",
                    [platform, p["author_id"], p.get("handle"), p.get("handle"), platform,
                     p["author_id"], platform, p.get("handle"), platform, p["author_id"]])
        con.execute("""
            insert into norm.author_observations (platform, author_id, observed_at, followers)
            select ?, ?, ?, ? where not exists (
                select 1 from norm.author_observations
                where platform = ? and author_id = ? and observed_at = ?)""",
                    [platform, p["author_id"], p["created_at"], p.get("followers", 100),
                     platform, p["author_id"], p["created_at"]])
        con.execute("""
            insert into norm.engagement_observations (platform, post_id, observed_at, likes,
                                                      reposts, replies, quotes, impressions)
            values (?, ?, ?, ?, 1, 0, 0, ?)""", [platform, p["post_id"], seen, p.get("likes", 2),
                                                 p.get("impressions")])
        con.execute("insert into norm.campaign_posts values (?, ?, ?)",
                    [campaign, platform, p["post_id"]])
        for tag in dict.fromkeys(p.get("tags", ())):
            con.execute("insert into norm.post_hashtags values (?, ?, ?, ?)",
                        [platform, p["post_id"], tag.casefold(), tag])
        for handle in dict.fromkeys(p.get("mentions", ())):
            con.execute("insert into norm.post_mentions values (?, ?, ?)",
                        [platform, p["post_id"], handle.lower()])
