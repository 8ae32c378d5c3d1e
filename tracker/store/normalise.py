"""Build the normalised tables from one batch of raw pages, in SQL over the JSON.

Each raw format has a file `warehouse/normalise/<format>.sql`; `_merge.sql` moves the result
into `norm.*` (and `_edits.sql` applies changes to stored posts). Only the pages of the batch
are read.

Rules of the loader that incremental builds (tracker.build) rely on; tested in
tests/test_normalise_rules.py. `_merge.sql`, `_edits.sql` and `relink_campaigns` are the only
writers of norm.*.

1. Append-only. No norm row is ever deleted, and rows are changed in place only in the
   columns of IN_PLACE_UPDATES: norm.authors (the latest profile seen; no incremental model
   reads it) and norm.posts (matched, and an edit's text, language and version, applied by
   `_edits.sql`), and the counts of an engagement or follower observation when a later
   batch observes the same post or author at the same instant with larger counts (the rule
   within a batch, so where batches are cut does not change the counts kept for an
   instant). Every in-place change of a post that a model shows is signalled by an
   appended row: an edit appends to norm.post_versions (a @changes table of
   core.campaign_posts). A change a high-water mark cannot follow clears
   core.build_state, so the next build is full: a post whose created_at moves (an X post
   first stored from an edit, whose tweet has its own time, then the original arrives)
   changes hour and day; an observation's counts updated in place.
2. Rows keyed by a post come with the post or later. Every row of the POST_KEYED tables is
   written in the transaction that first stores its post in norm.posts, or in a later one.
   So the rows of a post first stored since a build's high-water marks are all above the
   marks of their tables, and an incremental build reads them by rowid without a scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import duckdb

from ..config import Campaign
from ..errors import WarehouseError
from ..resources import NORMALISE_DIR
from . import forms, keys
from .db import one, require_full_build, scalar, utc_session

# Large batches (archive import) are parsed in slices of about this many bytes of payload:
# DuckDB handles up to 2,048 rows at once, which for pages of 100 kB each would be the whole
# batch parsed at once (about 20 times its size in memory). The merge runs once per batch.
SLICE_BYTES = 4 * 1024 * 1024

_TEMP_TABLES = """
create or replace temp table n_posts (
    platform varchar, post_id varchar, url varchar, created_at timestamptz, author_id varchar,
    text varchar, lang varchar, kind varchar, parent_id varchar, conversation_id varchar,
    place varchar, country_code varchar, synthetic boolean, first_page_id varchar,
    first_seen_at timestamptz, matched boolean, reply_to_id varchar, quote_of_id varchar,
    edited_at timestamptz, version_id varchar);
create or replace temp table n_authors (
    platform varchar, author_id varchar, handle varchar, name varchar, created_at timestamptz,
    verified boolean, last_seen_at timestamptz);
create or replace temp table n_author_obs (
    platform varchar, author_id varchar, observed_at timestamptz, followers bigint,
    following bigint, posts bigint);
create or replace temp table n_hashtags (platform varchar, post_id varchar, tag_text varchar);
create or replace temp table n_mentions (
    platform varchar, post_id varchar, mentioned_handle varchar);
create or replace temp table n_urls (
    platform varchar, post_id varchar, position integer, url varchar, expanded_url varchar,
    source varchar);
create or replace temp table n_media (
    platform varchar, post_id varchar, position integer, media_id varchar, media_type varchar,
    url varchar, preview_url varchar, alt_text varchar);
create or replace temp table n_engagement (
    platform varchar, post_id varchar, observed_at timestamptz, likes bigint, reposts bigint,
    replies bigint, quotes bigint, impressions bigint);
-- ids local to the server that was read (Mastodon status ids), so links given as local ids
-- resolve to a post within the batch: the ids seen, and the links not resolved yet
create or replace temp table n_local_ids (
    platform varchar, local_id varchar, account_local_id varchar, post_id varchar);
create or replace temp table n_local_links (
    platform varchar, post_id varchar, link varchar, local_id varchar,
    account_local_id varchar);
create or replace temp table n_forgotten_hits (
    platform varchar, post_id varchar, author_id varchar, what varchar);
