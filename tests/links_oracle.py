"""Links and media of campaign posts, and their marts, in plain Python over the raw payloads.

The payloads are read as the platforms document them (X v2 entities.urls and includes.media,
X v1.1 entities / extended_entities, Mastodon content anchors, card and media_attachments,
Bluesky link facets, external embeds and image / video embed views, CSV link fields), with
Python's own HTML parser and a walk over every Bluesky post view, not the warehouse's SQL. Which
posts count and their followers at posting come from tests/models_oracle.Oracle; the URL rule
itself is tracker/urls.py (the one definition, which tests/test_links.py checks on its own).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tracker.urls import normalise_url, registered_domain

from .models_oracle import Oracle, Post, x_entities

TOP = 25
X_MEDIA_TYPES = {"photo": "photo", "video": "video", "animated_gif": "gif"}
MASTODON_MEDIA_TYPES = {"image": "photo", "gifv": "gif", "video": "video", "audio": "audio"}

LINKS_MART_COLUMNS = {
    "top_links": "campaign, metric, rank, url_norm, domain, posts, authors, potential_reach, "
                 "potential_impressions, followers_known_posts",
    "top_domains": "campaign, metric, rank, domain, posts, links, authors, potential_reach, "
                   "potential_impressions, followers_known_posts",
    "top_media": "campaign, metric, rank, url, media_type, platform, posts, authors, "
                 "potential_reach, potential_impressions, followers_known_posts",
    "links_daily": "campaign, day, posts_with_links, link_shares, links, domains",
    "media_daily": "campaign, day, media_type, posts, items",
}


class _Anchors(HTMLParser):
    """hrefs of <a> elements that are not mentions or hashtags (class "mention")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "mention" in classes or "hashtag" in classes or not a.get("href"):
            return
        self.hrefs.append(a["href"] or "")


