"""The report's "Links and domains" and "Media" sections: the most shared links, domains and
media items (by posts and by potential reach) and both over time, from marts.top_links,
top_domains, top_media, links_daily and media_daily through the report's window (Scope).

Links and media urls are untrusted text: shown escaped, and made clickable only when they
are plain http(s) urls (page.link). The definitions shown are the marts' column docs.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import duckdb

from ..config import Campaign
from .charts import WIDTH, AnyChart, chart_data
from .data import ISO, Rows, rows
from .page import chart_slot, esc, link
from .sections import fmt_number
from .window import Scope, _models

TITLES = {"domains": "Top domains", "links_daily": "Posts with links over time",
          "media_daily": "Posts with media over time"}
MARTS = ("marts.top_links", "marts.top_domains", "marts.top_media", "marts.links_daily",
         "marts.media_daily")
TOP = 15
EMPTY = "no links in this period"
EMPTY_MEDIA = "no media in this period"
MEDIA_TYPES = ["photo", "video", "gif", "audio", "unknown"]
MEDIA_COLOURS = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#969696"]


def built(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the warehouse has the link and media marts (a build since they were added)."""
    have = {f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = 'marts'").fetchall()}
    return all(m in have for m in MARTS)


def load(con: duckdb.DuckDBPyConnection, c: Campaign, scope: Scope) -> dict[str, Rows]:
    """The section's tables for the campaign's window (empty when the marts are not built)."""
    if not built(con):
        return {k: [] for k in ("links", "domains", "domains_reach", "media", "links_daily",
                                "media_daily")}

    def top(mart: str, cols: str, order: str) -> Rows:
        return rows(con, f"""
            select metric, rank, {cols} from {scope.table(mart)}
            where campaign = ? and rank <= ? order by metric, rank, {order}""", [c.name, TOP])

    common = "posts, authors, potential_reach, followers_known_posts"
    domains = top("marts.top_domains", f"domain, links, {common}", "domain")
    daily = rows(con, f"""
        with posts as (select day, sum(posts) as posts from {scope.table("marts.volume_daily")}
                       where campaign = ? group by all)
        select strftime(l.day, '{ISO}') as t, p.posts, l.posts_with_links, l.links, l.domains,
               l.posts_with_links / p.posts as share
        from {scope.table("marts.links_daily")} l join posts p using (day)
        where l.campaign = ? order by l.day""", [c.name, c.name])
    return {
        "links": top("marts.top_links", f"url_norm, domain, {common}", "url_norm"),
        "domains": [r for r in domains if r["metric"] == "posts"],
        "domains_reach": [r for r in domains if r["metric"] == "potential_reach"],
        "media": top("marts.top_media", f"url, media_type, platform, preview_url, alt_text, "
                                        f"{common}", "url"),
        "links_daily": daily,
        "media_daily": rows(con, f"""
            select strftime(day, '{ISO}') as t, media_type, posts, items
            from {scope.table("marts.media_daily")} where campaign = ?
            order by day, media_type""", [c.name]),
    }


# --- charts ----------------------------------------------------------------------------------
def domains_chart(table: Rows) -> alt.Chart:
    return alt.Chart(chart_data(table)).mark_bar(color="#6b6ecf").encode(
        y=alt.Y("domain:N", sort="-x", title="Domain"),
        x=alt.X("posts:Q", title="Campaign posts linking to it",
                axis=alt.Axis(labelFlush=True)),
        tooltip=[alt.Tooltip("domain:N", title="Domain"),
                 alt.Tooltip("posts:Q", title="Posts", format=","),
                 alt.Tooltip("links:Q", title="Different links", format=","),
                 alt.Tooltip("authors:Q", title="Authors", format=","),
                 alt.Tooltip("potential_reach:Q", title="Potential reach", format=",")],
    ).properties(width=WIDTH - 200, title="Top domains by posts")


def links_daily_chart(table: Rows, tz: str) -> alt.Chart:
    return alt.Chart(chart_data(table)).mark_bar(color="#6b6ecf").encode(
        x=alt.X("t:T", timeUnit="utcyearmonthdate", title=f"Day ({tz})",
                axis=alt.Axis(format="%d %b %Y", labelOverlap=True)),
        y=alt.Y("posts_with_links:Q", title="Posts with links"),
        tooltip=[alt.Tooltip("t:T", timeUnit="utcyearmonthdate", title="Day",
                             format="%d %b %Y"),
                 alt.Tooltip("posts_with_links:Q", title="Posts with links", format=","),
                 alt.Tooltip("share:Q", title="Share of the day's posts", format=".1%"),
                 alt.Tooltip("links:Q", title="Different links", format=","),
                 alt.Tooltip("domains:Q", title="Domains", format=",")],
    ).properties(width=WIDTH - 120, title=f"Posts with links per day ({tz})")


def media_daily_chart(table: Rows, tz: str) -> alt.Chart:
    return alt.Chart(chart_data(table)).mark_bar().encode(
        x=alt.X("t:T", timeUnit="utcyearmonthdate", title=f"Day ({tz})",
                axis=alt.Axis(format="%d %b %Y", labelOverlap=True)),
        y=alt.Y("posts:Q", title="Posts with media", stack="zero"),
        color=alt.Color("media_type:N", title="Media type",
                        scale=alt.Scale(domain=MEDIA_TYPES, range=MEDIA_COLOURS)),
        tooltip=[alt.Tooltip("t:T", timeUnit="utcyearmonthdate", title="Day",
                             format="%d %b %Y"),
                 alt.Tooltip("media_type:N", title="Type"),
                 alt.Tooltip("posts:Q", title="Posts", format=","),
                 alt.Tooltip("items:Q", title="Items", format=",")],
    ).properties(width=WIDTH - 120, title=f"Posts with media per day, by type ({tz})")


def chart_objects(tables: dict[str, Rows], tz: str) -> dict[str, AnyChart]:
    makers = {"domains": lambda: domains_chart(tables["domains"]),
              "links_daily": lambda: links_daily_chart(tables["links_daily"], tz),
              "media_daily": lambda: media_daily_chart(tables["media_daily"], tz)}
    return {name: make() for name, make in makers.items() if tables.get(name)}


# --- html ------------------------------------------------------------------------------------
def _doc(mart: str, column: str) -> str:
    return _models()[mart].columns.get(column, "")


def _short(url: str, n: int = 70) -> str:
    return url if len(url) <= n else url[: n - 1] + "…"


def _numbers(r: dict[str, Any]) -> str:
    return "".join(f'<td class="num" data-label="{label}">{esc(fmt_number(r[k]))}</td>'
                   for k, label in (("posts", "posts"), ("authors", "authors"),
                                    ("potential_reach", "potential reach")))


NUM_HEAD = ('<th class="num">Posts</th><th class="num">Authors</th>'
            '<th class="num">Potential reach</th>')


def _links_table(table: Rows, metric: str, caption: str) -> str:
    chosen = [r for r in table if r["metric"] == metric]
    if not chosen:
        return f'<p class="empty">{esc(caption)}: not known for any link in this period.</p>'
    body = "".join(
        f'<tr data-link-rank="{esc(r["rank"])}"><td data-label="Rank">{esc(r["rank"])}</td>'
        f'<td class="text">{link(r["url_norm"], _short(r["url_norm"]))}</td>'
        f'<td data-label="Domain">{esc(r["domain"] or "none")}</td>{_numbers(r)}</tr>'
        for r in chosen)
    return (f'<h3>{esc(caption)}</h3><table class="cards" data-links="{esc(metric)}"><thead>'
            f'<tr><th>#</th><th>Link</th><th>Domain</th>{NUM_HEAD}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def links_html(tables: dict[str, Rows]) -> str:
    if not tables["links"]:
        return ('<section id="links"><h2>Links and domains</h2>'
                f'<p class="empty">{esc(EMPTY.capitalize())}.</p></section>')
    reach = tables["domains_reach"][:5]
    reach_line = ", ".join(f"{r['domain']} ({fmt_number(r['potential_reach'])})"
                           for r in reach) or "not known"
    return (
        '<section id="links"><h2>Links and domains</h2>'
        f'<p class="meta">A link counts once per post that carries it: '
        f'{esc(_doc("core.campaign_links", "url_norm"))}. Posts: '
        f'{esc(_doc("marts.top_links", "posts"))}. Potential reach: '
        f'{esc(_doc("marts.top_links", "potential_reach"))}. Links are shown '
        'as posted text; only http and https links open.</p>'
        + chart_slot("domains", TITLES["domains"], None if tables["domains"] else EMPTY)
        + f'<p class="meta" data-domains-reach>Domains with the largest potential reach: '
          f"{esc(reach_line)}.</p>"
        + chart_slot("links_daily", TITLES["links_daily"],
                     None if tables["links_daily"] else EMPTY)
        + _links_table(tables["links"], "posts", "Top links by posts")
        + _links_table(tables["links"], "potential_reach", "Top links by potential reach")
        + "</section>")


def _media_table(table: Rows, metric: str, caption: str) -> str:
    chosen = [r for r in table if r["metric"] == metric]
    if not chosen:
        return f'<p class="empty">{esc(caption)}: not known for any item in this period.</p>'
    body = "".join(
        f'<tr data-media-rank="{esc(r["rank"])}"><td data-label="Rank">{esc(r["rank"])}</td>'
        f'<td data-label="Type">{esc(r["media_type"])} <small>({esc(r["platform"])})</small></td>'
        f'<td class="text">{link(r["url"], _short(r["url"], 50))}'
        + (f'<br><small>Description: {esc(r["alt_text"])}</small>' if r["alt_text"] else "")
        + f"</td>{_numbers(r)}</tr>"
        for r in chosen)
    return (f'<h3>{esc(caption)}</h3><table class="cards" data-media="{esc(metric)}"><thead>'
            f'<tr><th>#</th><th>Type</th><th>File</th>{NUM_HEAD}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def media_html(tables: dict[str, Rows]) -> str:
    if not tables["media"] and not tables["media_daily"]:
        return ('<section id="media"><h2>Media</h2>'
                f'<p class="empty">{esc(EMPTY_MEDIA.capitalize())}.</p></section>')
    return (
        '<section id="media"><h2>Media</h2>'
        '<p class="meta">An item is its file: the same file attached to several posts is one '
        f'item. Type: {esc(_doc("core.campaign_media", "media_type"))}. Potential reach: '
        f'{esc(_doc("marts.top_media", "potential_reach"))}. Files open only when '
        'they are http or https urls; descriptions are the authors\' own words.</p>'
        + chart_slot("media_daily", TITLES["media_daily"],
                     None if tables["media_daily"] else EMPTY_MEDIA)
        + _media_table(tables["media"], "posts", "Top media by posts")
        + _media_table(tables["media"], "potential_reach", "Top media by potential reach")
        + "</section>")
