"""Reports opened in a real headless Chromium from file:// with the network blocked.

Warehouses are built with the real pipeline (simulated sources -> models.build) or with
hand-made normalised rows run through the same models; hostile text is asserted inert in the
browser. These tests FAIL (never skip) when chromium is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import pytest

from tracker.config import load_config
from tracker.models import build
from tracker.pipeline import collect
from tracker.report import write_reports
from tracker.store.db import connect

from . import report_marts
from .browser import chart_marks, drag, hover, open_page

pytestmark = pytest.mark.browser

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[reports]
dir = "out"
[[campaigns]]
name = "aleppo"
title = "#AleppoIsBurning"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
start = 2016-04-22
end = 2016-05-05
timezone = "Asia/Damascus"
events = [{{ date = 2016-04-27, label = "al-Quds hospital strike" }}]
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = 400
[[campaigns.sources]]
type = "simulated"
platform = "mastodon"
posts = 100
[[campaigns]]
name = "quiet"
hashtags = ["NobodyUsesThisTag"]
{extra}
"""
HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_URL = "javascript:window.__pwned=1"


def make_config(tmp_path, extra: str = ""):
    path = tmp_path / "tracker.toml"
    path.write_text(textwrap.dedent(CONFIG.format(extra=extra)), encoding="utf-8")
    return load_config(path)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A simulated campaign collected and built by the real pipeline, plus an empty one."""
    tmp = tmp_path_factory.mktemp("simulated")
    cfg = make_config(tmp)
    con = connect(cfg.warehouse)
    collect(con, cfg)
    build(con, cfg.campaigns)
    paths = write_reports(con, cfg, cfg.reports, images=False)
    yield cfg, con, paths
    con.close()


def assert_clean(run, where) -> None:
    assert run.outside_requests == [], f"{where}: requests left the page"
    assert run.errors == [], f"{where}: console errors"


def test_campaign_report_renders_offline_with_every_chart(simulated):
    cfg, con, paths = simulated
    page = cfg.reports / "aleppo" / "index.html"
    assert page in paths
    browser, run = open_page(page)
    try:
        assert_clean(run, page)
        assert browser.evaluate("window.__chartErrors") == []
        marks = chart_marks(browser)
        # The four time charts share one spec (brushing); each view drew data marks.
        assert set(marks) == {"timeline", "top_contributors", "hashtags", "languages",
                              "heatmap", "network", "tags", "domains", "links_daily",
                              "media_daily"}
        assert len(marks["timeline"]) == 4
        assert all(n > 0 for views in marks.values() for n in views), marks
        posts = con.execute("select count(*) from core.campaign_posts where campaign = 'aleppo'"
                            ).fetchone()[0]
        shown = browser.evaluate(
            "document.querySelector('[data-figure=posts] b').textContent")
        assert shown == f"{posts:,}"
        assert "Synthetic data" in browser.evaluate(
            "document.querySelector('.synthetic').textContent")
        # A definition is one click away from each figure.
        href = browser.evaluate("document.querySelector('[data-figure=posts] a').hash")
        assert browser.evaluate(f"document.querySelector('{href}').textContent") == "Posts"
        rows = browser.evaluate("document.querySelectorAll('#top-posts tbody tr').length")
        assert rows == min(25, con.execute(
            "select count(*) from marts.top_posts where campaign = 'aleppo'").fetchone()[0])
        # The configured event is drawn on the volume chart.
        assert "al-Quds hospital strike" in browser.evaluate(
            "document.querySelector('#chart-timeline svg').textContent")
    finally:
        browser.close()


def test_brushing_the_volume_chart_zooms_the_other_time_charts(simulated):
    cfg, _, _ = simulated
    browser, run = open_page(cfg.reports / "aleppo" / "index.html")
    ticks = ("Array.from(document.querySelectorAll('#chart-timeline g.concat_{}_group "
             "g.role-axis-label text')).map(t => t.textContent)")
    try:
        before = [browser.evaluate(ticks.format(i)) for i in range(4)]
        drag(browser, "#chart-timeline g.concat_0_group path.background", 0.35, 0.6)
        after = [browser.evaluate(ticks.format(i)) for i in range(4)]
        assert run.errors == []
        assert after[0] == before[0]  # the brushed chart keeps its full range
        for i in (1, 2, 3):  # the others zoom in: fewer, later first days
            assert after[i] != before[i], i
            assert after[i][0] > before[i][0] or len(after[i]) < len(before[i]), i
    finally:
        browser.close()


def test_index_and_comparison_pages_render_offline(simulated):
    cfg, con, _ = simulated
    browser, run = open_page(cfg.reports / "index.html")
    try:
        assert_clean(run, "index.html")
        listed = browser.evaluate(
            "Array.from(document.querySelectorAll('tr[data-campaign]')).map(r => "
            "[r.dataset.campaign, r.cells[1].textContent, "
            "r.querySelector('a') && r.querySelector('a').getAttribute('href')])")
        summary = dict(con.execute(
            "select campaign, posts from marts.campaign_summary").fetchall())
        assert listed == [["aleppo", f"{summary['aleppo']:,}", "aleppo/index.html"],
                          ["quiet", "0", "quiet/index.html"]]
        assert browser.evaluate("document.querySelector('.synthetic') !== null")
    finally:
        browser.close()
    browser, run = open_page(cfg.reports / "compare.html")
    try:
        assert_clean(run, "compare.html")
        marks = chart_marks(browser)
        assert set(marks) == {"share_of_voice", "campaigns_volume"}
        assert all(n > 0 for views in marks.values() for n in views)
    finally:
        browser.close()


def test_empty_campaign_renders_with_messages(simulated):
    cfg, _, _ = simulated
    browser, run = open_page(cfg.reports / "quiet" / "index.html")
    try:
        assert_clean(run, "quiet")
        assert browser.evaluate("document.querySelectorAll('[data-chart]').length") == 0
        empty = browser.evaluate("Array.from(document.querySelectorAll('[data-empty-chart]'))"
                                 ".map(e => e.dataset.emptyChart)")
        assert set(empty) == {"volume", "platforms", "contributors", "impressions",
                              "top_contributors", "hashtags", "languages", "heatmap",
                              "network", "tags"}
        assert "No posts in this campaign" in browser.evaluate(
            "document.querySelector('[data-empty-campaign]').textContent")
        assert browser.evaluate(
            "document.querySelector('[data-figure=posts] b').textContent") == "0"
    finally:
        browser.close()


def hostile_posts(start: dt.datetime) -> list[dict]:
    return [
        {"post_id": "1", "created_at": start, "author_id": "a1", "handle": HOSTILE_IMG,
         "text": HOSTILE_SCRIPT + " #AleppoIsBurning", "url": HOSTILE_URL, "likes": 9},
        {"post_id": "2", "created_at": start + dt.timedelta(minutes=30), "author_id": "a2",
         "handle": HOSTILE_SCRIPT, "text": HOSTILE_IMG, "url": "https://example.org/p/2",
         "likes": 5},
        {"post_id": "3", "created_at": start + dt.timedelta(hours=2), "author_id": "a1",
         "handle": HOSTILE_IMG, "text": f'<a href="{HOSTILE_URL}">click</a>',
         "url": "JaVaScRiPt:window.__pwned=1", "likes": 1},
    ]


def test_hostile_text_shows_as_text_and_runs_nothing(tmp_path):
    cfg = make_config(tmp_path, extra=textwrap.dedent(f"""
        [[campaigns]]
        name = "hostile"
        title = '{HOSTILE_IMG}'
        hashtags = ["AleppoIsBurning"]
        events = [{{ date = 2016-04-27, label = '{HOSTILE_SCRIPT}' }}]
        """))
    con = connect(cfg.warehouse)
    report_marts.insert_posts(con, "hostile", hostile_posts(
        dt.datetime(2016, 4, 27, 10, tzinfo=dt.UTC)))
    build(con, cfg.campaigns)
    page = write_reports(con, cfg, cfg.reports, "hostile", images=False)[0]
    con.close()
    html = page.read_text(encoding="utf-8")
    for raw in (HOSTILE_SCRIPT, HOSTILE_IMG):
        assert raw not in html
    browser, run = open_page(page)
    try:
        assert_clean(run, page)
        assert browser.evaluate("typeof window.__pwned") == "undefined"
        assert browser.evaluate("document.querySelectorAll('img').length") == 0
        # Only the page's own three scripts exist (bundle, chart specs, embedding).
        assert browser.evaluate("document.querySelectorAll('script').length") == 3
        cells = browser.evaluate("Array.from(document.querySelectorAll('#top-posts tbody tr'))"
                                 ".map(r => [r.cells[1].textContent, r.cells[2].textContent, "
                                 "r.cells[r.cells.length - 1].innerHTML])")
        texts = {c[0] for c in cells}
        assert HOSTILE_SCRIPT + " #AleppoIsBurning" in texts and HOSTILE_IMG in texts
        assert any(c[1].startswith(HOSTILE_SCRIPT) for c in cells)
        # Only the https link became a link; javascript: urls are shown as text.
        hrefs = browser.evaluate("Array.from(document.querySelectorAll('a[href]'))"
                                 ".map(a => a.getAttribute('href'))")
        assert "https://example.org/p/2" in hrefs
        assert not [h for h in hrefs if "javascript" in h.lower()]
        assert browser.evaluate("document.querySelector('h1').textContent") == (
            "Campaign report: " + HOSTILE_IMG)
        # Names drawn inside charts are SVG text, not markup.
        assert HOSTILE_IMG in browser.evaluate(
            "document.querySelector('#chart-top_contributors svg').textContent")
        assert HOSTILE_SCRIPT in browser.evaluate(
            "document.querySelector('#events').textContent")
        # Tooltips are HTML: hovering a bar shows the hostile handle as text.
        hover(browser, "#chart-top_contributors svg g.role-mark path")
        tip = browser.evaluate("document.querySelector('#vg-tooltip-element').textContent")
        assert HOSTILE_IMG in tip or HOSTILE_SCRIPT in tip
        assert browser.evaluate("document.querySelectorAll('img').length") == 0
        assert browser.evaluate("typeof window.__pwned") == "undefined"
    finally:
        browser.close()


def test_hostile_mart_rows_and_coverage_warning(tmp_path):
    """Hand-made marts: hostile tags, languages, source names and gap reasons."""
    cfg = make_config(tmp_path, extra='[[campaigns]]\nname = "hostile"\nhashtags = ["x"]\n')
    con = connect(cfg.warehouse)
    report_marts.hostile_campaign(con, "hostile", synthetic=True)
    page = write_reports(con, cfg, cfg.reports, "hostile", images=False)[0]
    con.close()
    browser, run = open_page(page)
    try:
        assert_clean(run, page)
        assert browser.evaluate("typeof window.__pwned") == "undefined"
        assert browser.evaluate("document.querySelectorAll('img').length") == 0
        warning = browser.evaluate(
            "document.querySelector('[data-coverage-warning]').textContent")
        assert "Coverage has gaps" in warning and HOSTILE_IMG in warning
        assert HOSTILE_SCRIPT in warning
        assert "<b>bold</b>" in browser.evaluate(
            "document.querySelector('#chart-hashtags svg').textContent")
        assert browser.evaluate("document.querySelector('.synthetic') !== null")
    finally:
        browser.close()


EDGE_CASES = {
    # name: (extra config, hand-made posts or None for simulated, expected bucket)
    "one-post": ("", [dt.datetime(2016, 4, 27, 13, 5, tzinfo=dt.UTC)], "hour"),
    "one-day": ("start = 2016-04-27\nend = 2016-04-27\n[[campaigns.sources]]\n"
                "type = 'simulated'\nplatform = 'x'\nposts = 60\n", None, "hour"),
    "years": ("", [dt.datetime(2013 + k // 12, 1 + k % 12, 15, 12, tzinfo=dt.UTC)
                   for k in range(0, 48, 3)], "month"),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_cases_render_with_sensible_buckets(tmp_path, case):
    extra, times, bucket = EDGE_CASES[case]
    cfg = make_config(tmp_path, extra=f'[[campaigns]]\nname = "{case}"\n'
                                      f'hashtags = ["AleppoIsBurning"]\n{extra}')
    con = connect(cfg.warehouse)
    if times is None:
        collect(con, cfg, case)
    else:
        report_marts.insert_posts(con, case, [
            {"post_id": str(i), "created_at": t, "author_id": f"a{i % 3}", "handle": f"u{i}",
             "text": "#AleppoIsBurning", "url": f"https://example.org/{i}"}
            for i, t in enumerate(times)])
    build(con, cfg.campaigns)
    page = write_reports(con, cfg, cfg.reports, case, images=False)[0]
    summary = json.loads((page.parent / "summary.json").read_text(encoding="utf-8"))
    posts = con.execute("select count(*) from core.campaign_posts where campaign = ?",
                        [case]).fetchone()[0]
    con.close()
    assert summary["bucket"] == bucket
    assert summary["figures"]["posts"] == posts > 0
    browser, run = open_page(page)
    try:
        assert_clean(run, page)
        marks = chart_marks(browser)
        assert len(marks["timeline"]) == 4 and all(n > 0 for n in marks["timeline"]), marks
        assert all(n > 0 for views in marks.values() for n in views), marks
    finally:
        browser.close()
