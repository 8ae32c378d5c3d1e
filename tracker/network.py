"""A campaign's interaction graph for a window: who reposted, quoted, replied to and mentioned
whom, with each account's weighted PageRank.

The edges and accounts are the models' own SQL (queries/marts/network_edges.sql and
network_accounts.sql) run over the window's rows of core.campaign_interactions, so the export,
the report and `tracker sql` count the same things. PageRank is computed here with igraph
(PRPACK), not in SQL: it needs the whole graph and many passes over it, which the live build
must not pay for (docs/models.md, "Networks").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from .build import parse_model
from .build import sql as sqltree
from .resources import QUERIES_DIR

DAMPING = 0.85
# How PageRank is defined where it is shown (the export's description, the report's table).
PAGERANK_DOC = (
    "weighted PageRank (damping 0.85) over the accounts, an interaction passing rank from the "
    "account that acts to the account acted on, weighted by the number of interactions; the "
    "values of the graph sum to 1")


# XML 1.0 Char: tab, newline, carriage return, and from U+0020 on, without surrogates and
# U+FFFE/U+FFFF. Handles are untrusted: a control character in one cannot be written to XML
# (GEXF, GraphML, SVG) and makes the chart renderer (vl-convert) abort.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters no XML document can hold (escaping is the writer's)."""
    return _NOT_XML.sub("", text)


def _model_sql(name: str) -> str:
    return parse_model("marts", QUERIES_DIR / "marts" / f"{name}.sql").sql


def column_docs(name: str) -> dict[str, str]:
    """A network mart's column docs (the definitions shown next to its figures)."""
    return parse_model("marts", QUERIES_DIR / "marts" / f"{name}.sql").columns


@dataclass
class Network:
    """The graph of one campaign and window. Accounts and edges are rows of the two marts
    (dicts by column), each with `node` (and edges `source`, `target`): '<platform>:<id>'."""

    campaign: str
    since: dt.date | None
    until: dt.date | None
    interactions: int                    # the window's interactions, edges or not
    accounts: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def in_edges(self) -> int:
        """Interactions that are edges (the rest point at posts not stored, or at the
        account itself)."""
        return sum(e["weight"] for e in self.edges)


def node_id(platform: str, account_id: str) -> str:
    return f"{platform}:{account_id}"


def built(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has the network's models (built by this version)."""
    return _scalar(con, "select count(*) from information_schema.tables where "
                        "(table_schema, table_name) in (('core', 'campaign_interactions'), "
                        "('marts', 'network_edges'), ('marts', 'network_accounts'))") == 3


def load(con: duckdb.DuckDBPyConnection, campaign: str, since: dt.date | None = None,
         until: dt.date | None = None) -> Network:
    """The campaign's graph over its posts made on local days `since`..`until` (inclusive)."""
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "create or replace temp table network_interactions as "
        "select * from core.campaign_interactions where campaign = $campaign "
        "and ($since::date is null or local_day >= $since::date) "
        "and ($until::date is null or local_day <= $until::date)",
        {"campaign": campaign, "since": since, "until": until})
    con.execute("create or replace temp table network_edges as "
                + sqltree.substitute(_model_sql("network_edges"),
                                     {"core.campaign_interactions": "network_interactions"}))
    accounts_sql = sqltree.substitute(_model_sql("network_accounts"),
                                      {"marts.network_edges": "network_edges"})
    net = Network(campaign, since, until,
                  int(_scalar(con, "select count(*) from network_interactions")))
    net.edges = _dicts(con, "select * from network_edges "
                            "order by platform, source_id, target_id, kind")
    net.accounts = _dicts(con, f"select * from ({accounts_sql}) "
                               "order by platform, account_id")
    for e in net.edges:
        e["source"] = node_id(e["platform"], e["source_id"])
        e["target"] = node_id(e["platform"], e["target_id"])
    first: dict[str, dt.datetime] = {}
    for e in net.edges:
        for n in (e["source"], e["target"]):
            first[n] = min(first.get(n, e["first_at"]), e["first_at"])
    for a in net.accounts:
        a["node"] = node_id(a["platform"], a["account_id"])
    ranks = pagerank([a["node"] for a in net.accounts], net.edges)
    for a in net.accounts:
        a["pagerank"] = ranks[a["node"]]
        a["first_at"] = first[a["node"]]
    return net


def pagerank(nodes: list[str], edges: list[dict[str, Any]]) -> dict[str, float]:
    """Weighted PageRank of `nodes` over directed, weighted `edges` (igraph's PRPACK)."""
    import igraph

    if not nodes:
        return {}
    index = {n: i for i, n in enumerate(nodes)}
    g = igraph.Graph(n=len(nodes), edges=[(index[e["source"]], index[e["target"]])
                                          for e in edges], directed=True)
    values = g.pagerank(damping=DAMPING, weights=[float(e["weight"]) for e in edges]
                        if edges else None)
    return dict(zip(nodes, (float(v) for v in values), strict=True))


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
