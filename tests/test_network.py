"""The interaction graph: core.campaign_interactions, marts.network_edges and
marts.network_accounts against a plain-Python computation over the raw payloads (real recorded
X and Mastodon pages, the simulated source, hand-made pages), PageRank against a power
iteration, and `tracker export network` read back with networkx."""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap

import networkx as nx
import pytest
from click.testing import CliRunner
from networkx.readwrite.gexf import GEXFReader

from tracker import network
from tracker.cli import cli
from tracker.export.network import write_csv, write_gexf, write_graphml
from tracker.models import build

from . import models_oracle_network as on
from .conftest import MORE_BACKENDS, connect_at, warehouse_toml
from .models_oracle import Campaign
from .test_models_marts import build_real, build_synthetic, config, load, oracle_for, x_page

UTC = dt.UTC


def iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")



@pytest.fixture(params=MORE_BACKENDS)
def backend(request) -> str:
    """conftest's `backend`, narrowed to MORE_BACKENDS for this module."""
    return request.param


@pytest.fixture(scope="module",
                params=[(n, b) for b in MORE_BACKENDS for n in ("real", "synthetic")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def dataset(request, tmp_path_factory):
    name, backend = request.param
    builder = {"real": build_real, "synthetic": build_synthetic}[name]
    con, oracle = builder(tmp_path_factory.mktemp(name), backend)
    yield name, con, oracle
    con.close()


def rows(con, sql: str) -> set[tuple]:
    return set(con.execute(sql).fetchall())


def test_interactions_match_the_payloads(dataset):
    name, con, o = dataset
    want = on.interaction_rows(o)
    got = rows(con, "select campaign, platform, post_id, kind, target, author_id, created_at "
                    "from core.campaign_interactions")
    assert want, f"the {name} data set has no interactions"
    assert {k for _, _, _, k, *_ in want} >= {"repost", "quote", "reply", "mention"}
    assert got == want, (sorted(got - want, key=str)[:5], sorted(want - got, key=str)[:5])


def test_edges_match_the_payloads(dataset):
    name, con, o = dataset
    want = on.edge_rows(o)
    got = rows(con, "select * from marts.network_edges")
    assert want, f"the {name} data set has no edges"
    assert got == want, (sorted(got - want, key=str)[:5], sorted(want - got, key=str)[:5])


def test_accounts_match_the_payloads(dataset):
    name, con, o = dataset
    want = on.account_rows(o)
    got = rows(con, "select * from marts.network_accounts")
    assert want, f"the {name} data set has no accounts"
    assert got == want, (sorted(got - want, key=str)[:5], sorted(want - got, key=str)[:5])


def test_pagerank_matches_a_power_iteration(dataset):
    _, con, o = dataset
    for c in o.campaigns:
        net = network.load(con, c.name)
        weighted: dict[tuple[str, str], int] = {}
        for (_, pf, s, t, _), (w, _, _) in on.edges(o, c).items():
            key = (f"{pf}:{s}", f"{pf}:{t}")
            weighted[key] = weighted.get(key, 0) + w
        nodes = sorted({n for pair in weighted for n in pair})
        assert sorted(a["node"] for a in net.accounts) == nodes
        if not nodes:
            continue
        want = on.pagerank(nodes, weighted)
        got = {a["node"]: a["pagerank"] for a in net.accounts}
        assert got == pytest.approx(want, abs=1e-6)
        assert sum(got.values()) == pytest.approx(1.0)


def test_window_keeps_the_local_days_asked_for(dataset):
    name, con, o = dataset
    if name != "synthetic":
        return
    c = next(c for c in o.campaigns if c.name == "aleppo")
    since, until = dt.date(2016, 4, 26), dt.date(2016, 4, 28)
    net = network.load(con, "aleppo", since, until)
    want = on.edges(o, c, since, until)
    assert want and len(want) < len(on.edges(o, c))
    assert {(e["campaign"], e["platform"], e["source_id"], e["target_id"], e["kind"]):
            [e["weight"], e["first_at"], e["last_at"]] for e in net.edges} == {
        k: [w, iso(first), iso(last)] for k, (w, first, last) in want.items()}
    assert net.interactions == len(on.interactions(o, c, since, until))
    want_accounts = on.accounts(o, c, since, until)
    assert {(a["campaign"], a["platform"], a["account_id"]): a["in_strength"]
            for a in net.accounts} == {k: r["in_strength"] for k, r in want_accounts.items()}


# --- hand-made pages: each rule once -----------------------------------------------------------
HOSTILE = 'evil<script>&"\x01'


def user(uid: str, name: str, followers: int = 10) -> dict:
    return {"id": uid, "username": name, "name": name,
            "public_metrics": {"followers_count": followers, "following_count": 1,
                               "tweet_count": 1}}


def tweet(tid: str, at: str, author: str, *, mentions: tuple[str, ...] = (),
          refs: list[dict] | None = None, tags: tuple[str, ...] = ("NetTag",)) -> dict:
    t = {"id": tid, "created_at": at, "author_id": author, "lang": "en",
         "text": " ".join("#" + x for x in tags),
         "entities": {"hashtags": [{"tag": x} for x in tags],
                      "mentions": [{"username": m} for m in mentions]}}
    if refs:
        t["referenced_tweets"] = refs
    return t


def hand_made_pages():
    """A (id 1) mentions B, an unknown @ghost and itself; B replies to A (and mentions A, as
    an X reply does); C retweets A (the retweet's text mentions A: not a mention edge) and
    mentions B twice on two days; A replies to itself; D quotes a post that is not stored.
    The first user's handle is hostile text."""
    at = dt.datetime(2024, 5, 3, tzinfo=UTC)
    a = tweet("100", "2024-05-01T10:00:00.000Z", "1", mentions=("Bee", "ghost", "alice"))
    b = tweet("101", "2024-05-01T11:00:00.000Z", "2", mentions=("alice",),
              refs=[{"type": "replied_to", "id": "100"}])
    rt = tweet("102", "2024-05-01T12:00:00.000Z", "3", mentions=("alice",),
               refs=[{"type": "retweeted", "id": "100"}], tags=())
    c1 = tweet("103", "2024-05-01T13:00:00.000Z", "3", mentions=("bee",))
    c2 = tweet("104", "2024-05-02T09:00:00.000Z", "3", mentions=("BEE",))
    self_reply = tweet("105", "2024-05-02T10:00:00.000Z", "1",
                       refs=[{"type": "replied_to", "id": "100"}])
    quote = tweet("106", "2024-05-02T11:00:00.000Z", "4",
                  refs=[{"type": "quoted", "id": "999"}])
    users = [user("1", "alice", 50), user("2", "Bee", 20), user("3", "cat"),
             user("4", "dan"), user("5", HOSTILE)]
    hostile = tweet("107", "2024-05-02T12:00:00.000Z", "5",
                    refs=[{"type": "retweeted", "id": "100"}], tags=())
    return [x_page([a, b, rt, c1, c2, self_reply, quote, hostile], users, at, included=[a])]


def build_hand_made(tmp, backend: str = "duckdb"):
    cfg = config([{"name": "net", "hashtags": ["NetTag"]}], tmp)
    con = connect_at(tmp, "net", backend)
    o = oracle_for(cfg)
    from tracker.store.normalise import prepare
    prepare(con, cfg.campaigns)
    load(con, o, hand_made_pages(), campaign="net", source="x-live")
    build(con, cfg.campaigns)
    return con, o


@pytest.fixture(scope="module", params=MORE_BACKENDS)
def hand_made(request, tmp_path_factory):
    con, o = build_hand_made(tmp_path_factory.mktemp("network-hand-made"), request.param)
    yield con, o
    con.close()


def t(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, tzinfo=UTC)


def test_each_rule_on_hand_made_posts(hand_made):
    con, o = hand_made
    got = rows(con, "select source_id, target_id, kind, weight, first_at, last_at "
                    "from marts.network_edges")
    assert got == {
        ("1", "2", "mention", 1, t(1, 10), t(1, 10)),        # alice -> Bee (handle any case)
        ("1", "@ghost", "mention", 1, t(1, 10), t(1, 10)),   # never stored: its handle
        ("2", "1", "reply", 1, t(1, 11), t(1, 11)),
        ("2", "1", "mention", 1, t(1, 11), t(1, 11)),        # an X reply names its parent
        ("3", "1", "repost", 1, t(1, 12), t(1, 12)),         # the RT's mention is not its own
        ("3", "2", "mention", 2, t(1, 13), t(2, 9)),         # two posts, first and last
        ("5", "1", "repost", 1, t(2, 12), t(2, 12)),
    }   # alice mentioning and replying to herself, and dan's quote of post 999, are no edge
    assert rows(con, "select kind, target from core.campaign_interactions "
                     "where post_id = '106'") == {("quote", "999")}
    accounts = {r[0]: r[1:] for r in con.execute(
        "select account_id, handle, posts, followers, in_degree, out_degree, in_strength, "
        "out_strength, amplification from marts.network_accounts").fetchall()}
    assert accounts == {
        "1": ("alice", 2, 50, 3, 2, 4, 2, 2),
        "2": ("Bee", 1, 20, 2, 1, 3, 2, 0),
        "3": ("cat", 3, 10, 0, 2, 0, 3, 0),
        "5": (HOSTILE, 1, 10, 0, 1, 0, 1, 0),
        "@ghost": ("ghost", 0, None, 1, 0, 1, 0, 0),
    }
    assert rows(con, "select * from marts.network_edges") == on.edge_rows(o)
    assert rows(con, "select * from marts.network_accounts") == on.account_rows(o)


def gexf_read(text: str) -> nx.MultiDiGraph:
    # networkx 3.6 reads GEXF 1.3 but has no Python type for its `dateTime` time format:
    # the times are read as the strings they are
    reader = GEXFReader(version="1.3")
    reader.python_type["dateTime"] = str
    return reader(io.BytesIO(text.encode("utf-8")))


def written(writer, net) -> str:
    buf = io.StringIO()
    writer(net, buf)
    return buf.getvalue()


def test_gexf_reads_back_with_attributes_times_and_hostile_text(hand_made):
    con, o = hand_made
    net = network.load(con, "net")
    text = written(write_gexf, net)
    assert 'version="1.3"' in text and 'timeformat="dateTime"' in text
    assert '<edge id="0" source="x:1" target="x:2" kind="mention" weight="1" ' in text
    assert "<script>" not in text and "\x01" not in text
    g = gexf_read(text)
    want_edges = on.edges(o, Campaign("net", ["NetTag"]))
    assert g.number_of_nodes() == 5 and g.number_of_edges() == len(want_edges) == 7
    assert g.nodes["x:5"]["handle"] == g.nodes["x:5"]["label"] == 'evil<script>&"'
    assert g.nodes["x:1"] == {
        "label": "alice", "handle": "alice", "platform": "x", "posts": 2, "followers": 50,
        "in_degree": 3, "out_degree": 2, "in_strength": 4, "out_strength": 2,
        "amplification": 2, "pagerank": pytest.approx(net.accounts[0]["pagerank"]),
        "start": "2024-05-01T10:00:00Z"}
    assert "followers" not in g.nodes["x:@ghost"]      # not known: left out, not 0
    edges = {(s, t, d["kind"]): d for s, t, d in g.edges(data=True)}
    assert edges[("x:3", "x:2", "mention")] == {
        "id": edges[("x:3", "x:2", "mention")]["id"], "kind": "mention", "weight": 2.0,
        "first_at": "2024-05-01T13:00:00Z", "last_at": "2024-05-02T09:00:00Z",
        "start": "2024-05-01T13:00:00Z"}
    assert {(s.removeprefix("x:"), t.removeprefix("x:"), k): d["weight"]
            for (s, t, k), d in edges.items()} == {
        (s, t, k): w for (_, _, s, t, k), (w, _, _) in want_edges.items()}


def test_graphml_and_csv_read_back(hand_made):
    con, o = hand_made
    net = network.load(con, "net")
    g = nx.read_graphml(io.BytesIO(written(write_graphml, net).encode("utf-8")))
    assert g.number_of_nodes() == 5 and g.number_of_edges() == 7
    assert g.nodes["x:2"]["handle"] == "Bee" and g.nodes["x:2"]["followers"] == 20
    assert g.nodes["x:5"]["handle"] == 'evil<script>&"'
    assert {d["kind"] for _, _, d in g.edges(data=True)} == {"mention", "reply", "repost"}
    got = list(csv.DictReader(io.StringIO(written(write_csv, net))))
    assert len(got) == 7
    assert {(r["source_handle"], r["target_handle"], r["kind"], r["weight"]) for r in got} >= {
        ("cat", "Bee", "mention", "2"), ("alice", "ghost", "mention", "1")}


def test_cli_writes_the_file_and_says_what_it_holds(tmp_path, backend):
    con, _ = build_hand_made(tmp_path, backend)
    con.close()
    cfg_path = tmp_path / "tracker.toml"
    cfg_path.write_text(warehouse_toml(backend, "net.duckdb") + textwrap.dedent("""
        [[campaigns]]
        name = "net"
        hashtags = ["NetTag"]
        """), encoding="utf-8")

    def invoke(*args):
        return CliRunner().invoke(cli, ["--config", str(cfg_path), "export", *args])

    out = tmp_path / "net.gexf"
    res = invoke("network", "--campaign", "net", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert res.output == (f"Wrote 5 accounts and 7 edges to {out} (8 of 11 interactions; "
                          "the others point at a post not stored or at the account itself)\n")
    assert gexf_read(out.read_text("utf-8")).number_of_edges() == 7
    again = invoke("network", "--campaign", "net", "-o", str(out))
    assert again.exit_code == 1
    assert again.output == f"Error: {out}: already exists (use --force to replace it)\n"
    res = invoke("network", "--campaign", "net", "--format", "csv", "--since", "2024-05-02")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        "source,target,source_handle,target_handle,platform,kind,weight,first_at,last_at",
        "x:3,x:2,cat,Bee,x,mention,1,2024-05-02T09:00:00Z,2024-05-02T09:00:00Z",
        'x:5,x:1,"evil<script>&""\x01",alice,x,repost,1,2024-05-02T12:00:00Z,'
        "2024-05-02T12:00:00Z"]
    # the posts export keeps its form
    posts = invoke("--campaign", "net", "--ids-only")
    assert posts.exit_code == 0 and len(posts.output.splitlines()) == 1 + 8
    missing = invoke("--format", "csv")
    assert missing.exit_code == 2 and "Missing option '--campaign'." in missing.output


def test_export_errors_say_what_to_do(tmp_path, backend):
    con, _ = build_hand_made(tmp_path, backend)
    con.execute("drop table core.campaign_interactions")
    con.close()
    cfg_path = tmp_path / "tracker.toml"
    cfg_path.write_text(warehouse_toml(backend, "net.duckdb") + textwrap.dedent("""
        [[campaigns]]
        name = "net"
        hashtags = ["NetTag"]
        """), encoding="utf-8")

    def invoke(*args):
        return CliRunner().invoke(cli, ["--config", str(cfg_path), "export", "network", *args])

    res = invoke("--campaign", "net")
    assert (res.exit_code, res.output) == (1, "Error: the models were built by an older "
                                              "version: run `tracker build`\n")
    res = invoke("--campaign", "net", "--since", "2024-05-03", "--until", "2024-05-01")
    assert (res.exit_code, res.output) == (1, "Error: --since 2024-05-03 is after --until "
                                              "2024-05-01\n")
    assert not list(tmp_path.glob("*.gexf"))
