"""The report's "Links and domains" and "Media" sections: `--since/--until` applies to them
(checked against the plain-Python oracle over the window's posts), hostile links and
descriptions stay text, and the section files are written. The browser checks (marks drawn
at 375 and 1400 px, no console error, no request leaving file://) are in
tests/test_report_layout.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pytest

from tracker.models import build
from tracker.pages import RawPage
from tracker.report import links as links_section
from tracker.report.campaign import write_report
from tracker.report.data import Window
from tracker.report.window import Scope
from tracker.store.db import connect
from tracker.store.normalise import prepare

from .links_oracle import Links, LinksOracle
from .test_links_marts import _feed, build_synthetic, config, edge_pages, oracle_for

UTC = dt.UTC
WINDOW = Window(dt.date(2016, 4, 27), dt.date(2016, 4, 28))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    con, oracle = build_synthetic(tmp_path_factory.mktemp("links-report"))
    yield con, oracle
    con.close()


def test_window_applies_to_the_links_and_media_sections(synthetic, tmp_path):
    con, oracle = synthetic
    cfg = config([{"name": "aleppo", "hashtags": ["AleppoIsBurning", "حلب_تحترق"],
                   "timezone": "Asia/Damascus", "start": dt.date(2016, 4, 22),
                   "end": dt.date(2016, 5, 5)}], tmp_path)
    c = cfg.campaigns[0]
    tables = links_section.load(con, c, Scope(con, c, WINDOW))
    (whole,) = [x for x in oracle.oracle.campaigns if x.name == "aleppo"]
    windowed = LinksOracle(dataclasses.replace(oracle.oracle, campaigns=[
        dataclasses.replace(whole, start=WINDOW.since, end=WINDOW.until)]), oracle.links)
    want = {r for r in windowed.top_links() if r[2] <= links_section.TOP}
    got = {("aleppo", r["metric"], r["rank"], r["url_norm"], r["domain"], r["posts"],
            r["authors"], r["potential_reach"]) for r in tables["links"]}
    assert got and got == {r[:8] for r in want}
    days = {r["t"][:10] for r in tables["links_daily"]} | {r["t"][:10]
                                                             for r in tables["media_daily"]}
    assert days == {"2016-04-27", "2016-04-28"}
    want_media = {(r[1], r[2], r[3], r[6]) for r in windowed.top_media()
                  if r[2] <= links_section.TOP}
    assert {(r["metric"], r["rank"], r["url"], r["posts"]) for r in tables["media"]} == \
        want_media
    # the whole campaign has more
    whole_tables = links_section.load(con, c, Scope(con, c, Window()))
    assert sum(r["posts_with_links"] for r in whole_tables["links_daily"]) > \
        sum(r["posts_with_links"] for r in tables["links_daily"])


def hostile_pages() -> list[RawPage]:
    """A Bluesky post linking to javascript: and to a url with markup, with an image whose
    description is markup."""
    did = "did:plc:hostile1"
    evil = 'https://evil.example/"><script>alert(1)</script>'
    post = {"uri": f"at://{did}/app.bsky.feed.post/1", "cid": "c9",
            "author": {"did": did, "handle": "hostile.bsky.social"},
            "record": {"text": "#Links x y", "langs": ["en"],
                       "createdAt": "2016-04-01T16:00:00.000Z", "facets": [
                           {"index": {"byteStart": 0, "byteEnd": 6}, "features": [
                               {"$type": "app.bsky.richtext.facet#tag", "tag": "Links"}]},
                           {"index": {"byteStart": 7, "byteEnd": 8}, "features": [
                               {"$type": "app.bsky.richtext.facet#link",
                                "uri": "javascript:alert(1)"}]},
                           {"index": {"byteStart": 9, "byteEnd": 10}, "features": [
                               {"$type": "app.bsky.richtext.facet#link", "uri": evil}]}]},
            "embed": {"$type": "app.bsky.embed.images#view", "images": [
                {"fullsize": "javascript:alert(2)", "thumb": "javascript:alert(2)",
                 "alt": "<img src=x onerror=alert(3)>"}]},
            "indexedAt": "2016-04-01T16:00:01.000Z", "likeCount": 1}
    return [RawPage("bluesky_posts", "bluesky", json.dumps({"posts": [post]}),
                    retrieved_at=dt.datetime(2016, 4, 2, tzinfo=UTC))]


def test_hostile_links_and_descriptions_stay_text(tmp_path):
    cfg = config([{"name": "links", "hashtags": ["Links"], "timezone": "Europe/London"}],
                 tmp_path)
    con = connect(tmp_path / "hostile.duckdb")
    prepare(con, cfg.campaigns)
    _feed(con, oracle_for(cfg), Links(), edge_pages() + hostile_pages(), campaign="links",
          source="x")
    build(con, cfg.campaigns)
    page = write_report(con, cfg, cfg.campaigns[0], tmp_path / "out", images=False)
    con.close()
    html = page.read_text("utf-8")
    section = html[html.index('<section id="links">'):html.index('<section id="downloads">')]
    hrefs = re.findall(r'href="([^"]*)"', section)
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
    assert "javascript:alert(1)" in section  # shown, as text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in section
    assert 'id="chart-domains"' in section and 'id="chart-media_daily"' in section
    for name in ("links", "domains", "media", "links_daily", "media_daily"):
        assert (page.parent / f"{name}.csv").exists()
