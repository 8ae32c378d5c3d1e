"""What the tracker knows about each platform, in one place.

`tracker build` writes this registry into `core.platforms` before the models run (as it writes
the campaigns into `core.campaigns`), so the SQL models read platform knowledge from a table
instead of spelling it out per platform: `core.posts` is every post in `norm.posts` joined to
its platform's row. A platform that is not listed here (a `[csv_mappings.NAME]` import may name
any) gets `DEFAULT`: no impressions reported, its own name as label.

Impressions. Only X reports actual impressions (`public_metrics.impression_count`), and only for
posts made since it started counting views: X rolled out view counts on 22 December 2022 for
posts made since 15 December 2022 (earlier posts show none, and the API reports
`impression_count` 0 for them); the API added `impression_count` to `public_metrics` on
5 January 2023 (X developer platform changelog, https://docs.x.com/changelog). Counts the API
reports for posts made before `impressions_since` are "not known", never 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Platform:
    name: str                          # the `platform` value in norm.posts
    label: str                         # for display
    post_identity: str                 # what post_id holds
    author_identity: str               # what author_id holds
    kinds: tuple[str, ...]             # the kinds of post it delivers
    engagement: str                    # what the engagement counts hold on this platform
    impressions_since: dt.datetime | None = None  # posts made since then have impressions
    # which reading of a post's counts is its engagement: 'latest' (the newest observation)
    # or 'largest' (per count, the largest observed: where each reader sees only part of the
    # interactions, as a Mastodon instance does for a remote status)
    counts: str = "latest"
    # the counts every post of the platform has (its API or export always gives them): a post's
    # engagement is known only when all of them are (an X v1.1 status from the standard API
    # gives no reply or quote count: its likes + retweets are not its engagement); empty: any
    # one count known makes it known (exports of other platforms, whose columns vary)
    engagement_counts: tuple[str, ...] = ()


ALL_KINDS = ("original", "repost", "reply", "quote")

PLATFORMS: dict[str, Platform] = {p.name: p for p in (
    Platform("x", "X", "the tweet id (the first id of an edited tweet's edit history)",
             "the user id", ALL_KINDS,
             "likes, retweets, replies and quotes (public_metrics)",
             dt.datetime(2022, 12, 15, tzinfo=dt.UTC),
             engagement_counts=("likes", "reposts", "replies", "quotes")),
    Platform("mastodon", "Mastodon",
             "the status uri (the same on every instance)", "the account's profile url",
             ALL_KINDS, "favourites, reblogs, replies and quotes of the status",
             counts="largest",
             engagement_counts=("likes", "reposts", "replies")),
    Platform("bluesky", "Bluesky", "the at:// uri of the post", "the DID",
             ALL_KINDS, "likes, reposts, replies and quotes of the post view",
             engagement_counts=("likes", "reposts", "replies", "quotes")),
    Platform("facebook", "Facebook", "the post id, else its url (exports)",
             "the page or account id", ("original",),
             "reactions (as likes), shares (as reposts) and comments (as replies)",
             engagement_counts=("likes", "reposts", "replies")),
)}

DEFAULT = Platform("", "", "the export's post id column", "the export's author column",
                   ("original",), "the counts the export's mapping names")


def platform(name: str) -> Platform:
    """The registry's entry for a platform; unknown platforms get the defaults."""
    known = PLATFORMS.get(name)
    if known is not None:
        return known
    return Platform(name, name, DEFAULT.post_identity, DEFAULT.author_identity, DEFAULT.kinds,
                    DEFAULT.engagement, DEFAULT.impressions_since, DEFAULT.counts,
                    DEFAULT.engagement_counts)


def label(name: str) -> str:
    return platform(name).label


def labels(names: Iterable[str]) -> str:
    """'mastodon, x' -> 'Mastodon, X' (the summary's comma-separated platforms)."""
    return ", ".join(label(n.strip()) for n in names if n.strip())


TABLE = "core.platforms"
DOC = ("One row per platform the tracker knows (written from tracker/platforms.py by "
       "`tracker build`; a platform not listed gets: no impressions, label = its name).",
       {"platform": "the platform's name in norm.posts",
        "label": "name for display",
        "post_identity": "what post_id holds",
        "author_identity": "what author_id holds",
        "kinds": "the kinds of post it delivers (comma-separated)",
        "engagement": "what likes, reposts, replies and quotes hold on this platform",
        "impressions_since": "posts made since then carry actual impressions (null: the "
                             "platform reports none)",
        "counts": "which reading of a post's counts is its engagement: 'latest' observation, "
                  "or 'largest' per count (Mastodon: each instance sees only part of them)",
        "engagement_counts": "the counts (comma-separated) that must all be known for a "
                             "post's engagement to be known (null: any one)"})


def write_platforms(con: duckdb.DuckDBPyConnection) -> None:
    """Write the registry into core.platforms (inside the build's transaction)."""
    from .store.db import reset_table

    con.execute("create schema if not exists core")
    # one row per platform of the registry; no primary key, which a lake cannot have
    reset_table(con, TABLE, "platform varchar not null, label varchar not null, "
                "post_identity varchar, author_identity varchar, kinds varchar, "
                "engagement varchar, impressions_since timestamptz, counts varchar not null, "
                "engagement_counts varchar")
    con.executemany(f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(p.name, p.label, p.post_identity, p.author_identity, ", ".join(p.kinds),
                      p.engagement, p.impressions_since, p.counts,
                      ",".join(p.engagement_counts) or None)
                     for p in PLATFORMS.values()])
