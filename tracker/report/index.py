"""`<out>/index.html` (every campaign with its headline figures) and `<out>/compare.html`
(share of voice and daily volume side by side), with their CSVs."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..config import Config
from ..freshness import as_of_line
from . import charts, data
from .exports import write_csv
from .page import chart_slot, esc, render_page
from .sections import DEFINITIONS, fmt_number, fmt_time, known_for

INDEX_FIGURES = ("posts", "contributors", "potential_reach", "potential_impressions",
                 "actual_impressions", "engagement")


def _nav(here: str) -> str:
    links = [("index.html", "All campaigns"), ("compare.html", "Compare campaigns")]
    return "<nav>" + " · ".join(
        esc(label) if href == here else f'<a href="{href}">{esc(label)}</a>'
        for href, label in links) + "</nav>"


def write_index(con: duckdb.DuckDBPyConnection, config: Config, out_dir: Path) -> Path:
    """The list of campaigns; a campaign links to its report when one has been written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data.check_marts(con)
    sums = data.campaign_summaries(con)
    head = ("<tr><th>Campaign</th>" + "".join(
        f'<th class="num">{esc(DEFINITIONS[k][0])}</th>' for k in INDEX_FIGURES)
        + "<th>First post (UTC)</th><th>Last post (UTC)</th><th>Data</th></tr>")
    rows, synthetic, csv_rows = [], config.synthetic, []
    for c in config.campaigns:
        s = sums.get(c.name, {})
        synthetic = synthetic or bool(s.get("synthetic"))
        report = out_dir / c.slug / "index.html"
        name = (f'<a href="{esc(c.slug)}/index.html">{esc(c.title)}</a>' if report.exists()
                else f"{esc(c.title)} <small>(no report yet)</small>")
        rows.append(
            f'<tr data-campaign="{esc(c.slug)}"><td>{name}</td>'
            + "".join(f'<td class="num" data-label="{esc(DEFINITIONS[k][0])}">'
                      + esc(fmt_number(s.get(k, 0 if k == "posts" else None)))
                      + (f"<br><small>{esc(known)}</small>" if (known := known_for(s, k))
                         else "") + "</td>" for k in INDEX_FIGURES)
            + "<td data-label=\"First post (UTC)\">"
            + f"{esc(fmt_time(s.get('first_post'), 'UTC'))}</td>"
            + "<td data-label=\"Last post (UTC)\">"
            + f"{esc(fmt_time(s.get('last_post'), 'UTC'))}</td>"
            + f"<td>{'synthetic' if s.get('synthetic') else 'collected'}</td></tr>")
        csv_rows.append({"campaign": c.name, "title": c.title, "timezone": c.timezone,
                         **{k: s.get(k) for k in (*INDEX_FIGURES, "followers_known_share",
                                                  "impressions_known_share",
                                                  "engagement_known_share", "first_post",
                                                  "last_post", "synthetic")}})
    write_csv(out_dir / "campaigns.csv", csv_rows)
    # data-label: one card per campaign on a narrow screen (page.STYLE)
    body = (f'<table class="cards"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
            '<p class="meta">Times in UTC (each campaign report uses its campaign\'s time '
            'zone). Definitions are in each campaign report. '
            '<a href="campaigns.csv">campaigns.csv</a> · '
            '<a href="compare.html">compare campaigns</a></p>')
    out = out_dir / "index.html"
    out.write_text(render_page("Campaign reports", body, {}, synthetic, _nav("index.html"),
                               as_of_line(con)), encoding="utf-8")
    return out


def write_comparison(con: duckdb.DuckDBPyConnection, config: Config, out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in config.campaigns]
    sov = data.share_of_voice(con, names)
    vol = data.daily_volume_all(con, names)
    write_csv(out_dir / "share_of_voice.csv", sov, ["t", "campaign", "posts", "share"])
    write_csv(out_dir / "campaigns_volume.csv", vol, ["t", "campaign", "posts"])
    specs = {}
    if sov:
        specs["chart-share_of_voice"] = charts.spec(charts.share_of_voice(sov))
    if vol:
        specs["chart-campaigns_volume"] = charts.spec(charts.campaigns_volume(vol))
    empty = "no posts in any campaign yet"
    body = (chart_slot("share_of_voice", "Share of voice", None if sov else empty)
            + chart_slot("campaigns_volume", "Posts per day", None if vol else empty)
            + '<p class="meta">Every day on this page is a UTC day (00:00 to 24:00 UTC), '
              "whatever each campaign's own time zone, so campaigns compare over the same 24 "
              "hours. Share of voice: each campaign\'s share of all campaign posts "
              "per UTC day (a post carrying two campaigns' tags counts for both). Data: "
              '<a href="share_of_voice.csv">share_of_voice.csv</a> · '
              '<a href="campaigns_volume.csv">campaigns_volume.csv</a></p>')
    synthetic = config.synthetic or any(
        s.get("synthetic") for s in data.campaign_summaries(con).values())
    out = out_dir / "compare.html"
    out.write_text(render_page("Compare campaigns", body, specs, synthetic,
                               _nav("compare.html"), as_of_line(con)), encoding="utf-8")
    return out