"""

# rule 1: the columns updated in place (all other norm columns are written once)
IN_PLACE_UPDATES = {
    "norm.posts": {"matched", "created_at", "text", "lang", "edited_at", "version_id"},
    "norm.authors": {"handle", "handle_key", "name", "created_at", "verified", "last_seen_at"},
    # only at an instant already stored, to the larger counts; the next build is then full
    "norm.engagement_observations": {"likes", "reposts", "replies", "quotes", "impressions"},
    "norm.author_observations": {"followers", "following", "posts"},
}
# rule 2: the tables keyed by (platform, post_id) whose rows come with the post or later
POST_KEYED = ("norm.post_hashtags", "norm.post_mentions", "norm.engagement_observations",
              "norm.campaign_posts", "norm.post_versions", "norm.post_urls", "norm.post_media")

_sql_cache: dict[str, str] = {}


def formats() -> list[str]:
    """The raw formats that can be normalised."""
    return sorted(p.stem for p in NORMALISE_DIR.glob("*.sql") if not p.stem.startswith("_"))


def _sql(name: str) -> str:
    return _load(name)


def _load(name: str) -> str:
    if name not in _sql_cache:
        path = NORMALISE_DIR / f"{name}.sql"
        if not path.exists():
            raise WarehouseError(f"no normalisation for raw format '{name}' ({path} missing)")
        _sql_cache[name] = path.read_text(encoding="utf-8")
    return _sql_cache[name]


def _scratch_tables(name: str) -> list[str]:
    """The temp tables the SQL file `name` creates for its own use, and those
    store.forms makes for it."""
    return [*re.findall(r"create or replace temp table (\w+)", _load(name)),
            *forms.TABLES.get(name, ())]


def prepare(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign]) -> None:
    """Per-connection set-up: the author key macros and the campaign -> tag table."""
    keys.define(con)
    con.execute("create or replace temp table campaign_tags (campaign varchar, tag varchar)")
    rows = [(c.name, t) for c in campaigns for t in c.tags]
    if rows:
        con.executemany("insert into campaign_tags values (?, ?)", rows)
    con.execute("create or replace temp table assign_campaign (campaign varchar)")
    con.execute("create or replace temp table assign_skip (page_id varchar)")


def normalise_batch(con: duckdb.DuckDBPyConnection, batch_table: str,
                    assign_campaign: str | None = None,
                    slices: Sequence[tuple[int, int]] | None = None,
                    allow_forgotten: bool = False) -> tuple[int, int]:
    """Normalise the pages in temp table `batch_table` (must be new pages only).

    `slices`: rowid ranges [start, end) to parse one after another, in order (see
    SLICE_BYTES; default all at once). Posts and authors removed on request are left out
    (_forgotten.sql, listed in temp table n_forgotten_hits) unless `allow_forgotten`.
    Returns (posts_new, duplicates). Call inside the caller's transaction.
    """
    parse_batch(con, batch_table, slices)
    return merge_batch(con, assign_campaign, allow_forgotten=allow_forgotten,
                       pages=batch_table)


def parse_batch(con: duckdb.DuckDBPyConnection, batch_table: str,
                slices: Sequence[tuple[int, int]] | None = None) -> None:
    """The first half of `normalise_batch`: the pages of `batch_table` parsed into the temp
    tables n_* by their formats' SQL. It reads only `batch_table` and writes only temp
    tables, so it can run before the transaction that merges them (`merge_batch`): an
    import does, because a temp table replaced inside a transaction keeps its rows until
    the commit, and the per-slice tables of a whole batch then crowd the memory limit.
    Times without a zone in the pages are UTC, whatever the connection's zone."""
    with utc_session(con):
        _parse_batch(con, batch_table, slices)


def _parse_batch(con: duckdb.DuckDBPyConnection, batch_table: str,
                 slices: Sequence[tuple[int, int]] | None) -> None:
    con.execute(_TEMP_TABLES)
    formats_seen: set[str] = set()
    bounds = [(int(lo), int(hi)) for lo, hi in slices or []]
    for i, (lo, hi) in enumerate(bounds or [(0, 0)]):
        # the first and last slice are open-ended, so every row is in one
        rows = " and ".join([*([f"rowid >= {lo}"] if i else []),
                             *([f"rowid < {hi}"] if i < len(bounds) - 1 else [])]) or "true"
        fmts = con.execute(f"select distinct format from {batch_table} where {rows}").fetchall()
        for (fmt,) in fmts:
            # a view, not a copy: each format's SQL reads `batch` once
            literal = fmt.replace("'", "''")
            con.execute(
                "create or replace temp view batch as select page_id, platform, retrieved_at, "
                f"synthetic, payload from {batch_table} where format = '{literal}' and {rows}")
            con.execute(_sql(fmt))
            formats_seen.add(fmt)
    release(con, formats_seen)


