"""Store a batch of raw pages and its cursor in one transaction, then normalise it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from ..sources.base import RawPage
from . import ledger
from .db import scalar
from .normalise import normalise_batch

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


def store_batch(con: duckdb.DuckDBPyConnection, pages: list[RawPage], *, run_id: str,
                source: str, campaign: str | None, cursor: Any = None,
                set_cursor: bool = False, assign_campaign: str | None = None) -> BatchResult:
    """Store pages (raw + normalised) and, if `set_cursor`, the cursor, atomically.

    Pages already in the warehouse (same content) are skipped, so a batch delivered twice
    changes nothing. `normalise.prepare` must have run on this connection.
    """
    batch_id = f"{run_id}-{uuid.uuid4().hex[:8]}"
    con.execute("begin transaction")
    try:
        con.execute(_BATCH_IN)
        rows = [(p.page_id, p.format, p.platform, source, campaign, p.request, p.retrieved_at,
                 p.client, run_id, batch_id, p.synthetic, p.payload) for p in pages]
        if rows:
            con.executemany("insert into batch_in values (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        result = store_batch_table(con, "batch_in", assign_campaign=assign_campaign)
        ledger.add_counts(con, run_id, pages=result.pages_new, records=len(pages),
                          posts_new=result.posts_new, duplicates=result.duplicates)
        if set_cursor and campaign is not None:
            ledger.set_cursor(con, campaign, source, cursor, run_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def store_batch_table(con: duckdb.DuckDBPyConnection, table: str,
                      assign_campaign: str | None = None,
                      slices: Sequence[tuple[int, int]] | None = None) -> BatchResult:
    """Insert the rows of temp `table` (columns of raw.pages) that are new, and normalise them.

    For bulk loaders (archive import) that fill the table themselves. The rows of `table`
    that are not new (already stored, or a repeat within the table) are deleted from it.
    `slices`: rowid ranges of `table` to parse one after another (`normalise_batch`). Runs in
    the caller's transaction.
    """
    # deleting marks rows, it copies nothing (a batch's payloads are tens of megabytes)
    con.execute(f"""
        delete from {table} b
        where exists (select 1 from raw.pages r where r.page_id = b.page_id)
           or b.rowid not in (select min(rowid) from {table} group by page_id)""")
    pages_new = scalar(con, f"select count(*) from {table}")
    if not pages_new:
        return BatchResult()
    con.execute(f"insert into raw.pages by name select * from {table}")
    posts_new, duplicates = normalise_batch(con, table, assign_campaign, slices)
    return BatchResult(pages_new, posts_new, duplicates)
