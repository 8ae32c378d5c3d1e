"""`tracker forget`: remove a post, or an author and their posts, on request.

What goes, in one transaction:
- norm.*: the posts (and every repost of them: a repost carries the reposted text) from
  norm.posts, post_versions, post_hashtags, post_mentions, post_urls, post_media,
  campaign_posts and engagement_observations; for an author also their norm.authors row and follower
  observations. Replies and quotes by other people stay (their own words; their parent ids
  still name the forgotten post), and so do mentions of a forgotten author in others' posts.
- raw.pages: payloads rewritten without them, or purged (store.redact); the segment files
  that held them are rewritten without them and removed (store.segments).
- the models: core.build_state is cleared, so the next `tracker build` is a full one (an
  incremental build only sees appended rows, never deletions).
What is kept: ids only, in ledger.forgotten (and a ledger.runs row of kind 'forget'), so that
no later import or collection stores them again (warehouse/normalise/_forgotten.sql).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from .config import Campaign
from .errors import TrackerError
from .store import ledger, segments
from .store.db import require_full_build, scalar
from .store.lake import checkpoint_file, is_lake, purge_history
from .store.redact import Targets, redact_pages
from .timeutil import utcnow

NORM_POST_TABLES = ("norm.posts", "norm.post_versions", "norm.post_hashtags",
                    "norm.post_mentions", "norm.campaign_posts", "norm.engagement_observations",
                    "norm.post_urls", "norm.post_media")
NORM_AUTHOR_TABLES = ("norm.authors", "norm.author_observations")


@dataclass
class Forgotten:
    run_id: str | None
    platform: str
    what: str                 # post or author
    ident: str                # the post id or author id
    handle: str | None = None
    posts: int = 0            # posts removed (the post, or the author's posts)
    reposts: int = 0          # reposts of them removed with them
    rewritten: int = 0        # raw pages rewritten without them
    purged: int = 0           # raw pages purged
    already: bool = False     # forgotten before: nothing to do

    def line(self) -> str:
        name = f"{self.platform} {self.what} {self.ident}"
        if self.handle:
            name += f" (@{self.handle})"
        if self.already:
            return f"{name}: already forgotten; nothing to do."
        their = "it" if self.what == "post" else "them"
        return (f"Forgot {name}: {_n(self.posts, 'post')} and {_n(self.reposts, 'repost')} of "
                f"{their} removed; raw pages: {self.rewritten} rewritten, {self.purged} purged.")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _one(rows: list[tuple], what: str, ident: str, platform: str | None) -> tuple | None:
    if len(rows) > 1:
        found = ", ".join(f"{r[0]} {r[1]}" + (f" (@{r[2]})" if len(r) > 2 and r[2] else "")
                          for r in rows)
        hint = "add --platform" if len({r[0] for r in rows}) > 1 else "give the id"
        raise TrackerError(f"{what} '{ident}' is ambiguous: {found}; {hint}")
    if rows:
        return rows[0]
    if platform is None:
        raise TrackerError(f"no stored {what} '{ident}' (add --platform to record it anyway, "
                           "so that it is never stored)")
    return None


def resolve_post(con: duckdb.DuckDBPyConnection, post: str, platform: str | None
                 ) -> tuple[str, str]:
    """(platform, post_id) of a stored post, by its id or the id of any of its versions."""
    where = "and platform = ?" if platform else ""
    params = [post, post] + ([platform] if platform else [])
    rows = con.execute(f"""
        select distinct platform, post_id from (
            select platform, post_id from norm.posts where (post_id = ? or version_id = ?) {where}
            union all
            select platform, post_id from norm.post_versions where version_id = ? {where})
        order by all""", params + params[1:]).fetchall()
    found = _one(rows, "post", post, platform)
    return found if found else (platform or "", post)


def resolve_author(con: duckdb.DuckDBPyConnection, author: str, platform: str | None
                   ) -> tuple[str, str, str | None]:
    """(platform, author_id, handle) of an author, by id or handle (with or without '@')."""
    name = author[1:] if author.startswith("@") else author
    where = "and platform = ?" if platform else ""
    extra = [platform] if platform else []
    rows = con.execute(f"""
        select platform, author_id, max(handle) from (
            select platform, author_id, handle from norm.authors
            where (author_id = ? or lower(handle) = lower(?)) {where}
            union all
            select platform, author_id, null from norm.posts where author_id = ? {where})
        group by all order by all""", [author, name, *extra, author, *extra]).fetchall()
    found = _one(rows, "author", author, platform)
    return found if found else (platform or "", author, None)


def forget(con: duckdb.DuckDBPyConnection, *, post: str | None = None,
           author: str | None = None, platform: str | None = None) -> Forgotten:
    """Remove one post, or one author and their posts (see the module docstring)."""
    if (post is None) == (author is None):
        raise TrackerError("give either --post ID or --author HANDLE_OR_ID")
    if post is not None:
        plat, ident = resolve_post(con, post, platform)
        handle, what = None, "post"
        posts_sql, params = "select ? as platform, ? as post_id", [plat, ident]
    else:
        plat, ident, handle = resolve_author(con, author or "", platform)
        what = "author"
        posts_sql = "select platform, post_id from norm.posts where platform = ? and author_id = ?"
        params = [plat, ident]
    result = Forgotten(None, plat, what, ident, handle)
    column = "post_id" if what == "post" else "author_id"
    if scalar(con, f"select count(*) from ledger.forgotten where platform = ? and {column} = ? "
                   "and request = ? and restored_by is null", [plat, ident, what]):
        result.already = True
        return result
    con.execute("begin transaction")
    try:
        result.run_id = ledger.start_run(con, "forget", None, None)
        # the posts, and every stored repost of them
        con.execute(f"""
            create or replace temp table f_posts as
            with asked as ({posts_sql})
            select platform, post_id, '{what}' as request from asked
            union
            select p.platform, p.post_id, 'repost' from norm.posts p
            join asked a on a.platform = p.platform and a.post_id = p.parent_id
            where p.kind = 'repost'""", params)
        stored = dict(con.execute(
            "select f.request, count(*) from f_posts f semi join norm.posts p "
            "on p.platform = f.platform and p.post_id = f.post_id group by all").fetchall())
        result.posts, result.reposts = stored.get(what, 0), stored.get("repost", 0)
        targets = Targets.of(con.execute("""
            select platform, post_id, null from f_posts
            union select p.platform, p.version_id, null from norm.posts p
            semi join f_posts f on f.platform = p.platform and f.post_id = p.post_id
            where p.version_id is not null
            union select v.platform, v.version_id, null from norm.post_versions v
            semi join f_posts f on f.platform = v.platform and f.post_id = v.post_id
            where v.version_id is not null""").fetchall())
        if what == "author":
            targets.add(plat, author_id=ident)
        result.rewritten, result.purged = redact_pages(con, targets, result.run_id)
        for table in NORM_POST_TABLES:
            con.execute(f"delete from {table} "
                        "where (platform, post_id) in (select platform, post_id from f_posts)")
        if what == "author":
            for table in NORM_AUTHOR_TABLES:
                con.execute(f"delete from {table} where platform = ? and author_id = ?",
                            [plat, ident])
        _record(con, result)
        _invalidate_models(con)
        ledger.finish_run(con, result.run_id, "ok", records=result.posts + result.reposts,
                          message=f"{what}: {result.posts} post(s) and {result.reposts} "
                                  f"repost(s) removed; raw pages: {result.rewritten} "
                                  f"rewritten, {result.purged} purged")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    segments.remove_orphans(con)   # the segments that held the pages as they were
    # Deleted rows are reclaimed at a checkpoint of a DuckDB file, which renumbers the rows
    # after them; the incremental build keeps row numbers as high-water marks, so renumber
    # now, before the (full) next build takes new marks. A lake's row ids stay put, and its
    # CHECKPOINT is DuckLake's whole maintenance (store.lake.checkpoint_file): not there.
    checkpoint_file(con, force=True)
    return result


def _record(con: duckdb.DuckDBPyConnection, result: Forgotten) -> None:
    """Ids only: the author (if asked), each post removed (or the post asked for)."""
    now = utcnow()
    if result.what == "author":
        con.execute("insert into ledger.forgotten values (?, null, ?, 'author', ?, ?, null)",
                    [result.platform, result.ident, now, result.run_id])
    con.execute("insert into ledger.forgotten select platform, post_id, null, request, ?, ?, "
                "null from f_posts order by request, post_id", [now, result.run_id])


def _invalidate_models(con: duckdb.DuckDBPyConnection) -> None:
    """The next `tracker build` is a full one (rows were deleted)."""
    require_full_build(con)


def settle_lake(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign]) -> int | None:
    """On a lake, after `forget`: build the models (in full: they lose the rows) and purge the
    lake's history (store.lake.purge_history), since its earlier snapshots, readable with
    `--as-of` and DuckDB's `AT (VERSION => ...)`, still hold what was removed. Returns the
    files deleted; None on a DuckDB file, where a checkpoint reclaims the deleted rows and the
    next `tracker build` drops them from the models."""
    if not is_lake(con):
        return None
    from .models import build
    build(con, campaigns)
    return purge_history(con)
