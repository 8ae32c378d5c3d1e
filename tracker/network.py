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
from collections.abc import Iterator
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


FETCH_ROWS = 5_000
# Times leave DuckDB as ISO 8601 text in UTC (converting each TIMESTAMPTZ to a Python datetime
# costs more than the rest of an export)
_ISO = "strftime(timezone('UTC', {0}), '%Y-%m-%dT%H:%M:%SZ')"


@dataclass
class Network:
    """The graph of one campaign and window, kept in DuckDB temp tables (network_nodes,
    network_edges) and read in chunks, so a large campaign is never whole in Python. Account
    and edge rows are dicts of the two marts' columns plus `node` ('<platform>:<id>', edges:
    `source`, `target`), accounts also `pagerank` and `first_at` (their first interaction);
    times are ISO 8601 strings in UTC."""

    con: duckdb.DuckDBPyConnection
    campaign: str
    since: dt.date | None
    until: dt.date | None
    interactions: int = 0       # the window's interactions, edges or not
    n_accounts: int = 0
    n_edges: int = 0
    in_edges: int = 0           # interactions that are edges (the rest point at posts not
    #                             stored, or at the account itself)
    ranks: list[float] = field(default_factory=list)    # PageRank by node index

    def iter_accounts(self, where: str = "true", order: str = "idx",
                      limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Accounts (a SQL condition and order over network_nodes), with PageRank."""
        sql = (f"select * replace ({_ISO.format('first_at')} as first_at) "
               f"from network_nodes where {where} order by {order}"
               + (f" limit {int(limit)}" if limit is not None else ""))
        for row in _rows(self.con, sql):
            row["pagerank"] = self.ranks[row["idx"]]
            yield row

    def iter_edges(self, where: str = "true") -> Iterator[dict[str, Any]]:
        times = ", ".join(f"{_ISO.format(c)} as {c}" for c in ("first_at", "last_at"))
        yield from _rows(self.con, f"select * replace ({times}) from network_edges "
                                   f"where {where} order by platform, source_id, target_id, "
                                   "kind")

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return list(self.iter_accounts())

    @property
    def edges(self) -> list[dict[str, Any]]:
        return list(self.iter_edges())

    def top(self, n: int) -> list[dict[str, Any]]:
        """The n accounts with the highest PageRank (ties: by node id)."""
        order = sorted(range(len(self.ranks)), key=lambda i: -self.ranks[i])[:n]
        if not order:
            return []
        rows = {a["idx"]: a for a in self.iter_accounts(
            f"idx in ({', '.join(str(i) for i in order)})")}
        return sorted(rows.values(), key=lambda a: (-a["pagerank"], a["node"]))


def node_id(platform: str, account_id: str) -> str:
    return f"{platform}:{account_id}"


def built(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has the network's models (built by this version)."""
    return _scalar(con, "select count(*) from information_schema.tables where "
                        "(table_schema, table_name) in (('core', 'campaign_interactions'), "
                        "('marts', 'network_edges'), ('marts', 'network_accounts'))") == 3


_WINDOW = ("campaign = $campaign and ($since::date is null or local_day >= $since::date) "
           "and ($until::date is null or local_day <= $until::date)")


def count_interactions(con: duckdb.DuckDBPyConnection, campaign: str,
                       since: dt.date | None = None, until: dt.date | None = None) -> int:
    """The campaign's interactions made on local days `since`..`until` (edges or not)."""
    row = con.execute(f"select count(*) from core.campaign_interactions where {_WINDOW}",
                      {"campaign": campaign, "since": since, "until": until}).fetchone()
    return int(row[0]) if row else 0


def load(con: duckdb.DuckDBPyConnection, campaign: str, since: dt.date | None = None,
         until: dt.date | None = None) -> Network:
    """The campaign's graph over its posts made on local days `since`..`until` (inclusive)."""
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "create or replace temp table network_interactions as "
        f"select * from core.campaign_interactions where {_WINDOW}",
        {"campaign": campaign, "since": since, "until": until})
    con.execute("create or replace temp table network_edge_rows as "
                + sqltree.substitute(_model_sql("network_edges"),
                                     {"core.campaign_interactions": "network_interactions"}))
    accounts_sql = sqltree.substitute(_model_sql("network_accounts"),
                                      {"marts.network_edges": "network_edge_rows"})
    con.execute(
        "create or replace temp table network_nodes as "
        "with accounts as (" + accounts_sql + "), "
        "ends as (select platform, source_id as account_id, first_at from network_edge_rows "
        "union all select platform, target_id, first_at from network_edge_rows), "
        "firsts as (select platform, account_id, min(first_at) as first_at from ends "
        "group by all) "
        "select a.*, a.platform || ':' || a.account_id as node, "
        "(row_number() over (order by a.platform, a.account_id) - 1)::bigint as idx, "
        "f.first_at from accounts a join firsts f using (platform, account_id)")
    con.execute(
        "create or replace temp table network_edges as "
        "select e.*, e.platform || ':' || e.source_id as source, "
        "e.platform || ':' || e.target_id as target, s.idx as source_idx, t.idx as target_idx, "
        "s.handle as source_handle, t.handle as target_handle "
        "from network_edge_rows e "
        "join network_nodes s on s.platform = e.platform and s.account_id = e.source_id "
        "join network_nodes t on t.platform = e.platform and t.account_id = e.target_id")
    n_edges, in_edges = con.execute("select count(*), coalesce(sum(weight), 0) "
                                    "from network_edges").fetchone() or (0, 0)
    net = Network(con, campaign, since, until,
                  int(_scalar(con, "select count(*) from network_interactions")),
                  int(_scalar(con, "select count(*) from network_nodes")), int(n_edges),
                  int(in_edges))
    arrays = con.execute("select source_idx, target_idx, weight from network_edges"
                         ).fetchnumpy()
    net.ranks = pagerank(net.n_accounts, arrays["source_idx"], arrays["target_idx"],
                         arrays["weight"])
    return net


def pagerank(n: int, sources: Any, targets: Any, weights: Any) -> list[float]:
    """Weighted PageRank of nodes 0..n-1 over directed edges (igraph's PRPACK)."""
    import igraph
    import numpy as np

    if not n:
        return []
    g = igraph.Graph(n=n, edges=np.column_stack([sources, targets]).tolist(), directed=True)
    values = g.pagerank(damping=DAMPING, weights=np.asarray(weights, dtype=float).tolist()
                        if len(weights) else None)
    return [float(v) for v in values]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[dict[str, Any]]:
    """The query's rows as dicts, FETCH_ROWS at a time. The temp tables belong to `con`, so
    read one query at a time (a second query on it ends the first)."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    while chunk := cur.fetchmany(FETCH_ROWS):
        for row in chunk:
            yield dict(zip(names, row, strict=True))
