"""`tracker report` knows how fresh the marts are: it builds first when the warehouse changed
since the last build, or (--no-build) says on stderr that the figures are older than the
data; every page says "Data as of ..., built ..."; the bucket still being collected is drawn
lighter. `tracker init` names the next steps."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
from click.testing import CliRunner

from tests.conftest import sim_toml, write_config
from tracker.cli import cli
from tracker.config import load_config
from tracker.report import partial


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def posts_in(cfg) -> tuple[int, dt.datetime]:
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        n, last = con.execute("select count(*), max(first_seen_at) from norm.posts").fetchone()
    finally:
        con.close()
    return n, last.astimezone(dt.UTC)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def test_report_builds_first_when_the_warehouse_has_newer_posts(tmp_path):
    path = write_config(tmp_path, sim_toml(x_posts=600, per_run=200))
    cfg = load_config(path)
    conf = ["--config", str(path)]
    assert invoke(*conf, "collect", "--source", "simulated-x").exit_code == 0
    assert invoke(*conf, "build").exit_code == 0
    built_posts, built_last = posts_in(cfg)
    summary = cfg.reports / "aleppo" / "summary.json"

    # fresh: no build, no warning
    result = invoke(*conf, "report", "--no-images")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    before = json.loads(summary.read_text(encoding="utf-8"))["figures"]["posts"]

    assert invoke(*conf, "collect", "--source", "simulated-x").exit_code == 0
    now_posts, now_last = posts_in(cfg)
    assert now_posts > built_posts

    # --no-build: the older figures, and stderr says so with both counts and times
    result = invoke(*conf, "report", "--no-images", "--no-build")
    assert result.exit_code == 0, result.output
    warning = result.stderr.strip()
    assert warning.startswith("Warning: the figures are older than the data: the models were "
                              "built ")
    assert (f"from {built_posts:,} posts (last loaded {utc(built_last)})" in warning), warning
    assert (f"the warehouse has {now_posts:,} posts (last loaded {utc(now_last)})"
            in warning), warning
    assert warning.endswith("Run `tracker build` (or `tracker report` without --no-build).")
    assert json.loads(summary.read_text(encoding="utf-8"))["figures"]["posts"] == before
    assert "Report: " in result.stdout and "Warning" not in result.stdout

    # without --no-build: it builds first and the page has the new posts
    result = invoke(*conf, "report", "--no-images")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Building the models first: the models were built ")
    after = json.loads(summary.read_text(encoding="utf-8"))["figures"]["posts"]
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    members = con.execute("select count(*) from norm.campaign_posts where campaign = 'aleppo'"
                          ).fetchone()[0]
    con.close()
    assert after == members > before

    # and now it is fresh again
    assert invoke(*conf, "report", "--no-images").stderr == ""


def test_every_page_says_data_as_of_and_built(tmp_path):
    path = write_config(tmp_path, sim_toml(x_posts=100, per_run=1000))
    cfg = load_config(path)
    conf = ["--config", str(path)]
    assert invoke(*conf, "collect").exit_code == 0
    result = invoke(*conf, "report", "--no-images")      # never built: builds first
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Building the models first: the models have no recorded "
                                    "build; the warehouse has ")
    _, last = posts_in(cfg)
    pages = [cfg.reports / "aleppo" / "index.html", cfg.reports / "index.html",
             cfg.reports / "compare.html"]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        m = re.search(r'<p class="meta" id="data-as-of">Data as of (.*?) \(last post loaded\), '
                      r'built (\d{4}-\d\d-\d\d \d\d:\d\d UTC)</p>', html)
        assert m, page
        assert m.group(1) == utc(last)
        built = dt.datetime.strptime(m.group(2), "%Y-%m-%d %H:%M UTC").replace(tzinfo=dt.UTC)
        assert abs(built - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_the_bucket_still_being_collected_is_drawn_lighter(tmp_path):
    path = write_config(tmp_path, sim_toml(x_posts=100, per_run=1000))
    cfg = load_config(path)
    conf = ["--config", str(path)]
    assert invoke(*conf, "collect").exit_code == 0
    # a live campaign: the last post was loaded in the middle of the campaign's last day
    con = duckdb.connect(str(cfg.warehouse))
    last_day = con.execute("select max(created_at) from norm.posts").fetchone()[0]
    last_day = last_day.astimezone(dt.UTC)
    con.execute("update norm.posts set first_seen_at = ?",
                [last_day.replace(hour=12, minute=0, second=0)])
    con.close()
    assert invoke(*conf, "report").exit_code == 0
    html = (cfg.reports / "aleppo" / "index.html").read_text(encoding="utf-8")
    specs = json.loads(re.search(r'id="chart-specs">(.*?)</script>', html, re.S).group(1))
    assert "partial: still being collected" in json.dumps(specs["chart-timeline"])
    # as drawn (Vega, through the SVG export): the last day's bars lighter, the others not
    day = last_day.strftime("%d %b %Y")
    for chart in ("volume", "platforms", "contributors"):
        svg = (cfg.reports / "aleppo" / f"{chart}.svg").read_text(encoding="utf-8")
        bars = re.findall(r'<path aria-label="([^"]*)"[^>]*aria-roledescription="bar"[^>]*'
                          r'opacity="([\d.]+)"', svg)
        assert bars, chart
        lighter = {label.split(";")[0] for label, opacity in bars if opacity == "0.35"}
        assert lighter == {f"Day (UTC): {day}"}, (chart, lighter)
        assert all("Period: partial: still being collected" in label
                   for label, opacity in bars if opacity == "0.35")
        assert "partial: still being collected" in svg          # the legend entry
    note = re.search(r'<p class="meta" id="partial-note">(.*?)</p>', html).group(1)
    day = last_day.astimezone(dt.UTC).strftime("%Y-%m-%d")     # the campaign is in UTC
    assert note.startswith(f"Still being collected: bars from {day} 00:00 (UTC) on")

    # a finished campaign (loaded after its last bucket ended): nothing is partial
    con = duckdb.connect(str(cfg.warehouse))
    con.execute("update norm.posts set first_seen_at = ?",
                [last_day + dt.timedelta(days=2)])
    con.close()
    assert invoke(*conf, "report", "--no-images").exit_code == 0
    html = (cfg.reports / "aleppo" / "index.html").read_text(encoding="utf-8")
    assert "still being collected" not in html.lower()


def test_partial_cutoff_is_the_start_of_the_bucket_holding_data_as_of():
    as_of = dt.datetime(2016, 4, 28, 21, 30, tzinfo=dt.UTC)   # 00:30 on the 29th in Damascus
    assert partial.cutoff(as_of, "Asia/Damascus", "hour") == "2016-04-29T00:00:00Z"
    assert partial.cutoff(as_of, "Asia/Damascus", "day") == "2016-04-29T00:00:00Z"
    assert partial.cutoff(as_of, "UTC", "day") == "2016-04-28T00:00:00Z"
    assert partial.cutoff(as_of, "UTC", "week") == "2016-04-25T00:00:00Z"     # a Monday
    assert partial.cutoff(as_of, "UTC", "month") == "2016-04-01T00:00:00Z"
    assert partial.cutoff(None, "UTC", "day") is None


def test_init_names_collect_build_and_report(tmp_path):
    target = tmp_path / "tracker.toml"
    result = invoke("init", str(target))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Wrote {target}. Edit the campaigns, then run:"
    assert [line.split()[:2] for line in lines[1:]] == [
        ["tracker", "collect"], ["tracker", "build"], ["tracker", "report"]]
