"""The report's "Engagement as posts age" section: marts.engagement_at_age (readings taken by
`tracker repoll` and the daemon at the `[repoll] ages`), with the mart's own definitions."""

from __future__ import annotations

import duckdb

from ..models import QUERIES_DIR, parse_model
from .data import Rows, Window, rows
from .page import esc
from .sections import fmt_number
from .window import Scope

MART = parse_model("marts", QUERIES_DIR / "marts" / "engagement_at_age.sql")
COLUMNS = ("posts", "gone", "median_likes", "median_reposts", "median_replies",
           "median_engagement")
HEADS = {"posts": "Posts read", "gone": "Gone", "median_likes": "Median likes",
         "median_reposts": "Median reposts", "median_replies": "Median replies",
         "median_engagement": "Median engagement"}


def engagement_at_age(con: duckdb.DuckDBPyConnection, scope: Scope) -> Rows:
    """The campaign's rows of marts.engagement_at_age, of the posts made inside the report's
    window when one is set (none before the mart is built)."""
    have = con.execute("select count(*) from information_schema.tables where table_schema = "
                       "'marts' and table_name = 'engagement_at_age'").fetchone()
    if not have or not have[0]:
        return []
    return rows(con, f"""
        select platform, age, age_seconds, {', '.join(COLUMNS)}, mean_engagement
        from {scope.table(MART.table)} where campaign = ? order by platform, age_seconds""",
                [scope.campaign.name])


def ages_html(table: Rows, window: Window) -> str:
    whose = ("Posts made in the period selected." if window.is_set
             else "All the campaign's posts.")
    intro = f'<p class="meta">{esc(MART.description)} {whose}</p>'
    if not table:
        return ('<section id="engagement-at-age"><h2>Engagement as posts age</h2>' + intro
                + '<p class="empty">No re-polls of these posts yet: `tracker repoll` (and the '
                  "daemon) read posts again at the ages of [repoll] (default 1h, 24h, 7d)."
                  "</p></section>")
    head = ("<tr><th>Platform</th><th>Age</th>"
            + "".join(f'<th class="num" title="{esc(MART.columns.get(c, ""))}">{HEADS[c]}</th>'
                      for c in COLUMNS) + "</tr>")
    body = "".join(
        f"<tr data-age=\"{esc(r['platform'])}-{esc(r['age'])}\"><td>{esc(r['platform'])}</td>"
        f"<td>{esc(r['age'])}</td>"
        + "".join(f'<td class="num">{esc(fmt_number(r[c]))}</td>' for c in COLUMNS) + "</tr>"
        for r in table)
    notes = "".join(f"<dt>{HEADS[c]}</dt><dd>{esc(MART.columns.get(c, ''))}</dd>"
                    for c in COLUMNS)
    return ('<section id="engagement-at-age"><h2>Engagement as posts age</h2>' + intro
            + f"<table><thead>{head}</thead><tbody>{body}</tbody></table><dl>{notes}</dl>"
              "</section>")
