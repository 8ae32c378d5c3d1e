"""Every platform in norm.posts reaches the marts and the report: real X, Mastodon and Bluesky
archives and CrowdTangle-style / mapped CSV exports imported with `tracker import`, and every
post linked to a campaign inside its window counted in marts.campaign_summary.

Expected counts come from the JSON (tests/models_oracle.py reads it) and from the CSV rows
themselves, never from the project's SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest

from tracker.hashtags import normalise_tag
from tracker.models import build
from tracker.report import Window
from tracker.report.campaign import write_report

from .conftest import BACKENDS, FIXTURES, open_warehouse
from .import_helpers import make_config, run_import
from .models_oracle import Campaign, Oracle
from .test_import_csv import CT_HEADER, ct_row, write_csv

TWARC_FILES = sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))
MASTODON_PAGES = FIXTURES / "mastodon" / "mpy_tag_timeline_pages.jsonl"
BLUESKY_SEARCH = FIXTURES / "bluesky" / "bskyr_searchPosts_q-redistricting.json"
EXTRA = """
[[campaigns]]
name = "fixtures"
hashtags = ["unused_tag_x"]
[[campaigns]]
name = "toots"
hashtags = ["unused_tag_mastodon"]
[[campaigns]]
name = "bsky"
hashtags = ["unused_tag_bluesky"]
[[campaigns]]
name = "fbwindow"
hashtags = ["FbWindow"]
timezone = "America/New_York"
start = 2016-04-29
end = 2016-04-29

[csv_mappings.telegram]
platform = "telegram"
post_id = "msg_id"
created_at = "date"
text = "body"
author_id = "channel"
"""
# CrowdTangle rows: (created, message); times as CrowdTangle writes them (Eastern time)
CT_ROWS = [
    ("2016-04-29 10:00:00 EDT", "Turn Facebook red #MakeFacebookRed"),
    ("2016-04-29 12:30:00 EDT", "حلب تحترق\n#حلب_تحترق #AleppoIsBurning"),
    ("2016-04-29 23:30:00 EDT", "late on the 29th in New York #FbWindow #makefacebookred"),
    ("2016-04-30 00:30:00 EDT", "the 30th in New York: outside the window #FbWindow"),
    ("2016-04-30 08:00:00 EDT", "no tags here"),
]
# a platform the registry does not know, through a [csv_mappings] table
TELEGRAM_ROWS = [("1", "1461924000", "#AleppoIsBurning now", "chan"),
                 ("2", "1461927600", "#ALEPPOISBURNING again", "chan"),
                 ("3", "1461931200", "nothing", "chan")]


def ct_time(text: str) -> dt.datetime:
    """CrowdTangle's 'YYYY-MM-DD HH:MM:SS EDT' (UTC-4)."""
    local = dt.datetime.fromisoformat(text[:19])
    return local.replace(tzinfo=dt.timezone(dt.timedelta(hours=-4))).astimezone(dt.UTC)


def text_tags(text: str) -> set[str]:
    return {normalise_tag(t) for t in re.findall(r"#(\w+)", text)}


def csv_expected(cfg) -> dict[str, dict[str, int]]:
    """{campaign: {platform: posts}} for the CSV rows: a row counts for a campaign when its
    text carries one of the campaign's tags and it was made inside the campaign's window."""
    rows = [("facebook", ct_time(t), m) for t, m in CT_ROWS]
    rows += [("telegram", dt.datetime.fromtimestamp(int(t), dt.UTC), body)
             for _, t, body, _ in TELEGRAM_ROWS]
    out: dict[str, dict[str, int]] = {}
    for c in cfg.campaigns:
        tags = {normalise_tag(t) for t in c.hashtags}
        for platform, created, text in rows:
            day = created.astimezone(ZoneInfo(c.timezone)).date()
            inside = (c.start is None or day >= c.start) and (c.end is None or day <= c.end)
            if inside and tags & text_tags(text):
                out.setdefault(c.name, {}).setdefault(platform, 0)
                out[c.name][platform] += 1
    return out


