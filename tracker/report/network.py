"""The report's network section: the top accounts' interaction graph as a static picture and
a table of the most amplified accounts, with their definitions next to them.

The layout is computed here, offline (networkx spring layout with a fixed seed, so a report
drawn twice looks the same), and drawn by Altair as lines and circles: no layout runs in the
browser. The graph is tracker.network's (the models' SQL over the report's window).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import duckdb

from .. import network
from ..config import Campaign
from .data import Rows, Window
from .page import chart_slot, esc

TITLE = "Who amplified whom"
NODES = 80          # accounts drawn: the highest PageRank (readable at 50-200)
LABELS = 12         # of which the first are named on the picture
AMPLIFIED = 15      # rows of the table
SEED = 7
# Above this many interactions in the period the section is not drawn: finding every target's
# account and PageRank over the whole graph would cost the report tens of seconds (measured:
# docs/models.md, "Networks"); `tracker export network` has no such limit.
MAX_INTERACTIONS = 250_000
ROW_WIDTH = 3.2     # the layout's width, in units of the largest group's radius
GAP = 0.15
KINDS = ["repost", "quote", "reply", "mention"]
KIND_COLOURS = ["#3182bd", "#e6550d", "#31a354", "#9e9ac8"]
PLATFORM_COLOURS = ["#1b9e77", "#7570b3", "#444444", "#a6761d", "#e7298a"]  # not the kinds'
PICTURE_COLUMNS = ("mark", "account", "platform", "label", "kind", "weight", "pagerank",
                   "amplification", "in_strength", "out_strength", "x", "y", "x2", "y2")
TABLE = (("amplification", "Amplification"), ("reposts_received", "Reposts received"),
         ("quotes_received", "Quotes received"), ("replies_received", "Replies received"),
         ("mentions_received", "Mentions received"), ("in_degree", "In-degree"),
         ("pagerank", "PageRank"))


def load(con: duckdb.DuckDBPyConnection, c: Campaign, w: Window
         ) -> tuple[Rows, Rows, dict[str, Any]]:
    """(picture rows, most amplified accounts, counts) for the campaign's window; nothing
    when the warehouse was built without the network models (an older build)."""
    if not network.built(con):
        return [], [], {"accounts": 0, "built": False}
    n = network.count_interactions(con, c.name, w.since, w.until)
    if n > MAX_INTERACTIONS:
        return [], [], {"accounts": 0, "built": True, "too_large": n}
    net = network.load(con, c.name, w.since, w.until)
    top = net.top(NODES)
    amplified = net.iter_accounts("amplification > 0",
                                  "amplification desc, in_strength desc, node", AMPLIFIED)
    table = [{"rank": i, "account": a["handle"] or a["account_id"],
              "platform": a["platform"], **{k: a[k] for k, _ in TABLE}}
             for i, a in enumerate(amplified, 1)]
    counts = {"accounts": net.n_accounts, "edges": net.n_edges,
              "interactions": net.interactions, "in_edges": net.in_edges, "drawn": len(top)}
    shown = ", ".join(str(a["idx"]) for a in top) or "null"
    edges = list(net.iter_edges(f"source_idx in ({shown}) and target_idx in ({shown})"))
    return picture_rows(top, edges), table, counts


def picture_rows(top: list[dict[str, Any]], edges: list[dict[str, Any]]) -> Rows:
    """One row per drawn edge (`mark` 'edge': x, y, x2, y2) and per account ('node': x, y),
    laid out by networkx's spring layout over the edges between the drawn accounts."""
    import networkx as nx

    if not top:
        return []
    shown = {a["node"] for a in top}
    g = nx.Graph()
    g.add_nodes_from(sorted(shown))
    inner = [e for e in edges if e["source"] in shown and e["target"] in shown]
    g.add_edges_from((e["source"], e["target"]) for e in inner)
    pos = layout(g)
    rows: Rows = [{"mark": "edge", "kind": e["kind"], "weight": e["weight"],
                   "x": round(float(pos[e["source"]][0]), 4),
                   "y": round(float(pos[e["source"]][1]), 4),
                   "x2": round(float(pos[e["target"]][0]), 4),
                   "y2": round(float(pos[e["target"]][1]), 4)} for e in inner]
    rows += [{"mark": "node", "account": _name(a), "platform": a["platform"],
              "label": _name(a) if i < LABELS else "", "pagerank": round(a["pagerank"], 6),
              "amplification": a["amplification"], "in_strength": a["in_strength"],
              "out_strength": a["out_strength"],
              "x": round(float(pos[a["node"]][0]), 4), "y": round(float(pos[a["node"]][1]), 4)}
             for i, a in enumerate(top)]
    # one set of columns for both kinds of row (the chart's CSV is written from them)
    return [{k: r.get(k) for k in PICTURE_COLUMNS} for r in rows]


