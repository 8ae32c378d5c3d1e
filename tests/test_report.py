"""Report files, filtering, links, exports and the `tracker report` command (no browser)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import xml.etree.ElementTree as ET

import duckdb
import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config import load_config
from tracker.errors import TrackerError
from tracker.models import build
from tracker.pipeline import collect
from tracker.report import Window, write_reports
from tracker.report.exports import write_csv
from tracker.report.page import link, safe_url
from tracker.report.sections import DEFINITIONS, known_for

from . import report_marts
from .conftest import BACKENDS, open_warehouse, warehouse_toml
from .test_report_browser import make_config as browser_config

CHARTS = ("volume", "platforms", "contributors", "impressions", "top_contributors",
          "hashtags", "languages", "heatmap")


def make_config(tmp_path, extra: str = "", backend: str = "duckdb"):
    """The browser tests' config, its warehouse on `backend`."""
    cfg = browser_config(tmp_path, extra)
    text = cfg.path.read_text(encoding="utf-8")
    cfg.path.write_text(text.replace('[warehouse]\npath = "wh/tracker.duckdb"\n',
                                     warehouse_toml(backend), 1), encoding="utf-8")
    return load_config(cfg.path)


@pytest.fixture(scope="module", params=BACKENDS)
def built(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("built")
    cfg = make_config(tmp, backend=request.param)
    con = open_warehouse(cfg)
    collect(con, cfg)
    build(con, cfg.campaigns)
    con.close()
    return cfg


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,x",
    "vbscript:x", "//evil.example/x", "https://ok.example/\"onmouseover=x", "http://", None, 7,
    "https://ok.example/a b", "java\tscript:alert(1)"])
def test_only_plain_http_urls_become_links(url):
    assert safe_url(url) is None
    assert "<a" not in link(url, url)


