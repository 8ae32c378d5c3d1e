"""Store a batch of raw pages and its cursor in one transaction, then normalise it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from ..pages import RawPage
from . import ledger, segments
from .db import scalar
from .normalise import merge_batch, parse_batch
from .redact import Targets, redact_batch

_BATCH_IN = """
create or replace temp table batch_in (
    page_id varchar, format varchar, platform varchar, source varchar, campaign varchar,
    request varchar, retrieved_at timestamptz, client varchar, load_id varchar,
    batch_id varchar, synthetic boolean, payload json)
"""


@dataclass
class BatchResult:
    pages_new: int = 0
    posts_new: int = 0
    duplicates: int = 0
    forgotten: int = 0     # posts left out: removed on request (ledger.forgotten)
    segment: str | None = None   # the segment (or 'inline') the new pages' payloads went to


def store_batch(con: duckdb.DuckDBPyConnection, pages: list[RawPage], *, run_id: str,
                source: str, campaign: str | None, cursor: Any = None,
                set_cursor: bool = False, assign_campaign: str | None = None,
                also: Callable[[duckdb.DuckDBPyConnection], None] | None = None
                ) -> BatchResult:
    """Store pages (raw + normalised) and, if `set_cursor`, the cursor, atomically.

    `also` runs in the same transaction, after the pages are stored (the lookups record
    there which ids the pages answered, so an answer is kept exactly when its page is).

    Pages already in the warehouse (same content) are skipped, so a batch delivered twice
    changes nothing. `normalise.prepare` must have run on this connection.
    """
    con.execute("begin transaction")
    try:
        result = add_batch(con, pages, run_id=run_id, source=source, campaign=campaign,
                           cursor=cursor, set_cursor=set_cursor,
                           assign_campaign=assign_campaign)
        if also is not None:
            also(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def add_batch(con: duckdb.DuckDBPyConnection, pages: list[RawPage], *, run_id: str,
              source: str, campaign: str | None, cursor: Any = None,
              set_cursor: bool = False, assign_campaign: str | None = None) -> BatchResult:
    """`store_batch` in the caller's transaction: one batch's pages, its counts in the run's
    ledger row and, if `set_cursor`, the cursor. Several batches stored this way in one
    transaction store exactly what storing each in its own would: each is normalised
    against what the ones before it stored."""
    batch_id = f"{run_id}-{uuid.uuid4().hex[:8]}"
    con.execute(_BATCH_IN)
    rows = [(p.page_id, p.format, p.platform, source, campaign, p.request, p.retrieved_at,
             p.client, run_id, batch_id, p.synthetic, p.payload) for p in pages]
    if rows:
        con.executemany("insert into batch_in values (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    result = store_batch_table(con, "batch_in", assign_campaign=assign_campaign, inline=True)
    ledger.add_counts(con, run_id, pages=result.pages_new, records=len(pages),
                      posts_new=result.posts_new, duplicates=result.duplicates)
    if set_cursor and campaign is not None:
        ledger.set_cursor(con, campaign, source, cursor, run_id)
    return result


def store_batch_table(con: duckdb.DuckDBPyConnection, table: str,
                      assign_campaign: str | None = None,
                      slices: Sequence[tuple[int, int]] | None = None,
                      allow_forgotten: bool = False, inline: bool = False,
                      parsed: bool = False, segment: str | None = None) -> BatchResult:
    """Insert the rows of temp `table` (columns of raw.pages) that are new, and normalise them.

    For bulk loaders (archive import) that fill the table themselves. The rows of `table`
    that are not new (already stored, or a repeat within the table) are deleted from it.
    `slices`: rowid ranges of `table` to parse one after another (`normalise_batch`). Runs in
    the caller's transaction.

    Posts removed on request (ledger.forgotten) are not stored again, and a new page holding
    one is stored redacted (store.redact). With `allow_forgotten` they are: a redacted page
    delivered again is stored again as received, and its forgotten posts are marked restored.

    `parsed`: the caller ran `drop_known` and then, if any page was new, `parse_batch` on
    `table` already (an import does, before its transaction); not with `allow_forgotten`.
    `segment`: a segment the caller wrote already with the payloads of `table`'s rows in
    rowid order (`write_segment`); used unless the batch is redacted (then a new one is
    written, and the caller removes the unused one).
    """
    if allow_forgotten:
        # the redacted copies are replaced by the pages as received (their old segment rows
        # are no longer referenced; the segments are rewritten without them)
        old = [r[0] for r in con.execute(
            f"select distinct segment from raw.page_index where redacted_by is not null "
            f"and page_id in (select page_id from {table})").fetchall()]
        if old:
            con.execute(f"delete from raw.page_index where redacted_by is not null "
                        f"and page_id in (select page_id from {table})")
            segments.rewrite(con, old)
    pages_new = (scalar(con, f"select count(*) from {table}") if parsed
                 else drop_known(con, table))
    if not pages_new:
        return BatchResult()
    if not parsed:
        parse_batch(con, table, slices)
    posts_new, _ = merge_batch(con, assign_campaign, allow_forgotten=allow_forgotten,
                               pages=table)
    # every copy of a post in the new pages (n_posts: see normalise.py) that is not a new
    # post, so a post repeated within one batch is a duplicate as it is across batches and
    # the count does not depend on how pages were batched
    copies = scalar(con, "select count(*) from n_posts")
    run_id = scalar(con, f"select any_value(load_id) from {table}")
    redacted = False
    if allow_forgotten:
        _mark_restored(con, run_id)
    elif hits := con.execute("select platform, post_id, author_id "
                             "from n_forgotten_hits").fetchall():
        redacted = any(redact_batch(con, Targets.of(hits), run_id, table))
    name = store_pages(con, table, inline=inline, redacted=redacted,
                       segment=None if redacted else segment)
    forgotten = scalar(con, "select count(*) from n_forgotten_hits where what = 'post'")
    return BatchResult(pages_new, posts_new, copies - posts_new, forgotten, name)


def drop_known(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Delete from temp `table` the pages already stored and the repeats within it; returns
    how many pages are left (the new ones)."""
    # deleting marks rows, it copies nothing (a batch's payloads are tens of megabytes)
    con.execute(f"""
        delete from {table} b
        where exists (select 1 from raw.page_index r where r.page_id = b.page_id)
           or b.rowid not in (select min(rowid) from {table} group by page_id)""")
    return scalar(con, f"select count(*) from {table}")


