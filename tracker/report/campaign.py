"""The campaign report: `<out>/<campaign-slug>/index.html` with headline figures, charts and
top posts, plus one CSV / SVG / PNG per chart and `summary.json`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import duckdb

from .. import platforms
from ..config import Campaign, Config
from ..freshness import as_of, as_of_line, show_time
from ..store.lake import current_snapshot
from . import ages, charts, data, partial, sections, side_by_side
from . import links as links_section
from . import network as network_section
from . import tags as tags_section
from .data import Rows, Window
from .exports import write_csv, write_images, write_json
from .page import chart_slot, esc, render_page
from .window import Scope

TIME_CHARTS = ("volume", "platforms", "contributors", "impressions")
TITLES = {
    "volume": "Posts over time by kind", "platforms": "Posts over time by platform",
    "contributors": "Contributors over time", "impressions": "Impressions over time",
    "top_contributors": "Top contributors", "hashtags": "Hashtags used together",
    "languages": "Languages", "heatmap": "Posts by weekday and hour",
    "network": network_section.TITLE, "tags": tags_section.CHART_TITLE,
}
# the "Who and what" charts (the name is older than --since/--until applying to them)
WHOLE_CAMPAIGN = ("top_contributors", "hashtags", "languages", "heatmap")
EMPTY = "no posts in this period"
SYNTHETIC_SUBTITLE = "Synthetic data from the simulated source, not real posts"


@dataclass
class CampaignData:
    """Everything one report shows, read from the marts."""

    campaign: Campaign
    window: Window
    summary: dict[str, Any]
    bucket: str
    tables: dict[str, Rows] = field(default_factory=dict)
    events: Rows = field(default_factory=list)
    bursts: Rows = field(default_factory=list)
    gaps: Rows = field(default_factory=list)
    coverage_unknown: Rows = field(default_factory=list)
    top_posts: Rows = field(default_factory=list)
    ages: Rows = field(default_factory=list)     # marts.engagement_at_age
    amplified: Rows = field(default_factory=list)            # the network section's table
    links: dict[str, Rows] = field(default_factory=dict)     # links and media sections
    network_counts: dict[str, Any] = field(default_factory=dict)
    tags: tags_section.Tags = field(default_factory=tags_section.Tags)
    platform_table: Rows = field(default_factory=list)      # marts.platform_summary
    synthetic: bool = False              # any synthetic post in any section of the page
    as_of: dt.datetime | None = None     # when the newest post of the build was loaded
    as_of_text: str = ""
    snapshot: int | None = None   # the lake snapshot read (None on a DuckDB file)
    untimed: int = 0              # posts without a known posting time (in no time chart)


def load(con: duckdb.DuckDBPyConnection, c: Campaign, w: Window) -> CampaignData:
    present = data.check_marts(con)
    bucket = data.choose_bucket(con, c, w)
    scope = Scope(con, c, w)
    d = CampaignData(c, w, data.summary(con, c, w, scope), bucket)
    d.tables = {
        "volume": data.volume_by_kind(con, c, w, bucket),
        "platforms": data.volume_by_platform(con, c, w, bucket),
        "contributors": data.contributors(con, c, w, bucket),
        "impressions": data.impressions(con, c, w, bucket),
        "top_contributors": data.top_contributors(con, c, scope),
        "hashtags": data.hashtag_pairs(con, c, scope),
        "languages": data.languages(con, c, scope),
        "heatmap": data.heatmap(con, c, scope),
    }
    d.untimed = data.untimed_posts(con, c, w)
    d.bursts = data.bursts(con, c, w, present)
    d.gaps = data.coverage_gaps(con, c, w, present)
    d.coverage_unknown = data.coverage_unknown(con, c, w, present)
    d.top_posts = data.top_posts(con, c, w, scope=scope)
    d.ages = ages.engagement_at_age(con, scope)
    d.tables["network"], d.amplified, d.network_counts = network_section.load(con, c, w)
    d.links = links_section.load(con, c, scope)
    d.tags = tags_section.load(con, c, scope)
    d.tables["tags"] = d.tags.by_language
    d.platform_table = side_by_side.load(con, c, scope)
    d.events = _events(c, w, d.tables["volume"])
    # the banner follows the whole campaign: a page of a synthetic campaign says so, whatever
    # the window
    whole = data.campaign_summaries(con).get(c.name, {})
    d.synthetic = bool(d.summary.get("synthetic")) or bool(whole.get("synthetic"))
    d.as_of, d.as_of_text = as_of(con), as_of_line(con, c.timezone)
    d.snapshot = current_snapshot(con)
    return d


def partial_cuts(d: CampaignData) -> dict[str, str | None]:
    """Per time chart: where its partial bucket starts (None: every bucket is complete)."""
    tz, t = d.campaign.timezone, d.tables
    daily_b = data.daily_bucket(d.bucket)
    return {name: partial.partial_from(t[name], partial.cutoff(
                d.as_of, tz, d.bucket if name in ("volume", "platforms") else daily_b))
            for name in TIME_CHARTS}


def _events(c: Campaign, w: Window, volume: Rows) -> Rows:
    """Configured events inside the window and the span of the data shown."""
    if not volume:
        return []
    first_t, last_t = volume[0]["t"], volume[-1]["t"]
    return [{"t": t, "date": e.date.isoformat(), "label": e.label} for e in c.events
            if first_t <= (t := f"{e.date.isoformat()}T00:00:00Z") <= last_t
            and (w.since is None or e.date >= w.since) and (w.until is None or e.date <= w.until)]


def events_html(c: Campaign, w: Window) -> str:
    """The configured events as text (the chart marks those inside the data shown)."""
    shown = [e for e in c.events if (w.since is None or e.date >= w.since)
             and (w.until is None or e.date <= w.until)]
    if not shown:
        return ""
    items = "".join(f"<li>{esc(e.date.isoformat())}: {esc(e.label)}</li>" for e in shown)
    return f'<section class="meta" id="events">Events:<ul>{items}</ul></section>'


def chart_objects(d: CampaignData, brush: Any = None) -> dict[str, charts.AnyChart]:
    """One Altair chart per non-empty table; with `brush`, time charts follow it."""
    tz, b, t = d.campaign.timezone, d.bucket, d.tables
    daily_b = data.daily_bucket(b)
    cut = partial_cuts(d)
    makers: dict[str, Callable[[], charts.AnyChart]] = {
        "volume": lambda: charts.volume(t["volume"], b, tz, d.events, d.bursts, brush,
                                        cut["volume"]),
        "platforms": lambda: charts.platforms(t["platforms"], b, tz, brush, cut["platforms"]),
        "contributors": lambda: charts.contributors(t["contributors"], daily_b, tz, brush,
                                                    cut["contributors"]),
        "impressions": lambda: charts.impressions(t["impressions"], daily_b, tz, brush,
                                                  cut["impressions"]),
        "top_contributors": lambda: charts.top_contributors(t["top_contributors"]),
        "hashtags": lambda: charts.hashtag_pairs(t["hashtags"]),
        "languages": lambda: charts.languages(t["languages"]),
        "heatmap": lambda: charts.heatmap(t["heatmap"], tz),
        "network": lambda: network_section.chart(t["network"]),
        "tags": lambda: tags_section.chart(t["tags"]),
    }
    objs = {name: make() for name, make in makers.items() if t[name]}
    return {**objs, **links_section.chart_objects(d.links, tz)}


def page_specs(d: CampaignData) -> dict[str, dict[str, Any]]:
    """Specs embedded in the page: the time charts share one spec so brushing works."""
    brush = alt.selection_interval(encodings=["x"], name="brush")
    objs = chart_objects(d, brush if d.tables["volume"] else None)
    timeline = [objs.pop(n) for n in TIME_CHARTS if n in objs]
    specs = {}
    if timeline:
        specs["chart-timeline"] = charts.spec(charts.timeline(timeline))
    specs.update({f"chart-{n}": charts.spec(o) for n, o in objs.items()})
    return specs


def body_html(d: CampaignData, files: list[str]) -> str:
    c, s = d.campaign, d.summary
    tags = " ".join("#" + t for t in c.hashtags)
    parts = [
        f'<p class="meta">Hashtags: {esc(tags)} · Time zone: {esc(c.timezone)} · '
        f'Period: {esc(d.window.describe())} · '
        f'Platforms: {esc(platforms.labels((s.get("platforms") or "").split(",")) or "none")} '
        f'· Generated {esc(show_time(dt.datetime.now(dt.UTC), c.timezone))}. Every time on '
        f'this page is in {esc(c.timezone)}.</p>',
        sections.coverage_html(d.gaps, d.coverage_unknown),
        sections.figures_html(s, c.timezone),
        side_by_side.html(d.platform_table, c.timezone),
    ]
    if not s.get("posts"):
        parts.append('<p class="empty" data-empty-campaign>No posts in this campaign for this '
                     'period yet: nothing to chart. Collect with `tracker collect`, then '
                     'rebuild with `tracker build`.</p>')
    parts.append("<h2>Over time</h2>")
    if d.untimed:
        n = esc(sections.fmt_number(d.untimed))
        parts.append(f'<p class="meta" data-untimed>{n} post(s) have no known posting time'
                     ' (the platform\'s response did not include one): '
                     'they count in the figures above but are in none of the charts over time '
                     'or by weekday and hour.</p>')
    if d.tables["volume"]:
        parts.append(f'<p class="meta">One bar per {esc(d.bucket)}. Drag across the first '
                     'chart to zoom the others to that range; double-click to reset. Dashed '
                     'lines mark the configured events, shaded bands the detected bursts.</p>'
                     '<div class="chart" id="chart-timeline" data-chart="timeline"></div>')
        parts.append(partial_html(d))
        parts.append(events_html(c, d.window))
    else:
        parts += [chart_slot(n, TITLES[n], EMPTY) for n in TIME_CHARTS]
    parts.append("<h2>Who and what</h2>")
    if d.window.is_set:
        parts.append(f'<p class="meta" data-window-note>These charts, like every figure on '
                     f'this page, cover only the period selected: {esc(d.window.describe())}.'
                     '</p>')
    parts += [chart_slot(n, TITLES[n], None if d.tables[n] else EMPTY) for n in WHOLE_CAMPAIGN]
    parts.append(tags_section.html(d.tags, c, d.window.describe() if d.window.is_set
                                   else "the whole campaign"))
    parts.append(sections.top_posts_html(d.top_posts, c.timezone))
    parts.append(ages.ages_html(d.ages, d.window))
    parts.append(network_section.html(d.tables["network"], d.amplified, d.network_counts,
                                      d.window))
    parts += [links_section.links_html(d.links), links_section.media_html(d.links)]
    links = " · ".join(f'<a href="{esc(f)}">{esc(f)}</a>' for f in files)
    parts.append(f'<section id="downloads"><h2>Data and images</h2><p class="meta">{links}'
                 "</p></section>")
    parts.append(sections.definitions_html())
    return "".join(parts)


def partial_html(d: CampaignData) -> str:
    """The note under the time charts when their last bucket is still being collected."""
    cuts = {n: cut for n, cut in partial_cuts(d).items() if cut}
    if not cuts:
        return ""
    first = min(cuts.values()).replace("T", " ").removesuffix(":00Z")
    return (f'<p class="meta" id="partial-note">Still being collected: bars from {esc(first)} '
            f"({esc(d.campaign.timezone)}) on cover only part of their period (data as of the "
            "last post loaded), so they are drawn lighter.</p>")


def summary_json(d: CampaignData) -> dict[str, Any]:
    c = d.campaign
    return {
        "campaign": c.name, "title": c.title, "hashtags": list(c.hashtags),
        "timezone": c.timezone,
        "window": {"since": d.window.since, "until": d.window.until},
        "generated_at": dt.datetime.now(dt.UTC),
        "synthetic": d.synthetic,
        "data_as_of": d.as_of,
        # a lake's snapshot: `tracker report --as-of SNAPSHOT` writes this report again
        "snapshot": d.snapshot,
        "figures": {k: v for k, v in d.summary.items() if k != "synthetic"},
        "coverage_gaps": d.gaps,
        "coverage_unknown": d.coverage_unknown,
        "posts_without_time": d.untimed,
        "bucket": d.bucket,
        "definitions": {k: text for k, (_, text) in sections.DEFINITIONS.items()},
        "not_known": sections.UNKNOWN_NOTE,
    }


def label_synthetic(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with a subtitle saying the data is synthetic."""
    title = spec.get("title", "")
    title = dict(title) if isinstance(title, dict) else {"text": title}
    return {**spec, "title": {**title, "subtitle": SYNTHETIC_SUBTITLE,
                              "subtitleColor": "#8a4b00", "subtitleFontWeight": "bold"}}