def release(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Drop the scratch temp tables that the SQL files `names` (formats, or _merge ...)
    create. Frees their memory only outside a transaction (inside one, a dropped table is
    kept until the commit); the next batch creates them again."""
    for name in names:
        for table in _scratch_tables(name):
            con.execute(f"drop table if exists temp.{table}")


# the SQL run by `merge_batch`, whose temp tables `release` can drop after the commit
MERGE_SQL = ("_forgotten", "_merge", "_links", "_edits")


def merge_batch(con: duckdb.DuckDBPyConnection, assign_campaign: str | None = None,
                allow_forgotten: bool = False, pages: str | None = None) -> tuple[int, int]:
    """The second half of `normalise_batch`: the parsed temp tables n_* into norm.*.
    `assign_campaign` takes the matched posts of the batch's pages, except those of the
    pages of table `pages` (the batch) stored without a campaign: an import with
    `--campaign` stores so a status its campaign filter kept only for the status it quotes.
    Returns (posts_new, duplicates). Call inside the caller's transaction. Runs in UTC, as
    `parse_batch` does, whatever the connection's zone."""
    with utc_session(con):
        return _merge_batch(con, assign_campaign, allow_forgotten, pages)


def _merge_batch(con: duckdb.DuckDBPyConnection, assign_campaign: str | None,
                 allow_forgotten: bool, pages: str | None) -> tuple[int, int]:
    con.execute("delete from assign_campaign")
    con.execute("delete from assign_skip")
    if assign_campaign:
        con.execute("insert into assign_campaign values (?)", [assign_campaign])
        if pages:
            con.execute(f"insert into assign_skip select page_id from {pages} "
                        "where campaign is null")
    if not allow_forgotten and scalar(
            con, "select count(*) from ledger.forgotten where restored_by is null"):
        con.execute(_sql("_forgotten"))
    forms.tag_forms(con)
    con.execute(_sql("_merge"))
    forms.url_forms(con)
    con.execute(_sql("_links"))
    changes, moves = one(con, "select count(*), count(*) filter (where moves_in_time) "
                              "from n_post_changes")
    if changes:
        con.execute(_sql("_edits"))
    ties = scalar(con, "select (select count(*) from n_engagement_ties) "
                       "+ (select count(*) from n_author_obs_ties)")
    if moves or ties:
        # a stored post moved to another hour: the models' buckets of it are stale
        # (incremental builds assume a post's time is fixed); or a stored observation's
        # counts were updated in place, which no high-water mark follows
        require_full_build(con)
    posts_new, duplicates = one(con, "select posts_new, duplicates from n_counts")
    return int(posts_new), int(duplicates)


def relink_campaigns(con: duckdb.DuckDBPyConnection) -> int:
    """Add campaign membership for stored posts whose tags match the current config.

    Needed when a hashtag is added to a campaign after posts were stored. Uses the
    `campaign_tags` table set up by `prepare`. Returns the number of links added.
    """
    before = scalar(con, "select count(*) from norm.campaign_posts")
    # norm.campaign_posts has no primary key: add only links not stored yet (as _merge.sql)
    con.execute("""
        insert into norm.campaign_posts
        select n.* from (select distinct ct.campaign, h.platform, h.post_id
                         from norm.post_hashtags h join campaign_tags ct on ct.tag = h.tag) n
        anti join norm.campaign_posts c
               on c.campaign = n.campaign and c.platform = n.platform and c.post_id = n.post_id""")
    con.execute("""
        insert into norm.campaign_posts
        select n.* from (
            select distinct cp.campaign, p.platform, p.post_id
            from norm.posts p
            join norm.campaign_posts cp on cp.platform = p.platform and cp.post_id = p.parent_id
            where p.kind = 'repost' and coalesce(p.matched, true)) n
        anti join norm.campaign_posts c
               on c.campaign = n.campaign and c.platform = n.platform and c.post_id = n.post_id""")
    return scalar(con, "select count(*) from norm.campaign_posts") - before