def write_segment(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The payloads of temp `table` (new pages only) to a new segment, in rowid order,
    durably; its name. DuckDB keeps a table's insertion order in what it writes unless
    preserve_insertion_order is off (the default is on), so sorting by rowid, which costs
    a copy of the batch's payloads, is needed only then."""
    order = "" if scalar(con, "select current_setting('preserve_insertion_order')") \
        else " order by rowid"
    return segments.write(con, f"select page_id, payload from {table}{order}")


def store_pages(con: duckdb.DuckDBPyConnection, table: str, inline: bool = False,
                redacted: bool = False, segment: str | None = None) -> str:
    """Write the payloads of temp `table` (columns of raw.pages, new pages only) to a new
    segment, durably (`inline`: to raw.page_inline, see store.segments), and add the pages
    to raw.page_index (`redacted`: with the redactions listed in temp table n_redacted by
    store.redact.redact_batch; `segment`: the payloads are in this segment already, see
    `write_segment`). In the caller's transaction. Returns the segment's name."""
    name = segments.INLINE if inline else segment or write_segment(con, table)
    marks = ("r.redacted_by, r.redacted_at, r.redaction" if redacted
             else "null, null::timestamptz, null")
    join = "left join n_redacted r using (page_id)" if redacted else ""
    con.execute(f"""
        insert into raw.page_index
        select b.page_id, b.format, b.platform, b.source, b.campaign, b.request,
               b.retrieved_at, b.client, b.load_id, b.batch_id, b.synthetic, {marks}, ?
        from {table} b {join}
        order by b.rowid""", [name])
    if inline:
        segments.store_inline(con, f"select page_id, payload from {table} order by rowid")
    return name


def _mark_restored(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Forgotten posts (and authors) this batch stored again: restored by `run_id`."""
    con.execute("""
        update ledger.forgotten f set restored_by = ?
        where f.restored_by is null
          and ((f.post_id is not null
                and (f.platform, f.post_id) in (select platform, post_id from n_posts))
               or (f.author_id is not null
                   and (f.platform, f.author_id) in (select platform, author_id from n_posts
                                                     union select platform, author_id
                                                     from n_authors)))""", [run_id])
