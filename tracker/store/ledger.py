"""The ledger: runs, cursors, gaps and quarantined records, in the warehouse itself.

Every read and write of the `ledger` schema is here; other modules call these functions.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb

from .. import credentials
from ..pages import Gap, RunLog
from ..timeutil import as_utc, utcnow
from . import lake
from .db import one, scalar

QUARANTINE_RAW_LIMIT = 1_000_000
KILLED_MESSAGE = "the process stopped before the run finished (killed or crashed)"
# Runs whose outcome says nothing about the source: still going, or cut short by a crash.
# A source's "last run" (for deferral and the daemon's start-up) is its newest other run.
_SAYS_NOTHING = "status not in ('running', 'killed')"
# Runs in which the source was not (fully) tried: no verdict on it. Every other run is a
# real attempt, which succeeded unless its status is 'failed' (`tracker status`).
NOT_ATTEMPTS = ("running", "killed", "interrupted", "deferred")


@dataclass(frozen=True)
class LastRun:
    """The outcome of a source's newest finished run, as far as the next run cares."""

    status: str
    resume_after: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    message: str | None = None


# This machine's name (store/lake.py sets it on a lake; NULL on a DuckDB file). A run or a
# cursor is this machine's when it carries that name, or none (rows from before schema 9).
MACHINE = f"getvariable('{lake.MACHINE}')"
_MINE = f"(machine is null or machine is not distinct from {MACHINE})"


def new_run_id(kind: str) -> str:
    """Sortable, unique: <utc time>-<kind>-<random>."""
    return f"{utcnow():%Y%m%dT%H%M%S%f}-{kind}-{uuid.uuid4().hex[:8]}"


# --- runs -------------------------------------------------------------------------------------
def start_run(con: duckdb.DuckDBPyConnection, kind: str, campaign: str | None,
              source: str | None, run_id: str | None = None,
              started_at: dt.datetime | None = None) -> str:
    run_id = run_id or new_run_id(kind)
    # insert-where-not-stored rather than `on conflict`: a lake has no primary keys
    con.execute(
        "insert into ledger.runs (run_id, kind, campaign, source, started_at, status, machine) "
        f"select ?, ?, ?, ?, ?, 'running', {MACHINE} "
        "where not exists (select 1 from ledger.runs where run_id = ?)",
        [run_id, kind, campaign, source, started_at or utcnow(), run_id])
    return run_id


def mark_killed(con: duckdb.DuckDBPyConnection, kind: str | None = None,
                keep: list[str] | tuple[str, ...] = ()) -> int:
    """Runs left 'running' by a process that died (of `kind`, other than `keep`): mark them
    'killed'; how many."""
    where = ["status = 'running'", _MINE]
    params: list[Any] = [utcnow(), KILLED_MESSAGE]
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    if keep:
        where.append(f"run_id not in ({', '.join('?' * len(keep))})")
        params.extend(keep)
    return scalar(
        con, "update ledger.runs set status = 'killed', ended_at = coalesce(ended_at, ?), "
        f"message = ? where {' and '.join(where)}", params)


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, *,
               ended_at: dt.datetime | None = None, **counts: Any) -> None:
    """Close a run. Its message is stored with every known secret redacted."""
    if counts.get("message"):
        counts["message"] = credentials.redact(counts["message"])
    cols = ["requests", "pages", "records", "posts_new", "duplicates", "errors",
            "rate_limit_waits", "resume_after", "message"]
    sets = ", ".join(f"{c} = ?" for c in cols if c in counts)
    values = [counts[c] for c in cols if c in counts]
    con.execute(f"update ledger.runs set status = ?, ended_at = ?{', ' if sets else ''}{sets} "
                "where run_id = ?", [status, ended_at or utcnow(), *values, run_id])


def end_run(con: duckdb.DuckDBPyConnection, run_id: str, campaign: str | None,
            source: str | None, status: str, message: str | None, runlog: RunLog, *,
            ended_at: dt.datetime | None = None) -> None:
    """Record a collection run's end: its gaps and quarantined bodies, then its row.

    Idempotent (the daemon may load a run's end twice): gaps and quarantine rows are not
    keyed, so they are written only while the run is still open.
    """
    if not run_ended(con, run_id):
        add_gaps(con, run_id, campaign, source, runlog.gaps)
        for origin, reason, raw in runlog.quarantine:
            quarantine(con, run_id, origin, None, reason, raw)
    finish_run(con, run_id, status, ended_at=ended_at, requests=runlog.requests,
               errors=runlog.errors, rate_limit_waits=runlog.rate_limit_waits,
               resume_after=runlog.resume_after, message=message)


