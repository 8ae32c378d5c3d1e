"""Every mart against an independent computation in plain Python over the same raw payloads.

Three data sets: the real recorded payloads (X v2 via twarc2, a Mastodon 4.x cassette), a small
synthetic campaign from the simulated source on all three platforms, and hand-made pages for the
edge cases (two tags in different case, reposts, one status via two instances, a follower count
that changes, posts on bucket boundaries, a DST change inside the campaign).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml

from tracker.config import parse_config
from tracker.models import build
from tracker.pages import Gap, RawPage, RunLog
from tracker.sources import build_source
from tracker.store import ledger
from tracker.store.load import store_batch

from .conftest import BACKENDS, FIXTURES, connect_at, jsonl
from .models_oracle import MART_COLUMNS, Campaign, Oracle, sql_rows

UTC = dt.UTC


def config(campaigns: list[dict], path):
    return parse_config({"campaigns": campaigns}, path / "tracker.toml")


def oracle_for(cfg) -> Oracle:
    return Oracle([Campaign(c.name, list(c.hashtags), c.timezone, c.start, c.end)
                   for c in cfg.campaigns])


def load(con, oracle: Oracle, pages: list[RawPage], *, campaign: str | None, source: str,
         status: str = "ok", assign: str | None = None, gaps: tuple[Gap, ...] = (),
         kind: str | None = None) -> None:
    """Store pages as one run through the real loader, and give the same pages to the oracle."""
    kind = kind or ("collect" if campaign else "import")
    run = ledger.start_run(con, kind, campaign, source)
    # an import with --campaign stores its pages with that campaign (importers/run.py)
    store_batch(con, pages, run_id=run, source=source, campaign=campaign or assign,
                assign_campaign=assign)
    ledger.add_gaps(con, run, campaign, source, list(gaps))
    ledger.finish_run(con, run, status)
    for p in pages:
        oracle.add_page(p.format, p.payload, p.retrieved_at, p.synthetic, assign)
    if campaign:
        oracle.runs.append((campaign, source, status, kind))
        oracle.gaps += [(campaign, source, g.start, g.end, g.reason) for g in gaps]


# --- data set 1: real recorded payloads -------------------------------------------------------
def mastodon_cassette_pages() -> list[RawPage]:
    cassette = yaml.safe_load((FIXTURES / "mastodon" /
                               "mastodonpy_cassette_hashtag_tl.yaml").read_text("utf-8"))
    pages = []
    for i, it in enumerate(cassette["interactions"]):
        body = it["response"]["body"]["string"]
        if "/api/v1/timelines/tag/" in it["request"]["uri"] or it["request"]["uri"].endswith(
                "/api/v1/statuses"):
            pages.append(RawPage("mastodon_statuses", "mastodon", body,
                                 request=it["request"]["uri"],
                                 retrieved_at=dt.datetime(2026, 8, 1, 14, i, tzinfo=UTC)))
    assert pages, "no status responses found in the Mastodon cassette"
    return pages


def build_real(tmp_path, backend: str = "duckdb"):
    cfg = config([
        {"name": "fixtures", "hashtags": ["unused_tag_for_assigned_posts"]},
        {"name": "potter", "hashtags": ["HarryPotter", "POIUYTREWQ", "hoot"],
         "timezone": "Europe/Warsaw"},
    ], tmp_path)
    con = connect_at(tmp_path, "real", backend)
    oracle = oracle_for(cfg)
    from tracker.store.normalise import prepare
    prepare(con, cfg.campaigns)
    files = sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))
    assert len(files) >= 8
    for n, path in enumerate(files):
        pages = [RawPage("x_v2_page", "x", json.dumps(p), request=f"{path.name}:{i}",
                         retrieved_at=dt.datetime(2022, 1, 1, n, i, tzinfo=UTC))
                 for i, p in enumerate(jsonl(path))]
        load(con, oracle, pages, campaign=None, source="import", assign="fixtures")
    load(con, oracle, mastodon_cassette_pages(), campaign="potter", source="mastodon-local")
    build(con, cfg.campaigns)
    return con, oracle


# --- data set 2: synthetic campaigns from the simulated source --------------------------------
def build_synthetic(tmp_path, backend: str = "duckdb"):
    cfg = config([
        {"name": "aleppo", "hashtags": ["AleppoIsBurning", "حلب_تحترق"],
         "timezone": "Asia/Damascus", "start": dt.date(2016, 4, 22), "end": dt.date(2016, 5, 5),
         "sources": [{"type": "simulated", "platform": "x", "posts": 2400},
                     {"type": "simulated", "platform": "mastodon", "posts": 120,
                      "page_size": 20},
                     {"type": "simulated", "platform": "bluesky", "posts": 120}]},
        {"name": "red", "hashtags": ["MakeFacebookRed"], "timezone": "UTC",
         "sources": [{"type": "simulated", "platform": "x", "posts": 150, "seed": 29}]},
    ], tmp_path)
    con = connect_at(tmp_path, "synthetic", backend)
    oracle = oracle_for(cfg)
    from tracker.store.normalise import prepare
    prepare(con, cfg.campaigns)
    for c in cfg.campaigns:
        for s in c.sources:
            pages = list(build_source(c, s).pages(None, RunLog()))
            gaps = ((Gap(dt.datetime(2016, 4, 25, 3, tzinfo=UTC),
                         dt.datetime(2016, 4, 25, 4, tzinfo=UTC), "rate limited"),)
                    if s.name.endswith("-x") and c.name == "aleppo" else ())
            load(con, oracle, pages, campaign=c.name, source=s.name, gaps=gaps)
    build(con, cfg.campaigns)
    return con, oracle


# --- data set 3: hand-made pages for the edge cases -------------------------------------------
def x_user(uid: str, followers: int) -> dict:
    return {"id": uid, "username": f"U{uid}", "name": f"User {uid}",
            "public_metrics": {"followers_count": followers, "following_count": 1,
                               "tweet_count": 1}}


def tweet(tid: str, at: str, author: str, tags: list[str], *, likes: int = 1,
          mentions: tuple[str, ...] = (), refs: list[dict] | None = None,
          impressions: int = 100) -> dict:
    t = {"id": tid, "created_at": at, "author_id": author, "lang": "en",
         "text": " ".join("#" + x for x in tags),
         "entities": {"hashtags": [{"tag": x} for x in tags],
                      "mentions": [{"username": m} for m in mentions]},
         "public_metrics": {"like_count": likes, "retweet_count": 2, "reply_count": 3,
                            "quote_count": 4, "impression_count": impressions}}
    if refs:
        t["referenced_tweets"] = refs
    return t


def x_page(tweets: list[dict], users: list[dict], at: dt.datetime,
           included: list[dict] | None = None) -> RawPage:
    body = {"data": tweets, "includes": {"users": users, "tweets": included or []},
            "meta": {"result_count": len(tweets)}}
    return RawPage("x_v2_page", "x", json.dumps(body, ensure_ascii=False), retrieved_at=at)


def status(uri: str, sid: str, at: str, account: dict, tags: list[str], *, favs: int = 0,
           reblogs: int = 1, reblog: dict | None = None, instance: str = "example.org") -> dict:
    return {"id": sid, "uri": uri, "url": f"https://{instance}/@x/{sid}", "created_at": at,
            "account": account, "language": "ar", "in_reply_to_id": None, "reblog": reblog,
            "content": "<p>" + " ".join("#" + t for t in tags) + "</p>",
            "tags": [{"name": t} for t in tags], "mentions": [],
            "favourites_count": favs, "reblogs_count": reblogs, "replies_count": 0}


def account(name: str, host: str, followers: int) -> dict:
    return {"id": name, "username": name, "acct": f"{name}@{host}",
            "url": f"https://{host}/@{name}", "display_name": name,
            "created_at": "2016-01-01T00:00:00.000Z", "followers_count": followers,
            "following_count": 1, "statuses_count": 1}


EDGE_T1 = "1001"


def build_edges(tmp_path, backend: str = "duckdb"):
    cfg = config([
        {"name": "edge", "hashtags": ["AleppoIsBurning", "حلب_تحترق"],
         "timezone": "Europe/London", "start": dt.date(2016, 3, 26),
         "end": dt.date(2016, 3, 28)},
        {"name": "red", "hashtags": ["MakeFacebookRed"], "timezone": "Asia/Damascus"},
        {"name": "blue", "hashtags": ["BlueOnly"]},
    ], tmp_path)
    con = connect_at(tmp_path, "edges", backend)
    oracle = oracle_for(cfg)
    from tracker.store.normalise import prepare
    prepare(con, cfg.campaigns)
    t1 = tweet(EDGE_T1, "2016-03-26T10:00:00.000Z", "1", ["AleppoIsBurning",
                                                           "ALEPPOISBURNING"], likes=5)
    page1 = x_page([
        t1,
        tweet("1002", "2016-03-26T23:59:59.000Z", "1", ["aleppoisburning", "حلب_تحترق", "Syria"],
              mentions=("U2", "nobody_known")),
        tweet("1003", "2016-03-27T00:00:00.000Z", "2", ["AleppoIsBurning", "MakeFacebookRed"]),
    ], [x_user("1", 100), x_user("2", 50)], dt.datetime(2016, 3, 26, 12, tzinfo=UTC))
    retweet = tweet("1004", "2016-03-27T00:30:00.000Z", "2", [],
                    refs=[{"type": "retweeted", "id": EDGE_T1}], likes=99)
    retweet["text"] = "RT @U1: #Alepp…"
    t1_later = dict(t1, public_metrics=dict(t1["public_metrics"], like_count=40))
    page2 = x_page([
        retweet,
        tweet("1005", "2016-03-27T01:00:00.000Z", "1", ["AleppoIsBurning"]),
        tweet("1006", "2016-03-27T23:30:00.000Z", "1", ["حلب_تحترق"],
              refs=[{"type": "replied_to", "id": "1002"}], mentions=("u2",)),
    ], [x_user("1", 500), x_user("2", 60)], dt.datetime(2016, 3, 27, 12, tzinfo=UTC),
        included=[t1_later])
    burst = x_page([tweet(str(2000 + i), f"2016-03-28T15:{i * 9:02d}:00.000Z", str(10 + i),
                          ["AleppoIsBurning"], likes=i) for i in range(6)],
                   [x_user(str(10 + i), 10 * i) for i in range(6)],
                   dt.datetime(2016, 3, 28, 16, tzinfo=UTC))
    load(con, oracle, [page1, page2, burst], campaign="edge", source="x",
         gaps=(Gap(dt.datetime(2016, 3, 27, 5, tzinfo=UTC), dt.datetime(2016, 3, 27, 6,
                                                                         tzinfo=UTC),
                   "rate limited"),))
    uri = "https://example.org/users/ana/statuses/1"
    ana = account("ana", "example.org", 30)
    # read through two instances: the later read (b) saw fewer favourites but more reblogs
    via_a = status(uri, "111", "2016-03-27T09:00:00.000Z", ana, ["aleppoisburning"], favs=5,
                   reblogs=1, instance="mastodon.social")
    via_b = status(uri, "999", "2016-03-27T09:00:00.000Z", dict(ana, followers_count=31),
                   ["aleppoisburning"], favs=2, reblogs=3, instance="mstdn.social")
    reblog = status("https://other.net/users/bob/statuses/2/activity", "998",
                    "2016-03-27T10:00:00.000Z", account("bob", "other.net", 7), [],
                    reblog=via_b, instance="mstdn.social")
    load(con, oracle, [RawPage("mastodon_statuses", "mastodon", json.dumps([via_a]),
                               retrieved_at=dt.datetime(2016, 3, 27, 13, tzinfo=UTC))],
         campaign="edge", source="mastodon-social", status="partial")
    load(con, oracle, [RawPage("mastodon_statuses", "mastodon", json.dumps([reblog, via_b]),
                               retrieved_at=dt.datetime(2016, 3, 27, 14, tzinfo=UTC))],
         campaign="edge", source="mstdn-social")
    did = "did:plc:edge0001"
    post = {"uri": f"at://{did}/app.bsky.feed.post/1", "cid": "c1",
            "author": {"did": did, "handle": "edge.bsky.social"},
            "record": {"text": "#AleppoIsBurning", "createdAt": "2016-03-28T11:00:00.000Z",
                       "langs": ["en"], "tags": ["حلب_تحترق"],
                       "facets": [{"index": {"byteStart": 0, "byteEnd": 16}, "features": [
                           {"$type": "app.bsky.richtext.facet#tag", "tag": "AleppoIsBurning"},
                           {"$type": "app.bsky.richtext.facet#mention", "did": did}]}]},
            "likeCount": 3, "repostCount": 1, "replyCount": 0, "quoteCount": 0,
            "indexedAt": "2016-03-28T11:00:01.000Z"}
    at = dt.datetime(2016, 3, 28, 12, tzinfo=UTC)
    load(con, oracle, [RawPage("bluesky_posts", "bluesky", json.dumps({"posts": [post]}),
                               retrieved_at=at),
                       RawPage("bluesky_profiles", "bluesky", json.dumps({"profiles": [
                           {"did": did, "handle": "edge.bsky.social", "followersCount": 40}]}),
                               retrieved_at=at)],
         campaign="edge", source="bluesky",
         gaps=(Gap(dt.datetime(2016, 3, 28, 12, tzinfo=UTC), None, "monthly budget"),))
    red_page, *blue_pages = unknowns_pages()
    load(con, oracle, [red_page], campaign="red", source="import", kind="import",
         assign="red")
    load(con, oracle, blue_pages, campaign=None, source="import")
    build(con, cfg.campaigns)
    return con, oracle


def unknowns_pages() -> list[RawPage]:
    """An archive page imported with --campaign red: tweets made after and before X counted
    views (the older one reports impression_count 0); then, for campaign blue, a tweet without
    counts by an author without follower counts, and a Bluesky post whose author has no
    profile."""
    at = dt.datetime(2023, 2, 1, tzinfo=UTC)
    after = tweet("3001", "2023-01-10T12:00:00.000Z", "7", ["MakeFacebookRed"],
                  impressions=500)
    before = tweet("3002", "2022-12-14T23:00:00.000Z", "7", ["MakeFacebookRed"],
                   impressions=0)
    unobserved = tweet("3003", "2023-01-11T08:00:00.000Z", "8", ["BlueOnly"])
    del unobserved["public_metrics"]
    silent = {"id": "8", "username": "U8", "name": "No counts"}
    did = "did:plc:noprofile"
    post = {"uri": f"at://{did}/app.bsky.feed.post/1", "cid": "c2",
            "author": {"did": did, "handle": "noprofile.bsky.social"},
            "record": {"text": "#BlueOnly", "createdAt": "2023-01-11T09:00:00.000Z",
                       "langs": ["en"], "facets": [
                           {"index": {"byteStart": 0, "byteEnd": 9}, "features": [
                               {"$type": "app.bsky.richtext.facet#tag", "tag": "BlueOnly"}]}]},
            "likeCount": 4, "repostCount": 0, "replyCount": 1, "quoteCount": 0,
            "indexedAt": "2023-01-11T09:00:01.000Z"}
    return [x_page([after, before], [x_user("7", 70)], at),
            x_page([unobserved], [silent], at),
            RawPage("bluesky_posts", "bluesky", json.dumps({"posts": [post]}),
                    retrieved_at=at)]


BUILDERS = {"real": build_real, "synthetic": build_synthetic, "edges": build_edges}


@pytest.fixture(scope="module", params=[(n, b) for b in BACKENDS for n in sorted(BUILDERS)],
                ids=lambda p: f"{p[0]}-{p[1]}")
def dataset(request, tmp_path_factory):
    name, backend = request.param
    con, oracle = BUILDERS[name](tmp_path_factory.mktemp(name), backend)
    yield name, con, oracle
    con.close()


@pytest.fixture(scope="module", params=BACKENDS)
def edges(request, tmp_path_factory):
    con, oracle = build_edges(tmp_path_factory.mktemp("edges-explicit"), request.param)
    yield con, oracle
    con.close()


@pytest.mark.parametrize("mart", sorted(MART_COLUMNS))
def test_mart_matches_independent_computation(dataset, mart):
    name, con, oracle = dataset
    want = getattr(oracle, mart)()
    got = sql_rows(con, mart)
    if mart != "coverage" or name != "real":
        assert want, f"the {name} data set gives the oracle no rows for {mart}"
    assert got == want, (f"{mart} on {name}: only in SQL {sorted(got - want, key=str)[:5]}; "
                         f"only in Python {sorted(want - got, key=str)[:5]}")


# --- the edge cases, spelled out -------------------------------------------------------------
def q(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def test_two_campaign_tags_in_different_case_count_once(edges):
    con, _ = edges
    assert q(con, "select count(*) from core.campaign_posts where campaign = 'edge' "
                  "and post_id = ?", EDGE_T1) == [(1,)]
    tags = q(con, "select tag from core.campaign_hashtags where post_id = ?", EDGE_T1)
    assert tags == [("aleppoisburning",)]
    (own,) = q(con, "select posts, tag_text from marts.hashtags where campaign = 'edge' "
                    "and tag = 'aleppoisburning'")
    assert own[1] == "AleppoIsBurning"


def test_repost_of_campaign_post_belongs_and_carries_no_engagement(edges):
    con, _ = edges
    rows = q(con, "select kind, parent_id, likes, engagement, followers_at_post "
                  "from core.campaign_posts where campaign = 'edge' and post_id = '1004'")
    assert rows == [("repost", EDGE_T1, None, None, 50)]
    reblog = q(con, "select kind from core.campaign_posts where post_id like '%bob%'")
    assert reblog == [("repost",)]


def test_same_status_via_two_instances_is_one_post_with_the_largest_counts(edges):
    """Each count is the largest any instance reported, not the last read's (5 favourites
    on the first read, 3 reblogs on the second)."""
    con, _ = edges
    rows = q(con, "select likes, reposts, followers_at_post from core.campaign_posts "
                  "where post_id = 'https://example.org/users/ana/statuses/1'")
    assert rows == [(5, 3, 30)]


def test_follower_count_at_posting_time(edges):
    con, _ = edges
    rows = dict(q(con, "select post_id, followers_at_post from core.campaign_posts "
                       "where campaign = 'edge' and author_id = '1'"))
    # first observation (100) is after post 1001: fall back to it; 1006 follows the 500 one
    assert rows == {"1001": 100, "1002": 100, "1005": 100, "1006": 500}
    (summary,) = q(con, "select potential_impressions from marts.campaign_summary "
                        "where campaign = 'edge'")
    assert summary[0] == sum(rows.values()) + 50 + 50 + 30 + 7 + 40 + sum(range(0, 60, 10))


def test_latest_engagement_observation_wins(edges):
    con, _ = edges
    assert q(con, "select likes from core.campaign_posts where post_id = ?", EDGE_T1) == [(40,)]


def test_posts_on_bucket_boundaries(edges):
    con, _ = edges
    hour = q(con, "select hour from marts.volume_hourly where campaign = 'edge' "
                  "and hour = timestamptz '2016-03-26 10:00:00+00'")
    assert len(hour) == 1
    days = dict(q(con, "select post_id, cast(timezone('Europe/London', created_at) as date) "
                       "from core.campaign_posts where post_id in ('1002', '1003')"))
    assert days == {"1002": dt.date(2016, 3, 26), "1003": dt.date(2016, 3, 27)}


def test_dst_change_inside_the_campaign(edges):
    con, _ = edges
    # 2016-03-27 01:00 UTC is 02:00 BST (clocks went forward); 23:30 UTC is 00:30 on the 28th
    cells = q(con, "select weekday_name, hour_of_day from marts.activity_heatmap "
                   "where campaign = 'edge' and posts > 0 and weekday_name = 'Sunday' "
                   "order by hour_of_day")
    assert ("Sunday", 2) in cells and ("Sunday", 1) not in cells
    day28 = q(con, "select sum(posts) from marts.volume_daily where campaign = 'edge' "
                   "and day = date '2016-03-28' and platform = 'x'")
    assert day28 == [(1 + 6,)]


def test_post_in_two_campaigns_counts_in_both_shares(edges):
    con, _ = edges
    rows = dict(q(con, "select campaign, posts from marts.share_of_voice "
                       "where day = date '2016-03-27' order by campaign"))
    assert rows["red"] == 1
    assert rows["edge"] > 1


def test_coverage_marks_gaps_and_failed_sources(edges):
    con, _ = edges
    rows = {(s, d): (st, c, r) for s, d, st, c, r in q(
        con, "select source, day, state, complete, reasons from marts.coverage "
             "where campaign='edge'")}
    assert rows[("x", dt.date(2016, 3, 27))] == ("incomplete", False, "rate limited")
    assert rows[("x", dt.date(2016, 3, 26))] == ("complete", True, "")
    assert rows[("mastodon-social", dt.date(2016, 3, 26))] == ("incomplete", False,
                                                               "no successful run")
    assert rows[("bluesky", dt.date(2016, 3, 28))] == ("incomplete", False, "monthly budget")
    assert rows[("bluesky", dt.date(2016, 3, 27))] == ("complete", True, "")


def test_burst_found_with_start_peak_end(edges):
    con, _ = edges
    rows = q(con, "select start_hour, peak_hour, end_hour, peak_posts from marts.bursts "
                  "where campaign = 'edge'")
    t = dt.datetime(2016, 3, 28, 15, tzinfo=UTC)
    assert [(a.astimezone(UTC), b.astimezone(UTC), c.astimezone(UTC), n)
            for a, b, c, n in rows] == [(t, t, t, 6)]


def summary_row(con, campaign: str) -> dict:
    cur = con.execute("select * from marts.campaign_summary where campaign = ?", [campaign])
    cols = [d[0] for d in cur.description]
    return dict(zip(cols, cur.fetchone(), strict=True))


def test_unknown_follower_counts_are_not_zero(edges):
    con, _ = edges
    blue = summary_row(con, "blue")
    assert (blue["posts"], blue["followers_known_posts"]) == (2, 0)
    assert blue["potential_reach"] is None and blue["potential_impressions"] is None
    assert blue["frequency"] is None and blue["followers_known_share"] == 0
    red = summary_row(con, "red")
    # 1003 by author 2 (followers known) and the two tweets of author 7 (70)
    assert (red["posts"], red["followers_known_posts"]) == (3, 3)
    assert red["potential_impressions"] == 50 + 70 + 70
    assert red["potential_reach"] == 50 + 70
    daily = q(con, "select potential_impressions, potential_reach, followers_known_posts "
                   "from marts.reach_daily where campaign = 'blue'")
    assert daily == [(None, None, 0)] * 2
    ranked = q(con, "select metric from marts.top_contributors where campaign = 'blue'")
    assert sorted(ranked) == [("engagement",), ("posts",), ("posts",)]


def test_actual_impressions_only_where_the_platform_reported_them(edges):
    con, _ = edges
    page = json.loads(unknowns_pages()[0].payload)
    since = dt.datetime(2022, 12, 15, tzinfo=UTC)
    reported = [t["public_metrics"]["impression_count"] for t in page["data"]
                if "MakeFacebookRed" in t["text"] and "public_metrics" in t
                and dt.datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= since]
    red = summary_row(con, "red")
    assert red["actual_impressions"] == sum(reported) == 500
    assert red["impressions_known_posts"] == len(reported) == 1
    assert red["impressions_known_share"] == pytest.approx(1 / 3)
    # 2016 tweets: X did not count views then, so their impression_count (100) is not known
    assert summary_row(con, "edge")["actual_impressions"] is None
    assert summary_row(con, "edge")["impressions_known_posts"] == 0


def test_unobserved_engagement_is_not_known(edges):
    con, _ = edges
    blue = summary_row(con, "blue")
    # the Bluesky post was observed (4 likes + 1 reply); the tweet without counts was not
    assert (blue["engagement"], blue["likes"], blue["quotes"]) == (5, 4, 0)
    assert (blue["engageable_posts"], blue["engagement_known_posts"]) == (2, 1)
    assert (blue["engagement_known_share"], blue["engagement_per_post"]) == (0.5, 5.0)
    assert q(con, "select engagement from core.campaign_posts where post_id = '3003'") == [
        (None,)]


def test_imported_days_have_unknown_coverage(edges):
    con, _ = edges
    states = q(con, "select distinct source, state, complete, reasons from marts.coverage "
                    "where campaign = 'red'")
    assert states == [("import", "unknown", None, "imported: coverage unknown")]


def test_mentions_ranked_and_matched_to_authors(edges):
    con, _ = edges
    rows = q(con, "select handle, author_id, value from marts.top_contributors "
                  "where campaign = 'edge' and metric = 'mentions' order by rank")
    assert rows[0] == ("u2", "2", 2)
    assert ("nobody_known", None, 1) in rows
