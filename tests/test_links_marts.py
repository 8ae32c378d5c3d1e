"""Links, domains and media: norm.post_urls / post_media and the link and media marts, against
plain Python over the same raw payloads (tests/links_oracle.py), on the real recorded payloads,
on the simulated source's campaigns and on hand-made pages for the edge cases."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tracker.models import build
from tracker.pages import RawPage, RunLog
from tracker.sources import build_source
from tracker.store import ledger
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .conftest import FIXTURES, MORE_BACKENDS, connect_at, jsonl
from .import_helpers import v11_search_body
from .links_oracle import LINKS_MART_COLUMNS, Links, LinksOracle, links_sql_rows
from .models_oracle import Oracle
from .test_models_marts import account, config, load, oracle_for, status, tweet, x_page, x_user

UTC = dt.UTC


def _feed(con, oracle: Oracle, links: Links, pages: list[RawPage], **kw) -> None:
    load(con, oracle, pages, **kw)
    for p in pages:
        links.add_page(p.format, p.payload)


def real_pages() -> list[RawPage]:
    pages = []
    for n, path in enumerate(sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))):
        pages += [RawPage("x_v2_page", "x", json.dumps(p),
                          retrieved_at=dt.datetime(2022, 1, 1, n, i, tzinfo=UTC))
                  for i, p in enumerate(jsonl(path))]
    lines = (FIXTURES / "mastodon" / "mpy_statuses_quote_reblog_poll_edit.jsonl").read_text(
        "utf-8").splitlines()
    pages += [RawPage("mastodon_statuses", "mastodon", line,
                      retrieved_at=dt.datetime(2026, 8, 2, 0, i, tzinfo=UTC))
              for i, line in enumerate(lines) if line.strip()]
    pages.append(RawPage("mastodon_statuses", "mastodon",
                         (FIXTURES / "mastodon" / "mpy_public_timeline.json").read_text("utf-8"),
                         retrieved_at=dt.datetime(2026, 8, 3, tzinfo=UTC)))
    for i, name in enumerate(("searchPosts_q-redistricting", "getAuthorFeed", "getTimeline",
                              "getQuotes", "getPosts", "getPostThread", "getProfiles")):
        fmt = "bluesky_profiles" if name == "getProfiles" else "bluesky_posts"
        pages.append(RawPage(fmt, "bluesky",
                             (FIXTURES / "bluesky" / f"bskyr_{name}.json").read_text("utf-8"),
                             retrieved_at=dt.datetime(2025, 6, 1, i, tzinfo=UTC)))
    return pages


def build_real(tmp_path, backend: str = "duckdb"):
    cfg = config([{"name": "fixtures", "hashtags": ["unused_tag_for_assigned_posts"]},
                  {"name": "rstats", "hashtags": ["rstats", "redistricting"],
                   "timezone": "America/New_York"}], tmp_path)
    con = connect_at(tmp_path, "real", backend)
    oracle, links = oracle_for(cfg), Links()
    prepare(con, cfg.campaigns)
    _feed(con, oracle, links, real_pages(), campaign=None, source="import", assign="fixtures")
    build(con, cfg.campaigns)
    return con, LinksOracle(oracle, links)


def build_synthetic(tmp_path, backend: str = "duckdb"):
    cfg = config([
        {"name": "aleppo", "hashtags": ["AleppoIsBurning", "حلب_تحترق"],
         "timezone": "Asia/Damascus", "start": dt.date(2016, 4, 22), "end": dt.date(2016, 5, 5),
         "sources": [{"type": "simulated", "platform": "x", "posts": 1500},
                     {"type": "simulated", "platform": "mastodon", "posts": 300},
                     {"type": "simulated", "platform": "bluesky", "posts": 300}]},
        {"name": "red", "hashtags": ["MakeFacebookRed"], "timezone": "UTC",
         "sources": [{"type": "simulated", "platform": "x", "posts": 200, "seed": 29}]},
    ], tmp_path)
    con = connect_at(tmp_path, "synthetic", backend)
    oracle, links = oracle_for(cfg), Links()
    prepare(con, cfg.campaigns)
    for c in cfg.campaigns:
        for s in c.sources:
            pages = list(build_source(c, s).pages(None, RunLog()))
            _feed(con, oracle, links, pages, campaign=c.name, source=s.name)
    build(con, cfg.campaigns)
    return con, LinksOracle(oracle, links)


ARTICLE = "https://www.Example.co.uk/News/Story?id=7"


def edge_pages() -> list[RawPage]:
    """Edge cases: one link written four ways by three authors (tracking parameters, upper-case
    host, default port, fragment), one by an author without follower counts; a t.co link
    standing for a photo; two links tied on posts; a Mastodon status whose card repeats its
    content link, with mention and hashtag anchors, a non-http link and a photo; a reblog of
    it (carries nothing); a Bluesky post with the same link as facet and external embed."""
    at = dt.datetime(2016, 4, 1, 12, tzinfo=UTC)
    t1 = tweet("1", "2016-04-01T10:00:00.000Z", "1", ["Links"])
    t1["entities"]["urls"] = [
        {"url": "https://t.co/a", "expanded_url": ARTICLE + "&utm_source=tw&fbclid=x"},
        {"url": "https://t.co/p", "expanded_url": "https://x.com/u/status/1/photo/1",
         "media_key": "3_1"}]
    t1["attachments"] = {"media_keys": ["3_1", "3_missing"]}
    t2 = tweet("2", "2016-04-01T11:00:00.000Z", "2", ["Links"])
    t2["entities"]["urls"] = [
        {"url": "https://t.co/b", "expanded_url": "HTTPS://WWW.EXAMPLE.CO.UK:443/News/Story?id=7"},
        {"url": "https://t.co/c", "expanded_url": "https://b.example.org/tie"},
        {"url": "https://t.co/d", "expanded_url": "https://a.example.org/tie#top"}]
    t3 = tweet("3", "2016-04-02T01:00:00.000Z", "3", ["Links"])
    t3["entities"]["urls"] = [{"url": "https://t.co/e", "expanded_url": ARTICLE + "#comments"}]
    silent = {"id": "3", "username": "U3", "name": "No counts"}
    page = x_page([t1, t2, t3], [x_user("1", 100), x_user("2", 40), silent], at)
    body = json.loads(page.payload)
    body["includes"]["media"] = [{"media_key": "3_1", "type": "photo",
                                  "url": "https://pbs.example/1.jpg", "alt_text": "<b>x</b>"}]
    page = RawPage("x_v2_page", "x", json.dumps(body), retrieved_at=at)
    ana = account("ana", "example.org", 30)
    st = status("https://example.org/users/ana/statuses/1", "11", "2016-04-01T09:00:00.000Z",
                ana, ["Links"])
    st["content"] = (
        '<p><a href="https://example.org/@bob" class="u-url mention">@bob</a> '
        '<a href="https://example.org/tags/links" class="mention hashtag">#Links</a> '
        f'<a href="{ARTICLE}&amp;utm_medium=social" rel="nofollow">story</a> '
        '<a href="mailto:press@example.org">mail</a></p>')
    st["card"] = {"url": ARTICLE, "type": "link"}
    st["media_attachments"] = [{"id": "m1", "type": "image", "url": "https://files.example/1.png",
                                "preview_url": "https://files.example/s1.png",
                                "description": "a map"}]
    reblog = status("https://other.net/users/bob/statuses/9/activity", "12",
                    "2016-04-01T13:00:00.000Z", account("bob", "other.net", 5), [], reblog=st)
    did = "did:plc:links01"
    post = {"uri": f"at://{did}/app.bsky.feed.post/1", "cid": "c1",
            "author": {"did": did, "handle": "links.bsky.social"},
            "record": {"text": "#Links https://b.example.org/tie", "langs": ["en"],
                       "createdAt": "2016-04-01T15:00:00.000Z", "facets": [
                           {"index": {"byteStart": 0, "byteEnd": 6}, "features": [
                               {"$type": "app.bsky.richtext.facet#tag", "tag": "Links"}]},
                           {"index": {"byteStart": 7, "byteEnd": 31}, "features": [
                               {"$type": "app.bsky.richtext.facet#link",
                                "uri": "https://b.example.org/tie"}]}],
                       "embed": {"$type": "app.bsky.embed.external", "external": {
                           "uri": "https://B.example.org/tie?utm_campaign=x"}}},
            "indexedAt": "2016-04-01T15:00:01.000Z", "likeCount": 1}
    return [page,
            RawPage("mastodon_statuses", "mastodon", json.dumps([st, reblog]), retrieved_at=at),
            RawPage("bluesky_posts", "bluesky", json.dumps({"posts": [post]}), retrieved_at=at)]


def build_edges(tmp_path, backend: str = "duckdb"):
    cfg = config([{"name": "links", "hashtags": ["Links"], "timezone": "Europe/London"}],
                 tmp_path)
    con = connect_at(tmp_path, "edges", backend)
    oracle, links = oracle_for(cfg), Links()
    prepare(con, cfg.campaigns)
    _feed(con, oracle, links, edge_pages(), campaign="links", source="x")
    build(con, cfg.campaigns)
    return con, LinksOracle(oracle, links)


BUILDERS = {"real": build_real, "synthetic": build_synthetic, "edges": build_edges}



@pytest.fixture(params=MORE_BACKENDS)
def backend(request) -> str:
    """conftest's `backend`, narrowed to MORE_BACKENDS for this module."""
    return request.param