def json_lines(path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            json.loads(line)
        except json.JSONDecodeError:
            continue
        out.append(line)
    return out


@pytest.fixture(scope="module", params=BACKENDS)
def imported(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("every-platform")
    cfg = make_config(tmp, EXTRA, backend=request.param)
    ct = tmp / "crowdtangle.csv"
    write_csv(ct, CT_HEADER, [ct_row(n, t, m) for n, (t, m) in enumerate(CT_ROWS, 1)])
    tg = tmp / "telegram.csv"
    write_csv(tg, ["msg_id", "date", "body", "channel"], [list(r) for r in TELEGRAM_ROWS])
    run_import(cfg, TWARC_FILES, campaign="fixtures")
    run_import(cfg, [MASTODON_PAGES], campaign="toots")
    run_import(cfg, [BLUESKY_SEARCH], campaign="bsky")
    run_import(cfg, [ct])
    run_import(cfg, [tg], fmt="csv", mapping="telegram")
    oracle = Oracle([Campaign(c.name, list(c.hashtags), c.timezone, c.start, c.end)
                     for c in cfg.campaigns])
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for path in TWARC_FILES:
        for line in json_lines(path):
            oracle.add_page("x_v2_page", line, at, assign="fixtures")
    for line in json_lines(MASTODON_PAGES):
        oracle.add_page("mastodon_statuses", line, at, assign="toots")
    oracle.add_page("bluesky_posts", BLUESKY_SEARCH.read_text(encoding="utf-8"), at,
                    assign="bsky")
    con = open_warehouse(cfg)
    build(con, cfg.campaigns)
    yield cfg, con, oracle
    con.close()


def expected_posts(cfg, oracle) -> dict[str, dict[str, int]]:
    """{campaign: {platform: posts}} from the JSON archives and the CSV rows."""
    out = csv_expected(cfg)
    for c in oracle.campaigns:
        for p in oracle.members(c):
            out.setdefault(c.name, {}).setdefault(p.platform, 0)
            out[c.name][p.platform] += 1
    return out


def test_every_linked_post_is_counted_in_the_summary(imported):
    cfg, con, oracle = imported
    want = expected_posts(cfg, oracle)
    got = dict(con.execute("select campaign, posts from marts.campaign_summary").fetchall())
    assert got == {c.name: sum(want.get(c.name, {}).values()) for c in cfg.campaigns}
    # every platform of the archives is there: the registry's and one it does not know
    assert {p for per in want.values() for p in per} == {"x", "mastodon", "bluesky",
                                                         "facebook", "telegram"}
    # and no post linked inside the window is missing (the warehouse's own links)
    linked = con.execute("""
        select count(*) from norm.campaign_posts m
        join norm.posts p using (platform, post_id)
        join core.campaigns c using (campaign)
        where (c.start_date is null
               or cast(timezone(c.timezone, p.created_at) as date) >= c.start_date)
          and (c.end_date is null
               or cast(timezone(c.timezone, p.created_at) as date) <= c.end_date)""").fetchone()
    assert linked[0] == sum(got.values())


@pytest.mark.parametrize("mart, column", [("platform_share", "posts"),
                                          ("volume_daily", "posts"),
                                          ("reach_daily", "posts"),
                                          ("platform_summary", "posts")])
def test_every_platform_in_the_marts_by_platform(imported, mart, column):
    cfg, con, oracle = imported
    want = {(c, p): n for c, per in expected_posts(cfg, oracle).items() for p, n in per.items()}
    got = dict(((c, p), n) for c, p, n in con.execute(
        f"select campaign, platform, sum({column})::bigint from marts.{mart} group by all"
    ).fetchall())
    assert got == want


def test_csv_posts_rank_and_show_in_the_report(imported, tmp_path):
    cfg, con, _ = imported
    red = cfg.campaign("red")
    top = con.execute("select platform, engagement from marts.top_posts "
                      "where campaign = 'red' order by rank").fetchall()
    # CrowdTangle rows: reactions (summed over kinds) + shares + comments, as exported
    per_row = (10 + 5 + 0 + 0 + 3 + 2 + 0) + 6 + 4
    assert top == [("facebook", per_row), ("facebook", per_row)]
    # Facebook exports carry followers at posting but no impressions
    (known, share, actual) = con.execute(
        "select followers_known_posts, impressions_known_share, actual_impressions "
        "from marts.campaign_summary where campaign = 'red'").fetchone()
    assert (known, share, actual) == (2, 0, None)
    out = write_report(con, cfg, red, tmp_path, Window(), images=False)
    summary = json.loads((out.parent / "summary.json").read_text(encoding="utf-8"))
    assert summary["figures"]["posts"] == 2
    assert summary["figures"]["platforms"] == "facebook"
    html = out.read_text(encoding="utf-8")
    assert "Platforms: Facebook ·" in html
    assert '<div class="figure" data-figure="actual_impressions"><b>not known</b>' in html


def test_report_says_for_what_share_follower_counts_are_known(imported, tmp_path):
    """#AleppoIsBurning: one CrowdTangle row (followers at posting exported) and two rows of
    the telegram mapping, which has no followers column."""
    cfg, con, _ = imported
    aleppo = cfg.campaign("aleppo")
    tags = {normalise_tag(t) for t in aleppo.hashtags}
    followers = [True for _, m in CT_ROWS if tags & text_tags(m)]
    followers += [False for *_, body, _ in TELEGRAM_ROWS if tags & text_tags(body)]
    share = sum(followers) / len(followers)
    out = write_report(con, cfg, aleppo, tmp_path, Window(), images=False)
    html = out.read_text(encoding="utf-8")
    known = f"known for {share:.0%} of posts"
    assert known == "known for 33% of posts"
    for figure in ("potential_reach", "potential_impressions"):
        assert f'<small data-known="{figure}">{known}</small>' in html
    summary = json.loads((out.parent / "summary.json").read_text(encoding="utf-8"))
    assert summary["figures"]["potential_reach"] == 120000   # the one known page's followers
    assert summary["figures"]["followers_known_share"] == pytest.approx(share)


def test_unknown_platform_gets_the_registry_defaults(imported):
    _, con, _ = imported
    rows = con.execute("select distinct platform, reports_impressions from core.posts "
                       "where platform in ('telegram', 'facebook') order by 1").fetchall()
    assert rows == [("facebook", False), ("telegram", False)]


def test_imported_archives_mark_no_day_complete(imported):
    """`tracker import --campaign` of archives: their days' coverage is not known."""
    _, con, _ = imported
    rows = con.execute("select campaign, source, state, count(*) from marts.coverage "
                       "group by all order by all").fetchall()
    assert {(c, s, st) for c, s, st, _ in rows} == {
        (c, "import", "unknown") for c in ("bsky", "fixtures", "toots")}
    assert all(n >= 1 for *_, n in rows)
