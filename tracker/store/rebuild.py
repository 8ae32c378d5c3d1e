"""`tracker rebuild`: normalise the whole warehouse again from the raw layer.

Every norm.* table is emptied and every stored raw page is normalised again, batch by batch
in the order the batches were first stored (raw.page_index's row order) and with the same
batches, so the result is the norm tables a fresh load of the same pages gives: the same
first sightings, latest profiles and edits. Payloads are read from their segments; a batch's
pages are read by row number, so a large segment (a migrated warehouse's) is not read again
for each batch. One transaction: a rebuild that is stopped changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb

from ..config import Campaign
from ..urls import load_in_background
from . import segments
from .db import require_full_build, scalar
from .lake import checkpoint_file
from .normalise import SLICE_BYTES, normalise_batch, prepare

# the sources whose pages were stored with their campaign assigned to every post
# (store_batch's assign_campaign): archive imports with --campaign and hydrations
ASSIGNING_SOURCES = ("import", "hydrate")
MEMORY_LIMIT = "512MB"

_BATCH = """
create or replace temp table batch_in as
select i.page_id, i.format, i.platform, i.source, i.campaign, i.request, i.retrieved_at,
       i.client, i.load_id, i.batch_id, i.synthetic, s.payload
from rb_loc i
join ({scans}) s on s.page_id = i.page_id and s.segment = i.segment
where i.batch_no = ?
order by i.seq
"""


@dataclass
class RebuildResult:
    batches: int = 0
    pages: int = 0
    posts: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (f"Rebuilt norm.* from {self.pages:,} raw pages in {self.batches:,} batches: "
                f"{self.posts:,} posts ({self.seconds:.1f}s). Run `tracker build` to rebuild "
                "the models (`tracker report` builds first by itself).")


def norm_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [f"norm.{r[0]}" for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'norm' "
        "and not temporary order by table_name").fetchall()]


def rebuild(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign],
            on_batch: Callable[[int, int], None] | None = None) -> RebuildResult:
    """Empty norm.* and normalise every raw page again (see the module docstring)."""
    start = time.perf_counter()
    load_in_background()   # the link rules, while the first pages are read
    prepare(con, campaigns)
    saved = scalar(con, "select current_setting('memory_limit')")
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    result = RebuildResult()
    con.execute("begin transaction")
    try:
        for table in norm_tables(con):
            con.execute(f"delete from {table}")
        require_full_build(con)
        segments.flush_inline(con)   # every payload in a segment, to be read by row number
        # where each page is: its segment and row number there, numbered by batch
        con.execute(f"""
            create or replace temp table rb_loc as
            with idx as (
                select *, rowid as seq, min(rowid) over (partition by batch_id) as batch_at
                from raw.page_index)
            select idx.*, dense_rank() over (order by batch_at) as batch_no,
                   f.file_row_number as frn
            from idx join (select page_id, parse_filename(filename) as segment,
                                  file_row_number
                           from read_parquet({segments.sql_literal(segments.glob(con))},
                                             filename = true, file_row_number = true)) f
              on f.page_id = idx.page_id and f.segment = idx.segment""")
        result.batches = int(scalar(con, "select coalesce(max(batch_no), 0) from rb_loc"))
        for no in range(1, result.batches + 1):
            result.pages += _one_batch(con, no)
            if on_batch:
                on_batch(no, result.batches)
        result.posts = int(scalar(con, "select count(*) from norm.posts"))
        con.execute("drop table if exists rb_loc")
        con.execute("drop table if exists batch_in")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute(f"set memory_limit = '{saved}'")
    checkpoint_file(con, force=True)   # a DuckDB file only (store.lake)
    result.seconds = time.perf_counter() - start
    return result


def _one_batch(con: duckdb.DuckDBPyConnection, no: int) -> int:
    parts = con.execute("select segment, min(frn), max(frn) from rb_loc where batch_no = ? "
                        "group by segment order by segment", [no]).fetchall()
    scans = " union all ".join(
        f"select page_id, payload, {segments.sql_literal(seg)} as segment "
        f"from {segments.scan(con, seg)} where file_row_number between {int(lo)} and {int(hi)}"
        for seg, lo, hi in parts)
    con.execute(_BATCH.format(scans=scans), [no])
    source, campaign = con.execute("select any_value(source), any_value(campaign) "
                                   "from batch_in").fetchone() or (None, None)
    assign = campaign if source in ASSIGNING_SOURCES else None
    # the slices of an import: rowid ranges of about SLICE_BYTES of payload
    sizes = [int(r[0]) for r in con.execute(
        "select strlen(payload::varchar) from batch_in order by rowid").fetchall()]
    slices, lo, size = [], 0, 0
    for i, n in enumerate(sizes):
        if i > lo and size + n > SLICE_BYTES:
            slices.append((lo, i))
            lo, size = i, 0
        size += n
    if lo < len(sizes):
        slices.append((lo, len(sizes)))
    normalise_batch(con, "batch_in", assign, slices)
    return len(sizes)
