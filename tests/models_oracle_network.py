"""The interaction graph computed in plain Python from the oracle's posts (tests.models_oracle,
which reads the raw payloads), to compare with core.campaign_interactions, marts.network_edges,
marts.network_accounts and tracker.network (PageRank)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from .models_oracle import Campaign, Oracle


def parent(o: Oracle, p) -> str | None:
    """The post a repost, quote or reply points at. A Mastodon reply names its parent by the
    reading instance's local ids: resolved when exactly one status read has that id (and
    that account id, when the reply gives one; the data sets here read each instance in one
    batch)."""
    if p.parent_id or p.platform != "mastodon" or p.kind != "reply":
        return p.parent_id
    if p.post_id not in o.mastodon_reply_to:
        return None
    local_id, account = o.mastodon_reply_to[p.post_id]
    found = {uri for (sid, acc), uris in o.mastodon_local.items() for uri in uris
             if sid == local_id and (account is None or acc == account)}
    return next(iter(found)) if len(found) == 1 else None


def interactions(o: Oracle, c: Campaign, since: dt.date | None = None,
                 until: dt.date | None = None) -> set[tuple]:
    """(campaign, platform, post_id, kind, target, author_id, created_at) of the campaign's
    posts: the parent of a repost, quote or reply, and the mentions of every non-repost."""
    out = set()
    for p in o.members(c):
        day = o.local(c, p.created_at).date()
        if (since and day < since) or (until and day > until):
            continue
        if p.kind in ("repost", "quote", "reply") and (to := parent(o, p)):
            out.add((c.name, p.platform, p.post_id, p.kind, to, p.author_id, p.created_at))
        if p.kind != "repost":
            out |= {(c.name, p.platform, p.post_id, "mention", m, p.author_id, p.created_at)
                    for m in p.mentions}
    return out


def account_of_handle(o: Oracle, platform: str, handle: str) -> str:
    """The stored account with that (lowercased) handle, or DID on Bluesky; the smallest id
    when two hold it; '@handle' when none does."""
    ids = [a for (pf, a), (_, h) in o.handles.items()
           if pf == platform and (h.lower() == handle
                                  or (pf == "bluesky" and a.lower() == handle))]
    ids += [a for (pf, a) in o.followers if pf == platform == "bluesky" and a.lower() == handle]
    return min(ids) if ids else "@" + handle


def edges(o: Oracle, c: Campaign, since: dt.date | None = None,
          until: dt.date | None = None) -> dict[tuple, list]:
    """{(campaign, platform, source, target, kind): [weight, first, last]}."""
    out: dict[tuple, list] = {}
    for camp, platform, _, kind, target, author, at in interactions(o, c, since, until):
        if kind == "mention":
            to = account_of_handle(o, platform, target)
        else:
            parent = o.posts.get((platform, target))
            if parent is None:
                continue           # the post pointed at is not stored: its author unknown
            to = parent.author_id
        if author is None or to is None or author == to:
            continue
        e = out.setdefault((camp, platform, author, to, kind), [0, at, at])
        e[0] += 1
        e[1], e[2] = min(e[1], at), max(e[2], at)
    return out


def edge_rows(o: Oracle) -> set[tuple]:
    return {(*k, w, first, last) for c in o.campaigns for k, (w, first, last)
            in edges(o, c).items()}


def accounts(o: Oracle, c: Campaign, since: dt.date | None = None,
             until: dt.date | None = None) -> dict[tuple, dict]:
    """{(campaign, platform, account): the columns of marts.network_accounts}."""
    es = edges(o, c, since, until)
    posts: dict[tuple, int] = defaultdict(int)
    for p in o.members(c):
        posts[(p.platform, p.author_id)] += 1
    out: dict[tuple, dict] = {}

    def row(platform: str, account: str) -> dict:
        key = (c.name, platform, account)
        if key not in out:
            seen = o.handles.get((platform, account))
            obs = o.followers.get((platform, account)) or {}
            out[key] = {"handle": seen[1] if seen else (account[1:] if account.startswith("@")
                                                        else None),
                        "posts": posts.get((platform, account), 0),
                        "followers": obs[max(obs)] if obs else None,
                        "in": set(), "out": set(), "in_strength": 0, "out_strength": 0,
                        "repost": 0, "quote": 0, "reply": 0, "mention": 0}
        return out[key]

    for (_, platform, source, target, kind), (w, _, _) in es.items():
        s, t = row(platform, source), row(platform, target)
        s["out"].add(target)
        s["out_strength"] += w
        t["in"].add(source)
        t["in_strength"] += w
        t[kind] += w
    return out


def account_rows(o: Oracle) -> set[tuple]:
    return {(*k, r["handle"], r["posts"], r["followers"], len(r["in"]), len(r["out"]),
             r["in_strength"], r["out_strength"], r["repost"], r["quote"], r["reply"],
             r["mention"], r["repost"] + r["quote"])
            for c in o.campaigns for k, r in accounts(o, c).items()}


def interaction_rows(o: Oracle) -> set[tuple]:
    return {(c, pf, pid, kind, target, author, at) for camp in o.campaigns
            for c, pf, pid, kind, target, author, at in interactions(o, camp)}


def pagerank(nodes: list[str], weighted: dict[tuple[str, str], int], damping: float = 0.85,
             rounds: int = 500) -> dict[str, float]:
    """Weighted PageRank by power iteration; a node without out-edges spreads its rank
    evenly over all nodes."""
    n = len(nodes)
    rank = dict.fromkeys(nodes, 1 / n)
    out_weight: dict[str, float] = defaultdict(float)
    for (s, _), w in weighted.items():
        out_weight[s] += w
    for _ in range(rounds):
        dangling = sum(rank[v] for v in nodes if not out_weight[v])
        new = dict.fromkeys(nodes, (1 - damping) / n + damping * dangling / n)
        for (s, t), w in weighted.items():
            new[t] += damping * rank[s] * w / out_weight[s]
        rank = new
    return rank