def run_ended(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    row = con.execute("select ended_at is not null from ledger.runs where run_id = ?",
                      [run_id]).fetchone()
    return bool(row and row[0])


def add_counts(con: duckdb.DuckDBPyConnection, run_id: str, **inc: int) -> None:
    """Add to a running run's counters (inside the batch transaction)."""
    sets = ", ".join(f"{k} = {k} + ?" for k in inc)
    con.execute(f"update ledger.runs set {sets} where run_id = ?", [*inc.values(), run_id])


def run_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """A run's stored counters: pages, posts_new, duplicates (0 for an unknown run)."""
    row = con.execute("select pages, posts_new, duplicates from ledger.runs where run_id = ?",
                      [run_id]).fetchone()
    return dict(zip(("pages", "posts_new", "duplicates"), row or (0, 0, 0), strict=True))


def last_run(con: duckdb.DuckDBPyConnection, campaign: str, source: str,
             kind: str = "collect") -> LastRun | None:
    """The newest finished run of one source (of `kind`: collect, hydrate, repoll)."""
    row = con.execute(
        "select status, resume_after, ended_at, message from ledger.runs where kind = "
        f"? and campaign = ? and source = ? and {_SAYS_NOTHING} "
        "order by started_at desc limit 1", [kind, campaign, source]).fetchone()
    return LastRun(row[0], as_utc(row[1]), as_utc(row[2]), row[3]) if row else None


def last_runs(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], LastRun]:
    """`last_run` of every (campaign, source) at once."""
    rows = con.execute(
        "select campaign, source, arg_max(status, started_at), "
        "arg_max(resume_after, started_at), arg_max(ended_at, started_at), "
        "arg_max(message, started_at) from ledger.runs "
        f"where kind = 'collect' and {_SAYS_NOTHING} group by all").fetchall()
    return {(c, s): LastRun(st, as_utc(ra), as_utc(end), msg)
            for c, s, st, ra, end, msg in rows}


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[tuple]:
    return con.execute("select run_id, kind, campaign, source, status, posts_new, duplicates, "
                       "errors, message from ledger.runs order by started_at desc limit ?",
                       [limit]).fetchall()


def running_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The ids of this machine's runs the ledger has as 'running' (another machine's are
    its own to judge)."""
    return [r for (r,) in con.execute("select run_id from ledger.runs where status = "
                                      f"'running' and {_MINE} order by started_at").fetchall()]


@dataclass(frozen=True)
class Outcome:
    """What a reader knows of a 'running' run that the ledger does not say yet: its process
    is gone (killed), or it ended and its end waits in the daemon's spool."""

    status: str
    message: str | None = None
    ended_at: dt.datetime | None = None
    resume_after: dt.datetime | None = None


# ledger.runs as a reader knows them: `$outcomes` (run ids and the Outcome fields) replace
# the rows' own status and end; `attempt` marks the real attempts (see NOT_ATTEMPTS).
_RUNS_KNOWN = f"""
with outcomes as (
    select unnest($ids::varchar[]) as run_id, unnest($statuses::varchar[]) as status,
           unnest($messages::varchar[]) as message, unnest($ended::timestamptz[]) as ended_at,
           unnest($resume::timestamptz[]) as resume_after
),
runs as (
    select r.run_id, r.kind, r.campaign, r.source, r.started_at, r.pages, r.posts_new,
           coalesce(o.status, r.status) as status,
           coalesce(o.ended_at, r.ended_at) as ended_at,
           if(o.run_id is null, r.message, o.message) as message,
           if(o.run_id is null, r.resume_after, o.resume_after) as resume_after
    from ledger.runs r
    left join outcomes o using (run_id)
),
attempts as (
    select *, status not in {NOT_ATTEMPTS!r} as attempt
    from runs
)
"""

