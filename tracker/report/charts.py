"""Altair charts over already-aggregated rows (see data.py). No chart ever sees raw posts.

Times arrive as local wall-clock strings marked "Z" and every temporal encoding uses UTC
time units, so axes show the campaign's clock in any browser and in the PNG/SVG exports.
Time charts take an optional `brush` (an interval selection on the volume chart): their x
domain follows it, which zooms them to the brushed range.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any, Literal, TypeAlias

import altair as alt

from ..network import xml_safe
from .data import ISO, Rows

AnyChart: TypeAlias = alt.Chart | alt.LayerChart  # what every function here returns
TimeUnit: TypeAlias = Literal["utcyearmonthdatehours", "utcyearmonthdate", "utcyearweek",
                              "utcyearmonth"]

WIDTH = 760
HEIGHT = 220
KIND_ORDER = ["original", "repost", "reply", "quote"]
TIME_UNITS: dict[str, TimeUnit] = {"hour": "utcyearmonthdatehours", "day": "utcyearmonthdate",
              "week": "utcyearweek", "month": "utcyearmonth"}
TIME_FORMATS = {"hour": "%d %b %H:%M", "day": "%d %b %Y", "week": "week of %d %b %Y",
                "month": "%b %Y"}
BUCKET_WORDS = {"hour": "hour", "day": "day", "week": "week", "month": "month"}
EVENT_COLOUR = "#7a1c1c"
PARTIAL = "partial: still being collected"


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec as the report embeds and renders it. Not checked against
    the Vega-Lite schema here: Altair's check made a page's specs 0.39 s instead of 0.25 s,
    for specs that only this code writes; tests/test_report_specs.py checks every chart a
    report draws."""
    return chart.to_dict(validate=False)


def _period(chart: alt.Chart, partial: str | None) -> alt.Chart:
    """Bars of the bucket still being collected (from `partial` on) drawn lighter, with a
    legend entry; unchanged when no bucket is partial."""
    if partial is None:
        return chart
    # Vega-Lite parses a temporal field into a date: compare instants, not strings
    since = dt.datetime.strptime(partial, ISO).replace(tzinfo=dt.UTC).timestamp() * 1000
    return chart.transform_calculate(
        period=f"+toDate(datum.t) >= {since:.0f} ? '{PARTIAL}' : 'complete'").encode(
        opacity=alt.Opacity("period:N", title="Period",
                            scale=alt.Scale(domain=["complete", PARTIAL], range=[1.0, 0.35]),
                            # above the charts: on the right it would widen the whole timeline
                            legend=alt.Legend(orient="top")))


def chart_data(rows: Rows) -> alt.Data:
    """A chart's rows, their text without the characters no SVG can hold (a control character
    in a tag or a name makes the image renderer abort; the text is untrusted)."""
    return alt.Data(values=[{k: xml_safe(v) if isinstance(v, str) else v for k, v in r.items()}
                            for r in rows])


def _time_x(bucket: str, tz: str, brush: Any = None, title: bool = True,
            centre: bool = False) -> alt.X:
    """Time axis; `centre` puts points and lines mid-bucket, over the bars."""
    scale = alt.Scale(domain=brush) if brush is not None else alt.Undefined
    return alt.X("t:T", timeUnit=TIME_UNITS[bucket], scale=scale,
                 bandPosition=0.5 if centre else alt.Undefined,
                 title=f"{BUCKET_WORDS[bucket].capitalize()} ({tz})" if title else None,
                 axis=alt.Axis(format=TIME_FORMATS[bucket], labelOverlap=True))


def _time_tip(bucket: str) -> alt.Tooltip:
    return alt.Tooltip("t:T", timeUnit=TIME_UNITS[bucket], format=TIME_FORMATS[bucket],
                       title=BUCKET_WORDS[bucket].capitalize())


