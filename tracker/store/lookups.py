"""The ledger tables of looking posts up by id (schema 007): ledger.hydration (which ids a
hydration asked and what the API answered) and ledger.repolls (engagement read again at an
age after posting). Every read and write of them is here; the rows of a lookup are written
inside the transaction that stores its page (`store_batch(..., also=...)`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb

from ..timeutil import utcnow
from .db import scalar

# an answer: (post id, status, reason)
Answer = tuple[str, str, str | None]


def answered(con: duckdb.DuckDBPyConnection, platform: str, campaign: str) -> set[str]:
    """The ids a hydration for `campaign` already asked and had answered."""
    return {r for (r,) in con.execute(
        "select post_id from ledger.hydration where platform = ? and campaign = ?",
        [platform, campaign]).fetchall()}


def record_hydration(con: duckdb.DuckDBPyConnection, run_id: str, platform: str,
                     campaign: str, answers: Iterable[Answer]) -> None:
    """Record answered ids (not recorded yet for the campaign)."""
    rows = [(platform, pid, campaign, status, reason, run_id, utcnow())
            for pid, status, reason in answers]
    if not rows:
        return
    cols = [list(c) for c in zip(*rows, strict=True)]
    con.execute("""
        insert into ledger.hydration
        select * from (select unnest($1::varchar[]), unnest($2::varchar[]),
                              unnest($3::varchar[]), unnest($4::varchar[]),
                              unnest($5::varchar[]), unnest($6::varchar[]),
                              unnest($7::timestamptz[])) n (platform, post_id, campaign,
                                                             status, reason, run_id, answered_at)
        where not exists (select 1 from ledger.hydration h
                          where h.platform = n.platform and h.post_id = n.post_id
                            and h.campaign = n.campaign)""", cols)


def hydration_counts(con: duckdb.DuckDBPyConnection, campaign: str
                     ) -> dict[str, int]:
    """{status: ids} of every hydration of `campaign`."""
    return dict(con.execute("select status, count(*) from ledger.hydration where campaign = ? "
                            "group by all", [campaign]).fetchall())


def x_reads_since(con: duckdb.DuckDBPyConnection, campaign: str, since: dt.datetime) -> int:
    """Posts X returned to lookups of `campaign` since `since` (hydrations and re-polls): what
    they spent of the monthly budget."""
    return int(scalar(con, """
        select (select count(*) from ledger.hydration
                where platform = 'x' and campaign = $1 and status = 'found' and answered_at >= $2)
             + (select count(*) from ledger.repolls
                where platform = 'x' and campaign = $1 and status = 'read'
                  and polled_at >= $2)""", [campaign, since]))


def record_repolls(con: duckdb.DuckDBPyConnection, run_id: str, campaign: str,
                   rows: Iterable[tuple[str, str, int, dt.datetime, dt.datetime, str,
                                        str | None]]) -> None:
    """Record re-polls: (platform, post_id, age_seconds, due_at, polled_at, status, reason)."""
    full = [(campaign, *r, run_id) for r in rows]
    if not full:
        return
    cols = [list(c) for c in zip(*full, strict=True)]
    con.execute("""
        insert into ledger.repolls
        select * from (select unnest($1::varchar[]), unnest($2::varchar[]),
                              unnest($3::varchar[]), unnest($4::integer[]),
                              unnest($5::timestamptz[]), unnest($6::timestamptz[]),
                              unnest($7::varchar[]), unnest($8::varchar[]),
                              unnest($9::varchar[])) n (campaign, platform, post_id,
                                                        age_seconds, due_at, polled_at,
                                                        status, reason, run_id)
        where not exists (select 1 from ledger.repolls r
                          where r.campaign = n.campaign and r.platform = n.platform
                            and r.post_id = n.post_id and r.age_seconds = n.age_seconds)""",
                cols)
