"""A simulated source: a synthetic campaign in the platforms' own payload shapes.

Modelled on #AleppoIsBurning (22 April - 5 May 2016): a baseline with a daily rhythm, bursts
after the al-Quds hospital strike (27 April) and on #MakeFacebookRed day (29 April), heavy-tailed
follower counts, repost cascades, four languages and co-occurring tags. Every field of post i is
a pure function of (seed, platform, i), so any size from ten posts to ten million is generated
in constant memory and a run can resume from any index. Pages are X API v2 search pages,
Mastodon status arrays or Bluesky searchPosts responses, so the real normalisation runs.
Everything it yields is marked synthetic.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
from collections.abc import Iterator
from typing import Any, ClassVar

from ..config import Campaign, SourceConfig
from ..pages import RawPage, RunLog
from . import simulated_links

DEFAULT_START = dt.datetime(2016, 4, 22, tzinfo=dt.UTC)
DEFAULT_END = dt.datetime(2016, 5, 6, tzinfo=dt.UTC)
# (offset from start in hours, height relative to baseline, decay in hours)
BURSTS = ((5 * 24 + 20, 14.0, 10.0), (7 * 24 + 8, 22.0, 16.0))
CO_TAGS = ("Aleppo", "Syria", "SaveAleppo", "MakeFacebookRed", "StopBombingHospitals")
LANGS = (("en", 0.5), ("ar", 0.8), ("tr", 0.9), ("fr", 1.0))
TEXTS = {
    "en": ("Hospitals are being bombed in Aleppo. The world must act.",
           "Al-Quds hospital destroyed, doctors killed. Where is the outrage?",
           "Turn your profile red for Aleppo.", "Children of Aleppo need protection now."),
    "ar": ("حلب تحترق. أوقفوا قصف المستشفيات", "مستشفى القدس دُمّر والأطباء قُتلوا",
           "أنقذوا حلب", "أطفال حلب تحت القصف"),
    "tr": ("Halep yanıyor. Hastaneler bombalanıyor.", "Halep için sesini yükselt."),
    "fr": ("Alep brûle. Les hôpitaux sont bombardés.", "Solidarité avec les médecins d'Alep."),
}
INSTANCES = ("mastodon.social", "mstdn.social", "mastodon.online")
TWITTER_EPOCH_MS = 1288834974657
_MASK = (1 << 64) - 1


def _mix(*ints: int) -> int:
    """splitmix64 over a tuple of ints: a fast deterministic hash."""
    x = 0x9E3779B97F4A7C15
    for v in ints:
        x = (x ^ (v & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
        x ^= x >> 31
    return x


def _u(*ints: int) -> float:
    """Uniform float in [0, 1) from the hash of ints."""
    return (_mix(*ints) >> 11) / float(1 << 53)


class SyntheticCampaign:
    """Random access to the posts of one synthetic campaign on one platform."""

    def __init__(self, seed: int, posts: int, platform: str, tags: tuple[str, ...],
                 start: dt.datetime = DEFAULT_START, end: dt.datetime = DEFAULT_END):
        self.seed = seed
        self.n = posts
        self.platform = platform
        self.pcode = {"x": 1, "mastodon": 2, "bluesky": 3}[platform]
        self.tags = tags
        self.start = start
        hours = max(1, int((end - start).total_seconds() // 3600))
        scale = hours / (14 * 24)
        weights = []
        for h in range(hours):
            hour_of_day = (start + dt.timedelta(hours=h)).hour
            w = 1.0 + 0.6 * math.sin((hour_of_day - 9) / 24 * 2 * math.pi)
            for at, height, decay in BURSTS:
                peak, span = at * scale, decay * scale
                if h >= peak:
                    w += height * math.exp(-(h - peak) / span)
            weights.append(w)
        total = sum(weights)
        exact = [w / total * posts for w in weights]
        counts = [int(e) for e in exact]
        order = sorted(range(hours), key=lambda h: (counts[h] - exact[h], h))
        for h in order[: posts - sum(counts)]:
            counts[h] += 1
        self.counts = counts
        self.cum = [0]
        for c in counts:
            self.cum.append(self.cum[-1] + c)
        self.authors = max(20, posts // 4)

    # --- fields of post i -------------------------------------------------------------------
    def time(self, i: int) -> dt.datetime:
        h = bisect.bisect_right(self.cum, i) - 1
        pos = i - self.cum[h]
        frac = (pos + 0.5 * _u(self.seed, self.pcode, i, 1)) / self.counts[h]
        return self.start + dt.timedelta(hours=h + frac)

    def post_id(self, i: int) -> str:
        ms = int(self.time(i).timestamp() * 1000) - TWITTER_EPOCH_MS
        return str((ms << 22) | (i & 0x3FFFFF))

    def author(self, i: int) -> int:
        return int(self.authors * _u(self.seed, self.pcode, i, 2) ** 2.2)

    def kind(self, i: int) -> str:
        if i == 0:
            return "original"
        u = _u(self.seed, self.pcode, i, 3)
        if self.platform == "bluesky":  # searchPosts returns no reposts
            return "original" if u < 0.75 else ("reply" if u < 0.88 else "quote")
        return ("repost" if u < 0.45 else "original" if u < 0.80
                else "reply" if u < 0.90 else "quote")

    def parent(self, i: int) -> int | None:
        if self.kind(i) == "original":
            return None
        j = i - 1 - int(_u(self.seed, self.pcode, i, 4) ** 3 * min(i, 5000))
        for _ in range(50):
            if self.kind(j) != "repost":
                break
            j = (self.parent(j) or 0) if j else 0  # j is a repost: it has a parent
        return j

    def followers(self, a: int, day: int) -> int:
        base = int(15 / max(_u(self.seed, self.pcode, a, 5), 1e-7) ** 0.9)
        base = min(base, 40_000_000)
        growth = 1.0 + 0.01 * day * _u(self.seed, self.pcode, a, 6)
        return int(base * growth)

    def lang(self, a: int) -> str:
        u = _u(self.seed, self.pcode, a, 7)
        return next(code for code, edge in LANGS if u < edge)

    def hashtags(self, i: int) -> list[str]:
        u = _u(self.seed, self.pcode, i, 8)
        main = self.tags[int(u * len(self.tags))]
        variant = (main, main.lower(), main.upper())[int(_u(self.seed, self.pcode, i, 9) * 3)]
        out = [variant]
        if len(self.tags) > 1 and _u(self.seed, self.pcode, i, 10) < 0.3:
            out.append(self.tags[(int(u * len(self.tags)) + 1) % len(self.tags)])
        for k, tag in enumerate(CO_TAGS):
            if _u(self.seed, self.pcode, i, 11 + k) < 0.25 / (k + 1):
                out.append(tag)
        return out

    def text(self, i: int) -> str:
        a = self.author(i)
        options = TEXTS[self.lang(a)]
        return options[int(_u(self.seed, self.pcode, i, 20) * len(options))]

    def metrics(self, i: int) -> dict[str, int]:
        f = self.followers(self.author(i), 0)
        scale = math.log10(f + 10)
        u = _u(self.seed, self.pcode, i, 21)
        return {"like_count": int(u * u * 20 * scale), "retweet_count": int(u ** 3 * 10 * scale),
                "reply_count": int(u ** 4 * 4 * scale), "quote_count": int(u ** 5 * 2 * scale),
                "impression_count": int(f * (0.02 + 0.1 * u))}


class SimulatedSource:
    """Yields pages of a synthetic campaign; releases `per_run` posts per collection run."""

    primary_key: ClassVar[tuple[str, ...]] = ("platform", "post_id")
    cursor_field: ClassVar[str] = "next_index"

    def __init__(self, campaign: Campaign, cfg: SourceConfig):
        opts = cfg.options
        self.name = cfg.name
        self.platform = opts.get("platform", "x")
        start = campaign.start_at or DEFAULT_START
        end = campaign.end_at or DEFAULT_END
        self.sim = SyntheticCampaign(opts.get("seed", 2016), opts.get("posts", 1000),
                                     self.platform, campaign.hashtags, start, end)
        self.per_run = opts.get("per_run", self.sim.n)
        self.page_size = opts.get("page_size", {"x": 100, "mastodon": 40, "bluesky": 100}
                                  [self.platform])

    def pages(self, cursor: Any, log: RunLog) -> Iterator[RawPage]:
        begin = int((cursor or {}).get("next_index", 0))
        stop = min(self.sim.n, begin + self.per_run)
        render = {"x": self._x_page, "mastodon": self._mastodon_page,
                  "bluesky": self._bluesky_pages}[self.platform]
        for lo in range(begin, stop, self.page_size):
            hi = min(stop, lo + self.page_size)
            log.requests += 1
            for page in render(lo, hi):
                page.cursor = {"next_index": hi}
                page.synthetic = True
                page.client = "tracker-simulated"
                yield page

    def _retrieved(self, hi: int) -> dt.datetime:
        return self.sim.time(hi - 1) + dt.timedelta(minutes=1)

    # --- X API v2 ---------------------------------------------------------------------------
    def _x_tweet(self, i: int) -> dict[str, Any]:
        s = self.sim
        a, kind, parent = s.author(i), s.kind(i), s.parent(i)
        tags = s.hashtags(i)
        text = f"{s.text(i)} " + " ".join("#" + t for t in tags)
        entities: dict[str, Any] = {"hashtags": []}
        if kind == "repost" and parent is not None:
            text = f"RT @user{s.author(parent)}: {text}"
        pos = 0
        for t in tags:
            pos = text.find("#" + t, pos)
            entities["hashtags"].append({"start": pos, "end": pos + len(t) + 1, "tag": t})
            pos += len(t) + 1
        urls, media_keys, _ = simulated_links.x_parts(s, i, _u)
        if urls:
            entities["urls"] = urls
            for x in urls:   # X counts positions in code points, as Python's str does
                text += " "
                x["start"], x["end"] = len(text), len(text) + len(x["url"])
                text += x["url"]
        if _u(s.seed, s.pcode, i, 30) < 0.2:
            m = s.author(i // 3)
            entities["mentions"] = [{"start": 0, "end": 6, "username": f"user{m}",
                                     "id": str(1000 + m)}]
        tw: dict[str, Any] = {
            "id": s.post_id(i), "text": text, "author_id": str(1000 + a),
            "created_at": s.time(i).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "lang": s.lang(a),
            "conversation_id": s.post_id(parent if kind == "reply" and parent is not None else i),
            "public_metrics": s.metrics(i), "entities": entities,
            "possibly_sensitive": False, "reply_settings": "everyone",
        }
        if media_keys:
            tw["attachments"] = {"media_keys": media_keys}
        if parent is not None:
            rtype = {"repost": "retweeted", "quote": "quoted", "reply": "replied_to"}[kind]
            tw["referenced_tweets"] = [{"type": rtype, "id": s.post_id(parent)}]
        return tw

    def _x_user(self, a: int, day: int) -> dict[str, Any]:
        s = self.sim
        return {"id": str(1000 + a), "username": f"user{a}", "name": f"Synthetic user {a}",
                "created_at": "2012-01-01T00:00:00.000Z", "verified": a < 10,
                "description": "", "protected": False,
                "profile_image_url": f"https://pbs.example/profile_images/{a}_normal.jpg",
                "public_metrics": {"followers_count": s.followers(a, day),
                                   "following_count": 100 + a % 900,
                                   "tweet_count": 1000 + a % 5000, "listed_count": 0}}

    def _x_page(self, lo: int, hi: int) -> Iterator[RawPage]:
        s = self.sim
        idx = list(range(hi - 1, lo - 1, -1))  # newest first, like the API
        data = [self._x_tweet(i) for i in idx]
        parents = sorted({p for i in idx if (p := s.parent(i)) is not None} - set(idx))
        day = (s.time(hi - 1) - s.start).days
        users = {s.author(i) for i in idx} | {s.author(p) for p in parents}
        payload: dict[str, Any] = {
            "data": data,
            "includes": {"users": [self._x_user(a, day) for a in sorted(users)],
                         "tweets": [self._x_tweet(p) for p in parents]},
            "meta": {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"],
                     "result_count": len(data)},
        }
        described = [m for i in [*idx, *parents] for m in simulated_links.x_parts(s, i, _u)[2]]
        if described:
            payload["includes"]["media"] = described
        if hi < s.n:
            payload["meta"]["next_token"] = f"sim{hi}"
        yield RawPage("x_v2_page", "x", json.dumps(payload, ensure_ascii=False),
                      request=f"simulated://x/2/tweets/search/recent?start={lo}",
                      retrieved_at=self._retrieved(hi))

    # --- Mastodon ---------------------------------------------------------------------------
    def _status(self, i: int, instance: str) -> dict[str, Any]:
        s = self.sim
        a, kind, parent = s.author(i), s.kind(i), s.parent(i)
        home = INSTANCES[a % len(INSTANCES)]
        day = (s.time(i) - s.start).days
        account = {"id": str(a), "username": f"user{a}", "acct": f"user{a}@{home}",
                   "display_name": f"Synthetic user {a}", "url": f"https://{home}/@user{a}",
                   "created_at": "2016-01-01T00:00:00.000Z",
                   "followers_count": s.followers(a, day), "following_count": 50 + a % 300,
                   "statuses_count": 100 + a % 2000, "locked": False, "bot": False,
                   "discoverable": True, "group": False, "note": "",
                   "uri": f"https://{home}/users/user{a}",
                   "avatar": f"https://{home}/avatars/original/missing.png",
                   "avatar_static": f"https://{home}/avatars/original/missing.png",
                   "header": f"https://{home}/headers/original/missing.png",
                   "header_static": f"https://{home}/headers/original/missing.png",
                   "last_status_at": s.time(i).strftime("%Y-%m-%d"), "emojis": [],
                   "fields": []}
        uri = f"https://{home}/users/user{a}/statuses/{s.post_id(i)}"
        m = s.metrics(i)
        st: dict[str, Any] = {
            "id": s.post_id(i), "uri": uri, "url": f"https://{home}/@user{a}/{s.post_id(i)}",
            "created_at": s.time(i).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "account": account, "language": s.lang(a), "in_reply_to_id": None, "reblog": None,
            "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
            "visibility": "public", "edited_at": None, "emojis": [], "poll": None, "quote": None,
            "quotes_count": m["quote_count"],
            "content": "<p>" + s.text(i) + " " + " ".join(
                f'<a href="https://{instance}/tags/{t.lower()}" class="mention hashtag">'
                f"#<span>{t}</span></a>" for t in s.hashtags(i)) + "</p>",
            "tags": [{"name": t.lower(), "url": f"https://{instance}/tags/{t.lower()}"}
                     for t in s.hashtags(i)],
            "mentions": [], "favourites_count": m["like_count"],
            "card": None, "media_attachments": [],
            "reblogs_count": m["retweet_count"],
            "replies_count": m["reply_count"],
        }
        anchor, st["card"], st["media_attachments"] = simulated_links.mastodon_parts(s, i, _u)
        st["content"] = st["content"][:-len("</p>")] + anchor + "</p>"
        if kind == "repost" and parent is not None:
            st["uri"] = f"{uri}/activity"
            st["reblog"] = self._status(parent, instance)
            st["content"], st["tags"] = "", []
        elif kind == "reply" and parent is not None:
            st["in_reply_to_id"] = s.post_id(parent)
            st["in_reply_to_account_id"] = str(s.author(parent))
        return st

    def _mastodon_page(self, lo: int, hi: int) -> Iterator[RawPage]:
        instance = INSTANCES[(lo // self.page_size) % len(INSTANCES)]
        statuses = [self._status(i, instance) for i in range(hi - 1, lo - 1, -1)]
        yield RawPage("mastodon_statuses", "mastodon", json.dumps(statuses, ensure_ascii=False),
                      request=f"simulated://{instance}/api/v1/timelines/tag/"
                              f"{self.sim.tags[0].lower()}?start={lo}",
                      retrieved_at=self._retrieved(hi))

    # --- Bluesky ----------------------------------------------------------------------------
    def _bsky_post(self, i: int) -> dict[str, Any]:
        s = self.sim
        a, kind, parent = s.author(i), s.kind(i), s.parent(i)
        did = f"did:plc:sim{a:08d}"
        tags = s.hashtags(i)
        text = f"{s.text(i)} " + " ".join("#" + t for t in tags)
        facets, pos = [], 0
        for t in tags:
            start = len(text[: text.find("#" + t, pos)].encode())
            pos = text.find("#" + t, pos) + len(t) + 1
            end = start + len(("#" + t).encode())
            facets.append({"index": {"byteStart": start, "byteEnd": end},
                           "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t}]})
        link_facets, record_embed, view_embed, text = simulated_links.bluesky_parts(s, i, _u, text)
        facets += link_facets
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                                  "createdAt": s.time(i).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                  "langs": [s.lang(a)], "facets": facets}
        if parent is not None:
            puri = f"at://did:plc:sim{s.author(parent):08d}/app.bsky.feed.post/{s.post_id(parent)}"
            ref = {"uri": puri, "cid": f"bafysim{parent}"}
            if kind == "reply":
                record["reply"] = {"root": ref, "parent": ref}
            else:
                record["embed"] = {"$type": "app.bsky.embed.record", "record": ref}
        if record_embed is not None:
            record["embed"] = record_embed
        m = s.metrics(i)
        view: dict[str, Any] = {
            "uri": f"at://{did}/app.bsky.feed.post/{s.post_id(i)}", "cid": f"bafysim{i}",
            "author": {"did": did, "handle": f"user{a}.bsky.social",
                       "displayName": f"Synthetic user {a}",
                       "avatar": f"https://cdn.bsky.example/avatar/{did}.jpg",
                       "createdAt": "2023-06-01T00:00:00.000Z", "labels": [],
                       "viewer": {"muted": False, "blockedBy": False}},
            "record": record, "replyCount": m["reply_count"],
            "repostCount": m["retweet_count"], "likeCount": m["like_count"],
            "quoteCount": m["quote_count"], "indexedAt": record["createdAt"],
            "labels": [], "viewer": {"threadMuted": False, "embeddingDisabled": False}}
        if view_embed is not None:
            view["embed"] = view_embed
        return view

    def _bluesky_pages(self, lo: int, hi: int) -> Iterator[RawPage]:
        s = self.sim
        posts = [self._bsky_post(i) for i in range(hi - 1, lo - 1, -1)]
        body: dict[str, Any] = {"posts": posts}
        if hi < s.n:
            body["cursor"] = str(hi)
        at = self._retrieved(hi)
        yield RawPage("bluesky_posts", "bluesky", json.dumps(body, ensure_ascii=False),
                      request=f"simulated://bsky/app.bsky.feed.searchPosts?cursor={lo}",
                      retrieved_at=at)
        day = (s.time(hi - 1) - s.start).days
        authors = sorted({s.author(i) for i in range(lo, hi)})
        profiles = [{"did": f"did:plc:sim{a:08d}", "handle": f"user{a}.bsky.social",
                     "displayName": f"Synthetic user {a}", "followersCount": s.followers(a, day),
                     "followsCount": 40 + a % 200, "postsCount": 10 + a % 700,
                     "description": "", "avatar": f"https://cdn.bsky.example/avatar/did:plc:sim{a:08d}.jpg",
                     "banner": f"https://cdn.bsky.example/banner/{a}.jpg",
                     "createdAt": "2023-06-01T00:00:00.000Z", "indexedAt": at.isoformat(),
                     "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0,
                                    "labeler": False, "chat": {"allowIncoming": "following"}},
                     "labels": [], "viewer": {"muted": False, "blockedBy": False}}
                    for a in authors]
        yield RawPage("bluesky_profiles", "bluesky", json.dumps({"profiles": profiles}),
                      request="simulated://bsky/app.bsky.actor.getProfiles", retrieved_at=at)