def volume(rows: Rows, bucket: str, tz: str, events: Rows, bursts: Rows,
           brush: Any = None, partial: str | None = None) -> alt.LayerChart:
    """Posts per bucket stacked by kind; events as labelled rules, bursts shaded."""
    layers: list[alt.Chart] = []
    if bursts:
        layers.append(alt.Chart(chart_data(bursts)).mark_rect(color="#f0ad4e", opacity=0.18).encode(
            x="start:T", x2="end:T",
            tooltip=[alt.Tooltip("peak:N", title="Burst peak"),
                     alt.Tooltip("peak_posts:Q", title="Posts in peak hour"),
                     alt.Tooltip("baseline_posts:Q", title="Baseline posts per hour")]))
    bars = alt.Chart(chart_data(rows)).mark_bar().encode(
        x=_time_x(bucket, tz),
        y=alt.Y("sum(posts):Q", title=f"Posts per {BUCKET_WORDS[bucket]}"),
        color=alt.Color("kind:N", title="Kind", sort=KIND_ORDER,
                        scale=alt.Scale(domain=KIND_ORDER)),
        order=alt.Order("kind_order:Q"),
        tooltip=[_time_tip(bucket), alt.Tooltip("kind:N", title="Kind"),
                 alt.Tooltip("sum(posts):Q", title="Posts", format=",")],
    ).transform_calculate(kind_order=f"indexof({KIND_ORDER!r}, datum.kind)")
    bars = _period(bars, partial)
    if brush is not None:
        bars = bars.add_params(brush)
    layers.append(bars)
    if events:
        base = alt.Chart(chart_data(events))
        layers.append(base.mark_rule(color=EVENT_COLOUR, strokeDash=[4, 3]).encode(
            x="t:T", tooltip=[alt.Tooltip("label:N", title="Event"),
                              alt.Tooltip("date:N", title="Date")]))
        # Labels of nearby events would overlap: each event gets its own line (row).
        layers.append(base.mark_text(align="left", dx=3, color=EVENT_COLOUR, baseline="top",
                                     fontWeight="bold", limit=160).encode(
            x="t:T", y=alt.Y("row:Q", scale=None), text="label:N"
        ).transform_window(n="row_number()").transform_calculate(
            row="4 + 14 * ((datum.n - 1) % 4)"))
    title = "Posts over time by kind"
    if brush is not None:
        title += " (drag to zoom the charts below; double-click to reset)"
    return alt.LayerChart(layer=layers).properties(width=WIDTH, height=HEIGHT, title=title)


def platforms(rows: Rows, bucket: str, tz: str, brush: Any = None,
              partial: str | None = None) -> alt.Chart:
    return _period(alt.Chart(chart_data(rows)).mark_bar(clip=True).encode(
        x=_time_x(bucket, tz, brush),
        y=alt.Y("sum(posts):Q", title=f"Posts per {BUCKET_WORDS[bucket]}"),
        color=alt.Color("platform:N", title="Platform"),
        tooltip=[_time_tip(bucket), alt.Tooltip("platform:N", title="Platform"),
                 alt.Tooltip("sum(posts):Q", title="Posts", format=",")],
    ), partial).properties(width=WIDTH, height=HEIGHT, title="Posts over time by platform")


def contributors(rows: Rows, bucket: str, tz: str, brush: Any = None,
                 partial: str | None = None) -> alt.LayerChart:
    base = alt.Chart(chart_data(rows)).encode(x=_time_x(bucket, tz, brush))
    tips = [_time_tip(bucket), alt.Tooltip("new_authors:Q", title="New contributors", format=","),
            alt.Tooltip("cumulative_authors:Q", title="Contributors so far", format=",")]
    bars = _period(base.mark_bar(color="#9ecae1", clip=True).encode(
        y=alt.Y("new_authors:Q", title=f"New contributors per {BUCKET_WORDS[bucket]}"),
        tooltip=tips), partial)
    line = base.mark_line(color="#08519c", point=True, clip=True).encode(
        x=_time_x(bucket, tz, brush, centre=True),
        y=alt.Y("cumulative_authors:Q", title="Contributors so far (cumulative)"),
        tooltip=tips)
    return alt.layer(bars, line).resolve_scale(y="independent").properties(
        width=WIDTH, height=HEIGHT, title="Contributors: new adopters and cumulative total")


ACTUAL = "actual impressions (line)"