_SOURCE_SUMMARY = _RUNS_KNOWN + """
select campaign, source,
       max(started_at) as last_started,
       arg_max(status, started_at) as last_status,
       sum(posts_new) as posts_total,
       coalesce(sum(posts_new) filter (where started_at >= $since), 0) as posts_24h,
       count(*) filter (where status <> 'running') as finished,
       arg_max(status, started_at) filter (where attempt) as last_attempt,
       max(coalesce(ended_at, started_at)) filter (where attempt) as last_attempt_at,
       max(coalesce(ended_at, started_at)) filter (where attempt and status <> 'failed')
           as last_ok,
       coalesce(bool_or(attempt and status <> 'failed' or pages > 0), false) as ever_worked,
       arg_max(message, started_at) filter (where status = 'failed') as last_error,
       max(started_at) filter (where status = 'failed') as last_error_at,
       arg_max(resume_after, started_at) filter (where status not in ('running', 'killed'))
           as wait_until,
       arg_max(status, started_at) filter (where resume_after is not null
                                           and status <> 'deferred') as wait_reason
from attempts
where kind = 'collect'
group by all
"""

_LAST_IMPORT = _RUNS_KNOWN + """
select run_id, status, started_at, ended_at, posts_new, message
from runs
where kind = 'import'
order by started_at desc
limit 1
"""


def _outcome_params(outcomes: dict[str, Outcome]) -> dict[str, list]:
    ids = list(outcomes)
    return {"ids": ids, "statuses": [outcomes[i].status for i in ids],
            "messages": [outcomes[i].message for i in ids],
            "ended": [outcomes[i].ended_at for i in ids],
            "resume": [outcomes[i].resume_after for i in ids]}


def source_summary(con: duckdb.DuckDBPyConnection, since: dt.datetime,
                   outcomes: dict[str, Outcome] | None = None
                   ) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (campaign, source), with `outcomes` applied: last run and its status, posts in
    total and since `since`, finished runs, the last real attempt (see NOT_ATTEMPTS) and
    its status, the last success, whether the source ever worked (a real attempt that did
    not fail, or any run that stored pages), the last failure, and the wait
    (`resume_after`) the deferral rule sees with the status that set it. For `tracker
    status`."""
    cur = con.execute(_SOURCE_SUMMARY, {"since": since, **_outcome_params(outcomes or {})})
    cols = [d[0] for d in cur.description]
    return {(r[0], r[1]): dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def last_import(con: duckdb.DuckDBPyConnection, outcomes: dict[str, Outcome] | None = None
                ) -> dict[str, Any] | None:
    """The newest import run (with `outcomes` applied), or None."""
    cur = con.execute(_LAST_IMPORT, _outcome_params(outcomes or {}))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


# --- cursors ----------------------------------------------------------------------------------
def get_cursor(con: duckdb.DuckDBPyConnection, campaign: str, source: str) -> Any:
    return all_cursors(con, campaign, source).get((campaign, source))


def all_cursors(con: duckdb.DuckDBPyConnection, campaign: str | None = None,
                source: str | None = None) -> dict[tuple[str, str], Any]:
    """This machine's cursors (one from before schema 9 where it has none of its own)."""
    rows = con.execute(
        "select campaign, source, cursor from ledger.cursors "
        f"where {_MINE} and campaign = coalesce(?, campaign) and source = coalesce(?, source) "
        "order by machine nulls first", [campaign, source]).fetchall()
    return {(c, s): json.loads(v) if v is not None else None for c, s, v in rows}


def set_cursor(con: duckdb.DuckDBPyConnection, campaign: str, source: str, cursor: Any,
               run_id: str) -> None:
    # delete and insert rather than `on conflict ... do update`: a lake has no primary keys.
    # Callers hold the transaction that stores the pages the cursor follows.
    con.execute(f"delete from ledger.cursors where campaign = ? and source = ? and {_MINE}",
                [campaign, source])
    con.execute("insert into ledger.cursors (campaign, source, cursor, updated_at, run_id, "
                f"machine) values (?, ?, ?, ?, ?, {MACHINE})",
                [campaign, source, json.dumps(cursor, default=str), utcnow(), run_id])


# --- gaps and quarantine ----------------------------------------------------------------------
def add_gaps(con: duckdb.DuckDBPyConnection, run_id: str, campaign: str | None,
             source: str | None, gaps: Iterable[Gap]) -> None:
    for g in gaps:
        con.execute("insert into ledger.gaps values (?, ?, ?, ?, ?, ?)",
                    [run_id, campaign, source, g.start, g.end, g.reason])


