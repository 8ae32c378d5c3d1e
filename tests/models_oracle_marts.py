"""The marts computed in plain Python from the oracle's unified posts (see models_oracle)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def r9(x: float) -> float:
    return round(x, 9)



def _authors_known(posts: list) -> tuple:
    """(posts whose author is known, their share of the posts)."""
    known = sum(1 for p in posts if p.author_id)
    return known, r9(known / len(posts))

class MartsMixin:
    """Each method computes one mart as its SQL header defines it, as a set of tuples."""

    def volume_hourly(self) -> set[tuple]:
        groups = defaultdict(list)
        for c in self.campaigns:
            for p in self.members(c):
                hour = p.created_at.replace(minute=0, second=0, microsecond=0)
                groups[(c.name, hour, p.platform, p.kind)].append(p.author_id)
        return {(*k, len(v), _accounts(v)) for k, v in groups.items()}

    def volume_daily(self) -> set[tuple]:
        groups = defaultdict(list)
        for c in self.campaigns:
            for p in self.members(c):
                day = self.local(c, p.created_at).date()
                groups[(c.name, day, p.platform, p.kind)].append(p.author_id)
        return {(*k, len(v), _accounts(v)) for k, v in groups.items()}

    def contributors_daily(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            by_day: dict = defaultdict(set)
            for p in self.members(c):
                known = by_day[self.local(c, p.created_at).date()]
                if p.author_id is not None:  # a post by no known account adds none
                    known.add((p.platform, p.author_id))
            seen: set = set()
            for day in sorted(by_day):
                authors = by_day[day]
                new = authors - seen
                seen |= authors
                if not authors:
                    out.add((c.name, day, None, None, None, len(seen) or None))
                    continue
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
            reach = _reach(self, posts)
            imps = _known(self.metrics(p)["impressions"] for p in posts)
            out.add((*key, len(posts), _accounts(p.author_id for p in posts), reach["known"],
                     reach["pi"], reach["pr"], len(imps), sum(imps) if imps else None,
                     reach["frequency"]))
        return out

    def campaign_summary(self) -> set[tuple]:
        out = set()
        for c in self.campaigns:
            posts = self.members(c)
            if not posts:
                out.add((c.name, 0, 0, 0, None, None, None, 0, None, None, None, 0, 0, None,
                         None, None, None, None, None, None, None, None, None, None, False,
                         "", 0, None))
                continue
            reach = _reach(self, posts)
            m = [self.metrics(p) for p in posts]
            tot = {k: _total(x[k] for x in m) for k in ("likes", "reposts", "replies",
                                                        "quotes", "engagement")}
            imps = _known(x["impressions"] for x in m)
            observed = len(_known(x["engagement"] for x in m))
            hours = Counter(p.created_at.replace(minute=0, second=0, microsecond=0)
                            for p in posts)
            peak = min(hours, key=lambda h: (-hours[h], h))
            engageable = sum(1 for p in posts if p.kind != "repost")
            out.add((c.name, len(posts), _accounts((p.platform, p.author_id) for p in posts),
                     reach["known"], r9(reach["known"] / len(posts)), reach["pr"],
                     reach["pi"], len(imps), r9(len(imps) / len(posts)),
                     sum(imps) if imps else None, reach["frequency"], engageable, observed,
                     r9(observed / engageable) if engageable else None, tot["likes"],
                     tot["reposts"], tot["replies"], tot["quotes"], tot["engagement"],
                     r9(tot["engagement"] / observed) if observed else None,
                     min(p.created_at for p in posts), max(p.created_at for p in posts),
                     peak, hours[peak], any(p.synthetic for p in posts),
                     ", ".join(sorted({p.platform for p in posts})), *_authors_known(posts)))
        return out

    def top_contributors(self) -> set[tuple]:
        """An author whose value is not known (no follower count; no observed engagement) is
        not ranked by that metric."""
        out = set()
        for c in self.campaigns:
            posts = self.members(c)
            by_author: dict = defaultdict(list)
            for p in posts:
                by_author[(p.platform, p.author_id)].append(p)
            values = {
                "posts": {a: len(ps) for a, ps in by_author.items()},
                "potential_impressions": {a: _total(self.followers_at(p) for p in ps)
                                          for a, ps in by_author.items()},
                "engagement": {a: _total(self.metrics(p)["engagement"] for p in ps)
                               for a, ps in by_author.items()},
            }
            for metric, vals in values.items():
                rows = sorted((-v, pl, a) for (pl, a), v in vals.items() if v is not None)
                for rank, (v, pl, a) in enumerate(rows[:25], 1):
                    out.add((c.name, metric, rank, pl, a, self.handle(pl, a), -v))
            # a repost's mentions are the reposted text's (and X's "RT @author"): not counted
            mentions = Counter((p.platform, h) for p in posts if p.kind != "repost"
                               for h in p.mentions)
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
                out.add((c.name, t, best, n, t in c.norm_tags, r9(n / len(posts))))
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
                out.add((c.name, k, n, r9(n / len(posts))))
        return out

    def share_of_voice(self) -> set[tuple]:
        daily = {c.name: Counter(p.created_at.date() for p in self.members(c))
                 for c in self.campaigns}
        out = set()
        for day in set().union(*daily.values()):
            total = sum(d[day] for d in daily.values())
            for name, d in daily.items():
                out.add((day, name, d[day], r9(d[day] / total)))
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
            sources = {s for cc, s, _, kind in self.runs if cc == c.name and kind != "repoll"}
            sources |= {s for cc, s, *_ in self.gaps if cc == c.name}
            day = first
            while day <= last:
                start = dt.datetime.combine(day, dt.time(), tz)
                end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
                for s in sources:
                    hits = [g for g in self.gaps if g[0] == c.name and g[1] == s
                            and (g[2] is None or g[2] < end) and (g[3] is None or g[3] > start)]
                    runs = [(st, kind) for cc, ss, st, kind in self.runs
                            if cc == c.name and ss == s]
                    ok = any(st == "ok" for st, _ in runs)
                    if runs and all(kind in ("import", "hydrate") for _, kind in runs) \
                            and not hits:
                        # an archive (or a hydrated id list) does not say what it left out
                        out.add((c.name, s, day, "unknown", None, 0,
                                 "imported: coverage unknown"))
                    else:
                        reasons = (([] if ok else ["no successful run"])
                                   + sorted({g[4] for g in hits}))
                        state = "complete" if ok and not hits else "incomplete"
                        out.add((c.name, s, day, state, state == "complete", len(hits),
                                 "; ".join(reasons)))
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



# Columns of each mart compared with the oracle (in the oracle's tuple order).
MART_COLUMNS = {
    "volume_hourly": "campaign, hour, platform, kind, posts, authors",
    "volume_daily": "campaign, day, platform, kind, posts, authors",
    "contributors_daily": ("campaign, day, authors, new_authors, returning_authors, "
                           "cumulative_authors"),
    "reach_daily": ("campaign, day, platform, posts, contributors, followers_known_posts, "
                    "potential_impressions, potential_reach, impressions_known_posts, "
                    "actual_impressions, frequency"),
    "campaign_summary": ("campaign, posts, contributors, followers_known_posts, "
                         "followers_known_share, potential_reach, potential_impressions, "
                         "impressions_known_posts, impressions_known_share, actual_impressions, "
                         "frequency, engageable_posts, engagement_known_posts, "
                         "engagement_known_share, likes, reposts, replies, quotes, engagement, "
                         "engagement_per_post, first_post, last_post, peak_hour, "
                         "peak_hour_posts, synthetic, platforms, author_known_posts, "
                         "author_known_share"),
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
    "coverage": "campaign, source, day, state, complete, gaps, reasons",
    "activity_heatmap": "campaign, weekday, weekday_name, hour_of_day, posts",
}


def _known(values) -> list:
    return [v for v in values if v is not None]


def _total(values) -> int | None:
    """The sum of the known values; None ("not known") when none is known."""
    known = _known(values)
    return sum(known) if known else None


def _reach(oracle, posts: list) -> dict:
    """Followers known for how many posts, potential impressions and reach over those posts
    (each author once, with their largest count), frequency; None where known for none."""
    best: dict = {}
    followers = []
    for p in posts:
        f = oracle.followers_at(p)
        if f is not None:
            followers.append(f)
            a = (p.platform, p.author_id)
            best[a] = max(best.get(a, f), f)
    pi = sum(followers) if followers else None
    pr = sum(best.values()) if best else None
    return {"known": len(followers), "pi": pi, "pr": pr,
            "frequency": r9(pi / pr) if pr else None}


def sql_rows(con, mart: str) -> set[tuple]:
    rows = con.execute(f"select {MART_COLUMNS[mart]} from marts.{mart}").fetchall()
    return {tuple(r9(v) if isinstance(v, float) else _utc(v) for v in row) for row in rows}


def _utc(v):
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC)
    return v


def _accounts(authors) -> int | None:
    """Distinct known accounts among `authors` (None: an unknown author, no account); None
    when none is known: the marts' contributors and authors."""
    return len({a for a in authors if a is not None and (not isinstance(a, tuple)
                                                          or a[1] is not None)}) or None