def impressions(rows: Rows, bucket: str, tz: str, brush: Any = None,
                partial: str | None = None) -> alt.LayerChart:
    """Potential impressions as bars by platform (left axis); actual impressions, where a
    platform reports them, as a line with its own axis on the right and its own legend entry:
    they are usually a small fraction of the potential and would lie flat on its scale."""
    base = alt.Chart(chart_data(rows)).encode(x=_time_x(bucket, tz, brush))
    # a day whose potential impressions are not known has no bar (not a bar of 0)
    layers = [_period(base.transform_filter("isValid(datum.potential_impressions)").mark_bar(
        clip=True, opacity=0.85).encode(
        y=alt.Y("sum(potential_impressions):Q", title="Potential impressions (bars)"),
        color=alt.Color("platform:N", title="Potential, by platform"),
        tooltip=[_time_tip(bucket), alt.Tooltip("platform:N", title="Platform"),
                 alt.Tooltip("sum(potential_impressions):Q", title="Potential impressions",
                             format=","),
                 alt.Tooltip("sum(actual_impressions):Q", title="Actual impressions",
                             format=",")]), partial)]
    title = "Impressions over time: potential (bars)"
    if any(r.get("actual_impressions") is not None for r in rows):
        layers.append(base.transform_filter("isValid(datum.actual_impressions)")
                      .transform_calculate(series=f"'{ACTUAL}'").mark_line(
            point=True, clip=True).encode(
            x=_time_x(bucket, tz, brush, centre=True),
            y=alt.Y("sum(actual_impressions):Q", title="Actual impressions (line)",
                    axis=alt.Axis(orient="right")),
            color=alt.Color("series:N", title="Actual, where reported",
                            scale=alt.Scale(range=["black"]),
                            legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2)),
            tooltip=[_time_tip(bucket), alt.Tooltip("sum(actual_impressions):Q",
                                                    title="Actual impressions (reported)",
                                                    format=",")]))
        title += " and actual where reported (line, own axis on the right)"
    return alt.LayerChart(layer=layers).resolve_scale(y="independent", color="independent"
                                                      ).properties(width=WIDTH, height=HEIGHT,
                                                                   title=title)


METRIC_TITLES = {"posts": "Posts made", "potential_impressions": "Potential impressions",
                 "engagement": "Engagement received", "mentions": "Times mentioned"}


def top_contributors(rows: Rows) -> alt.LayerChart:
    """Accounts ranked by the measure picked in the menu; the x axis's title names it (a text
    mark: an axis title cannot follow a parameter)."""
    metrics = [m for m in METRIC_TITLES if any(r["metric"] == m for r in rows)]
    pick = alt.param(name="metric", value=metrics[0], bind=alt.binding_select(
        options=metrics, labels=[METRIC_TITLES[m] for m in metrics], name="Rank by: "))
    bars = alt.Chart(chart_data(rows)).mark_bar(color="#3182bd").encode(
        y=alt.Y("account:N", sort=alt.EncodingSortField("rank", order="ascending"),
                title="Account (platform)", axis=alt.Axis(labelLimit=220)),
        # whole numbers: no more ticks than the largest value (no 0.5 posts)
        x=alt.X("value:Q", title=None, axis=alt.Axis(
            format="~s", labelFlush=True, labelOverlap=True,
            tickCount=alt.expr("min(ceil(width / 40), max(1, domain('x')[1]))"))),
        tooltip=[alt.Tooltip("rank:Q", title="Rank"), alt.Tooltip("account:N", title="Account"),
                 alt.Tooltip("metric:N", title="Measure"),
                 alt.Tooltip("value:Q", title="Value", format=",")],
    ).add_params(pick).transform_filter("datum.metric == metric")
    x_title = alt.Chart(chart_data([{}])).mark_text(
        text=alt.expr(f"{json.dumps(METRIC_TITLES)}[metric]"), x=alt.expr("width / 2"),
        y=alt.expr("height + 30"), fontWeight="bold", fontSize=11, align="center")
    # a fixed title (a long one that followed the menu would not fit a phone); the x axis's
    # title names the measure
    return alt.LayerChart(layer=[bars, x_title]).properties(
        width=WIDTH - 240, title="Top contributors")


