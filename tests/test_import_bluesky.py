"""`tracker import` of real recorded Bluesky responses (tests/fixtures/shared/bluesky): post
views from searchPosts/getPosts/getQuotes, feeds (getAuthorFeed, getTimeline) with reposts,
threads (getPostThread), profiles (getProfiles), embedded quoted records, and `#tags` found in
the text. Expected rows are computed here from the JSON."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil

import pytest

from tracker.importers import Importer
from tracker.models import build
from tracker.pages import RawPage
from tracker.store.db import connect
from tracker.store.normalise import prepare
from tracker.store.rebuild import rebuild

from .conftest import fixture_path
from .import_helpers import make_config, query, run_import
from .models_oracle import MART_COLUMNS, bluesky_text_tags, sql_rows
from .test_models_marts import config, load, oracle_for

UTC = dt.UTC
FILE_TIME = dt.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)   # the copies' modification time
REPOST = "app.bsky.feed.defs#reasonRepost"
EXTRA = """
[[campaigns]]
name = "rstats"
hashtags = ["RStats"]
[[campaigns]]
name = "feed"
hashtags = ["not_in_any_fixture"]
"""


def body(name: str) -> dict:
    return json.loads(fixture_path("bluesky", name).read_text(encoding="utf-8"))


def copy_fixture(tmp_path, name: str, content: dict | None = None):
    """A copy of the fixture (or of `content`) whose file time is FILE_TIME."""
    dest = tmp_path / "in" / name
    dest.parent.mkdir(exist_ok=True)
    if content is None:
        shutil.copy(fixture_path("bluesky", name), dest)
    else:
        dest.write_text(json.dumps(content), encoding="utf-8")
    os.utime(dest, (FILE_TIME.timestamp(), FILE_TIME.timestamp()))
    return dest


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def quoted(view: dict) -> dict | None:
    """The post record view a post view embeds (a quote), if any."""
    rec = (view.get("embed") or {}).get("record") or {}
    rec = rec if "value" in rec else rec.get("record") or {}
    return rec if "value" in rec and "/app.bsky.feed.post/" in rec["uri"] else None


def kind_of(record: dict) -> tuple[str, str | None]:
    embed = record.get("embed") or {}
    if embed.get("$type") in ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia"):
        ref = embed["record"]
        return "quote", ref.get("uri") or ref["record"]["uri"]
    if record.get("reply"):
        return "reply", record["reply"]["parent"]["uri"]
    return "original", None


def expected_posts(views: list[tuple[dict, bool]], reposts: list[dict]) -> dict[str, tuple]:
    """post_id -> (kind, matched, parent_id, author_id): views as (post view, matched); the
    records they quote are context; feed items with a reasonRepost add a repost."""
    views = views + [(q, False) for v, _ in views if (q := quoted(v))]
    out: dict[str, tuple] = {}
    for v, matched in views:
        kind, parent = kind_of(v.get("record") or v.get("value"))
        old = out.get(v["uri"])
        out[v["uri"]] = (kind, matched or bool(old and old[1]), parent, v["author"]["did"])
    for item in reposts:
        did, rkey = item["post"]["uri"].split("/")[2], item["post"]["uri"].split("/")[-1]
        by = item["reason"]["by"]["did"]
        out[f"at://{by}/app.bsky.feed.repost/{did}:{rkey}"] = (
            "repost", True, item["post"]["uri"], by)
    return out


def feed_expectation(feed: dict) -> dict[str, tuple]:
    views = []
    for item in feed["feed"]:
        # a post the feed's account reposted is someone else's: context (the repost matches)
        views.append((item["post"], (item.get("reason") or {}).get("$type") != REPOST))
        for ref in ("parent", "root"):
            view = (item.get("reply") or {}).get(ref) or {}
            if "record" in view:
                views.append((view, False))
    reposts = [i for i in feed["feed"] if (i.get("reason") or {}).get("$type") == REPOST]
    return expected_posts(views, reposts)


def stored_posts(cfg) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in query(
        cfg, "select post_id, kind, matched, parent_id, author_id from norm.posts "
             "where platform = 'bluesky'")}


def tags_of(cfg, post_id: str) -> set[str]:
    return {r[0] for r in query(cfg, "select tag from norm.post_hashtags where post_id = ?",
                                [post_id])}


# --- hashtags in the text -------------------------------------------------------------------
def test_text_only_hashtag_makes_a_campaign_post(tmp_path):
    view = body("bskyr_getPosts.json")["posts"][0]
    record = view["record"]
    assert not [f for facet in record.get("facets", []) for f in facet["features"]
                if "tag" in f] and "tags" not in record      # the tags are in the text only
    assert "\u2728#rstats #rgov" in record["text"]
    cfg = make_config(tmp_path, EXTRA)
    s = run_import(cfg, [copy_fixture(tmp_path, "bskyr_getPosts.json")])
    assert (s.bad, s.posts_new) == (0, 1)
    assert tags_of(cfg, view["uri"]) == {"rstats", "rgov"}
    con = connect(cfg.warehouse)
    try:
        build(con, cfg.campaigns)
        rows = con.execute("select campaign, post_id from core.campaign_posts").fetchall()
    finally:
        con.close()
    assert rows == [("rstats", view["uri"])]


# text -> tags as the Bluesky app's rich-text detection finds them (written out by hand)
RULE_CASES = [
    ("#a #b, and #c.", ["a", "b", "c"]),
    ("beltway!\u2728#rstats #rgov", ["rstats", "rgov"]),      # after an emoji: accepted here
    ("x#no (#paren) site.com/#anchor &#x27;s", []),           # after a letter or punctuation
    ("#2024 #12.5 #1st #_ #snake_case_", ["1st", "snake_case"]),  # not digits/punctuation
    ("\uff03\u5168\u89d2 #\u0628\u0627\u0644\u0639\u0631\u0628\u064a", ["\u5168\u89d2",
                                                              "\u0628\u0627\u0644\u0639\u0631\u0628\u064a"]),
    ("#tag!!! #\u2026end...", ["tag", "\u2026end"]),          # trailing punctuation dropped
    ("#a,#b #x#y", ["a,#b", "x#y"]),                          # a tag runs up to a space
    ("#\ufe0f\u20e3 keycap, #a\u200bb zero width", ["a"]),
    ("#" + "a" * 64 + " #" + "b" * 65, ["a" * 64]),            # at most 64 characters
    ("#" + "\U0001f600" * 32 + " #" + "\U0001f600" * 33, ["\U0001f600" * 32]),  # UTF-16 units
    ("line\n#next\u00a0#nbsp\u3000#ideo", ["next", "nbsp", "ideo"]),
]


@pytest.mark.parametrize("text,tags", RULE_CASES)
def test_bluesky_text_hashtag_rule(tmp_path, text, tags):
    view = copy.deepcopy(body("bskyr_getPosts.json")["posts"][0])
    view["record"]["text"] = text
    assert bluesky_text_tags(text) == tags        # the oracle's reading agrees with the cases
    cfg = make_config(tmp_path)
    run_import(cfg, [copy_fixture(tmp_path, "post.json", {"posts": [view]})])
    stored = {r[0] for r in query(cfg, "select tag_text from norm.post_hashtags")}
    assert stored == set(tags)



def test_a_time_without_zone_is_utc_whatever_the_session_zone(tmp_path):
    """A createdAt without offset is UTC, also when the importing connection (or the
    machine, TZ=Asia/Kolkata) has another zone; the connection keeps its own zone after."""
    view = copy.deepcopy(body("bskyr_getPosts.json")["posts"][0])
    view["record"]["createdAt"] = "2024-01-01T00:00:00"
    cfg = make_config(tmp_path)
    path = copy_fixture(tmp_path, "post.json", {"posts": [view]})
    con = connect(cfg.warehouse)
    try:
        con.execute("set TimeZone = 'Asia/Kolkata'")
        Importer(con, cfg).run([str(path)])
        assert con.execute("select current_setting('TimeZone')").fetchone() == ("Asia/Kolkata",)
        want = [(view["uri"], dt.datetime(2024, 1, 1, tzinfo=UTC))]
        assert query_on(con, "select post_id, created_at from norm.posts") == want
        rebuild(con, cfg.campaigns)   # normalises the stored page again
        assert con.execute("select current_setting('TimeZone')").fetchone() == ("Asia/Kolkata",)
        assert query_on(con, "select post_id, created_at from norm.posts") == want
    finally:
        con.close()


def query_on(con, sql: str) -> list[tuple]:
    return [tuple(v.astimezone(UTC) if isinstance(v, dt.datetime) else v for v in row)
            for row in con.execute(sql).fetchall()]


# --- getProfiles ---------------------------------------------------------------------------
def test_profiles_are_follower_observations_at_the_file_time(tmp_path):
    profiles = body("bskyr_getProfiles.json")["profiles"]
    cfg = make_config(tmp_path)
    s = run_import(cfg, [copy_fixture(tmp_path, "bskyr_getProfiles.json")])
    assert (s.records, s.bad, s.pages_new, s.status) == (1, 0, 1, "ok")
    assert query(cfg, "select format from raw.pages") == [("bluesky_profiles",)]
    got = query(cfg, "select author_id, observed_at, followers, following, posts "
                     "from norm.author_observations order by 1")
    assert got == sorted((p["did"], FILE_TIME, p["followersCount"], p["followsCount"],
                          p["postsCount"]) for p in profiles)
    assert set(query(cfg, "select author_id, handle from norm.authors")) == {
        (p["did"], p["handle"]) for p in profiles}



def test_a_negative_profile_count_is_stored_as_not_known(tmp_path):
    """A negative count on any platform (glitch-soc's -1 on Mastodon) is no count: null."""
    doc = body("bskyr_getProfiles.json")
    for prof in doc["profiles"]:
        prof["followersCount"] = -1
    cfg = make_config(tmp_path)
    run_import(cfg, [copy_fixture(tmp_path, "profiles.json", doc)])
    got = query(cfg, "select author_id, followers, following, posts "
                     "from norm.author_observations order by 1")
    assert got == sorted((prof["did"], None, prof["followsCount"], prof["postsCount"])
                         for prof in doc["profiles"])


def test_imported_profiles_give_imported_posts_their_followers(tmp_path):
    feed = body("bskyr_getAuthorFeed.json")
    (profile,) = body("bskyr_getProfiles.json")["profiles"]
    own = {i["post"]["uri"] for i in feed["feed"] if i["post"]["author"]["did"] == profile["did"]}
    assert own
    cfg = make_config(tmp_path, EXTRA)
    run_import(cfg, [copy_fixture(tmp_path, "bskyr_getAuthorFeed.json"),
                     copy_fixture(tmp_path, "bskyr_getProfiles.json")], campaign="feed")
    con = connect(cfg.warehouse)
    try:
        build(con, cfg.campaigns)
        rows = dict(con.execute("select post_id, followers_at_post from core.campaign_posts "
                                "where campaign = 'feed' and author_id = ?",
                                [profile["did"]]).fetchall())
    finally:
        con.close()
    reposts = {i["post"]["uri"] for i in feed["feed"]
               if (i.get("reason") or {}).get("by", {}).get("did") == profile["did"]}
    assert len(rows) == len(own) + len(reposts)
    assert set(rows.values()) == {profile["followersCount"]}


# --- feeds and threads ---------------------------------------------------------------------
@pytest.mark.parametrize("name,reposts", [("bskyr_getAuthorFeed.json", 7),
                                          ("bskyr_getTimeline.json", 3)])
def test_feed_posts_context_and_reposts(tmp_path, name, reposts):
    feed = body(name)
    want = feed_expectation(feed)
    assert sum(k == "repost" for k, *_ in want.values()) == reposts   # as the README says
    cfg = make_config(tmp_path, EXTRA)
    s = run_import(cfg, [copy_fixture(tmp_path, name)], campaign="feed")
    assert (s.records, s.bad, s.posts_new) == (1, 0, len(want))
    assert stored_posts(cfg) == want
    # reposts: by the reposting account, at the time the repost was indexed
    for item in feed["feed"]:
        if (item.get("reason") or {}).get("$type") == REPOST:
            by = item["reason"]["by"]
            rows = query(cfg, "select created_at, text from norm.posts where kind = 'repost' "
                              "and parent_id = ? and author_id = ?",
                         [item["post"]["uri"], by["did"]])
            assert rows == [(ts(item["reason"]["indexedAt"]), None)]
            assert query(cfg, "select handle from norm.authors where author_id = ?",
                         [by["did"]]) == [(by["handle"],)]
    # --campaign takes the feed's results (its posts and reposts), never the context
    con = connect(cfg.warehouse)
    try:
        build(con, cfg.campaigns)
        linked = {r[0] for r in con.execute(
            "select post_id from core.campaign_posts where campaign = 'feed'").fetchall()}
    finally:
        con.close()
    assert linked == {k for k, (_, matched, *_) in want.items() if matched}
    authors = {a for *_, a in want.values()}
    assert {r[0] for r in query(cfg, "select author_id from norm.authors")} >= authors


def test_thread_anchor_matched_parents_and_replies_context(tmp_path):
    thread = body("bskyr_getPostThread.json")
    assert thread["thread"]["replies"] == [] and "parent" not in thread["thread"]
    s = run_import(cfg := make_config(tmp_path), [copy_fixture(tmp_path,
                                                                "bskyr_getPostThread.json")])
    assert s.bad == 0
    assert stored_posts(cfg) == expected_posts([(thread["thread"]["post"], True)], [])
    # the same anchor with real post views around it: two parents up, a reply with a reply
    views = [i["post"] for i in body("bskyr_getTimeline.json")["feed"]][:4]
    node = lambda v, **kw: {"$type": "app.bsky.feed.defs#threadViewPost", "post": v, **kw}  # noqa: E731
    built = {"thread": node(thread["thread"]["post"],
                            parent=node(views[0], parent=node(views[1])),
                            replies=[node(views[2], replies=[node(views[3])]),
                                     {"$type": "app.bsky.feed.defs#notFoundPost",
                                      "uri": "at://did:plc:gone/app.bsky.feed.post/1",
                                      "notFound": True}])}
    (tmp_path / "built").mkdir()
    cfg = make_config(tmp_path / "built")
    s = run_import(cfg, [copy_fixture(tmp_path, "thread.json", built)])
    assert s.bad == 0
    want = expected_posts([(thread["thread"]["post"], True)] + [(v, False) for v in views], [])
    assert stored_posts(cfg) == want and len(want) >= 5


def test_quoted_records_are_context_posts_with_their_text(tmp_path):
    quotes = body("bskyr_getQuotes.json")
    types = sorted(p["embed"]["$type"] for p in quotes["posts"])
    assert types == ["app.bsky.embed.record#view", "app.bsky.embed.recordWithMedia#view"]
    cfg = make_config(tmp_path, EXTRA)
    run_import(cfg, [copy_fixture(tmp_path, "bskyr_getQuotes.json")], campaign="feed")
    want = expected_posts([(p, True) for p in quotes["posts"]], [])
    assert stored_posts(cfg) == want
    for p in quotes["posts"]:
        q = quoted(p)
        assert q["uri"] == quotes["uri"]         # both quote the post getQuotes was asked about
        assert query(cfg, "select text, matched, created_at from norm.posts where post_id = ?",
                     [q["uri"]]) == [(q["value"]["text"], False, ts(q["value"]["createdAt"]))]
        assert query(cfg, "select quote_of_id from norm.posts where post_id = ?",
                     [p["uri"]]) == [(q["uri"],)]
    likes = query(cfg, "select likes from norm.engagement_observations where post_id = ?",
                  [quotes["uri"]])
    assert likes == [(quoted(quotes["posts"][0])["likeCount"],)]
    assert query(cfg, "select count(*) from norm.campaign_posts where campaign = 'feed' "
                      "and post_id = ?", [quotes["uri"]]) == [(0,)]


def test_reply_that_quotes_keeps_both_links(tmp_path):
    feed = body("bskyr_getAuthorFeed.json")
    views = [i["post"] for i in feed["feed"]] + [
        v for i in feed["feed"] for v in (i.get("reply") or {}).values() if "record" in v]
    both = {v["uri"]: (v["record"]["reply"]["parent"]["uri"], kind_of(v["record"])[1])
            for v in views if v["record"].get("reply") and kind_of(v["record"])[0] == "quote"}
    assert len(both) == 2
    cfg = make_config(tmp_path)
    run_import(cfg, [copy_fixture(tmp_path, "bskyr_getAuthorFeed.json")])
    got = {r[0]: r[1:] for r in query(
        cfg, "select post_id, kind, parent_id, reply_to_id, quote_of_id from norm.posts "
             "where reply_to_id is not null and quote_of_id is not null")}
    assert got == {uri: ("quote", q, r, q) for uri, (r, q) in both.items()}


def test_reimport_and_overlap_store_each_post_once(tmp_path):
    cfg = make_config(tmp_path)
    names = ["bskyr_getAuthorFeed.json", "bskyr_getTimeline.json", "bskyr_getPosts.json",
             "bskyr_getPostThread.json", "bskyr_getQuotes.json"]
    paths = [copy_fixture(tmp_path, n) for n in names]
    first = run_import(cfg, paths)
    before = query(cfg, "select count(*), count(distinct post_id) from norm.posts")
    again = run_import(cfg, paths)
    assert first.bad == 0 and again.posts_new == 0
    assert query(cfg, "select count(*), count(distinct post_id) from norm.posts") == before
    assert before[0][0] == before[0][1]


# --- every mart against the plain-Python oracle, on all the real Bluesky responses ----------
def test_marts_match_the_oracle_on_real_bluesky_responses(tmp_path):
    cfg = config([{"name": "rstats", "hashtags": ["RStats", "quarto"],
                   "timezone": "America/New_York"},
                  {"name": "feed", "hashtags": ["unused"], "start": dt.date(2024, 11, 1)}],
                 tmp_path)
    con = connect(tmp_path / "bsky.duckdb")
    oracle = oracle_for(cfg)
    prepare(con, cfg.campaigns)
    names = ["bskyr_searchPosts_q-redistricting.json", "bskyr_getPosts.json",
             "bskyr_getQuotes.json", "bskyr_getPostThread.json", "bskyr_getTimeline.json"]
    for i, name in enumerate(names):
        page = RawPage("bluesky_posts", "bluesky",
                       fixture_path("bluesky", name).read_text(encoding="utf-8"),
                       retrieved_at=FILE_TIME + dt.timedelta(hours=i))
        load(con, oracle, [page], campaign=None, source="import")
    feed = fixture_path("bluesky", "bskyr_getAuthorFeed.json").read_text(encoding="utf-8")
    profiles = fixture_path("bluesky", "bskyr_getProfiles.json").read_text(encoding="utf-8")
    load(con, oracle, [RawPage("bluesky_posts", "bluesky", feed, retrieved_at=FILE_TIME),
                       RawPage("bluesky_profiles", "bluesky", profiles,
                               retrieved_at=FILE_TIME)],
         campaign=None, source="import", assign="feed")
    build(con, cfg.campaigns)
    try:
        for mart in sorted(MART_COLUMNS):
            want, got = getattr(oracle, mart)(), sql_rows(con, mart)
            assert got == want, (f"{mart}: only in SQL {sorted(got - want, key=str)[:3]}; "
                                 f"only in Python {sorted(want - got, key=str)[:3]}")
        campaigns = con.execute("select distinct campaign from core.campaign_posts").fetchall()
        assert sorted(campaigns) == [("feed",), ("rstats",)]   # both have posts: not vacuous
    finally:
        con.close()


def test_very_long_lines_are_recognised_the_same(tmp_path, monkeypatch):
    """Lines above BIG_LINE are classified by DuckDB's JSON reader, not Python's."""
    from tracker.importers import formats

    names = ["bskyr_getAuthorFeed.json", "bskyr_getPostThread.json", "bskyr_getProfiles.json"]
    small = make_config(tmp_path)
    run_import(small, [copy_fixture(tmp_path, n) for n in names])
    monkeypatch.setattr(formats, "BIG_LINE", 100)
    (tmp_path / "big").mkdir()
    big = make_config(tmp_path / "big")
    s = run_import(big, [copy_fixture(tmp_path, n) for n in names])
    assert s.bad == 0
    for sql in ("select format from raw.pages order by 1",
                "select post_id, kind, matched from norm.posts order by 1",
                "select author_id, followers from norm.author_observations order by 1"):
        assert query(big, sql) == query(small, sql)


@pytest.mark.parametrize("name", ["bskyr_getAuthorFeed.json", "bskyr_getTimeline.json"])
def test_a_feed_imported_for_a_campaign_counts_its_posts_not_the_reposted_ones(tmp_path, name):
    """A feed item the account reposted delivers someone else's post: the campaign counts the
    repost (by the reposting account), not the reposted post or its author."""
    items = body(name)["feed"]
    reposts = {(i["reason"]["by"]["did"], i["post"]["uri"]) for i in items
               if (i.get("reason") or {}).get("$type") == REPOST}
    own = {i["post"]["uri"]: i["post"]["author"]["did"] for i in items
           if (i.get("reason") or {}).get("$type") != REPOST}
    assert reposts and own
    cfg = make_config(tmp_path, EXTRA)
    run_import(cfg, [copy_fixture(tmp_path, name)], campaign="feed")
    con = connect(cfg.warehouse)
    try:
        build(con, cfg.campaigns)
        figures = con.execute("select posts, contributors from marts.campaign_summary "
                              "where campaign = 'feed'").fetchone()
    finally:
        con.close()
    assert figures == (len(own) + len(reposts),
                       len(set(own.values()) | {by for by, _ in reposts}))


def test_an_error_inside_normalisation_is_the_error_the_caller_sees(tmp_path):
    """utc_session gives the connection its zone back, but never in place of the error: in a
    transaction the error aborted, DuckDB refuses the SET until the rollback (the importer's
    retry with more memory catches OutOfMemoryException by its type)."""
    import duckdb

    from tracker.store.db import connect, utc_session
    con = connect(tmp_path / "wh.duckdb")
    try:
        con.execute("set TimeZone = 'Asia/Kolkata'")
        con.execute("begin")
        with pytest.raises(duckdb.CatalogException):
            with utc_session(con):
                con.execute("select * from no_such_table")
        con.execute("rollback")
        with utc_session(con):
            assert con.execute("select current_setting('TimeZone')").fetchone()[0] == "UTC"
        assert con.execute("select current_setting('TimeZone')").fetchone()[0] == "Asia/Kolkata"
    finally:
        con.close()
