"""HTML sections of a campaign report: headline figures with their definitions, the coverage
warning and the top-posts table. Everything from the warehouse is escaped here."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from .data import Rows
from .page import esc, link, safe_url

# key -> (label, definition). The figures link to these definitions on the same page.
DEFINITIONS: dict[str, tuple[str, str]] = {
    "posts": ("Posts", "Every post carrying one of the campaign's hashtags (after Unicode "
                       "normalisation and case folding), on every platform and of every kind: "
                       "originals, reposts, replies and quotes. A repost counts for the "
                       "campaigns of the post it reposts."),
    "contributors": ("Contributors", "Distinct accounts that posted at least once; an "
                                     "account is a platform and its account id."),
    "potential_reach": ("Potential reach", "Sum of followers over distinct contributors, "
                                           "each counted once with the largest follower count "
                                           "seen among their posts. An upper bound on the "
                                           "people who could have seen a post: audiences "
                                           "overlap."),
    "potential_impressions": ("Potential impressions", "Sum over posts of the author's "
                                                       "followers at posting time: how many "
                                                       "times a post could have appeared in a "
                                                       "feed. Unknown follower counts count "
                                                       "as 0."),
    "actual_impressions": ("Actual impressions", "Impressions the platform itself reports "
                                                 "(X's impression count, for posts collected "
                                                 "with access to it). 'not known' when no "
                                                 "platform reported any."),
    "engagement": ("Engagement", "Likes + reposts + replies + quotes received, from the latest "
                                 "observation of each post. Reposts carry none of their own."),
    "engagement_per_post": ("Engagement per post", "Engagement divided by the posts that can "
                                                   "receive it (all but reposts)."),
    "peak_hour": ("Peak hour", "The clock hour with the most posts (the earliest of equal "
                               "hours), shown in the campaign's time zone."),
    "first_post": ("First post", "Time of the earliest post, campaign time zone."),
    "last_post": ("Last post", "Time of the latest post, campaign time zone."),
    "coverage": ("Coverage", "Days on which a source could not collect everything (endpoint "
                             "limits, budgets, errors or outages). Figures for those days are "
                             "lower bounds."),
}
FIGURES = ("posts", "contributors", "potential_reach", "potential_impressions",
           "actual_impressions", "engagement", "engagement_per_post", "peak_hour",
           "first_post", "last_post")


def fmt_number(value: Any) -> str:
    if value is None:
        return "not known"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def fmt_time(value: Any, tz: str, hour_only: bool = False) -> str:
    if value is None:
        return "none"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(tz))
        return value.strftime("%Y-%m-%d %H:00" if hour_only else "%Y-%m-%d %H:%M")
    return str(value)


def figure_values(s: dict[str, Any], tz: str) -> dict[str, str]:
    out = {k: fmt_number(s.get(k)) for k in FIGURES if k not in (
        "peak_hour", "first_post", "last_post")}
    peak = fmt_time(s.get("peak_hour"), tz, hour_only=True)
    if s.get("peak_hour") is not None:
        peak += f" ({fmt_number(s.get('peak_hour_posts'))} posts)"
    out["peak_hour"] = peak
    out["first_post"] = fmt_time(s.get("first_post"), tz)
    out["last_post"] = fmt_time(s.get("last_post"), tz)
    return out


def figures_html(s: dict[str, Any], tz: str) -> str:
    values = figure_values(s, tz)
    cards = "".join(
        f'<div class="figure" data-figure="{k}"><b>{esc(values[k])}</b>'
        f'<a href="#def-{k}" title="What this counts">{esc(DEFINITIONS[k][0])} ⓘ</a></div>'
        for k in FIGURES)
    return f'<section class="figures" aria-label="Headline figures">{cards}</section>'


def definitions_html() -> str:
    items = "".join(f'<dt id="def-{k}">{esc(label)}</dt><dd>{esc(text)}</dd>'
                    for k, (label, text) in DEFINITIONS.items())
    return f'<section id="definitions"><h2>Definitions</h2><dl>{items}</dl></section>'


def coverage_html(gaps: Rows) -> str:
    if not gaps:
        return ""
    items = "".join(
        f"<li>{esc(g['source'])}: {esc(g['days'])} day(s) with gaps between "
        f"{esc(g['first_day'])} and {esc(g['last_day'])}"
        + (f" ({esc(g['reasons'])})" if g.get("reasons") else "") + "</li>" for g in gaps)
    return (f'<div class="warning" role="alert" data-coverage-warning><b>Coverage has gaps.</b> '
            f'Some sources could not collect everything, so the figures below are lower bounds '
            f'(<a href="#def-coverage">what this means</a>):<ul>{items}</ul></div>')


POST_COUNTS = ("likes", "reposts", "replies", "quotes", "engagement")


def top_posts_html(posts: Rows, tz: str) -> str:
    if not posts:
        return ('<section id="top-posts"><h2>Top posts</h2>'
                '<p class="empty">No posts with engagement in this period.</p></section>')
    head = ("<tr><th>#</th><th>Post</th><th>Author</th><th>Posted</th>"
            + "".join(f'<th class="num">{c}</th>' for c in POST_COUNTS) + "<th>Link</th></tr>")
    body = "".join(
        f"<tr data-post-rank=\"{esc(p['rank'])}\"><td>{esc(p['rank'])}</td>"
        f'<td class="text">{esc(p["text"])}</td>'
        f"<td>{esc(p['handle'])} <small>({esc(p['platform'])})</small></td>"
        f"<td>{esc(p['posted'])}</td>"
        + "".join(f'<td class="num">{esc(fmt_number(p[c]))}</td>' for c in POST_COUNTS)
        + f"<td>{link(p['url'], 'open' if safe_url(p['url']) else p['url'] or '')}</td></tr>"
        for p in posts)
    return (f'<section id="top-posts"><h2>Top posts by engagement</h2>'
            f'<p class="meta">Times in {esc(tz)}. Links open the original post.</p>'
            f"<table><thead>{head}</thead><tbody>{body}</tbody></table></section>")

