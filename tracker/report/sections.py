"""HTML sections of a campaign report: headline figures with their definitions, the coverage
warning and the top-posts table. Everything from the warehouse is escaped here."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ..models import QUERIES_DIR, parse_model
from .data import Rows
from .page import esc, info_mark, link, safe_url

# The figures' definitions are written once, in the column docs of the models (the mart's
# header comment): the report shows them as they are written there.
LABELS = {"posts": "Posts", "contributors": "Contributors", "potential_reach": "Potential reach",
          "potential_impressions": "Potential impressions",
          "actual_impressions": "Actual impressions", "engagement": "Engagement",
          "engagement_per_post": "Engagement per post", "peak_hour": "Peak hour",
          "first_post": "First post", "last_post": "Last post", "coverage": "Coverage"}
# figure -> (the summary column saying for what share of posts it is known, of what posts)
KNOWN_SHARE = {"contributors": ("author_known_share", "posts"),
               "potential_reach": ("followers_known_share", "posts"),
               "potential_impressions": ("followers_known_share", "posts"),
               "actual_impressions": ("impressions_known_share", "posts"),
               "engagement": ("engagement_known_share", "posts that can receive it"),
               "engagement_per_post": ("engagement_known_share", "posts that can receive it")}
UNKNOWN_NOTE = ("'not known' means the platforms did not report what the figure needs (it is "
                "never shown as 0); a figure known for only some posts is computed over those "
                "and says for what share of posts it is known. Times are in the campaign's "
                "time zone.")


def _definitions() -> dict[str, tuple[str, str]]:
    summary = parse_model("marts", QUERIES_DIR / "marts" / "campaign_summary.sql").columns
    coverage = parse_model("marts", QUERIES_DIR / "marts" / "coverage.sql").columns
    texts = {**summary, "coverage": coverage["state"]}
    return {k: (label, texts[k]) for k, label in LABELS.items()}


# key -> (label, definition). The figures link to these definitions on the same page.
DEFINITIONS: dict[str, tuple[str, str]] = _definitions()
FIGURES = ("posts", "contributors", "potential_reach", "potential_impressions",
           "actual_impressions", "engagement", "engagement_per_post", "peak_hour",
           "first_post", "last_post")


def percent(share: float) -> str:
    """A share as a percentage that never rounds a partial share to 0% or 100%."""
    if 0 < share < 0.01:
        return "<1%"
    if 0.99 < share < 1:
        return ">99%"
    return f"{share:.0%}"


def known_for(s: dict[str, Any], key: str) -> str:
    """'known for 62% of posts' when a figure is known for only some posts, else ''."""
    column, of = KNOWN_SHARE.get(key, (None, ""))
    share = s.get(column) if column else None
    if s.get(key) is None or share is None or share >= 1:
        return ""
    return f"known for {percent(share)} of {of}"


def fmt_number(value: Any) -> str:
    if value is None:
        return "not known"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def fmt_time(value: Any, tz: str) -> str:
    """A time in the campaign's zone, to the minute: a UTC hour starts at :30 or :45 in some
    zones (Asia/Kolkata, Asia/Kathmandu), so even an hour's start shows its minutes."""
    if value is None:
        return "none"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(tz))
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def figure_values(s: dict[str, Any], tz: str) -> dict[str, str]:
    out = {k: fmt_number(s.get(k)) for k in FIGURES if k not in (
        "peak_hour", "first_post", "last_post")}
    peak = fmt_time(s.get("peak_hour"), tz)
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
        + (f'<small data-known="{k}">{esc(known)}</small>' if (known := known_for(s, k))
           else "")
        + f'<a href="#def-{k}" title="What this counts">{esc(DEFINITIONS[k][0])}'
        + f"{info_mark()}</a></div>"
        for k in FIGURES)
    return f'<section class="figures" aria-label="Headline figures">{cards}</section>'


def definitions_html() -> str:
    items = "".join(f'<dt id="def-{k}">{esc(label)}</dt><dd>{esc(text)}</dd>'
                    for k, (label, text) in DEFINITIONS.items())
    return (f'<section id="definitions"><h2>Definitions</h2><p class="meta">{esc(UNKNOWN_NOTE)}'
            f'</p><dl>{items}</dl></section>')


def coverage_html(gaps: Rows, unknown: Rows | None = None) -> str:
    return _gaps_html(gaps) + _unknown_html(unknown or [])


def _unknown_html(unknown: Rows) -> str:
    if not unknown:
        return ""
    items = "".join(f"<li>{esc(u['source'])}: {esc(u['days'])} day(s) between "
                    f"{esc(u['first_day'])} and {esc(u['last_day'])}</li>" for u in unknown)
    return ('<div class="warning" role="note" data-coverage-unknown><b>Coverage not known.</b> '
            "Some posts were imported from archives, which do not say what they left out: the "
            "figures count what the archives hold "
            f'(<a href="#def-coverage">what this means</a>):<ul>{items}</ul></div>')


def _gaps_html(gaps: Rows) -> str:
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
    # data-label: on a narrow screen the table becomes one card per post (page.STYLE)
    body = "".join(
        f"<tr data-post-rank=\"{esc(p['rank'])}\"><td data-label=\"Rank\">{esc(p['rank'])}</td>"
        f'<td class="text">{esc(p["text"])}</td>'
        f"<td data-label=\"Author\">{esc(p['handle'])} <small>({esc(p['platform'])})</small>"
        f"</td><td class=\"time\" data-label=\"Posted\">{esc(p['posted'])}</td>"
        + "".join(f'<td class="num" data-label="{c}">{esc(fmt_number(p[c]))}</td>'
                  for c in POST_COUNTS)
        + f"<td>{link(p['url'], 'open' if safe_url(p['url']) else p['url'] or '')}</td></tr>"
        for p in posts)
    return (f'<section id="top-posts"><h2>Top posts by engagement</h2>'
            f'<p class="meta">Times in {esc(tz)}. Links open the original post.</p>'
            f'<table class="cards"><thead>{head}</thead><tbody>{body}</tbody></table></section>')

