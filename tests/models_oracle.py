"""An independent computation of every mart, in plain Python over the raw payloads.

It reads the same JSON the warehouse stores (X v2 pages, Mastodon status arrays, Bluesky
searchPosts and getProfiles responses), follows the platforms' documented fields rather than
the SQL, and computes each mart as its header comment defines it. Tests compare the two.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tracker.hashtags import normalise_tag

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


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
class Oracle:
    campaigns: list[Campaign]
    posts: dict[tuple[str, str], Post] = field(default_factory=dict)
    followers: dict[tuple[str, str], dict[dt.datetime, int]] = field(
        default_factory=lambda: defaultdict(dict))
    handles: dict[tuple[str, str], tuple[dt.datetime, str]] = field(default_factory=dict)
    engagement: dict[tuple[str, str], dict[dt.datetime, tuple]] = field(
        default_factory=lambda: defaultdict(dict))
    assigned: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    runs: list[tuple[str, str, str]] = field(default_factory=list)   # campaign, source, status
    gaps: list[tuple[str, str, dt.datetime | None, dt.datetime | None, str]] = field(
        default_factory=list)

    # --- reading payloads -----------------------------------------------------------------
    def add_page(self, fmt: str, payload: str, retrieved_at: dt.datetime,
                 synthetic: bool = False, assign: str | None = None) -> None:
        body = json.loads(payload)
        before = set(self.posts)
        getattr(self, "_" + fmt)(body, retrieved_at, synthetic)
        if assign:
            self.assigned[assign] |= set(self._page_keys) | (set(self.posts) - before)

    def _post(self, p: Post) -> None:
        self._page_keys.append((p.platform, p.post_id))
        self.posts.setdefault((p.platform, p.post_id), p)

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
        for t in tweets + page.get("includes", {}).get("tweets", []):
            refs = {r["type"]: r["id"] for r in t.get("referenced_tweets", [])}
            kind, parent = "original", None
            for rtype, k in (("retweeted", "repost"), ("quoted", "quote"),
                             ("replied_to", "reply")):
                if rtype in refs:
                    kind, parent = k, refs[rtype]
                    break
            ent = t.get("entities", {})
            self._post(Post("x", t["id"], ts(t["created_at"]), t.get("author_id"),
                            t.get("lang") or "und", kind, parent,
                            _tags([h["tag"] for h in ent.get("hashtags", [])]),
                            {m["username"].lower() for m in ent.get("mentions", [])},
                            f"https://x.com/i/web/status/{t['id']}",
                            t.get("note_tweet", {}).get("text", t.get("text")), synthetic))
            if "public_metrics" in t:
                m = t["public_metrics"]
                self.engagement[("x", t["id"])][at] = (
                    m.get("like_count"), m.get("retweet_count"), m.get("reply_count"),
                    m.get("quote_count"), m.get("impression_count"))
        for u in page.get("includes", {}).get("users", []):
            self._handle(("x", u["id"]), at, u.get("username"))
            if "public_metrics" in u:
                self._follow(("x", u["id"]), at, u["public_metrics"]["followers_count"])

    def _mastodon_statuses(self, body, at: dt.datetime, synthetic: bool) -> None:
        self._page_keys = []
        statuses = body if isinstance(body, list) else [body]
        for s in list(statuses) + [s["reblog"] for s in statuses if s.get("reblog")]:
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
                            s.get("url") or s["uri"], None, synthetic))
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
        keys = {k for k, p in self.posts.items() if c.norm_tags & {t for t, _ in p.tags}}
        keys |= self.assigned.get(c.name, set()) & set(self.posts)
        keys |= {k for k, p in self.posts.items()
                 if p.kind == "repost" and (p.platform, p.parent_id) in keys}
        return [self.posts[k] for k in sorted(keys)]

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
                "impressions": imp if p.platform == "x" else None,
                "engagement": sum(v or 0 for v in (likes, reposts, replies, quotes))}

    def local(self, c: Campaign, t: dt.datetime) -> dt.datetime:
        return t.astimezone(ZoneInfo(c.timezone))

    def handle(self, platform: str, author_id: str | None) -> str | None:
        h = self.handles.get((platform, author_id))
        return h[1] if h else None

    # --- marts ----------------------------------------------------------------------------
    def volume_hourly(self) -> set[tuple]:
        groups = defaultdict(list)
        for c in self.campaigns:
            for p in self.members(c):
                hour = p.created_at.replace(minute=0, second=0, microsecond=0)
                groups[(c.name, hour, p.platform, p.kind)].append(p.author_id)
        return {(*k, len(v), len(set(v))) for k, v in groups.items()}

    def volume_daily(self) -> set[tuple]:
        groups = defaultdict(list)
        for c in self.campaigns:
            for p in self.members(c):
                day = self.local(c, p.created_at).date()
                groups[(c.name, day, p.platform, p.kind)].append(p.author_id)
        return {(*k, len(v), len(set(v))) for k, v in groups.items()}

    def contributors_daily(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            by_day = defaultdict(set)
            for p in self.members(c):
                by_day[self.local(c, p.created_at).date()].add((p.platform, p.author_id))
            seen: set = set()
            for day in sorted(by_day):
                authors = by_day[day]
                new = authors - seen
                seen |= authors
                out.add((c.name, day, len(authors), len(new), len(authors) - len(new),
                         len(seen)))
        return out

    def reach_daily(self) -> set[tuple]:
        groups = defaultdict(list)
        for c in self.campaigns:
            for p in self.members(c):
                groups[(c.name, self.local(c, p.created_at).date(), p.platform)].append(p)
        out = set()
        for key, posts in groups.items():
            fol = [(p.author_id, self.followers_at(p) or 0) for p in posts]
            best: dict = {}
            for a, f in fol:
                best[a] = max(best.get(a, 0), f)
            imps = [self.metrics(p)["impressions"] for p in posts]
            imps = [i for i in imps if i is not None]
            pi, pr = sum(f for _, f in fol), sum(best.values())
            out.add((*key, len(posts), len(best), pi, pr, sum(imps) if imps else None,
                     _r(pi / pr) if pr else None))
        return out

    def campaign_summary(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            posts = self.members(c)
            if not posts:
                out.add((c.name, 0, 0, 0, 0, None, None, 0, 0, 0, 0, 0, None, None, None,
                         None, None, False, ""))
                continue
            best: dict = {}
            for p in posts:
                a = (p.platform, p.author_id)
                best[a] = max(best.get(a, 0), self.followers_at(p) or 0)
            m = [self.metrics(p) for p in posts]
            tot = {k: sum(x[k] or 0 for x in m) for k in ("likes", "reposts", "replies",
                                                          "quotes", "engagement")}
            imps = [x["impressions"] for x in m if x["impressions"] is not None]
            pi = sum(self.followers_at(p) or 0 for p in posts)
            pr = sum(best.values())
            hours = Counter(p.created_at.replace(minute=0, second=0, microsecond=0)
                            for p in posts)
            peak = min(hours, key=lambda h: (-hours[h], h))
            engageable = sum(1 for p in posts if p.kind != "repost")
            out.add((c.name, len(posts), len(best), pr, pi, sum(imps) if imps else None,
                     _r(pi / pr) if pr else None, tot["likes"], tot["reposts"],
                     tot["replies"], tot["quotes"], tot["engagement"],
                     _r(tot["engagement"] / engageable) if engageable else None,
                     min(p.created_at for p in posts), max(p.created_at for p in posts),
                     peak, hours[peak], any(p.synthetic for p in posts),
                     ", ".join(sorted({p.platform for p in posts}))))
        return out

    def top_contributors(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            posts = self.members(c)
            by_author: dict = defaultdict(lambda: {"posts": 0, "potential_impressions": 0,
                                                   "engagement": 0})
            for p in posts:
                d = by_author[(p.platform, p.author_id)]
                d["posts"] += 1
                d["potential_impressions"] += self.followers_at(p) or 0
                d["engagement"] += self.metrics(p)["engagement"] or 0
            for metric in ("posts", "potential_impressions", "engagement"):
                rows = sorted(((-d[metric], pl, a) for (pl, a), d in by_author.items()))
                for rank, (v, pl, a) in enumerate(rows[:25], 1):
                    out.add((c.name, metric, rank, pl, a, self.handle(pl, a), -v))
            mentions = Counter((p.platform, h) for p in posts for h in p.mentions)
            rows = sorted((-n, pl, h) for (pl, h), n in mentions.items())
            for rank, (v, pl, h) in enumerate(rows[:25], 1):
                ids = sorted(a for (pl2, a), (_, hd) in self.handles.items()
                             if pl2 == pl and (hd.lower() == h
                                               or pl == "bluesky" and a.lower() == h))
                out.add((c.name, "mentions", rank, pl, ids[0] if ids else None, h, -v))
        return out

    def top_posts(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            ranked = sorted((p for p in self.members(c)
                             if self.metrics(p)["engagement"] is not None),
                            key=lambda p: (-self.metrics(p)["engagement"], p.created_at,
                                           p.platform, p.post_id))
            for rank, p in enumerate(ranked[:50], 1):
                m = self.metrics(p)
                out.add((c.name, rank, p.platform, p.post_id, self.handle(p.platform,
                                                                           p.author_id),
                         p.created_at, p.kind, m["likes"], m["reposts"], m["replies"],
                         m["quotes"], m["engagement"]))
        return out

    def hashtag_cooccurrence(self) -> set[tuple]:
        pairs: Counter = Counter()
        for c in self.campaigns:
            for p in self.members(c):
                tags = sorted({t for t, _ in p.tags})
                for i, a in enumerate(tags):
                    for b in tags[i + 1:]:
                        pairs[(c.name, a, b)] += 1
        return {(*k, n) for k, n in pairs.items()}

    def hashtags(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            posts = self.members(c)
            forms: dict = defaultdict(Counter)
            for p in posts:
                for t, text in dict(p.tags).items():
                    forms[t][text] += 1
            for t, f in forms.items():
                best = min(f, key=lambda x: (-f[x], x))
                n = sum(f.values())
                out.add((c.name, t, best, n, t in c.norm_tags, _r(n / len(posts))))
        return out

    def languages(self) -> set[tuple]:
        return self._shares(lambda p: p.lang)

    def platform_share(self) -> set[tuple]:
        return self._shares(lambda p: p.platform)

    def _shares(self, key) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            posts = self.members(c)
            for k, n in Counter(key(p) for p in posts).items():
                out.add((c.name, k, n, _r(n / len(posts))))
        return out

    def share_of_voice(self) -> set[tuple]:
        daily = {c.name: Counter(p.created_at.date() for p in self.members(c))
                 for c in self.campaigns}
        out = set()
        for day in set().union(*daily.values()):
            total = sum(d[day] for d in daily.values())
            for name, d in daily.items():
                out.add((day, name, d[day], _r(d[day] / total)))
        return out

    def bursts(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            hours = Counter(p.created_at.replace(minute=0, second=0, microsecond=0)
                            for p in self.members(c))
            if not hours:
                continue
            h, last, series = min(hours), max(hours), []
            while h <= last:
                series.append((h, hours.get(h, 0)))
                h += dt.timedelta(hours=1)
            base = statistics.median(n for _, n in series)
            runs: list[list] = []
            prev = None
            for h, n in series:
                if n >= 3 * base and n >= base + 5:
                    if prev is not None and h - prev == dt.timedelta(hours=1):
                        runs[-1].append((h, n))
                    else:
                        runs.append([(h, n)])
                    prev = h
            for i, run in enumerate(runs, 1):
                peak = min(run, key=lambda x: (-x[1], x[0]))
                out.add((c.name, i, run[0][0], peak[0], run[-1][0], peak[1], float(base),
                         sum(n for _, n in run), len(run)))
        return out

    def coverage(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            tz = ZoneInfo(c.timezone)
            days = [self.local(c, p.created_at).date() for p in self.members(c)]
            first = c.start or (min(days) if days else None)
            last = c.end or (max(days) if days else None)
            if first is None or last is None:
                continue
            sources = {s for cc, s, _ in self.runs if cc == c.name}
            sources |= {s for cc, s, *_ in self.gaps if cc == c.name}
            day = first
            while day <= last:
                start = dt.datetime.combine(day, dt.time(), tz)
                end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
                for s in sources:
                    hits = [g for g in self.gaps if g[0] == c.name and g[1] == s
                            and (g[2] is None or g[2] < end) and (g[3] is None or g[3] > start)]
                    ok = any(st == "ok" for cc, ss, st in self.runs if cc == c.name and ss == s)
                    reasons = ([] if ok else ["no successful run"]) + sorted({g[4] for g in hits})
                    out.add((c.name, s, day, ok and not hits, len(hits), "; ".join(reasons)))
                day += dt.timedelta(days=1)
        return out

    def activity_heatmap(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            posts = self.members(c)
            if not posts:
                continue
            cells = Counter((self.local(c, p.created_at).weekday(),
                             self.local(c, p.created_at).hour) for p in posts)
            for w in range(7):
                for h in range(24):
                    out.add((c.name, w, WEEKDAYS[w], h, cells.get((w, h), 0)))
        return out


def _tags(written: list[str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for w in written:
        if w and normalise_tag(w):
            out.setdefault(normalise_tag(w), w)
    return list(out.items())


def _r(x: float) -> float:
    return round(x, 9)


# Columns of each mart compared with the oracle (in the oracle's tuple order).
MART_COLUMNS = {
    "volume_hourly": "campaign, hour, platform, kind, posts, authors",
    "volume_daily": "campaign, day, platform, kind, posts, authors",
    "contributors_daily": ("campaign, day, authors, new_authors, returning_authors, "
                           "cumulative_authors"),
    "reach_daily": ("campaign, day, platform, posts, contributors, potential_impressions, "
                    "potential_reach, actual_impressions, frequency"),
    "campaign_summary": ("campaign, posts, contributors, potential_reach, potential_impressions,"
                         " actual_impressions, frequency, likes, reposts, replies, quotes, "
                         "engagement, engagement_per_post, first_post, last_post, peak_hour, "
                         "peak_hour_posts, synthetic, platforms"),
    "top_contributors": "campaign, metric, rank, platform, author_id, handle, value",
    "top_posts": ("campaign, rank, platform, post_id, handle, created_at, kind, likes, "
                  "reposts, replies, quotes, engagement"),
    "hashtag_cooccurrence": "campaign, tag_a, tag_b, posts",
    "hashtags": "campaign, tag, tag_text, posts, is_campaign_tag, share",
    "languages": "campaign, lang, posts, share",
    "platform_share": "campaign, platform, posts, share",
    "share_of_voice": "day, campaign, posts, share",
    "bursts": ("campaign, burst, start_hour, peak_hour, end_hour, peak_posts, baseline_posts, "
               "posts, hours"),
    "coverage": "campaign, source, day, complete, gaps, reasons",
    "activity_heatmap": "campaign, weekday, weekday_name, hour_of_day, posts",
}


def sql_rows(con, mart: str) -> set[tuple]:
    rows = con.execute(f"select {MART_COLUMNS[mart]} from marts.{mart}").fetchall()
    return {tuple(_r(v) if isinstance(v, float) else _utc(v) for v in row) for row in rows}


def _utc(v):
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC)
    return v