@pytest.fixture(scope="module", params=[(n, b) for b in MORE_BACKENDS for n in sorted(BUILDERS)],
                ids=lambda p: f"{p[0]}-{p[1]}")
def dataset(request, tmp_path_factory):
    name, backend = request.param
    con, oracle = BUILDERS[name](tmp_path_factory.mktemp(name), backend)
    yield request.param, con, oracle
    con.close()


@pytest.fixture(scope="module", params=MORE_BACKENDS)
def edges(request, tmp_path_factory):
    con, oracle = build_edges(tmp_path_factory.mktemp("links-edges"), request.param)
    yield con, oracle
    con.close()


@pytest.mark.parametrize("mart", sorted(LINKS_MART_COLUMNS))
def test_mart_matches_independent_computation(dataset, mart):
    name, con, oracle = dataset
    want = getattr(oracle, mart)()
    got = links_sql_rows(con, mart)
    assert want, f"the {name} data set gives the oracle no rows for {mart}"
    assert got == want, (f"{mart} on {name}: only in SQL {sorted(got - want, key=str)[:5]}; "
                         f"only in Python {sorted(want - got, key=str)[:5]}")


def test_norm_links_and_media_match_the_payloads(dataset):
    """Every stored post's links and media items, as the payloads hold them."""
    _, con, oracle = dataset
    posts = con.execute("select platform, post_id from norm.posts").fetchall()
    want_links = {(*k, u, d) for k in posts for u, d in oracle.links.post_links(k).items()}
    got_links = set(con.execute(
        "select platform, post_id, url_norm, domain from norm.post_urls").fetchall())
    assert got_links == want_links
    want_media = {(*k, pos, kind, url) for k in posts
                  for pos, (url, kind) in enumerate(oracle.links.post_media(k), 1)}
    got_media = set(con.execute(
        "select platform, post_id, position, media_type, url from norm.post_media").fetchall())
    assert got_media == want_media