def _quarantine_bytes(raw: str | bytes | None) -> bytes | None:
    """The exact bytes of a record that is not valid UTF-8 (None for text)."""
    if isinstance(raw, bytes):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    return None


def _quarantine_raw(raw: str | bytes | None) -> str | None:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "backslashreplace")
    if raw is not None and len(raw) > QUARANTINE_RAW_LIMIT:
        raw = raw[:QUARANTINE_RAW_LIMIT]
    return raw


def quarantine(con: duckdb.DuckDBPyConnection, run_id: str, origin: str, line: int | None,
               reason: str, raw: str | bytes | None) -> None:
    con.execute("insert into ledger.quarantine by name select ? as run_id, ? as origin, "
                "? as line, ? as reason, ? as raw, ? as quarantined_at, ?::blob as raw_bytes",
                [run_id, origin, line, reason, _quarantine_raw(raw), utcnow(),
                 _quarantine_bytes(raw)])


def quarantine_new(con: duckdb.DuckDBPyConnection, run_id: str,
                   rows: list[tuple[str, int | None, str, str | bytes | None]]) -> int:
    """Quarantine the records (origin, line, reason, raw) not quarantined already: a record
    is the same when all four are (an archive imported again re-reads its bad records, which
    are stored once). Returns how many were stored now."""
    if not rows:
        return 0
    cols = list(zip(*[(o, ln, why, _quarantine_raw(raw), _quarantine_bytes(raw))
                      for o, ln, why, raw in rows], strict=True))
    con.execute("create or replace temp table quarantine_in as "
                "select unnest($1::varchar[]) as origin, unnest($2::bigint[]) as line, "
                "unnest($3::varchar[]) as reason, unnest($4::varchar[]) as raw, "
                "unnest($5::blob[]) as raw_bytes",
                [list(c) for c in cols])
    (stored,) = one(con, """
        insert into ledger.quarantine by name
        select $1 as run_id, origin, line, reason, raw, $2 as quarantined_at, raw_bytes
        from (select distinct origin, line, reason, raw, raw_bytes from quarantine_in) q
        where not exists (select 1 from ledger.quarantine x
                          where x.origin = q.origin and x.line is not distinct from q.line
                            and x.reason = q.reason and x.raw is not distinct from q.raw
                            and x.raw_bytes is not distinct from q.raw_bytes)""",
                    [run_id, utcnow()])
    con.execute("drop table quarantine_in")
    return int(stored)


def quarantined(con: duckdb.DuckDBPyConnection, run_id: str | None,
                limit: int) -> tuple[int, list[tuple]]:
    """(how many, the first `limit` as (run_id, origin, line, reason, raw)), of one run or
    all, oldest first."""
    where, params = ("where run_id = ?", [run_id]) if run_id else ("", [])
    total = scalar(con, f"select count(*) from ledger.quarantine {where}", params)
    rows = con.execute(
        f"select run_id, origin, line, reason, raw from ledger.quarantine {where} "
        "order by quarantined_at, origin, line limit ?", [*params, limit]).fetchall()
    return total, rows


# --- import members (schema 008) ----------------------------------------------------------
def members_done(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Input id -> the container members earlier imports read to their end."""
    out: dict[str, set[str]] = {}
    for input_id, member in con.execute(
            "select input_id, member from ledger.import_members where status = 'done'"
    ).fetchall():
        out.setdefault(input_id, set()).add(member)
    return out


def members_read(con: duckdb.DuckDBPyConnection, input_ids: Iterable[str]) -> None:
    """The inputs were read to their end by an import that finished: a later import of them
    reads every member again (their rows stay, as `read`, with their scan counts)."""
    ids = sorted(input_ids)
    if ids:
        con.execute("update ledger.import_members set status = 'read' "
                    "where status = 'done' and input_id in (select unnest(?))", [ids])


def add_members_done(con: duckdb.DuckDBPyConnection, run_id: str,
                     rows: Iterable[Any]) -> None:
    """Record members read to their end (inside the transaction storing their records)."""
    values = [(m.input_id, m.member, run_id, m.records, m.lines, m.statuses, m.deletes,
               m.other, m.matched) for m in rows]
    if values:
        con.executemany(
            "insert into ledger.import_members values (?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, "
            "current_timestamp)", values)