@dataclass
class Links:
    """Per post: links in order [(expanded, source)], media by position."""

    links: dict[tuple[str, str], list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list))
    media: dict[tuple[str, str], dict[int, tuple]] = field(
        default_factory=lambda: defaultdict(dict))

    def add_page(self, fmt: str, payload: str) -> None:
        body = json.loads(payload)
        getattr(self, "_" + fmt, lambda _b: None)(body)

    def _media(self, key: tuple[str, str], pos: int, item: tuple) -> None:
        """(url, media_type); of two deliveries of one position the one with a url wins."""
        old = self.media[key].get(pos)
        rank = (item[0] is None, item[0] or "", item[1])
        if old is None or rank < (old[0] is None, old[0] or "", old[1]):
            self.media[key][pos] = item

    # --- formats ---------------------------------------------------------------------------
    def _x_v2_page(self, page: dict) -> None:
        data = page.get("data")
        tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        includes = page.get("includes") or {}
        media = {m["media_key"]: m for m in includes.get("media", []) if m.get("media_key")}
        for t in tweets + includes.get("tweets", []):
            if not t.get("id"):
                continue
            key = ("x", (t.get("edit_history_tweet_ids") or [t["id"]])[0])
            for u in x_entities(t).get("urls", []):
                if not u.get("media_key") and (u.get("expanded_url") or u.get("url")):
                    self.links[key].append((u.get("expanded_url") or u["url"], "entity"))
            keys = (t.get("attachments") or {}).get("media_keys", [])
            for pos, mk in enumerate(keys, 1):
                m = media.get(mk, {})
                url = m.get("url")
                if url is None:
                    mp4 = [v for v in m.get("variants", []) if v.get("content_type") == "video/mp4"]
                    if mp4:
                        url = max(mp4, key=lambda v: (v.get("bit_rate") or 0, v["url"]))["url"]
                self._media(key, pos, (url, X_MEDIA_TYPES.get(m.get("type", ""), "unknown")))

    def _x_v1_status(self, body: dict) -> None:
        tops = body["statuses"] if isinstance(body.get("statuses"), list) else [body]
        statuses = []
        for s in tops:
            statuses.append(s)
            for k in ("retweeted_status", "quoted_status"):
                if isinstance(s.get(k), dict):
                    statuses.append(s[k])
            if isinstance((s.get("retweeted_status") or {}).get("quoted_status"), dict):
                statuses.append(s["retweeted_status"]["quoted_status"])
        for s in statuses:
            sid = s.get("id_str") or (str(s["id"]) if s.get("id") is not None else None)
            if not sid:
                continue
            key = ("x", sid)
            ext = s.get("extended_tweet") or {}
            ents = ext.get("entities") or s.get("entities") or {}
            for u in ents.get("urls", []):
                if u.get("expanded_url") or u.get("url"):
                    self.links[key].append((u.get("expanded_url") or u["url"], "entity"))
            items = ((ext.get("extended_entities") or {}).get("media")
                     or (s.get("extended_entities") or {}).get("media") or ents.get("media")
                     or [])
            for pos, m in enumerate(items, 1):
                kind = X_MEDIA_TYPES.get(m.get("type", ""), "unknown")
                url = m.get("media_url_https") or m.get("media_url")
                if kind in ("video", "gif"):
                    mp4 = [v for v in (m.get("video_info") or {}).get("variants", [])
                           if v.get("content_type") == "video/mp4"]
                    if mp4:
                        url = max(mp4, key=lambda v: (v.get("bitrate") or 0, v["url"]))["url"]
                self._media(key, pos, (url, kind))

    def _mastodon_statuses(self, body) -> None:
        shown = body if isinstance(body, list) else [body]
        statuses = list(shown)
        statuses += [s["reblog"] for s in shown if isinstance(s.get("reblog"), dict)]
        statuses += [s["quote"]["quoted_status"] for s in list(statuses)
                     if isinstance((s.get("quote") or {}).get("quoted_status"), dict)]
        for s in statuses:
            if not s.get("uri"):
                continue
            key = ("mastodon", s["uri"])
            parser = _Anchors()
            parser.feed(s.get("content") or "")
            self.links[key] += [(h, "content") for h in parser.hrefs]
            if (s.get("card") or {}).get("url"):
                self.links[key].append((s["card"]["url"], "card"))
            for pos, m in enumerate(s.get("media_attachments") or [], 1):
                self._media(key, pos, (m.get("url") or m.get("remote_url"),
                                       MASTODON_MEDIA_TYPES.get(m.get("type"), "unknown")))

    def _bluesky_posts(self, body: dict) -> None:
        for view in _post_views(body):
            key = ("bluesky", view["uri"])
            rec = view.get("record") or view.get("value") or {}
            for facet in rec.get("facets") or []:
                for f in facet.get("features") or []:
                    if f.get("$type") == "app.bsky.richtext.facet#link" and f.get("uri"):
                        self.links[key].append((f["uri"], "facet"))
            embed = rec.get("embed") or {}
            external = embed.get("external") or (embed.get("media") or {}).get("external") or {}
            if external.get("uri"):
                self.links[key].append((external["uri"], "embed"))
            shown = view.get("embed") or (view.get("embeds") or [None])[0] or {}
            if shown.get("$type", "").startswith("app.bsky.embed.recordWithMedia"):
                shown = shown.get("media") or {}
            kind = shown.get("$type", "")
            if kind.startswith("app.bsky.embed.images"):
                for pos, i in enumerate(shown.get("images") or [], 1):
                    self._media(key, pos, (i.get("fullsize"), "photo"))
            elif kind.startswith("app.bsky.embed.video"):
                self._media(key, 1, (shown.get("playlist"), "video"))

    # --- per post ----------------------------------------------------------------------------
    def post_links(self, key: tuple[str, str]) -> dict[str, str | None]:
        """normalised link -> registered domain (text links before cards and embeds)."""
        out: dict[str, str | None] = {}
        for url, _source in self.links.get(key, []):
            n = normalise_url(url)
            if n is not None:
                out.setdefault(n, registered_domain(n))
        return out

    def post_media(self, key: tuple[str, str]) -> list[tuple]:
        return [self.media[key][pos] for pos in sorted(self.media.get(key, {}))]


def _post_views(node, found=None) -> list[dict]:
    """Every Bluesky post view or embedded record view anywhere in a response."""
    found = [] if found is None else found
    if isinstance(node, dict):
        uri = node.get("uri")
        if (isinstance(uri, str) and "/app.bsky.feed.post/" in uri
                and isinstance(node.get("record") or node.get("value"), dict)):
            found.append(node)
        for v in node.values():
            _post_views(v, found)
    elif isinstance(node, list):
        for v in node:
            _post_views(v, found)
    return found


def _reach(oracle: Oracle, posts: list[Post]) -> dict:
    best: dict = {}
    known = []
    for p in posts:
        f = oracle.followers_at(p)
        if f is not None:
            known.append(f)
            a = (p.platform, p.author_id)
            best[a] = max(best.get(a, f), f)
    # an author is known by an id; posts by no known author add no author
    authors = {(p.platform, p.author_id) for p in posts if p.author_id}
    return {"posts": len(posts), "authors": len(authors) or None,
            "potential_reach": sum(best.values()) if best else None,
            "potential_impressions": sum(known) if known else None,
            "followers_known_posts": len(known)}