def hashtag_pairs(rows: Rows) -> alt.Chart:
    return alt.Chart(chart_data(rows)).mark_bar(color="#756bb1").encode(
        y=alt.Y("pair:N", sort="-x", title="Tag pair", axis=alt.Axis(labelLimit=260)),
        x=alt.X("posts:Q", title="Posts carrying both tags", axis=alt.Axis(labelFlush=True)),
        tooltip=[alt.Tooltip("pair:N", title="Hashtags"),
                 alt.Tooltip("posts:Q", title="Posts", format=",")],
    ).properties(width=WIDTH - 280, title="Hashtags used together")


def languages(rows: Rows) -> alt.Chart:
    # one bar per code: two codes of one name (X's old `in` beside `id`) are told apart
    named = Counter(r["language"] for r in rows)
    rows = [{**r, "label": r["language"] if named[r["language"]] == 1
             else f'{r["language"]} ({r["lang"]})'} for r in rows]
    return alt.Chart(chart_data(rows)).mark_bar(color="#31a354").encode(
        y=alt.Y("label:N", sort="-x", title="Language (as reported)"),
        x=alt.X("posts:Q", title="Posts", axis=alt.Axis(labelFlush=True)),
        tooltip=[alt.Tooltip("language:N", title="Language"),
                 alt.Tooltip("lang:N", title="Code"),
                 alt.Tooltip("posts:Q", title="Posts", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%")],
    ).properties(width=WIDTH - 200, title="Languages (as reported by the platforms)")


def heatmap(rows: Rows, tz: str) -> alt.Chart:
    return alt.Chart(chart_data(rows)).mark_rect().encode(
        x=alt.X("hour_of_day:O", title=f"Hour of day ({tz})",
                axis=alt.Axis(labelAngle=0, labelOverlap=True)),
        y=alt.Y("weekday_name:O", title=f"Weekday ({tz})",
                sort=alt.EncodingSortField("weekday", order="ascending")),
        color=alt.Color("posts:Q", title="Posts", scale=alt.Scale(scheme="reds")),
        tooltip=[alt.Tooltip("weekday_name:N", title="Weekday"),
                 alt.Tooltip("hour_of_day:O", title="Hour"),
                 alt.Tooltip("posts:Q", title="Posts", format=",")],
    ).properties(width=WIDTH - 140, title=f"When people post: weekday and hour ({tz})")


def share_of_voice(rows: Rows) -> alt.Chart:
    return alt.Chart(chart_data(rows)).mark_area().encode(
        x=alt.X("t:T", timeUnit="utcyearmonthdate", title="Day (UTC)"),
        y=alt.Y("share:Q", stack="normalize", title="Share of campaign posts",
                axis=alt.Axis(format="%")),
        color=alt.Color("campaign:N", title="Campaign"),
        tooltip=[alt.Tooltip("t:T", timeUnit="utcyearmonthdate", title="Day"),
                 alt.Tooltip("campaign:N", title="Campaign"),
                 alt.Tooltip("posts:Q", title="Posts", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%")],
    ).properties(width=WIDTH, height=HEIGHT, title="Share of voice per UTC day")


def campaigns_volume(rows: Rows) -> alt.Chart:
    return alt.Chart(chart_data(rows)).mark_line(point=True).encode(
        x=alt.X("t:T", timeUnit="utcyearmonthdate", title="Day (UTC)"),
        y=alt.Y("posts:Q", title="Posts per day"),
        color=alt.Color("campaign:N", title="Campaign"),
        tooltip=[alt.Tooltip("t:T", timeUnit="utcyearmonthdate", title="Day"),
                 alt.Tooltip("campaign:N", title="Campaign"),
                 alt.Tooltip("posts:Q", title="Posts", format=",")],
    ).properties(width=WIDTH, height=HEIGHT, title="Posts per UTC day, campaigns side by side")


def timeline(parts: list[AnyChart]) -> alt.VConcatChart:
    """The time charts in one spec, so the brush on the first zooms the others."""
    return alt.vconcat(*parts, spacing=28).resolve_scale(color="independent")