def write_report(con: duckdb.DuckDBPyConnection, config: Config, campaign: Campaign,
                 out_dir: Path, window: Window | None = None, *, images: bool = True,
                 png: bool = True) -> Path:
    """Write `out_dir/<slug>/` (index.html, per-chart CSV/SVG/PNG, summary.json)."""
    d = load(con, campaign, window or Window())
    target = Path(out_dir) / campaign.slug
    target.mkdir(parents=True, exist_ok=True)
    for name in [*TITLES, *links_section.TITLES]:  # a chart empty now leaves no old files
        for ext in ("csv", "svg", "png"):
            (target / f"{name}.{ext}").unlink(missing_ok=True)
    files = []
    for name, table in d.tables.items():
        write_csv(target / f"{name}.csv", table)
        files.append(f"{name}.csv")
    write_csv(target / "top_posts.csv", d.top_posts)
    files.append("top_posts.csv")
    write_csv(target / "engagement_at_age.csv", d.ages)
    files.append("engagement_at_age.csv")
    write_csv(target / "amplified_accounts.csv", d.amplified)
    files.append("amplified_accounts.csv")
    extra = {**d.links, **tags_section.csv_tables(d.tags), "platform_summary": d.platform_table}
    for name, table in extra.items():
        write_csv(target / f"{name}.csv", table)
        files.append(f"{name}.csv")
    synthetic = d.synthetic or config.synthetic
    if images:
        standalone = {n: charts.spec(o) for n, o in chart_objects(d).items()}
        if synthetic:  # an image shared on its own still says what it shows
            standalone = {n: label_synthetic(s) for n, s in standalone.items()}
        write_images(target, standalone, png=png)
        files += [f"{n}.{ext}" for n in standalone for ext in (("svg", "png") if png
                                                               else ("svg",))]
    write_json(target / "summary.json", summary_json(d))
    files.append("summary.json")
    nav = '<nav><a href="../index.html">All campaigns</a></nav>'
    page = render_page(f"Campaign report: {campaign.title}", body_html(d, sorted(files)),
                       page_specs(d), synthetic, nav, d.as_of_text)
    out = target / "index.html"
    out.write_text(page, encoding="utf-8")
    return out
