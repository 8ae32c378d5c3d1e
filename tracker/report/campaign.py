"""The campaign report: headline figures and charts from the marts."""

from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import duckdb

from ..config import Campaign, Config
from .page import esc, render_page


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def volume_chart(rows: list[dict], campaign: Campaign) -> alt.TopLevelMixin:
    data = [{"day": r["day"].strftime("%Y-%m-%d"), "platform": r["platform"],
             "posts": r["posts"]} for r in rows]
    bars = alt.Chart(alt.Data(values=data)).mark_bar().encode(
        x=alt.X("day:T", title="Day (campaign time zone)"),
        y=alt.Y("sum(posts):Q", title="Posts"),
        color=alt.Color("platform:N", title="Platform"),
        tooltip=["day:T", "platform:N", "sum(posts):Q"],
    )
    layers = [bars]
    if campaign.events:
        events = [{"day": e.date.isoformat(), "label": e.label} for e in campaign.events]
        rule = alt.Chart(alt.Data(values=events)).mark_rule(color="#7a1c1c").encode(x="day:T")
        text = alt.Chart(alt.Data(values=events)).mark_text(
            align="left", dx=3, dy=-5, color="#7a1c1c").encode(x="day:T", text="label:N",
                                                                y=alt.value(10))
        layers += [rule, text]
    return alt.layer(*layers).properties(width=800, height=300,
                                         title="Posts per day by platform")


def write_report(con: duckdb.DuckDBPyConnection, config: Config, campaign: Campaign,
                 out_dir: Path) -> Path:
    """Write `out_dir/<slug>/index.html` (+ chart PNG/SVG/CSV) and return the HTML path."""
    target = out_dir / campaign.slug
    target.mkdir(parents=True, exist_ok=True)
    rows = _rows(con, "select day, platform, sum(posts) as posts from marts.volume_daily "
                      "where campaign = ? group by all order by day, platform", [campaign.name])
    head = _rows(con, """
        select count(*) as posts, count(distinct (platform, author_id)) as contributors,
               coalesce(bool_or(synthetic), false) as synthetic,
               min(created_at) as first_post, max(created_at) as last_post
        from core.campaign_posts where campaign = ?""", [campaign.name])[0]
    chart = volume_chart(rows, campaign)
    spec = chart.to_dict()
    (target / "volume.json").write_text(json.dumps(spec), encoding="utf-8")
    figures = "".join(
        f'<div class="figure"><b>{esc(v)}</b>{esc(k)}</div>' for k, v in [
            ("posts", f"{head['posts']:,}"), ("contributors", f"{head['contributors']:,}"),
            ("first post", head["first_post"]), ("last post", head["last_post"])])
    tags = " ".join("#" + t for t in campaign.hashtags)
    body = (f'<p>Hashtags: {esc(tags)}</p><section class="figures">{figures}</section>'
            '<div class="chart" id="chart-volume"></div>')
    if not rows:
        body += "<p>No posts in this campaign yet.</p>"
    page = render_page(f"Campaign report: {campaign.title}", body,
                       {"chart-volume": spec}, bool(head["synthetic"]))
    out = target / "index.html"
    out.write_text(page, encoding="utf-8")
    return out
