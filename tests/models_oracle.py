"""An independent computation of every mart, in plain Python over the raw payloads.

It reads the same JSON the warehouse stores (X v2 pages, Mastodon status arrays, Bluesky
post, feed, thread and getProfiles responses), follows the platforms' documented fields rather than
the SQL, and computes each mart as its header comment defines it. Tests compare the two.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tracker.hashtags import normalise_tag

from .models_oracle_marts import MART_COLUMNS, MartsMixin, sql_rows  # noqa: F401

# X counted views (public_metrics.impression_count) for posts made from this day on: view counts
# rolled out on 22 December 2022 for posts since 15 December; the API reports 0 for older posts
# (X developer changelog, 5 January 2023: impression_count added to public_metrics).
X_VIEWS_SINCE = dt.datetime(2022, 12, 15, tzinfo=dt.UTC)


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


# Per platform, which of (likes, reposts, replies, quotes) every post's payload gives: X v2
# public_metrics and Bluesky post views all four; Mastodon statuses favourites, reblogs and
# replies (quotes_count only on servers with quotes); Facebook exports reactions, shares and
# comments. A post lacking one of them (an X v1.1 status: no reply or quote count) has no known
# engagement.
ALWAYS = {"x": (True, True, True, True), "bluesky": (True, True, True, True),
          "mastodon": (True, True, True, False), "facebook": (True, True, True, False)}


@dataclass
class Post:
    platform: str
    post_id: str
    created_at: dt.datetime
    author_id: str
    lang: str
    kind: str
    parent_id: str | None
    tags: list[tuple[str, str]]          # (normalised, as written): of two written forms of a
    #                                      tag on one post, the smallest (code-point order)
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
    # Mastodon local ids: (status id, account id) -> uris read with them, and a reply's
    # (in_reply_to_id, in_reply_to_account_id) by uri (resolved in models_oracle_network)
    mastodon_local: dict[tuple[str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set))
    mastodon_reply_to: dict[str, tuple[str, str]] = field(default_factory=dict)

    # --- reading payloads -----------------------------------------------------------------
    def add_page(self, fmt: str, payload: str, retrieved_at: dt.datetime,
                 synthetic: bool = False, assign: str | None = None) -> None:
        body = json.loads(payload)
        getattr(self, "_" + fmt)(body, retrieved_at, synthetic)
        if assign:   # `--campaign`: the page's results, never its context
            self.assigned[assign] |= {k for k, matched in self._page_keys if matched}

    def _post(self, p: Post) -> None:
        """One post per key: matched if any delivery matched it, the earliest creation time,
        the latest version's text and language."""
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
            old.lang = p.lang or old.lang     # the latest version's, as its text

    def _handle(self, key: tuple[str, str], at: dt.datetime, handle: str | None) -> None:
        if handle and (key not in self.handles or self.handles[key][0] <= at):
            self.handles[key] = (at, handle)

    def _follow(self, key: tuple[str, str], at: dt.datetime, followers: int | None) -> None:
        """Two observations at one instant: the larger count (as the warehouse keeps). A
        negative count (glitch-soc's -1 for a hidden one) is not known."""
        if followers is not None and followers < 0:
            followers = None
        seen = self.followers[key].get(at)
        self.followers[key][at] = (followers if seen is None else seen if followers is None
                                   else max(seen, followers))

    def _engage(self, key: tuple[str, str], at: dt.datetime, counts: tuple) -> None:
        """Two observations at one instant (in one page or in pages loaded apart): the larger
        counts, compared in order (likes, reposts, replies, quotes, impressions; unknown
        lowest), as the warehouse keeps whatever the batches."""
        seen = self.engagement[key].get(at)
        rank = [-1 if c is None else c for c in counts]
        if seen is None or rank > [-1 if c is None else c for c in seen]:
            self.engagement[key][at] = counts

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
            ent = x_entities(t)
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
                self._engage(("x", key), at, (
                    m.get("like_count"), m.get("retweet_count"), m.get("reply_count"),
                    m.get("quote_count"), m.get("impression_count")))
        for u in page.get("includes", {}).get("users", []):
            self._handle(("x", u["id"]), at, u.get("username"))
            if "public_metrics" in u:
                self._follow(("x", u["id"]), at, u["public_metrics"]["followers_count"])

    def _mastodon_statuses(self, body, at: dt.datetime, synthetic: bool) -> None:
        """Statuses as delivered (matched); reblogged and quoted statuses as context. A status
        with a `quote` object is a quote whatever its state (the quoted uri is known only when
        the quoted status is shown); handles are always user@server."""
        self._page_keys = []
        statuses = body if isinstance(body, list) else [body]
        shown = list(statuses) + [s["reblog"] for s in statuses if s.get("reblog")]
        quoted = [s["quote"]["quoted_status"] for s in shown
                  if isinstance(s.get("quote"), dict)
                  and isinstance(s["quote"].get("quoted_status"), dict)]
        for i, s in enumerate(shown + quoted):
            if s.get("reblog"):
                kind, parent = "repost", s["reblog"]["uri"]
            elif isinstance(s.get("quote"), dict):
                kind, parent = "quote", (s["quote"].get("quoted_status") or {}).get("uri")
            elif s.get("in_reply_to_id"):
                kind, parent = "reply", None
            else:
                kind, parent = "original", None
            acc = s["account"]
            self.mastodon_local[(s.get("id"), acc.get("id"))].add(s["uri"])
            if kind == "reply":
                self.mastodon_reply_to[s["uri"]] = (s["in_reply_to_id"],
                                                    s.get("in_reply_to_account_id"))
            self._post(Post("mastodon", s["uri"], ts(s["created_at"]), acc["url"],
                            s.get("language") or "und", kind, parent,
                            _tags([t["name"] for t in s.get("tags", [])]),
                            {mastodon_handle(m["acct"], m["url"]).lower()
                             for m in s.get("mentions", [])},
                            s.get("url") or s["uri"], None, synthetic,
                            matched=i < len(statuses)))
            self._handle(("mastodon", acc["url"]), at, mastodon_handle(acc["acct"], acc["url"]))
            self._follow(("mastodon", acc["url"]), at, acc["followers_count"])
            self._engage(("mastodon", s["uri"]), at, (
                s.get("favourites_count"), s.get("reblogs_count"), s.get("replies_count"),
                s.get("quotes_count"), None))

    def _bluesky_posts(self, body: dict, at: dt.datetime, synthetic: bool) -> None:
        """searchPosts/getPosts/getQuotes {posts}, feeds {feed: [{post, reason, reply}]},
        getPostThread {thread}, or one post view. Results are matched; reply parents/roots,
        thread parents and replies, quoted record views and posts a feed item reposted (its
        reason a reasonRepost: the repost is matched) are context."""
        self._page_keys = []
        views: list[tuple[dict, dict, bool]] = []     # (view, record, matched)
        if isinstance(body.get("posts"), list):
            views += [(p, p.get("record"), True) for p in body["posts"]]
        elif isinstance(body.get("feed"), list):
            for item in body["feed"]:
                # an item reposted by the feed's account is someone else's post: context
                reposted = (item.get("reason") or {}).get("$type") == \
                    "app.bsky.feed.defs#reasonRepost"
                views.append((item["post"], item["post"].get("record"), not reposted))
                for ref in ("parent", "root"):
                    ctx = (item.get("reply") or {}).get(ref) or {}
                    if "record" in ctx:    # not a notFoundPost / blockedPost
                        views.append((ctx, ctx["record"], False))
        elif isinstance(body.get("thread"), dict):
            def walk(node: dict, matched: bool, up: bool | None) -> None:
                if "post" in node:
                    views.append((node["post"], node["post"].get("record"), matched))
                if up is not False and isinstance(node.get("parent"), dict):
                    walk(node["parent"], False, True)
                if up is not True:
                    for r in node.get("replies") or []:
                        walk(r, False, False)
            walk(body["thread"], True, None)
        else:
            views.append((body, body.get("record"), True))
        for p, _, _ in list(views):     # the record a quote embeds, shown as a record view
            emb = p.get("embed") or {}
            quoted = emb.get("record") if "value" in (emb.get("record") or {}) \
                else (emb.get("record") or {}).get("record")
            if quoted and "value" in quoted and "/app.bsky.feed.post/" in quoted["uri"]:
                views.append((quoted, quoted["value"], False))
        for p, rec, matched in views:
            self._bluesky_view(p, rec or {}, matched, at, synthetic)
        for item in body.get("feed") or []:
            reason = item.get("reason") or {}
            if reason.get("$type") == "app.bsky.feed.defs#reasonRepost":
                subject = item["post"]["uri"]
                did, rkey = subject.removeprefix("at://").split("/")[0], subject.split("/")[-1]
                by = reason["by"]
                self._post(Post("bluesky", f"at://{by['did']}/app.bsky.feed.repost/{did}:{rkey}",
                                ts(reason["indexedAt"]), by["did"], "und", "repost", subject,
                                [], set(), None, None, synthetic))
                self._handle(("bluesky", by["did"]), at, by.get("handle"))

    def _bluesky_view(self, p: dict, rec: dict, matched: bool, at: dt.datetime,
                      synthetic: bool) -> None:
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
                              + rec.get("tags", []) + bluesky_text_tags(rec.get("text") or "")),
                        {f["did"].lower() for f in features if "did" in f},
                        None, rec.get("text"), synthetic, matched=matched))
        self._handle(("bluesky", p["author"]["did"]), at, p["author"].get("handle"))
        counts = tuple(p.get(k) for k in ("likeCount", "repostCount", "replyCount", "quoteCount"))
        if any(c is not None for c in counts):
            self._engage(("bluesky", p["uri"]), at, (*counts, None))

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
        known = [(at, f) for at, f in sorted(
            self.followers.get((p.platform, p.author_id), {}).items()) if f is not None]
        before = [f for at, f in known if at <= p.created_at]
        # the latest known count at or before the post, else the earliest known one
        return before[-1] if before else known[0][1] if known else None

    def metrics(self, p: Post) -> dict:
        """Latest engagement observation; on Mastodon each count's largest observation (a
        remote instance sees only part of the interactions); reposts carry none."""
        obs = self.engagement.get((p.platform, p.post_id))
        if p.kind == "repost" or not obs:
            return {"likes": None, "reposts": None, "replies": None, "quotes": None,
                    "impressions": None, "engagement": None}
        if p.platform == "mastodon":
            likes, reposts, replies, quotes, imp = (
                max((v for v in column if v is not None), default=None)
                for column in zip(*obs.values(), strict=True))
        else:
            likes, reposts, replies, quotes, imp = obs[max(obs)]
        counts = (likes, reposts, replies, quotes)
        return {"likes": likes, "reposts": reposts, "replies": replies, "quotes": quotes,
                "impressions": (imp if p.platform == "x" and p.created_at >= X_VIEWS_SINCE
                                else None),
                "engagement": (sum(v or 0 for v in counts) if any(v is not None for v in counts)
                               and all(v is not None for v, always
                                       in zip(counts, ALWAYS.get(p.platform, ()), strict=False)
                                       if always) else None)}

    def local(self, c: Campaign, t: dt.datetime) -> dt.datetime:
        return t.astimezone(ZoneInfo(c.timezone))

    def handle(self, platform: str, author_id: str | None) -> str | None:
        h = self.handles.get((platform, author_id))
        return h[1] if h else None


