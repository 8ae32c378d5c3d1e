"""marts.tag_variants, marts.tag_overlap and marts.platform_summary computed in plain Python
from the oracle's unified posts (tests/models_oracle.py), as their header comments define
them."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

from .models_oracle_marts import _known, _reach, _total, r9

TAG_COLUMNS = {
    "tag_variants": ("campaign, tag, tag_text, posts, tag_share, contributors, "
                     "followers_known_posts, potential_reach, potential_impressions, languages, "
                     "top_languages, platforms, first_post, last_post"),
    "tag_overlap": ("campaign, tag_a, tag_b, contributors_a, contributors_b, contributors_both, "
                    "contributors_either, jaccard"),
    "platform_summary": (
        "campaign, platform, posts, post_share, contributors, followers_known_posts, "
        "followers_known_share, potential_reach, potential_impressions, impressions_known_posts, "
        "impressions_known_share, actual_impressions, frequency, engageable_posts, "
        "engagement_known_posts, engagement_known_share, likes, reposts, replies, quotes, "
        "engagement, engagement_per_post, first_post, last_post, peak_hour, peak_hour_posts, "
        "synthetic, author_known_posts, author_known_share"),
}


def tag_variants(o) -> set[tuple]:
    out = set()
    for c in o.campaigns:
        forms: dict = defaultdict(list)
        for p in o.members(c):
            for tag, text in p.tags:    # one written form per normalised tag and post
                if tag in c.norm_tags:
                    forms[(tag, text)].append(p)
        per_tag: Counter = Counter()
        for (tag, _), posts in forms.items():
            per_tag[tag] += len(posts)
        # an author's largest follower count among their posts with any of the campaign's tags
        largest: dict = {}
        for posts in forms.values():
            for p in posts:
                f = o.followers_at(p)
                if f is not None:
                    a = (p.platform, p.author_id)
                    largest[a] = max(largest.get(a, f), f)
        for (tag, text), posts in forms.items():
            reach = _reach(o, posts)
            authors = {(p.platform, p.author_id) for p in posts}
            reach["pr"] = sum(largest[a] for a in authors if a in largest) if any(
                a in largest for a in authors) else None
            langs = Counter(p.lang for p in posts)
            out.add((c.name, tag, text, len(posts), r9(len(posts) / per_tag[tag]),
                     len({(p.platform, p.author_id) for p in posts}), reach["known"],
                     reach["pr"], reach["pi"], len(langs),
                     ", ".join(sorted(langs, key=lambda x: (-langs[x], x))),
                     ", ".join(sorted({p.platform for p in posts})),
                     min(p.created_at for p in posts), max(p.created_at for p in posts)))
    return out


def tag_overlap(o) -> set[tuple]:
    out = set()
    for c in o.campaigns:
        users: dict = defaultdict(set)
        used: set = set()
        for p in o.members(c):
            for tag, _ in p.tags:
                used.add(tag)
                if p.author_id:      # a post by no known author adds no contributor
                    users[tag].add((p.platform, p.author_id))

        for a, b in combinations(sorted(c.norm_tags), 2):
            # 0 when no post carries the tag; not known when no author of one is
            na, nb = (len(users[t]) if users[t] or t not in used else None for t in (a, b))
            if na is None or nb is None:
                out.add((c.name, a, b, na, nb, None, None, None))
                continue
            both, either = users[a] & users[b], users[a] | users[b]
            out.add((c.name, a, b, na, nb, len(both), len(either),
                     r9(len(both) / len(either)) if either else None))
    return out


def platform_summary(o) -> set[tuple]:
    out = set()
    for c in o.campaigns:
        members = o.members(c)
        by_platform: dict = defaultdict(list)
        for p in members:
            by_platform[p.platform].append(p)
        for platform, posts in by_platform.items():
            out.add((c.name, platform, len(posts), r9(len(posts) / len(members)),
                     *figures(o, posts)))
    return out


def figures(o, posts: list) -> tuple:
    """The headline figures of marts.campaign_summary over `posts`, from contributors to
    synthetic, in platform_summary's column order."""
    reach = _reach(o, posts)
    m = [o.metrics(p) for p in posts]
    tot = {k: _total(x[k] for x in m) for k in ("likes", "reposts", "replies", "quotes",
                                                 "engagement")}
    imps = _known(x["impressions"] for x in m)
    observed = len(_known(x["engagement"] for x in m))
    hours = Counter(p.created_at.replace(minute=0, second=0, microsecond=0) for p in posts)
    peak = min(hours, key=lambda h: (-hours[h], h))
    engageable = sum(1 for p in posts if p.kind != "repost")
    return (len({(p.platform, p.author_id) for p in posts}), reach["known"],
            r9(reach["known"] / len(posts)), reach["pr"], reach["pi"], len(imps),
            r9(len(imps) / len(posts)), sum(imps) if imps else None, reach["frequency"],
            engageable, observed, r9(observed / engageable) if engageable else None,
            tot["likes"], tot["reposts"], tot["replies"], tot["quotes"], tot["engagement"],
            r9(tot["engagement"] / observed) if observed else None,
            min(p.created_at for p in posts), max(p.created_at for p in posts), peak,
            hours[peak], any(p.synthetic for p in posts),
            sum(1 for p in posts if p.author_id),
            r9(sum(1 for p in posts if p.author_id) / len(posts)))


ORACLES = {"tag_variants": tag_variants, "tag_overlap": tag_overlap,
           "platform_summary": platform_summary}
