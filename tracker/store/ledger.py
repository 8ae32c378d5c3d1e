"""The ledger: runs, cursors, gaps and quarantined records, in the warehouse itself."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import duckdb

from .. import credentials
from ..sources.base import Gap, utcnow
from .db import scalar

QUARANTINE_RAW_LIMIT = 1_000_000


def new_run_id(kind: str) -> str:
    """Sortable, unique: <utc time>-<kind>-<random>."""
    return f"{utcnow():%Y%m%dT%H%M%S%f}-{kind}-{uuid.uuid4().hex[:8]}"


def start_run(con: duckdb.DuckDBPyConnection, kind: str, campaign: str | None,
              source: str | None, run_id: str | None = None,
              started_at: dt.datetime | None = None) -> str:
    run_id = run_id or new_run_id(kind)
    con.execute(
        "insert into ledger.runs (run_id, kind, campaign, source, started_at, status) "
        "values (?, ?, ?, ?, ?, 'running') on conflict do nothing",
        [run_id, kind, campaign, source, started_at or utcnow()])
    return run_id


def mark_killed(con: duckdb.DuckDBPyConnection, kind: str | None = None,
                keep: list[str] | tuple[str, ...] = ()) -> int:
    """Runs left 'running' by a process that died (of `kind`, other than `keep`): mark them
    'killed'; how many."""
    where = ["status = 'running'"]
    params: list[Any] = [utcnow()]
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    if keep:
        where.append(f"run_id not in ({', '.join('?' * len(keep))})")
        params.extend(keep)
    return int(scalar(
        con, "update ledger.runs set status = 'killed', ended_at = coalesce(ended_at, ?), "
        "message = 'the process stopped before the run finished (killed or crashed)' "
        f"where {' and '.join(where)}", params))


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, **counts: Any) -> None:
    """Close a run. Its message is stored with every known secret redacted."""
    if counts.get("message"):
        counts["message"] = credentials.redact(counts["message"])
    cols = ["requests", "pages", "records", "posts_new", "duplicates", "errors",
            "rate_limit_waits", "resume_after", "message"]
    sets = ", ".join(f"{c} = ?" for c in cols if c in counts)
    values = [counts[c] for c in cols if c in counts]
    con.execute(f"update ledger.runs set status = ?, ended_at = ?{', ' if sets else ''}{sets} "
                "where run_id = ?", [status, utcnow(), *values, run_id])


def add_counts(con: duckdb.DuckDBPyConnection, run_id: str, **inc: int) -> None:
    """Add to a running run's counters (inside the batch transaction)."""
    sets = ", ".join(f"{k} = {k} + ?" for k in inc)
    con.execute(f"update ledger.runs set {sets} where run_id = ?", [*inc.values(), run_id])


def get_cursor(con: duckdb.DuckDBPyConnection, campaign: str, source: str) -> Any:
    row = con.execute("select cursor from ledger.cursors where campaign = ? and source = ?",
                      [campaign, source]).fetchone()
    return json.loads(row[0]) if row and row[0] is not None else None


def set_cursor(con: duckdb.DuckDBPyConnection, campaign: str, source: str, cursor: Any,
               run_id: str) -> None:
    con.execute(
        "insert into ledger.cursors values (?, ?, ?, ?, ?) on conflict (campaign, source) "
        "do update set cursor = excluded.cursor, updated_at = excluded.updated_at, "
        "run_id = excluded.run_id",
        [campaign, source, json.dumps(cursor, default=str), utcnow(), run_id])


def add_gaps(con: duckdb.DuckDBPyConnection, run_id: str, campaign: str | None,
             source: str | None, gaps: list[Gap]) -> None:
    for g in gaps:
        con.execute("insert into ledger.gaps values (?, ?, ?, ?, ?, ?)",
                    [run_id, campaign, source, g.start, g.end, g.reason])


def quarantine(con: duckdb.DuckDBPyConnection, run_id: str, origin: str, line: int | None,
               reason: str, raw: str | bytes | None) -> None:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "backslashreplace")
    if raw is not None and len(raw) > QUARANTINE_RAW_LIMIT:
        raw = raw[:QUARANTINE_RAW_LIMIT]
    con.execute("insert into ledger.quarantine values (?, ?, ?, ?, ?, ?)",
                [run_id, origin, line, reason, raw, utcnow()])


def last_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[tuple]:
    return con.execute("select run_id, kind, campaign, source, status, posts_new, duplicates, "
                       "errors, message from ledger.runs order by started_at desc limit ?",
                       [limit]).fetchall()


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