def bluesky_text_tags(text: str) -> list[str]:
    """`#tags` in a Bluesky post's text, character by character as the Bluesky app's
    rich-text detection describes them (plus: a `#` right after an emoji or symbol counts).
    Spaces are JavaScript's `\\s`; the zero-width characters end a tag."""
    def space(c: str) -> bool:
        return c in "\t\n\x0b\x0c\r\ufeff" or unicodedata.category(c) in ("Zs", "Zl", "Zp")

    def may_precede(c: str) -> bool:
        return (space(c) or unicodedata.category(c) == "So" or c in "\ufe0f\u20e3"
                or "\U0001f3fb" <= c <= "\U0001f3ff")

    out, i = [], 0
    while i < len(text):
        if text[i] in "#\uff03" and (i == 0 or may_precede(text[i - 1])):
            j = i + 1
            while j < len(text) and not space(text[j]) and text[j] not in ZERO_WIDTH:
                j += 1
            body = text[i + 1:j]
            if body and body[0] != "\ufe0f":
                while body and unicodedata.category(body[-1]).startswith("P"):
                    body = body[:-1]
                utf16 = len(body.encode("utf-16-le")) // 2
                if utf16 <= 64 and any(c not in "0123456789"
                                       and not unicodedata.category(c).startswith("P")
                                       for c in body):
                    out.append(body)
                i = j
                continue
        i += 1
    return out


ZERO_WIDTH = set("\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2")


def x_entities(tweet: dict) -> dict:
    """An X v2 tweet's entities: a long post's note_tweet.entities (they cover the full text)
    when given, else the top-level entities (which cover only the first 280 characters)."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("entities"), dict):
        return note["entities"]
    return tweet.get("entities") or {}


def mastodon_handle(acct: str, url: str) -> str:
    """`user@server`: a local account's (or mention's) acct has no server: the url's host."""
    return acct if "@" in acct else f"{acct}@{urlsplit(url).netloc.lower()}"


def _tags(written: list[str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for w in written:
        if w and normalise_tag(w):
            n = normalise_tag(w)
            out[n] = min(out.get(n, w), w)
    return list(out.items())
