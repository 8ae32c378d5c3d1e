"""The reports on a phone (375 px), on a desktop (1400 px) and on paper, in a real headless
Chromium from file:// with the network blocked (tests/browser.py); and `tracker report --pdf`.

These tests FAIL (never skip) when chromium is missing.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.models import build
from tracker.pipeline import collect
from tracker.report import write_reports
from tracker.store.db import connect

from . import report_marts
from .browser import chart_marks, open_page
from .test_report_browser import make_config

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 375, 1400
VIEWS_TZ = "Europe/Berlin"
EXTRA = f'[[campaigns]]\nname = "views"\ntimezone = "{VIEWS_TZ}"\nhashtags = ["HospitalViews"]\n'


def views_posts() -> list[dict]:
    """X posts from 2024 (X reports impressions for them): actual impressions are a small
    fraction of the potential ones (followers in the millions)."""
    rnd = random.Random(5)
    start = dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC)
    return [{"post_id": str(i), "created_at": start + dt.timedelta(minutes=50 * i),
             "author_id": f"a{i % 17}",
             "handle": f"a_rather_long_handle_of_a_newsroom_{i % 17}" if i % 5 == 0
             else f"u{i % 17}",
             "text": "#HospitalViews " + " ".join(["hospital"] * rnd.randrange(3, 40)),
             "url": f"https://x.com/u/status/{i}", "followers": rnd.randrange(10**5, 3 * 10**6),
             "likes": rnd.randrange(50), "impressions": rnd.randrange(10, 5000) * (1 + i // 40),
             "tags": ["HospitalViews", "Syria"], "mentions": ["UN"]} for i in range(200)]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The simulated campaign (collected and built by the real pipeline) and a hand-made one
    with actual impressions."""
    tmp = tmp_path_factory.mktemp("layout")
    cfg = make_config(tmp, extra=EXTRA)
    con = connect(cfg.warehouse)
    collect(con, cfg, "aleppo")
    report_marts.insert_posts(con, "views", views_posts())
    build(con, cfg.campaigns)
    write_reports(con, cfg, cfg.reports, images=False)
    con.close()
    return cfg


PAGES = ["aleppo/index.html", "views/index.html", "compare.html", "index.html"]
FIT_JS = """(() => ({
  inner: innerWidth, scroll: document.documentElement.scrollWidth,
  charts: Array.from(document.querySelectorAll('[data-chart]')).map(e => [
    e.dataset.chart, e.clientWidth, e.scrollWidth,
    parseFloat(e.querySelector('svg').getAttribute('width'))])
}))()"""


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("page", PAGES)
def test_pages_fit_the_screen_and_draw_every_chart(reports, page, width):
    browser, run = open_page(reports.reports / page, width=width)
    try:
        assert run.outside_requests == [] and run.errors == []
        assert browser.evaluate("window.__chartErrors || []") == []
        fit = browser.evaluate(FIT_JS)
        assert fit["inner"] == width
        assert fit["scroll"] <= fit["inner"], "the page scrolls sideways"
        for name, slot, scroll, svg in fit["charts"]:
            assert scroll <= slot and svg <= slot, (name, slot, svg)
            # charts follow the screen: as wide as their slot, within a few pixels
            assert svg >= slot - 12, (name, slot, svg)
        marks = chart_marks(browser)
        assert all(n > 0 for views in marks.values() for n in views), marks
        if page.endswith("/index.html"):
            # the simulated campaign's posts carry links and media; the hand-made one's none
            links = {"domains", "links_daily", "media_daily"} if page.startswith("aleppo") \
                else set()
            assert set(marks) == {"timeline", "top_contributors", "hashtags", "languages",
                                  "heatmap", "tags", "network"} | links
    finally:
        browser.close()


