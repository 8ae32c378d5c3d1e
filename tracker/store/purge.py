"""`tracker purge --synthetic`: remove the simulated source's data from a warehouse.

In one transaction: the raw pages stored with `synthetic = true`, the posts normalised from
them (norm.posts.synthetic) with every row keyed by those posts (hashtags, mentions, campaign
links, engagement observations, versions), the author observations taken from those pages,
and the authors left with no post. The models' build state is cleared, so the next
`tracker build` is a full one and the core/marts tables lose the synthetic posts. The purge is
recorded in the ledger as a run of kind 'purge' (pages = raw pages removed, records = posts
removed; the message lists every count).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from . import ledger, segments
from .db import has_table, require_full_build, scalar

# Tables keyed by post: their rows of a synthetic post go first, the posts after.
_BY_POST = ("norm.post_hashtags", "norm.post_mentions", "norm.campaign_posts",
            "norm.engagement_observations", "norm.post_versions", "norm.post_urls",
            "norm.post_media")


@dataclass
class PurgeResult:
    run_id: str
    removed: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return self.removed.get("raw.pages", 0)

    @property
    def posts(self) -> int:
        return self.removed.get("norm.posts", 0)

    def line(self) -> str:
        if not self.pages and not self.posts:
            return "No synthetic data in the warehouse: nothing removed."
        first = ("raw.pages", "norm.posts")
        order = [*first, *(t for t in self.removed if t not in first)]
        parts = ", ".join(f"{self.removed[t]:,} from {t}" for t in order if t in self.removed)
        return (f"Removed synthetic data: {parts}. Run `tracker build` so the models "
                "(core.*, marts.*) lose it too (`tracker report` builds first by itself).")


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return has_table(con, f"{schema}.{table}")


def _delete(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(scalar(con, sql))


def purge_synthetic(con: duckdb.DuckDBPyConnection) -> PurgeResult:
    """Remove every synthetic page and post (see the module docstring); a writer connection."""
    run_id = ledger.start_run(con, "purge", None, None)
    result = PurgeResult(run_id)
    con.execute("begin transaction")
    try:
        con.execute("create or replace temp table purge_posts as "
                    "select platform, post_id, author_id from norm.posts where synthetic")
        con.execute("create or replace temp table purge_pages as "
                    "select distinct platform, retrieved_at from raw.page_index where synthetic")
        removed: dict[str, int] = {}
        for table in _BY_POST:
            schema, name = table.split(".")
            if _has(con, schema, name):
                removed[table] = _delete(con, f"delete from {table} t using purge_posts p "
                                              "where t.platform = p.platform "
                                              "and t.post_id = p.post_id")
        removed["norm.posts"] = _delete(con, "delete from norm.posts where synthetic")
        # observations read from synthetic pages (observed_at is the page's retrieval time)
        removed["norm.author_observations"] = _delete(con, """
            delete from norm.author_observations o
            using (select distinct platform, author_id from purge_posts) a, purge_pages g
            where o.platform = a.platform and o.author_id = a.author_id
              and o.platform = g.platform and o.observed_at = g.retrieved_at""")
        # authors of synthetic posts with no post left (an id shared with a real account stays)
        removed["norm.authors"] = _delete(con, """
            delete from norm.authors u
            using (select distinct platform, author_id from purge_posts
                   where author_id is not null) a
            where u.platform = a.platform and u.author_id = a.author_id
              and not exists (select 1 from norm.posts p where p.platform = u.platform
                              and p.author_id = u.author_id)""")
        held = [r[0] for r in con.execute("select distinct segment from raw.page_index "
                                          "where synthetic").fetchall()]
        removed["raw.pages"] = _delete(con, "delete from raw.page_index where synthetic")
        segments.rewrite(con, held)   # the payloads go too (the old files after the commit)
        require_full_build(con)   # rows were deleted: the next build is a full one
        ledger.add_counts(con, run_id, pages=removed["raw.pages"],
                          records=removed["norm.posts"])
        con.execute("commit")
    except BaseException as exc:
        con.execute("rollback")
        ledger.finish_run(con, run_id, "failed", message=f"purge failed: {exc}")
        raise
    finally:
        con.execute("drop table if exists purge_posts")
        con.execute("drop table if exists purge_pages")
    segments.remove_orphans(con)
    result.removed = {t: n for t, n in removed.items() if n}
    ledger.finish_run(con, run_id, "ok", message=result.line())
    return result
