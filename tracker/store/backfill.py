"""Fill norm.post_urls and norm.post_media from the raw pages already stored (schema 6).

A warehouse made before schema 6 holds every payload in raw.pages, so its posts' links and
media items are read from there when the migration is applied (in its transaction, so a
killed run leaves neither). Each format's normalisation SQL runs over the pages in slices of
about SLICE_BYTES, then `_links.sql`, for the posts norm.posts holds (a post removed on request
or purged stays removed); nothing else in norm.* changes.
"""

from __future__ import annotations

import duckdb

from .normalise import _TEMP_TABLES, SLICE_BYTES, _sql, formats, register_url_functions


def _slices(con: duckdb.DuckDBPyConnection, fmt: str) -> list[tuple[int, int]]:
    """rowid ranges [lo, hi] of the format's pages, each about SLICE_BYTES of payload."""
    rows = con.execute("""
        select min(rid), max(rid) from (
            select rowid as rid,
                   sum(strlen(payload::varchar)) over (order by rowid) // ? as part
            from raw.pages where format = ?)
        group by part order by part""", [SLICE_BYTES, fmt]).fetchall()
    return [(int(lo), int(hi)) for lo, hi in rows]


def backfill_links(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Read links and media of stored posts from raw.pages; return (links, media) added."""
    register_url_functions(con)
    before = con.execute("select (select count(*) from norm.post_urls), "
                         "(select count(*) from norm.post_media)").fetchone()
    assert before is not None
    stored = {r[0] for r in con.execute("select distinct format from raw.pages").fetchall()}
    for fmt in sorted(stored & set(formats())):
        literal = fmt.replace("'", "''")
        for lo, hi in _slices(con, fmt):
            con.execute(_TEMP_TABLES)
            con.execute(
                "create or replace temp view batch as select page_id, platform, retrieved_at, "
                f"synthetic, payload from raw.pages where format = '{literal}' "
                f"and rowid between {lo} and {hi}")
            con.execute(_sql(fmt))
            con.execute("delete from n_posts n where not exists (select 1 from norm.posts p "
                        "where p.platform = n.platform and p.post_id = n.post_id)")
            con.execute(_sql("_links"))
    con.execute("drop view if exists batch")
    after = con.execute("select (select count(*) from norm.post_urls), "
                        "(select count(*) from norm.post_media)").fetchone()
    assert after is not None
    return after[0] - before[0], after[1] - before[1]