def test_http_and_https_urls_become_links():
    assert link("https://x.example/p?a=1&b=2", "<b>") == (
        '<a href="https://x.example/p?a=1&amp;b=2" rel="noopener noreferrer nofollow">'
        "&lt;b&gt;</a>")
    assert safe_url("http://mastodon.social/@a/1") == "http://mastodon.social/@a/1"


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, [{"text": "=HYPERLINK(\"http://x\")", "n": -3, "ok": "plain"},
                     {"text": "@SUM(A1)", "n": 0, "ok": None}])
    rows = read_csv(path)
    assert [r["text"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)"]
    assert [r["n"] for r in rows] == ["-3", "0"]  # numbers stay numbers
    assert rows[1]["ok"] == ""


def test_report_files_per_chart_and_summary(built, tmp_path):
    con = open_warehouse(built, read_only=True)
    paths = write_reports(con, built, tmp_path / "out", "aleppo")
    want = con.execute("select posts, contributors, engagement, synthetic from "
                       "marts.campaign_summary where campaign = 'aleppo'").fetchone()
    by_kind = con.execute("select kind, sum(posts) from marts.volume_daily where campaign = "
                          "'aleppo' group by all").fetchall()
    con.close()
    target = tmp_path / "out" / "aleppo"
    assert paths == [target / "index.html", tmp_path / "out" / "index.html",
                     tmp_path / "out" / "compare.html"]
    for name in CHARTS:
        assert read_csv(target / f"{name}.csv"), name
        assert (target / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = (target / f"{name}.svg").read_text(encoding="utf-8")
        assert ET.fromstring(svg).tag.endswith("svg")
        assert "Synthetic data from the simulated source" in svg, name
    assert read_csv(target / "top_posts.csv")
    # A chart's CSV is the aggregated data it draws: posts per kind add up to the mart.
    got: dict[str, int] = {}
    for r in read_csv(target / "volume.csv"):
        got[r["kind"]] = got.get(r["kind"], 0) + int(r["posts"])
    assert got == dict(by_kind)
    summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    f = summary["figures"]
    assert (f["posts"], f["contributors"], f["engagement"], summary["synthetic"]) == want
    assert summary["timezone"] == "Asia/Damascus" and summary["bucket"] == "day"
    assert set(summary["definitions"]) >= {"posts", "potential_reach", "engagement"}
    # The page links its files, relative to itself.
    html = (target / "index.html").read_text(encoding="utf-8")
    assert 'href="volume.png"' in html and 'href="summary.json"' in html
    assert html.count("<script>") == 2  # bundle and embedding, inlined once each


def test_since_until_filter_in_the_campaign_time_zone(built, tmp_path):
    con = open_warehouse(built, read_only=True)
    window = Window(dt.date(2016, 4, 27), dt.date(2016, 4, 29))
    write_reports(con, built, tmp_path / "out", "aleppo", window, images=False)
    want = con.execute("""
        select count(*), count(distinct (platform, author_id))
        from core.campaign_posts where campaign = 'aleppo'
          and cast(timezone('Asia/Damascus', created_at) as date)
              between date '2016-04-27' and date '2016-04-29'""").fetchone()
    total = con.execute("select count(*) from core.campaign_posts where campaign = 'aleppo'"
                        ).fetchone()[0]
    con.close()
    target = tmp_path / "out" / "aleppo"
    summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert (summary["figures"]["posts"], summary["figures"]["contributors"]) == want
    assert 0 < want[0] < total
    assert summary["window"] == {"since": "2016-04-27", "until": "2016-04-29"}
    days = {r["t"][:10] for r in read_csv(target / "volume.csv")}
    assert days == {"2016-04-27", "2016-04-28", "2016-04-29"}
    assert sum(int(r["posts"]) for r in read_csv(target / "volume.csv")) == want[0]
    assert all("2016-04-27" <= r["posted"][:10] <= "2016-04-29"
               for r in read_csv(target / "top_posts.csv"))
    assert "cover only the period selected" in (target / "index.html").read_text(
        encoding="utf-8")


def test_a_window_over_the_whole_campaign_gives_the_marts_figures(built):
    """The windowed headline figures are marts.campaign_summary's SQL over the window's
    posts: over every day of the campaign they are the mart's row, figure for figure."""
    from tracker.report import data
    con = open_warehouse(built, read_only=True)
    checked = 0
    try:
        for c in built.campaigns:
            first, last = con.execute(
                "select min(local_day), max(local_day) from core.campaign_posts "
                "where campaign = ?", [c.name]).fetchone()
            if first is None:
                continue
            whole = data.summary(con, c, Window(first, last))
            mart = data.summary(con, c, Window())
            assert mart["posts"] > 0 and whole == mart
            part = data.summary(con, c, Window(first, first))
            assert 0 < part["posts"] < mart["posts"]
            checked += 1
    finally:
        con.close()
    assert checked


def test_since_after_until_is_a_clear_error(built, tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(built.path), "report", "--since",
                                      "2016-05-01", "--until", "2016-04-01", "--out",
                                      str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --since 2016-05-01 is after --until 2016-04-01"


def test_missing_marts_is_a_clear_error(tmp_path):
    cfg = make_config(tmp_path)
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    with pytest.raises(TrackerError, match=r"no marts\.volume_hourly, .*run `tracker build`"):
        write_reports(con, cfg, tmp_path / "out")
    con.close()


def test_report_command_writes_every_campaign_and_the_index(built, tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(cli, ["--config", str(built.path), "report", "--out", str(out),
                                      "--no-images"])
    assert result.exit_code == 0, result.output
    for p in (out / "aleppo" / "index.html", out / "quiet" / "index.html",
              out / "index.html", out / "compare.html"):
        assert f"Report: {p}" in result.output
    assert not list(out.glob("*/*.png"))
    assert {r["campaign"] for r in read_csv(out / "campaigns.csv")} == {"aleppo", "quiet"}
    assert "Example: tracker report" in CliRunner().invoke(cli, ["report", "--help"]).output


def test_report_never_writes_outside_out(tmp_path, backend):
    cfg = make_config(tmp_path, extra='[[campaigns]]\nname = "../../escape/../x"\n'
                                      'hashtags = ["x"]\n', backend=backend)
    con = open_warehouse(cfg)
    report_marts.hostile_campaign(con, cfg.campaigns[-1].name)
    build_dir = tmp_path / "deep" / "out"
    build_dir.mkdir(parents=True)
    before = {p for p in tmp_path.rglob("*")}
    write_reports(con, cfg, build_dir, cfg.campaigns[-1].name, images=False)
    con.close()
    new = {p for p in tmp_path.rglob("*")} - before
    assert new and all(build_dir in p.parents for p in new
                       if not p.name.endswith((".wal", ".duckdb"))), sorted(new)
    assert (build_dir / "escape-x" / "index.html").exists()


@pytest.mark.parametrize("figures, want", [
    ({"potential_reach": 5, "followers_known_share": 0.625}, "known for 62% of posts"),
    ({"potential_reach": 5, "followers_known_share": 0.999}, "known for >99% of posts"),
    ({"potential_reach": 5, "followers_known_share": 0.004}, "known for <1% of posts"),
    ({"potential_reach": 5, "followers_known_share": 1.0}, ""),
    ({"potential_reach": None, "followers_known_share": 0.0}, ""),   # shown as "not known"
])
def test_a_partly_known_figure_says_for_what_share(figures, want):
    assert known_for(figures, "potential_reach") == want


def test_definitions_are_the_marts_column_docs():
    from tracker.models import QUERIES_DIR, parse_model
    docs = parse_model("marts", QUERIES_DIR / "marts" / "campaign_summary.sql").columns
    for key in ("posts", "potential_reach", "actual_impressions", "engagement"):
        assert DEFINITIONS[key][1] == docs[key]
    assert "context" in DEFINITIONS["posts"][1] and "window" in DEFINITIONS["posts"][1]
    assert "Not known (null)" in DEFINITIONS["potential_reach"][1]


def test_chart_text_keeps_no_character_an_svg_cannot_hold():
    """Tags and names are untrusted: a control character in one made the image renderer
    abort; chart rows lose such characters, other text is kept as it is."""
    import vl_convert

    from tracker.report.charts import chart_data

    rows = [{"tag": "#حلب\x01_تحترق\x1f", "n": 3}, {"tag": "<b>&", "n": None}]
    data = chart_data(rows)
    assert data.to_dict()["values"] == [{"tag": "#حلب_تحترق", "n": 3},
                                        {"tag": "<b>&", "n": None}]
    import altair as alt
    svg = vl_convert.vegalite_to_svg(alt.Chart(data).mark_bar().encode(
        x="n:Q", y="tag:N").to_json())
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")


def test_two_language_codes_of_one_name_get_a_bar_each():
    """X's old `in` and ISO `id` are both Indonesian: one band would hide one bar."""
    from tracker.report.charts import languages

    rows = [{"lang": "in", "language": "Indonesian", "posts": 3, "share": 0.3},
            {"lang": "id", "language": "Indonesian", "posts": 2, "share": 0.2},
            {"lang": "ar", "language": "Arabic", "posts": 5, "share": 0.5}]
    spec = languages(rows).to_dict()
    assert spec["encoding"]["y"]["field"] == "label"
    assert [v["label"] for v in spec["data"]["values"]] == [
        "Indonesian (in)", "Indonesian (id)", "Arabic"]


@pytest.mark.parametrize("tz,shown", [("Europe/Paris", "2016-04-28 12:00"),
                                      ("Asia/Kolkata", "2016-04-28 15:30"),
                                      ("Asia/Kathmandu", "2016-04-28 15:45")])
def test_the_peak_hour_shows_where_it_starts_in_the_campaigns_zone(tz, shown):
    """The peak is a UTC hour; in a zone half or three quarters of an hour off, it starts at
    :30 or :45 local time, which the headline must say (it once printed 15:00)."""
    from tracker.report.sections import figure_values
    peak = dt.datetime(2016, 4, 28, 10, tzinfo=dt.UTC)
    assert figure_values({"peak_hour": peak, "peak_hour_posts": 12}, tz)["peak_hour"] == (
        f"{shown} (12 posts)")
