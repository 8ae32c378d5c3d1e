"""An independent computation of every mart, in plain Python over the raw payloads.

It reads the same JSON the warehouse stores (X v2 pages, Mastodon status arrays, Bluesky
searchPosts and getProfiles responses), follows the platforms' documented fields rather than
the SQL, and computes each mart as its header comment defines it. Tests compare the two.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tracker.hashtags import normalise_tag

from .models_oracle_marts import MART_COLUMNS, MartsMixin, sql_rows  # noqa: F401

# X counted views (public_metrics.impression_count) for posts made from this day on: view counts
# rolled out on 22 December 2022 for posts since 15 December; the API reports 0 for older posts
# (X developer changelog, 5 January 2023: impression_count added to public_metrics).
X_VIEWS_SINCE = dt.datetime(2022, 12, 15, tzinfo=dt.UTC)


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


@dataclass
class Post:
    platform: str
    post_id: str
    created_at: dt.datetime
    author_id: str
    lang: str
    kind: str
    parent_id: str | None
    tags: list[tuple[str, str]]          # (normalised, as written), first written form wins
    mentions: set[str]
    url: str | None = None
    text: str | None = None
    synthetic: bool = False
    matched: bool = True                 # delivered as a result, not only as context
    edited_at: dt.datetime | None = None


@dataclass
class Campaign:
    name: str
    tags: list[str]
    timezone: str = "UTC"
    start: dt.date | None = None
    end: dt.date | None = None
    title: str | None = None

    @property
    def norm_tags(self) -> set[str]:
        return {normalise_tag(t) for t in self.tags}


@dataclass
class Oracle(MartsMixin):
    campaigns: list[Campaign]
    posts: dict[tuple[str, str], Post] = field(default_factory=dict)
    followers: dict[tuple[str, str], dict[dt.datetime, int]] = field(
        default_factory=lambda: defaultdict(dict))
    handles: dict[tuple[str, str], tuple[dt.datetime, str]] = field(default_factory=dict)
    engagement: dict[tuple[str, str], dict[dt.datetime, tuple]] = field(
        default_factory=lambda: defaultdict(dict))
    assigned: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    runs: list[tuple[str, str, str, str]] = field(default_factory=list)  # campaign, source,
    #                                                          status, kind (collect, import)
    gaps: list[tuple[str, str, dt.datetime | None, dt.datetime | None, str]] = field(
        default_factory=list)

    # --- reading payloads -----------------------------------------------------------------
    def add_page(self, fmt: str, payload: str, retrieved_at: dt.datetime,
                 synthetic: bool = False, assign: str | None = None) -> None:
        body = json.loads(payload)
        getattr(self, "_" + fmt)(body, retrieved_at, synthetic)
        if assign:   # `--campaign`: the page's results, never its context
            self.assigned[assign] |= {k for k, matched in self._page_keys if matched}

    def _post(self, p: Post) -> None:
        """One post per key: matched if any delivery matched it, the earliest creation time,
        the latest version's text."""
        key = (p.platform, p.post_id)
        self._page_keys.append((key, p.matched))
        old = self.posts.get(key)
        if old is None:
            self.posts[key] = p
            return
        old.matched = old.matched or p.matched
        old.created_at = min(old.created_at, p.created_at)
        if p.edited_at and (old.edited_at is None or p.edited_at > old.edited_at):
            old.text, old.edited_at = p.text, p.edited_at

    def _handle(self, key: tuple[str, str], at: dt.datetime, handle: str | None) -> None:
        if handle and (key not in self.handles or self.handles[key][0] <= at):
            self.handles[key] = (at, handle)

    def _follow(self, key: tuple[str, str], at: dt.datetime, followers: int) -> None:
        """Two observations at one instant: the larger count (as the warehouse keeps)."""
        seen = self.followers[key].get(at)
        self.followers[key][at] = followers if seen is None else max(seen, followers)

    def _x_v2_page(self, page: dict, at: dt.datetime, synthetic: bool) -> None:
        self._page_keys = []
        data = page.get("data")
        tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        context = page.get("includes", {}).get("tweets", [])
        for i, t in enumerate(tweets + context):
            key = (t.get("edit_history_tweet_ids") or [t["id"]])[0]  # an edit is the same post
            refs = {r["type"]: r["id"] for r in t.get("referenced_tweets", [])}
            kind, parent = "original", None
            for rtype, k in (("retweeted", "repost"), ("quoted", "quote"),
                             ("replied_to", "reply")):
                if rtype in refs:
                    kind, parent = k, refs[rtype]
                    break
            ent = t.get("entities", {})
            self._post(Post("x", key, ts(t["created_at"]), t.get("author_id"),
                            t.get("lang") or "und", kind, parent,
                            _tags([h["tag"] for h in ent.get("hashtags", [])]),
                            {m["username"].lower() for m in ent.get("mentions", [])},
                            f"https://x.com/i/web/status/{key}",
                            t.get("note_tweet", {}).get("text", t.get("text")), synthetic,
                            matched=i < len(tweets),
                            edited_at=ts(t["created_at"]) if key != t["id"] else None))
            if "public_metrics" in t:
                m = t["public_metrics"]
                seen = self.engagement[("x", key)].get(at)
                if seen and (seen[0] or 0) >= (m.get("like_count") or 0):
                    continue   # two versions in one page: the larger count, as stored
                self.engagement[("x", key)][at] = (
                    m.get("like_count"), m.get("retweet_count"), m.get("reply_count"),
                    m.get("quote_count"), m.get("impression_count"))
        for u in page.get("includes", {}).get("users", []):
            self._handle(("x", u["id"]), at, u.get("username"))
            if "public_metrics" in u:
                self._follow(("x", u["id"]), at, u["public_metrics"]["followers_count"])

    def _mastodon_statuses(self, body, at: dt.datetime, synthetic: bool) -> None:
        self._page_keys = []
        statuses = body if isinstance(body, list) else [body]
        context = [s["reblog"] for s in statuses if s.get("reblog")]
        for i, s in enumerate(list(statuses) + context):
            if s.get("reblog"):
                kind, parent = "repost", s["reblog"]["uri"]
            elif (s.get("quote") or {}).get("quoted_status"):
                kind, parent = "quote", s["quote"]["quoted_status"]["uri"]
            elif s.get("in_reply_to_id"):
                kind, parent = "reply", None
            else:
                kind, parent = "original", None
            acc = s["account"]
            self._post(Post("mastodon", s["uri"], ts(s["created_at"]), acc["url"],
                            s.get("language") or "und", kind, parent,
                            _tags([t["name"] for t in s.get("tags", [])]),
                            {m["acct"].lower() for m in s.get("mentions", [])},
                            s.get("url") or s["uri"], None, synthetic,
                            matched=i < len(statuses)))
            self._handle(("mastodon", acc["url"]), at, acc.get("acct"))
            self._follow(("mastodon", acc["url"]), at, acc["followers_count"])
            self.engagement[("mastodon", s["uri"])][at] = (
                s.get("favourites_count"), s.get("reblogs_count"), s.get("replies_count"),
                s.get("quotes_count"), None)

    def _bluesky_posts(self, body: dict, at: dt.datetime, synthetic: bool) -> None:
        self._page_keys = []
        for p in body.get("posts", []):
            rec = p["record"]
            embed = (rec.get("embed") or {}).get("$type")
            if embed in ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia"):
                kind = "quote"
                ref = rec["embed"]["record"]
                parent = ref.get("uri") or ref["record"]["uri"]
            elif rec.get("reply"):
                kind, parent = "reply", rec["reply"]["parent"]["uri"]
            else:
                kind, parent = "original", None
            features = [f for facet in rec.get("facets", []) for f in facet["features"]]
            self._post(Post("bluesky", p["uri"], ts(rec.get("createdAt") or p["indexedAt"]),
                            p["author"]["did"], (rec.get("langs") or ["und"])[0], kind, parent,
                            _tags([f["tag"] for f in features if "tag" in f]
                                  + rec.get("tags", [])),
                            {f["did"].lower() for f in features if "did" in f},
                            None, rec.get("text"), synthetic))
            self._handle(("bluesky", p["author"]["did"]), at, p["author"].get("handle"))
            self.engagement[("bluesky", p["uri"])][at] = (
                p.get("likeCount"), p.get("repostCount"), p.get("replyCount"),
                p.get("quoteCount"), None)

    def _bluesky_profiles(self, body: dict, at: dt.datetime, synthetic: bool) -> None:
        self._page_keys = []
        for a in body.get("profiles", []):
            self._handle(("bluesky", a["did"]), at, a.get("handle"))
            self._follow(("bluesky", a["did"]), at, a["followersCount"])

    # --- the unified campaign posts ---------------------------------------------------------
    def members(self, c: Campaign) -> list[Post]:
        """Posts with the campaign's tags, matched reposts of them, posts an import with
        --campaign delivered as results; all made inside the window (local dates)."""
        keys = {k for k, p in self.posts.items() if c.norm_tags & {t for t, _ in p.tags}}
        keys |= self.assigned.get(c.name, set()) & set(self.posts)
        keys |= {k for k, p in self.posts.items()
                 if p.kind == "repost" and p.matched and (p.platform, p.parent_id) in keys}
        return [self.posts[k] for k in sorted(keys) if self.in_window(c, self.posts[k])]

    def in_window(self, c: Campaign, p: Post) -> bool:
        day = self.local(c, p.created_at).date()
        return (c.start is None or day >= c.start) and (c.end is None or day <= c.end)

    def followers_at(self, p: Post) -> int | None:
        obs = sorted(self.followers.get((p.platform, p.author_id), {}).items())
        before = [f for at, f in obs if at <= p.created_at]
        return before[-1] if before else (obs[0][1] if obs else None)

    def metrics(self, p: Post) -> dict:
        """Latest engagement observation; reposts carry none (see core.campaign_posts)."""
        obs = self.engagement.get((p.platform, p.post_id))
        if p.kind == "repost" or not obs:
            return {"likes": None, "reposts": None, "replies": None, "quotes": None,
                    "impressions": None, "engagement": None}
        likes, reposts, replies, quotes, imp = obs[max(obs)]
        return {"likes": likes, "reposts": reposts, "replies": replies, "quotes": quotes,
                "impressions": (imp if p.platform == "x" and p.created_at >= X_VIEWS_SINCE
                                else None),
                "engagement": sum(v or 0 for v in (likes, reposts, replies, quotes))}

    def local(self, c: Campaign, t: dt.datetime) -> dt.datetime:
        return t.astimezone(ZoneInfo(c.timezone))

    def handle(self, platform: str, author_id: str | None) -> str | None:
        h = self.handles.get((platform, author_id))
        return h[1] if h else None


def _tags(written: list[str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for w in written:
        if w and normalise_tag(w):
            out.setdefault(normalise_tag(w), w)
    return list(out.items())