def test_charts_are_redrawn_when_the_window_changes_width(reports):
    browser, _ = open_page(reports.reports / "aleppo" / "index.html", width=DESKTOP)
    try:
        wide = browser.evaluate(FIT_JS)["charts"]
        browser.send("Emulation.setDeviceMetricsOverride", {
            "width": 700, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        browser.evaluate("window.dispatchEvent(new Event('resize'))")
        browser.drain(0.5)
        for _ in range(100):
            if browser.evaluate("window.__reportReady === true"):
                break
            browser.drain(0.1)
        narrow = browser.evaluate(FIT_JS)
        assert narrow["scroll"] <= narrow["inner"] == 700
        for (name, _, _, before), (_, slot, _, after) in zip(wide, narrow["charts"],
                                                              strict=True):
            assert after < before and slot - 12 <= after <= slot, name
    finally:
        browser.close()


def test_post_text_is_readable_on_a_phone(reports):
    """On a phone the top posts become cards: the text has the card's width, not a column
    of 2-4 letters."""
    browser, _ = open_page(reports.reports / "views" / "index.html", width=PHONE)
    try:
        widths = browser.evaluate("Array.from(document.querySelectorAll('#top-posts td.text'))"
                                  ".map(td => td.getBoundingClientRect().width)")
        assert len(widths) == 25 and min(widths) > 0.8 * PHONE
        labels = browser.evaluate(
            "getComputedStyle(document.querySelector('#top-posts td.num'), '::before').content")
        assert labels == '"likes: "'
    finally:
        browser.close()
    browser, _ = open_page(reports.reports / "views" / "index.html", width=DESKTOP)
    try:  # a table again on a desktop
        assert browser.evaluate("getComputedStyle(document.querySelector('#top-posts thead'))"
                                ".display") == "table-header-group"
    finally:
        browser.close()


def test_definition_markers_need_no_special_glyph(reports):
    html = (reports.reports / "aleppo" / "index.html").read_text(encoding="utf-8")
    assert "\u24d8" not in html  # the circled i, an empty box where no font has it
    browser, _ = open_page(reports.reports / "aleppo" / "index.html", width=PHONE)
    try:
        marks = browser.evaluate("""Array.from(document.querySelectorAll('.figure a')).map(a => {
            const i = a.querySelector('.info'), s = getComputedStyle(i),
                  r = i.getBoundingClientRect();
            return [a.textContent, i.textContent, s.borderTopStyle, s.borderTopLeftRadius,
                    Math.round(r.width), Math.round(r.height)]; })""")
        assert len(marks) == 10
        for text, letter, border, radius, w, h in marks:
            assert text.isascii() and letter == "i" and border == "solid"
            assert radius == "50%" and w > 6 and abs(w - h) <= 1
    finally:
        browser.close()


AXES_JS = """(() => Object.fromEntries(Array.from(document.querySelectorAll('[data-chart]')).map(
  e => [e.dataset.chart, Array.from(e.querySelectorAll('g.role-axis[aria-label]')).map(
    a => [a.getAttribute('aria-label').slice(0, 6),
          Array.from(a.querySelectorAll('g.role-axis-title text')).map(t => t.textContent)
            .join(' ')])])))()"""


def test_every_axis_has_a_title_and_time_axes_name_the_zone(reports):
    browser, _ = open_page(reports.reports / "aleppo" / "index.html", width=DESKTOP)
    try:
        axes = browser.evaluate(AXES_JS)
        text = browser.evaluate("document.querySelector('#chart-top_contributors svg')"
                                ".textContent")
    finally:
        browser.close()
    untitled = {name: [a for a in found if not a[1]] for name, found in axes.items()}
    # the top contributors' x title follows the menu: drawn as text under the axis
    assert untitled.pop("top_contributors") == [["X-axis", ""]] and "Posts made" in text
    assert all(not u for u in untitled.values()), untitled
    timeline_x = [t for kind, t in axes["timeline"] if kind == "X-axis"]
    assert len(timeline_x) >= 4 and all("(Asia/Damascus)" in t for t in timeline_x)
    assert all("(Asia/Damascus)" in t for _, t in axes["heatmap"])
    browser, _ = open_page(reports.reports / "compare.html", width=DESKTOP)
    try:
        axes = browser.evaluate(AXES_JS)
        note = browser.evaluate("document.querySelector('main').textContent")
    finally:
        browser.close()
    assert [t for name in axes for kind, t in axes[name] if kind == "X-axis"] == [
        "Day (UTC)", "Day (UTC)"]
    assert "Every day on this page is a UTC day" in note


def test_actual_impressions_have_their_own_axis_and_legend_entry(reports):
    browser, run = open_page(reports.reports / "views" / "index.html", width=DESKTOP)
    try:
        assert run.errors == []
        view = "#chart-timeline g.concat_3_group"
        legend = browser.evaluate("document.querySelector('#chart-timeline').textContent")
        y_axes = browser.evaluate(f"Array.from(document.querySelectorAll('{view} "
                                  "g.role-axis[aria-label^=Y]')).map(a => a.getAttribute("
                                  "'aria-label').split(\"'\")[1])")
        spans = browser.evaluate(f"""(() => {{
            const plot = document.querySelector('{view} path.background')
                           .getBoundingClientRect();
            const line = document.querySelector('{view} g.mark-line path')
                           .getBoundingClientRect();
            return [line.height, plot.height]; }})()""")
    finally:
        browser.close()
    assert "Actual, where reported" in legend and "actual impressions (line)" in legend
    assert y_axes == ["Potential impressions (bars)", "Actual impressions (line)"]
    # on its own axis the line uses the plot's height instead of lying flat along the bottom
    assert spans[0] > 0.5 * spans[1], spans


def test_print_stylesheet_hides_controls_fits_charts_and_breaks_pages(reports):
    browser, run = open_page(reports.reports / "aleppo" / "index.html", width=800,
                             media="print")
    try:
        assert run.errors == []
        got = browser.evaluate("""(() => ({
          hidden: ['nav', '.vega-bindings'].map(s => getComputedStyle(
            document.querySelector(s)).display),
          breaks: Array.from(document.querySelectorAll('main > h2, section > h2')).map(
            h => getComputedStyle(h).breakBefore),
          inner: innerWidth, scroll: document.documentElement.scrollWidth,
          charts: Array.from(document.querySelectorAll('[data-chart] svg')).map(
            s => s.getBoundingClientRect().right)}))()""")
    finally:
        browser.close()
    assert got["hidden"] == ["none", "none"]
    assert got["breaks"].count("page") >= 3
    assert got["scroll"] <= got["inner"] and max(got["charts"]) <= got["inner"]


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


def test_report_pdf_is_printed_by_chromium(reports, tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(reports.path), "report", "--campaign",
                                      "aleppo", "--no-images", "--pdf", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "aleppo" / "report.pdf"
    assert f"Report: {pdf}" in result.output
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert pdf_pages(data) >= 4  # sections start on new pages
    assert not list(tmp_path.rglob("*.partial"))


def test_report_pdf_without_chromium_is_a_one_line_error(reports, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = CliRunner().invoke(cli, ["--config", str(reports.path), "report", "--pdf",
                                      "--no-build", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output == (
        "Error: --pdf needs Chromium, and none of chromium, chromium-browser or google-chrome "
        "is on PATH: install one (e.g. apt-get install chromium) or leave out --pdf\n")
    assert not (tmp_path / "out").exists()


def test_a_new_section_gets_the_layout_without_code_of_its_own(tmp_path):
    """A chart and a table added to a page the usual way (a spec in the page's specs, markup
    in its body) fit a phone and a desktop: the fitting is the page's, not the chart's."""
    import altair as alt

    from tracker.report.page import render_page

    rows = [{"account": f"an account with a rather long name, number {i}", "posts": 3 * i + 1,
             "platform": "x" if i % 2 else "mastodon"} for i in range(12)]
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=alt.Y("account:N", title="Account"), x=alt.X("posts:Q", title="Posts"),
        color=alt.Color("platform:N", title="Platform")).properties(width=900,
                                                                   title="A new section")
    table = "<table><tr>" + "".join(f"<td>column {i} of a wide table</td>"
                                    for i in range(12)) + "</tr></table>"
    page = tmp_path / "new.html"
    page.write_text(render_page("A new section", '<div class="chart" id="chart-new" '
                                'data-chart="new"></div>' + table,
                                {"chart-new": chart.to_dict()}, False), encoding="utf-8")
    for width in (PHONE, DESKTOP):
        browser, run = open_page(page, width=width)
        try:
            assert run.errors == [] and run.outside_requests == []
            fit = browser.evaluate(FIT_JS)
            assert fit["scroll"] <= fit["inner"] == width
            [(_, slot, _, svg)] = fit["charts"]
            assert slot - 12 <= svg <= slot
            assert chart_marks(browser) == {"new": [12]}
        finally:
            browser.close()