def layout(g: Any) -> dict[str, tuple[float, float]]:
    """Spring layout (fixed seed) of each connected group on its own, the groups side by side
    from the largest, each scaled by the square root of its size (accounts of two platforms
    never share an edge, and one layout of all would push the groups to the corners)."""
    import networkx as nx

    groups = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: -len(c))
    largest = len(groups[0])
    pos: dict[str, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for group in groups:
        scale = (len(group) / largest) ** 0.5
        if x > 0 and x + 2 * scale > ROW_WIDTH:
            x, y, row_height = 0.0, y - row_height - GAP, 0.0
        inner = nx.spring_layout(g.subgraph(group), seed=SEED, scale=scale,
                                 center=(x + scale, y - scale)) if len(group) > 1 else {
            group[0]: (x + scale, y - scale)}
        pos.update({n: (float(p[0]), float(p[1])) for n, p in inner.items()})
        x += 2 * scale + GAP
        row_height = max(row_height, 2 * scale)
    return pos


def _name(a: dict[str, Any]) -> str:
    """The account's handle (else id) as the picture can draw it."""
    return network.xml_safe(a["handle"] or a["account_id"])


def chart(rows: Rows, width: int = 760) -> alt.LayerChart:
    """Edges as lines coloured by kind, accounts as circles sized by PageRank and coloured
    by platform, the top accounts named."""
    data = alt.Data(values=rows)
    x = alt.X("x:Q", axis=None, scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(zero=False, nice=False))
    base = alt.Chart(data)
    lines = base.transform_filter("datum.mark == 'edge'").mark_rule(opacity=0.45).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q",
        color=alt.Color("kind:N", title="Interaction",
                        scale=alt.Scale(domain=KINDS, range=KIND_COLOURS)),
        strokeWidth=alt.StrokeWidth("weight:Q", title="Interactions",
                                    scale=alt.Scale(range=[0.6, 4]), legend=None))
    tips = [alt.Tooltip("account:N", title="Account"),
            alt.Tooltip("platform:N", title="Platform"),
            alt.Tooltip("pagerank:Q", title="PageRank", format=".4f"),
            alt.Tooltip("amplification:Q", title="Amplification", format=","),
            alt.Tooltip("in_strength:Q", title="Interactions received", format=","),
            alt.Tooltip("out_strength:Q", title="Interactions made", format=",")]
    nodes = base.transform_filter("datum.mark == 'node'").mark_circle(
        opacity=0.85, stroke="white", strokeWidth=0.8).encode(
        x=x, y=y, size=alt.Size("pagerank:Q", title="PageRank",
                                scale=alt.Scale(range=[25, 700]),
                                # a column of circles: seven sizes in a row are wider
                                # than a phone when the legends go under the picture
                                legend=alt.Legend(direction="vertical")),
        color=alt.Color("platform:N", title="Platform",
                        scale=alt.Scale(range=PLATFORM_COLOURS)),
        tooltip=tips)
    labels = base.transform_filter("datum.mark == 'node' && datum.label != ''").mark_text(
        dy=-11, fontSize=11, fontWeight="bold").encode(x=x, y=y, text="label:N")
    return alt.LayerChart(layer=[lines, nodes, labels]).resolve_scale(
        color="independent").properties(width=width, height=480, title=TITLE)


def html(picture: Rows, table: Rows, counts: dict[str, Any], w: Window) -> str:
    """The section: what it counts, the picture's slot, the table and its definitions."""
    docs = network.column_docs("network_accounts")
    if not counts["accounts"]:
        why = ("no reposts, quotes, replies or mentions between accounts in this period"
               if counts.get("built", True) else "not built yet: run `tracker build`")
        if counts.get("too_large"):
            why = (f"{counts['too_large']:,} interactions in this period, more than the "
                   f"report draws ({MAX_INTERACTIONS:,}); export the graph with `tracker "
                   "export network` and open it in Gephi, or choose a shorter period")
        return (f'<section id="network"><h2>{esc(TITLE)}</h2>'
                + chart_slot("network", TITLE, why) + "</section>")
    period = w.describe() if w.is_set else "the whole campaign"
    intro = (f"Campaign posts of {esc(period)}. An edge goes from the account whose campaign "
             "post reposted, quoted, replied to or @-mentioned to the account acted on. "
             f"{counts['accounts']:,} accounts, {counts['edges']:,} edges holding "
             f"{counts['in_edges']:,} of {counts['interactions']:,} interactions (the others "
             "point at a post that is not stored, so its author is not known, or at the "
             f"account itself). The picture shows the {counts['drawn']:,} accounts with the "
             f"highest PageRank and the edges between them, sized by PageRank; the first "
             f"{min(LABELS, counts['drawn'])} are named.")
    head = ("<tr><th>#</th><th>Account</th>"
            + "".join(f'<th class="num">{esc(label)}</th>' for _, label in TABLE) + "</tr>")
    body = "".join(
        f'<tr data-amplified-rank="{esc(r["rank"])}"><td>{esc(r["rank"])}</td>'
        f"<td>{esc(r['account'])} <small>({esc(r['platform'])})</small></td>"
        + "".join(f'<td class="num">{esc(_fmt(r[k]))}</td>' for k, _ in TABLE) + "</tr>"
        for r in table)
    table_html = (f"<table><thead>{head}</thead><tbody>{body}</tbody></table>" if table else
                  '<p class="empty">No account was reposted or quoted in this period.</p>')
    defs = {**{label: docs[k] for k, label in TABLE if k in docs},
            "PageRank": network.PAGERANK_DOC}
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in defs.items())
    return (f'<section id="network"><h2>{esc(TITLE)}</h2><p class="meta">{intro}</p>'
            + chart_slot("network", TITLE)
            + f"<h3>Most amplified accounts</h3>{table_html}"
            + f'<dl class="network-definitions" data-definitions="network">{items}</dl>'
            + "</section>")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}"
