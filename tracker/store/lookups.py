"""The ledger tables of looking posts up by id (schema 007): ledger.hydration (which ids a
hydration asked and what the API answered) and ledger.repolls (engagement read again at an
age after posting). Every read and write of them is here; the rows of a lookup are written
inside the transaction that stores its page (`store_batch(..., also=...)`)."""

from __future__ import annotations

import datetime as dt
import json
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
    """Record answered ids. The caller asks only ids not answered yet (`answered`), each
    once, and the warehouse has one writer: no id is recorded twice for a campaign, with no
    look-up of the table per batch (a hydration may record millions of ids)."""
    rows = [{"id": pid, "status": status, "reason": reason} for pid, status, reason in answers]
    if not rows:
        return
    # one JSON parameter: DuckDB converts Python lists element by element, slowly
    con.execute("""
        insert into ledger.hydration
        select $platform, r.id, $campaign, r.status, r.reason, $run_id, $at::timestamptz
        from (select unnest(json_transform($rows, '[{"id": "VARCHAR", "status": "VARCHAR",
                                                     "reason": "VARCHAR"}]')) as r)""",
                {"platform": platform, "campaign": campaign, "run_id": run_id,
                 "at": utcnow().isoformat(), "rows": json.dumps(rows)})


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
    """Record re-polls: (platform, post_id, age_seconds, due_at, polled_at, status, reason).
    The caller reads only slots not recorded yet (`tracker.lookup.repoll.due`)."""
    full = [{"platform": p, "post_id": pid, "age": age, "due": due.isoformat(),
             "polled": polled.isoformat(), "status": status, "reason": reason}
            for p, pid, age, due, polled, status, reason in rows]
    if not full:
        return
    con.execute("""
        insert into ledger.repolls
        select $campaign, r.platform, r.post_id, r.age, r.due::timestamptz,
               r.polled::timestamptz, r.status, r.reason, $run_id
        from (select unnest(json_transform($rows, '[{"platform": "VARCHAR",
                  "post_id": "VARCHAR", "age": "INTEGER", "due": "VARCHAR", "polled": "VARCHAR",
                  "status": "VARCHAR", "reason": "VARCHAR"}]')) as r)""",
                {"campaign": campaign, "run_id": run_id, "rows": json.dumps(full)})
