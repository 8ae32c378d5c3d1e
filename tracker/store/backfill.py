"""Fill norm.post_urls and norm.post_media from the raw pages already stored (schema 6).

A warehouse made before schema 6 holds every payload in raw.pages, so its posts' links and
media items are read from there when the migration is applied (in its transaction, so a
killed run leaves neither). Each format's normalisation SQL runs over the pages in slices of
about SLICE_BYTES, then `_links.sql`, for the posts norm.posts holds (a post removed on request
or purged stays removed); nothing else in norm.* changes.
"""

from __future__ import annotations

import duckdb

from . import forms
from .normalise import _TEMP_TABLES, SLICE_BYTES, _sql, formats


def _slices(con: duckdb.DuckDBPyConnection, fmt: str) -> list[tuple[int, int]]:
    """The format's pages, in the order they were stored, copied once into temp table
    backfill_pages (raw.pages is a view over the payload files: reading it per slice would
    read every file each time) and numbered `n`; ranges [lo, hi] of `n` of about SLICE_BYTES
    of payload each."""
    con.execute("""
        create or replace temp table backfill_pages as
        select p.page_id, p.platform, p.retrieved_at, p.synthetic, p.payload,
               row_number() over (order by i.rowid) as n,
               sum(strlen(p.payload::varchar)) over (order by i.rowid) // ? as part
        from raw.pages p
        join raw.page_index i on i.page_id = p.page_id
        where p.format = ?""", [SLICE_BYTES, fmt])
    rows = con.execute("select min(n), max(n) from backfill_pages group by part order by part"
                       ).fetchall()
    return [(int(lo), int(hi)) for lo, hi in rows]


def backfill_links(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Read links and media of stored posts from raw.pages; return (links, media) added."""
    before = con.execute("select (select count(*) from norm.post_urls), "
                         "(select count(*) from norm.post_media)").fetchone()
    assert before is not None
    stored = {r[0] for r in con.execute("select distinct format from raw.pages").fetchall()}
    for fmt in sorted(stored & set(formats())):
        for lo, hi in _slices(con, fmt):
            con.execute(_TEMP_TABLES)
            con.execute(
                "create or replace temp view batch as select page_id, platform, retrieved_at, "
                f"synthetic, payload from backfill_pages where n between {lo} and {hi}")
            con.execute(_sql(fmt))
            con.execute("delete from n_posts n where not exists (select 1 from norm.posts p "
                        "where p.platform = n.platform and p.post_id = n.post_id)")
            forms.url_forms(con)
            con.execute(_sql("_links"))
    con.execute("drop view if exists batch")
    con.execute("drop table if exists backfill_pages")
    after = con.execute("select (select count(*) from norm.post_urls), "
                        "(select count(*) from norm.post_media)").fetchone()
    assert after is not None
    return after[0] - before[0], after[1] - before[1]