def _ranked(campaign: str, groups: dict, extra) -> set[tuple]:
    """The 25 leading keys by posts and by potential reach (known only), key breaking ties."""
    out = set()
    stats = {k: v for k, v in groups.items()}
    for metric in ("posts", "potential_reach"):
        scored = [(s[metric], k) for k, s in stats.items() if s[metric] is not None]
        for rank, (_value, k) in enumerate(sorted(scored, key=lambda x: (-x[0], x[1]))[:TOP], 1):
            out.add((campaign, metric, rank, *extra(k, stats[k])))
    return out


@dataclass
class LinksOracle:
    oracle: Oracle
    links: Links

    def top_links(self) -> set[tuple]:
        out = set()
        for c in self.oracle.campaigns:
            posts: dict[str, list[Post]] = defaultdict(list)
            domains: dict[str, str | None] = {}
            for p in self.oracle.members(c):
                for url, domain in self.links.post_links((p.platform, p.post_id)).items():
                    posts[url].append(p)
                    domains[url] = domain
            groups = {u: _reach(self.oracle, ps) for u, ps in posts.items()}
            out |= _ranked(c.name, groups, lambda k, s, d=domains: (
                k, d[k], s["posts"], s["authors"], s["potential_reach"],
                s["potential_impressions"], s["followers_known_posts"]))
        return out

    def top_domains(self) -> set[tuple]:
        out = set()
        for c in self.oracle.campaigns:
            posts: dict[str, list[Post]] = defaultdict(list)
            urls: dict[str, set[str]] = defaultdict(set)
            for p in self.oracle.members(c):
                found = self.links.post_links((p.platform, p.post_id))
                for domain in {d for d in found.values() if d is not None}:
                    posts[domain].append(p)
                for url, domain in found.items():
                    if domain is not None:
                        urls[domain].add(url)
            groups = {d: _reach(self.oracle, ps) for d, ps in posts.items()}
            out |= _ranked(c.name, groups, lambda k, s, u=urls: (
                k, s["posts"], len(u[k]), s["authors"], s["potential_reach"],
                s["potential_impressions"], s["followers_known_posts"]))
        return out

    def top_media(self) -> set[tuple]:
        out = set()
        for c in self.oracle.campaigns:
            posts: dict[str, list[Post]] = defaultdict(list)
            kinds: dict[str, set[tuple[str, str]]] = defaultdict(set)
            for p in self.oracle.members(c):
                items = self.links.post_media((p.platform, p.post_id))
                for url in {u for u, _ in items if u is not None}:
                    posts[url].append(p)
                for url, kind in items:
                    if url is not None:
                        kinds[url].add((kind, p.platform))
            groups = {u: _reach(self.oracle, ps) for u, ps in posts.items()}
            out |= _ranked(c.name, groups, lambda k, s, t=kinds: (
                k, min(x for x, _ in t[k]), min(p for _, p in t[k]), s["posts"], s["authors"],
                s["potential_reach"], s["potential_impressions"], s["followers_known_posts"]))
        return out

    def links_daily(self) -> set[tuple]:
        out = set()
        for c in self.oracle.campaigns:
            days: dict = defaultdict(list)
            for p in self.oracle.members(c):
                days[self.oracle.local(c, p.created_at).date()].append(p)
            for day, ps in days.items():
                found = [self.links.post_links((p.platform, p.post_id)) for p in ps]
                if not any(found):
                    continue
                out.add((c.name, day, sum(1 for f in found if f),
                         sum(len(f) for f in found), len({u for f in found for u in f}),
                         len({d for f in found for d in f.values() if d is not None})))
        return out

    def media_daily(self) -> set[tuple]:
        counts: dict = defaultdict(lambda: [set(), 0])
        for c in self.oracle.campaigns:
            for p in self.oracle.members(c):
                day = self.oracle.local(c, p.created_at).date()
                for _url, kind in self.links.post_media((p.platform, p.post_id)):
                    cell = counts[(c.name, day, kind)]
                    cell[0].add((p.platform, p.post_id))
                    cell[1] += 1
        return {(*k, len(v[0]), v[1]) for k, v in counts.items()}


def links_sql_rows(con, mart: str) -> set[tuple]:
    return {tuple(r) for r in con.execute(
        f"select {LINKS_MART_COLUMNS[mart]} from marts.{mart}").fetchall()}
