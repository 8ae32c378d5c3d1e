"""The report's "Tags and variants" and "Platforms side by side" sections: in a real headless
Chromium (tests/browser.py: file://, network blocked) on a phone and a desktop, and their HTML
with hostile text."""

from __future__ import annotations

import pytest

from tracker.config import parse_config
from tracker.report import side_by_side
from tracker.report import tags as tags_section

from .browser import chart_marks, open_page
from .test_report_layout import DESKTOP, PHONE, reports  # noqa: F401  (the fixture)


@pytest.mark.browser
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_sections_draw_offline_and_fit(reports, width):  # noqa: F811
    browser, run = open_page(reports.reports / "aleppo" / "index.html", width=width)
    try:
        assert run.outside_requests == [] and run.errors == []
        assert chart_marks(browser)["tags"][0] > 0
        got = browser.evaluate("""(() => ({
          scroll: document.documentElement.scrollWidth, inner: innerWidth,
          variants: Array.from(document.querySelectorAll('#tags [data-variant]'))
                         .map(r => r.dataset.variant),
          overlap: Array.from(document.querySelectorAll('#tags [data-overlap] td'))
                        .map(td => td.textContent),
          langs: document.querySelector('#tags [data-variant] td:nth-child(7)').textContent,
          platforms: Array.from(document.querySelectorAll(
              '#platforms-side-by-side thead th[data-platform]')).map(th => th.textContent),
          posts: Array.from(document.querySelectorAll(
              '#platforms-side-by-side [data-figure-row="posts"] td')).map(td => td.textContent),
          langAxis: document.querySelector('#chart-languages svg').textContent
        }))()""")
        assert got["scroll"] <= got["inner"], "the page scrolls sideways"
        # the simulated campaign writes #AleppoIsBurning in three forms, and #حلب_تحترق
        assert {"AleppoIsBurning", "aleppoisburning", "ALEPPOISBURNING", "حلب_تحترق"} <= set(
            got["variants"])
        assert got["overlap"][0] == "#aleppoisburning and #حلب_تحترق"
        assert "English" in got["langs"] and "Arabic" in got["langs"]
        assert "English" in got["langAxis"]      # names, not codes, on the languages chart
        assert got["platforms"] == ["X", "Mastodon"]   # in the order the campaign reached them
        assert sum(int(p.replace(",", "")) for p in got["posts"]) == 500
    finally:
        browser.close()


HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_untrusted_tags_and_platforms_are_escaped(tmp_path):
    cfg = parse_config({"campaigns": [{"name": "c", "hashtags": ["Alpha"]}]},
                       tmp_path / "tracker.toml")
    variant = {"tag": HOSTILE, "tag_text": HOSTILE, "posts": 1, "tag_share": 1.0,
               "contributors": 1, "potential_reach": None, "top_languages": "und",
               "top_language_names": "unknown", "platforms": HOSTILE, "first_post": "x"}
    overlap = {"tag_a": HOSTILE, "tag_b": "b", "contributors_a": 1, "contributors_b": 1,
               "contributors_both": 0, "jaccard": 0.0}
    page = tags_section.html(tags_section.Tags([variant], [overlap], []), cfg.campaigns[0],
                             "the whole campaign")
    assert "<img" not in page and "&lt;img" in page
    assert "not known" in page       # unknown reach is not 0
    row = {k: None for k in side_by_side.COLUMNS} | {
        "platform": HOSTILE, "posts": 1, "post_share": 1.0, "contributors": 1}
    assert "<img" not in side_by_side.html([row], "UTC")


def test_chart_rows_keep_the_leading_languages_and_group_the_rest():
    forms = [{"tag_text": "A", "lang": code, "posts": n}
             for code, n in (("en", 9), ("ar", 8), ("fr", 7), ("tr", 6), ("de", 5), ("es", 4),
                             ("it", 3), ("und", 2))]
    rows = tags_section.chart_rows(forms)
    assert [r["language"] for r in rows][:2] == ["English", "Arabic"]
    assert {r["language"]: r["posts"] for r in rows}[tags_section.OTHER] == 3 + 2
    assert sum(r["posts"] for r in rows) == sum(f["posts"] for f in forms)


def test_section_says_why_when_not_built_or_the_window_is_too_large(tmp_path, monkeypatch):
    import datetime as dt

    import duckdb

    from tracker.report import Window
    from tracker.report.window import Scope

    from .test_models_marts import build_edges

    con, _ = build_edges(tmp_path)
    cfg = parse_config({"campaigns": [{"name": "edge", "hashtags": ["AleppoIsBurning"],
                                       "timezone": "Europe/London"}]}, tmp_path / "t.toml")
    c = cfg.campaigns[0]
    window = Window(dt.date(2016, 3, 26), dt.date(2016, 3, 27))
    shown = tags_section.load(con, c, Scope(con, c, window))
    assert shown.variants and not shown.why_not
    monkeypatch.setattr(tags_section, "MAX_WINDOW_POSTS", 1)
    capped = tags_section.load(con, c, Scope(con, c, window))
    assert not capped.variants and "more than the report computes" in capped.why_not
    assert "more than the report computes" in tags_section.html(capped, c, "x")
    assert tags_section.load(con, c, Scope(con, c, Window())).variants   # no window: no cap
    con.close()
    bare = duckdb.connect()
    bare.execute("create schema marts")
    old = tags_section.load(bare, c, Scope(bare, c, Window()))
    assert old.why_not.startswith("not built yet") and side_by_side.load(
        bare, c, Scope(bare, c, Window())) == []