def test_x_v1_statuses_links_and_media(tmp_path, backend):
    """The v1.1 search response: entities.urls and extended_entities.media of each status and
    of the statuses it retweets or quotes."""
    cfg = config([{"name": "v1", "hashtags": ["unused"]}], tmp_path)
    con = connect_at(tmp_path, "v1", backend)
    prepare(con, cfg.campaigns)
    body = v11_search_body()
    page = RawPage("x_v1_status", "x", json.dumps(body),
                   retrieved_at=dt.datetime(2016, 5, 1, tzinfo=UTC))
    links = Links()
    links.add_page(page.format, page.payload)
    store_batch(con, [page], run_id=ledger.start_run(con, "import", None, "import"),
                source="import", campaign=None)
    posts = con.execute("select platform, post_id from norm.posts").fetchall()
    want = {(*k, u, d) for k in posts for u, d in links.post_links(k).items()}
    assert want, "the v1.1 fixture has links"
    assert set(con.execute(
        "select platform, post_id, url_norm, domain from norm.post_urls").fetchall()) == want
    want_media = {(*k, pos, kind, url) for k in posts
                  for pos, (url, kind) in enumerate(links.post_media(k), 1)}
    assert set(con.execute("select platform, post_id, position, media_type, url "
                           "from norm.post_media").fetchall()) == want_media
    con.close()


