"""The report's "Platforms side by side" section: every headline figure of the campaign on each
platform (marts.platform_summary, the figures defined once with marts.campaign_summary), and
when the campaign first appeared on each, through the report's `Scope` (--since/--until)."""

from __future__ import annotations

from typing import Any

import duckdb

from .. import platforms
from ..config import Campaign
from .data import Rows, rows
from .page import esc
from .sections import DEFINITIONS, FIGURES, figure_values, known_for, percent
from .window import Scope

TITLE = "Platforms side by side"
COLUMNS = ("posts", "post_share", "contributors", "followers_known_posts",
           "followers_known_share", "potential_reach", "potential_impressions",
           "impressions_known_posts", "impressions_known_share", "actual_impressions",
           "frequency", "engageable_posts", "engagement_known_posts", "engagement_known_share",
           "likes", "reposts", "replies", "quotes", "engagement", "engagement_per_post",
           "first_post", "last_post", "peak_hour", "peak_hour_posts", "synthetic")


def load(con: duckdb.DuckDBPyConnection, c: Campaign, scope: Scope) -> Rows:
    """The mart's rows for the campaign; none from a warehouse built before it existed."""
    from .tags import built
    if not built(con, ("platform_summary",)):
        return []
    return rows(con, f"""
        select platform, {', '.join(COLUMNS)}
        from {scope.table("marts.platform_summary")} where campaign = ?
        order by first_post, platform""", [c.name])


def html(table: Rows, tz: str) -> str:
    """One column per platform, in the order the campaign reached them; one row per figure,
    with its share "known for" where it is known for only some posts."""
    if not table:
        return (f'<section id="platforms-side-by-side"><h2>{TITLE}</h2>'
                '<p class="empty">No posts in this period.</p></section>')
    head = "<tr><th>Figure</th>" + "".join(
        f'<th class="num" data-platform="{esc(p["platform"])}">'
        f'{esc(platforms.label(p["platform"]))}</th>' for p in table) + "</tr>"
    values = [figure_values(p, tz) for p in table]
    body = [_row("posts_share", "Share of the campaign's posts",
                 [esc(percent(p["post_share"])) for p in table])]
    for key in FIGURES:
        label = DEFINITIONS[key][0]
        if key == "first_post":
            label = "First post (first appearance)"
        cells = [esc(v[key]) + _known(p, key) for p, v in zip(table, values, strict=True)]
        body.append(_row(key, label, cells, f"#def-{key}"))
    return (f'<section id="platforms-side-by-side"><h2>{TITLE}</h2>'
            f'<p class="meta">The headline figures above, on each platform (same definitions, '
            f"over the platform's posts); times in {esc(tz)}. Contributors and potential reach "
            "add up to the campaign's: an account is on one platform.</p>"
            f'<table data-table="platforms"><thead>{head}</thead><tbody>{"".join(body)}'
            "</tbody></table></section>")


def _row(key: str, label: str, cells: list[str], href: str = "") -> str:
    name = f'<a href="{esc(href)}">{esc(label)}</a>' if href else esc(label)
    return (f'<tr data-figure-row="{esc(key)}"><th scope="row">{name}</th>'
            + "".join(f'<td class="num">{c}</td>' for c in cells) + "</tr>")


def _known(p: dict[str, Any], key: str) -> str:
    known = known_for(p, key)
    return f"<br><small>{esc(known)}</small>" if known else ""
