"""`tracker export network`: a campaign's interaction graph as GEXF 1.3 (Gephi), GraphML or a
CSV edge list.

Written as a stream with the standard library's XML generator, which escapes every text and
attribute value; characters XML 1.0 cannot hold at all (control characters in a handle) are
dropped first. GEXF carries time: each account and edge starts at its first interaction
(`start`, dateTime in UTC), so Gephi's timeline replays the spread; a node or edge never ends
inside the export.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

import duckdb

from .. import __version__
from ..errors import TrackerError
from ..network import PAGERANK_DOC, Network, built, load, xml_safe
from . import MEMORY_LIMIT, Selection, check_built, check_targets, publish, temp_beside

FORMATS = ("gexf", "graphml", "csv")

# (name, GEXF type, GraphML type) of the node attributes, in order; values of None are left
# out (unknown), never written as 0
NODE_ATTRS = (("handle", "string", "string"), ("platform", "string", "string"),
              ("posts", "long", "long"), ("followers", "long", "long"),
              ("in_degree", "long", "long"), ("out_degree", "long", "long"),
              ("in_strength", "long", "long"), ("out_strength", "long", "long"),
              ("amplification", "long", "long"), ("pagerank", "double", "double"))
EDGE_ATTRS = (("kind", "string", "string"), ("first_at", "string", "string"),
              ("last_at", "string", "string"))
CSV_COLUMNS = ("source", "target", "source_handle", "target_handle", "platform", "kind",
               "weight", "first_at", "last_at")

def xml_text(value: Any) -> str:
    """A value as text an XML document can hold (escaping is the generator's)."""
    if isinstance(value, float):
        return repr(value)
    return xml_safe(str(value))


def description(net: Network) -> str:
    window = (f"{net.since or 'start'} to {net.until or 'end'}"
              if net.since or net.until else "the whole campaign")
    return (f"Interaction graph of campaign {net.campaign} ({window}, local days): "
            f"{net.n_accounts} accounts, {net.n_edges} edges holding {net.in_edges} of "
            f"{net.interactions} interactions (the others point at a post not stored or at "
            f"the account itself). An edge goes from the account that reposted, quoted, "
            f"replied to or mentioned to the account acted on; weight = interactions. "
            f"pagerank: {PAGERANK_DOC}. Definitions: tracker models marts.network_edges, "
            f"marts.network_accounts.")


class _Xml:
    """A thin layer over XMLGenerator: elements with attributes, indented one per line."""

    def __init__(self, out: IO[str]) -> None:
        # XMLGenerator writes str to a text stream (typeshed lists only some of them)
        self.g = XMLGenerator(out, encoding="utf-8",  # type: ignore[arg-type]
                              short_empty_elements=True)
        self.depth = 0

    def _indent(self) -> None:
        if self.depth:
            self.g.ignorableWhitespace("\n" + "  " * self.depth)

    def open(self, name: str, attrs: dict[str, Any] | None = None) -> None:
        self._indent()
        self.g.startElement(name, AttributesImpl({k: xml_text(v) for k, v in
                                                  (attrs or {}).items() if v is not None}))
        self.depth += 1

    def close(self, name: str, inline: bool = False) -> None:
        self.depth -= 1
        if not inline:
            self.g.ignorableWhitespace("\n" + "  " * self.depth)
        self.g.endElement(name)

    def leaf(self, name: str, attrs: dict[str, Any] | None = None, text: str = "") -> None:
        self.open(name, attrs)
        if text:
            self.g.characters(xml_text(text))
        self.close(name, inline=True)


def write_gexf(net: Network, out: IO[str]) -> None:
    """GEXF 1.3, directed, dynamic (start times), with node and edge attributes."""
    x = _Xml(out)
    x.g.startDocument()
    x.open("gexf", {"xmlns": "http://gexf.net/1.3",
                    "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                    "xsi:schemaLocation": "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd",
                    "version": "1.3"})
    x.open("meta", {"lastmodifieddate": dt.date.today().isoformat()})
    x.leaf("creator", text=f"hashtag-tracker {__version__}")
    x.leaf("description", text=description(net))
    x.close("meta")
    x.open("graph", {"defaultedgetype": "directed", "mode": "dynamic",
                     "timeformat": "dateTime", "timerepresentation": "interval"})
    for cls, attrs in (("node", NODE_ATTRS), ("edge", EDGE_ATTRS)):
        x.open("attributes", {"class": cls, "mode": "static"})
        for name, gexf_type, _ in attrs:
            x.leaf("attribute", {"id": name, "title": name, "type": gexf_type})
        x.close("attributes")
    x.open("nodes")
    for a in net.iter_accounts():
        x.open("node", {"id": a["node"], "label": a["handle"] or a["account_id"],
                        "start": a["first_at"]})
        _attvalues(x, a, NODE_ATTRS)
        x.close("node")
    x.close("nodes")
    x.open("edges")
    for i, e in enumerate(net.iter_edges()):
        # kind on the element too: Gephi keeps parallel edges of different kinds apart
        x.open("edge", {"id": i, "source": e["source"], "target": e["target"],
                        "kind": e["kind"], "weight": e["weight"], "start": e["first_at"]})
        _attvalues(x, e, EDGE_ATTRS)
        x.close("edge")
    x.close("edges")
    x.close("graph")
    x.close("gexf")
    x.g.endDocument()
    out.write("\n")


def _attvalues(x: _Xml, row: dict[str, Any], attrs: Iterable[tuple[str, str, str]]) -> None:
    x.open("attvalues")
    for name, _, _ in attrs:
        if row.get(name) is not None:
            x.leaf("attvalue", {"for": name, "value": row[name]})
    x.close("attvalues")


def write_graphml(net: Network, out: IO[str]) -> None:
    """GraphML, directed, with the same attributes (times as ISO 8601 strings)."""
    x = _Xml(out)
    x.g.startDocument()
    x.open("graphml", {"xmlns": "http://graphml.graphdrawing.org/xmlns"})
    for cls, attrs in (("node", NODE_ATTRS), ("edge", (*EDGE_ATTRS,
                                                       ("weight", "long", "long")))):
        for name, _, graphml_type in attrs:
            x.leaf("key", {"id": f"{cls}_{name}", "for": cls, "attr.name": name,
                           "attr.type": graphml_type})
    x.leaf("key", {"id": "node_first_at", "for": "node", "attr.name": "first_at",
                   "attr.type": "string"})
    x.open("graph", {"id": net.campaign, "edgedefault": "directed"})
    x.leaf("desc", text=description(net))
    for a in net.iter_accounts():
        x.open("node", {"id": a["node"]})
        for name, _, _ in (*NODE_ATTRS, ("first_at", "", "")):
            if a.get(name) is not None:
                x.leaf("data", {"key": f"node_{name}"}, xml_text(a[name]))
        x.close("node")
    for i, e in enumerate(net.iter_edges()):
        x.open("edge", {"id": f"e{i}", "source": e["source"], "target": e["target"]})
        for name, _, _ in (*EDGE_ATTRS, ("weight", "", "")):
            x.leaf("data", {"key": f"edge_{name}"}, xml_text(e[name]))
        x.close("edge")
    x.close("graph")
    x.close("graphml")
    x.g.endDocument()
    out.write("\n")


def write_csv(net: Network, out: IO[str]) -> None:
    """One row per edge, with both ends' handles (Gephi's spreadsheet import reads it)."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in net.iter_edges():
        w.writerow([e["source"], e["target"], e["source_handle"], e["target_handle"],
                    e["platform"], e["kind"], e["weight"], e["first_at"], e["last_at"]])


WRITERS = {"gexf": write_gexf, "graphml": write_graphml, "csv": write_csv}


def export_network(con: duckdb.DuckDBPyConnection, campaign: str, sel: Selection, fmt: str, *,
                   out: Path | None = None, stream: IO[str] | None = None,
                   force: bool = False) -> Network:
    """Write the campaign's graph for the selection's local days to `out` (written under a
    temporary name and renamed into place) or, without `out`, to `stream`."""
    if fmt not in WRITERS:
        raise TrackerError(f"unknown format '{fmt}' (expected one of {', '.join(FORMATS)})")
    if sel.since and sel.until and sel.since > sel.until:
        raise TrackerError(f"--since {sel.since} is after --until {sel.until}")
    if out is not None:
        check_targets([out], force)
    check_built(con, campaign)
    if not built(con):
        raise TrackerError("the models were built by an older version: run `tracker build`")
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")   # beyond it DuckDB spills to disk
    net = load(con, campaign, sel.since, sel.until)
    if out is None:
        if stream is None:
            raise TypeError("export_network() needs `out` or `stream`")
        WRITERS[fmt](net, stream)
        stream.flush()
        return net
    tmp = temp_beside(out)
    try:
        with tmp.open("w", encoding="utf-8", newline="") as f:
            WRITERS[fmt](net, f)
        publish([(tmp, out)])
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return net