# --- the edge cases, spelled out -------------------------------------------------------------
def q(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def test_one_link_written_four_ways_is_one_link(edges):
    con, _ = edges
    rows = q(con, "select rank, url_norm, domain, posts, authors, potential_reach, "
                  "potential_impressions, followers_known_posts from marts.top_links "
                  "where metric = 'posts' and rank = 1")
    # X 1 (100 followers), X 2 (40), X 3 (followers unknown), Mastodon ana (30)
    assert rows == [(1, "https://www.example.co.uk/News/Story?id=7", "example.co.uk", 4, 4,
                     170, 170, 3)]


def test_ties_are_broken_by_the_link_and_unknown_reach_is_not_ranked(edges):
    con, _ = edges
    rows = q(con, "select rank, url_norm from marts.top_links where metric = 'posts' "
                  "order by rank")
    assert [u for _, u in rows] == ["https://www.example.co.uk/News/Story?id=7",
                                    "https://b.example.org/tie", "https://a.example.org/tie",
                                    "mailto:press@example.org"]
    reach = q(con, "select url_norm, potential_reach from marts.top_links "
                   "where metric = 'potential_reach' order by rank")
    # the Bluesky post's author has no profile: b.example.org/tie is known only through X 2
    assert ("https://b.example.org/tie", 40) in reach
    assert all(r is not None for _, r in reach)


def test_media_links_of_x_are_media_not_links_and_reblogs_carry_nothing(edges):
    con, _ = edges
    assert q(con, "select count(*) from norm.post_urls where url_norm like '%/photo/%'") == [(0,)]
    media = q(con, "select post_id, position, media_type, url, alt_text from norm.post_media "
                   "order by post_id, position")
    assert ("1", 1, "photo", "https://pbs.example/1.jpg", "<b>x</b>") in media
    assert ("1", 2, "unknown", None, None) in media
    assert q(con, "select count(*) from norm.post_urls where post_id like '%bob%'") == [(0,)]
    sources = q(con, "select source from norm.post_urls where platform = 'mastodon' "
                     "order by position")
    assert sources == [("content",), ("content",)]  # the card repeats the content link
    assert q(con, "select domain from norm.post_urls where url_norm like 'mailto:%'") == [(None,)]
    bsky = q(con, "select url, source from norm.post_urls where platform = 'bluesky'")
    assert bsky == [("https://b.example.org/tie", "facet")]


def test_backfill_fills_a_warehouse_made_before_schema_6(tmp_path, backend):
    """A warehouse whose raw pages were stored before norm.post_urls / post_media existed gets
    them, equal to a fresh load, when it is opened (the migration reads raw.pages)."""
    cfg = config([{"name": "links", "hashtags": ["Links"]}], tmp_path)
    con = connect_at(tmp_path, "old", backend)
    prepare(con, cfg.campaigns)
    load(con, oracle_for(cfg), edge_pages() + real_pages(), campaign="links", source="x")
    urls = "select * from norm.post_urls order by all"
    media = "select * from norm.post_media order by all"
    want = (q(con, urls), q(con, media))
    assert want[0] and want[1]
    # as before schema 6: no tables, the migration not recorded
    con.execute("drop table norm.post_urls; drop table norm.post_media; "
                "delete from schema_migrations where version = 6")
    con.close()
    con = connect_at(tmp_path, "old", backend)
    assert (q(con, urls), q(con, media)) == want
    con.close()


def test_csv_link_column_is_the_posts_link(tmp_path, backend):
    """A CrowdTangle export's Link column: the link the post shares (tracking parameters
    dropped); a row whose link is its own post url has none."""
    from .import_helpers import make_config, query, run_import
    from .test_import_csv import CT_HEADER, ct_row, write_csv
    path = tmp_path / "crowdtangle.csv"
    write_csv(path, CT_HEADER, [
        ct_row(1, "2016-04-29 10:00:00 EDT", "#MakeFacebookRed",
               Link="https://Example.org/aleppo?utm_source=fb&id=3"),
        ct_row(2, "2016-04-29 11:00:00 EDT", "#MakeFacebookRed",
               Link="https://www.facebook.com/page2/posts/552")])
    cfg = make_config(tmp_path, backend=backend)
    run_import(cfg, [path])
    assert query(cfg, "select post_id, url, url_norm, domain, source from norm.post_urls") == [
        ("https://www.facebook.com/page1/posts/551",
         "https://Example.org/aleppo?utm_source=fb&id=3", "https://example.org/aleppo?id=3",
         "example.org", "csv")]
