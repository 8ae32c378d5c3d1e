"""The report's "Tags and variants" section: each of the campaign's own tags as written in the
posts (posts, contributors, reach, languages by name, platforms, first use), a chart of the
written forms' posts by language, and how far the tags' audiences overlap.

Read from marts.tag_variants, marts.tag_overlap and core.campaign_tag_forms through the
report's `Scope` (so --since/--until apply); the definitions shown are the marts' column docs.
Tags as written are untrusted text: escaped here, and handed to the chart as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import altair as alt
import duckdb

from .. import platforms
from ..config import Campaign
from ..languages import name_of
from ..models import QUERIES_DIR, parse_model
from .charts import chart_data
from .data import Rows, rows
from .page import chart_slot, esc
from .window import Scope

TITLE = "Tags and variants"
CHART = "tags"
CHART_TITLE = "Posts per written form of the campaign's tags, by language"
MAX_LANGUAGES = 6        # the chart's languages; the others are drawn as "other languages"
# With --since/--until the section is computed again from the window's posts (their tags, per
# author): above this many posts in the window that costs tens of seconds (measured:
# docs/reports.md), so the section says so instead.
MAX_WINDOW_POSTS = 1_000_000
MARTS = ("tag_variants", "tag_overlap")
OTHER = "other languages"
VARIANT_COLUMNS = (("posts", "Posts"), ("tag_share", "Share of the tag"),
                   ("contributors", "Contributors"), ("potential_reach", "Potential reach"),
                   ("top_languages", "Languages"), ("platforms", "Platforms"),
                   ("first_post", "First use"))
OVERLAP_COLUMNS = (("contributors_a", "Contributors of the first"),
                   ("contributors_b", "Contributors of the second"),
                   ("contributors_both", "Used both"), ("jaccard", "Overlap (Jaccard)"))


@dataclass
class Tags:
    variants: Rows = field(default_factory=list)     # marts.tag_variants, with language names
    overlap: Rows = field(default_factory=list)      # marts.tag_overlap
    by_language: Rows = field(default_factory=list)  # the chart's rows
    why_not: str = ""        # why the section is not shown (not built; too large a window)


def built(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> bool:
    """Whether the warehouse has these marts (a warehouse built before they existed has not)."""
    have = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                      "where table_schema = 'marts'").fetchall()}
    return set(tables) <= have


def window_posts(con: duckdb.DuckDBPyConnection, c: Campaign, scope: Scope) -> int:
    cond, params = scope.window.days("day")
    found = con.execute(f"select coalesce(sum(posts), 0) from marts.volume_daily "
                        f"where campaign = ? and {cond}", [c.name, *params]).fetchone()
    return int(found[0]) if found else 0


def load(con: duckdb.DuckDBPyConnection, c: Campaign, scope: Scope) -> Tags:
    if not built(con, MARTS):
        return Tags(why_not="not built yet: run `tracker build`")
    if scope.window.is_set and (n := window_posts(con, c, scope)) > MAX_WINDOW_POSTS:
        return Tags(why_not=f"{n:,} posts in this period, more than the report computes the "
                            f"tags for ({MAX_WINDOW_POSTS:,}); see the report without "
                            "--since/--until, or choose a shorter period")
    tz = c.timezone.replace("'", "''")
    variants = rows(con, f"""
        select tag, tag_text, posts, tag_share, contributors, followers_known_posts,
               potential_reach, potential_impressions, languages, top_languages, platforms,
               strftime(timezone('{tz}', first_post), '%Y-%m-%d %H:%M') as first_post,
               strftime(timezone('{tz}', last_post), '%Y-%m-%d %H:%M') as last_post
        from {scope.table("marts.tag_variants")} where campaign = ?
        order by tag, posts desc, tag_text""", [c.name])
    for v in variants:
        v["top_language_names"] = ", ".join(
            name_of(code) for code in (v["top_languages"] or "").split(", ") if code)
    overlap = rows(con, f"""
        select tag_a, tag_b, contributors_a, contributors_b, contributors_both,
               contributors_either, jaccard
        from {scope.table("marts.tag_overlap")} where campaign = ?
        order by tag_a, tag_b""", [c.name])
    forms = rows(con, f"""
        select tag_text, lang, sum(posts)::bigint as posts
        from {scope.table("core.campaign_tag_forms")} where campaign = ?
        group by all order by tag_text, lang""", [c.name])
    return Tags(variants, overlap, chart_rows(forms))


def chart_rows(forms: Rows) -> Rows:
    """(written form, language code and name, posts): the MAX_LANGUAGES languages with most
    posts by name, the others together as OTHER (code empty)."""
    totals: dict[str, int] = {}
    for f in forms:
        totals[f["lang"]] = totals.get(f["lang"], 0) + f["posts"]
    shown = set(sorted(totals, key=lambda k: (-totals[k], k))[:MAX_LANGUAGES])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for f in forms:
        lang = f["lang"] if f["lang"] in shown else ""
        key = (f["tag_text"], lang)
        row = out.setdefault(key, {"variant": "#" + f["tag_text"], "lang": lang,
                                   "language": name_of(lang) if lang else OTHER, "posts": 0})
        row["posts"] += f["posts"]
    return sorted(out.values(), key=lambda r: (r["variant"], -r["posts"], r["language"]))


def chart(data: Rows, width: int = 760) -> alt.Chart:
    return alt.Chart(chart_data(data)).mark_bar().encode(
        y=alt.Y("variant:N", sort="-x", title="Written as"),
        x=alt.X("sum(posts):Q", title="Posts", axis=alt.Axis(labelFlush=True)),
        # under the bars, three to a row: a phone's width holds them
        color=alt.Color("language:N", title="Language",
                        legend=alt.Legend(orient="bottom", columns=3)),
        tooltip=[alt.Tooltip("variant:N", title="Written as"),
                 alt.Tooltip("language:N", title="Language"),
                 alt.Tooltip("posts:Q", title="Posts", format=",")],
    ).properties(width=width - 120, title=CHART_TITLE)


def _tag(text: str) -> str:
    """'#tag', the tag isolated so that a right-to-left tag keeps its '#' in front."""
    return f"#<bdi>{esc(text)}</bdi>"


def _docs(mart: str) -> dict[str, str]:
    return parse_model("marts", QUERIES_DIR / "marts" / f"{mart}.sql").columns


def _cell(key: str, v: dict[str, Any]) -> str:
    value = v.get(key)
    if key == "top_languages":
        return esc(v["top_language_names"])
    if key == "platforms":
        return esc(platforms.labels((value or "").split(",")))
    if value is None:
        return "not known"
    if key in ("tag_share", "jaccard"):
        return esc(f"{value:.0%}")
    if isinstance(value, int):
        return esc(f"{value:,}")
    return esc(value)


def html(t: Tags, c: Campaign, period: str) -> str:
    """The section: the variants' table, the chart's slot, the overlap and the definitions."""
    if not t.variants:
        why = t.why_not or "no post carries the campaign's tags in this period"
        return f'<section id="tags"><h2>{TITLE}</h2>' + chart_slot(CHART, TITLE, why) + \
            "</section>"
    head = ("<tr><th>Tag</th><th>Written as</th>"
            + "".join(f'<th class="num">{esc(label)}</th>' for _, label in VARIANT_COLUMNS)
            + "</tr>")
    body = "".join(
        f'<tr data-variant="{esc(v["tag_text"])}"><td data-label="Tag">{_tag(v["tag"])}</td>'
        f'<td data-label="Written as">{_tag(v["tag_text"])}</td>'
        + "".join(f'<td class="num" data-label="{esc(label)}">{_cell(k, v)}</td>'
                  for k, label in VARIANT_COLUMNS) + "</tr>"
        for v in t.variants)
    docs = _docs("tag_variants")
    parts = [f'<section id="tags"><h2>{TITLE}</h2>',
             f'<p class="meta">Campaign posts of {esc(period)} carrying the campaign\'s own tags '
             f"({esc(' '.join('#' + h for h in c.hashtags))}), by the form they were written "
             f"in. Times in {esc(c.timezone)}; languages as the platforms report them.</p>",
             '<table class="cards" data-table="tag-variants">'
             f"<thead>{head}</thead><tbody>{body}</tbody></table>",
             chart_slot(CHART, CHART_TITLE), overlap_html(t.overlap)]
    defs = {label: docs[k] for k, label in VARIANT_COLUMNS if k in docs}
    defs["First use"] = docs["first_post"]
    defs |= {label: d for k, label in OVERLAP_COLUMNS if (d := _docs("tag_overlap").get(k))}
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in defs.items())
    parts.append(f'<details><summary>What these count</summary><dl data-definitions="tags">'
                 f"{items}</dl></details></section>")
    return "".join(parts)


def overlap_html(overlap: Rows) -> str:
    if not overlap:
        return ""
    head = ("<tr><th>Tags</th>"
            + "".join(f'<th class="num">{esc(label)}</th>' for _, label in OVERLAP_COLUMNS)
            + "</tr>")
    body = "".join(
        f'<tr data-overlap="{esc(o["tag_a"])}|{esc(o["tag_b"])}"><td data-label="Tags">'
        f'{_tag(o["tag_a"])} and {_tag(o["tag_b"])}</td>'
        + "".join(f'<td class="num" data-label="{esc(label)}">{_cell(k, o)}</td>'
                  for k, label in OVERLAP_COLUMNS) + "</tr>"
        for o in overlap)
    return ("<h3>Did the tags reach different people?</h3>"
            '<p class="meta">Contributors who used each tag (in any written form), and both.'
            '</p><table class="cards" data-table="tag-overlap">'
            f"<thead>{head}</thead><tbody>{body}</tbody></table>")


def csv_tables(t: Tags) -> dict[str, Rows]:
    """The CSV files written beside the page: the codes kept, the names added."""
    variants = [{k: v for k, v in r.items()} for r in t.variants]
    for r in variants:
        r["top_languages_names"] = r.pop("top_language_names")
    return {"tag_variants": variants, "tag_overlap": t.overlap}
