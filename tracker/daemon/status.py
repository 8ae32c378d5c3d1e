"""`tracker status`: per campaign and source, from the ledger and the daemon's state file.

The ledger (read-only, waiting while the daemon loads) has every recorded run; the state file
has what only the running daemon knows (next run, backoff, runs in progress).

**Runs whose process is gone.** A run the ledger has as `running` is shown as it really is,
without writing anything: `tracker status` reads through a read-only connection, which DuckDB
grants only while no process has the warehouse open for writing. `tracker collect`, `tracker
import` and `tracker build` keep it open for writing from their first write to their exit,
so while status reads, none of their runs is in progress: a `running` row of theirs is a
process that died. The daemon opens it only for short load sessions; a run of the daemon is
in progress only while the daemon holds its lock file and lists the run in the state file
(`active_runs`, written when the run starts, before its pages can reach the ledger). Any
other `running` run either ended and waits in the spool (its end entry is there: it is shown
with that outcome) or was killed (shown as `killed`). The ledger itself is corrected by the
next writer (`tracker collect`, `tracker import`, the daemon's start-up).

**Failing** (exit code 2): a source whose last real attempt failed, or that has finished runs
but has never worked (no real attempt succeeded and no run stored a page). Runs that did not
really try the source (`running`, `killed`, `interrupted`, `deferred`: `ledger.NOT_ATTEMPTS`)
are no verdict on its last attempt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from ..config import Config
from ..errors import WarehouseLocked
from ..store import ledger
from ..store.db import connect
from ..store.lake import Lake
from ..tables import format_table
from ..timeutil import as_utc, iso, parse_iso, utcnow
from . import collect_job_id, lock_path, state_path
from .lock import holder
from .spool import spooled_ends
from .state import read_state

FAILED = "failed"
LAST_FAILED = "its last real attempt failed"
NEVER_OK = "it has never worked"


@dataclass
class SourceStatus:
    campaign: str
    source: str
    last_run: str | None = None
    outcome: str | None = None
    posts_total: int = 0
    posts_24h: int = 0
    next_run: str | None = None
    backoff_until: str | None = None
    backoff_reason: str | None = None
    failures: int = 0
    last_error: str | None = None
    lag_seconds: int | None = None     # time since the last successful collection
    failing: bool = False
    failing_reason: str | None = None


@dataclass
class DaemonSeen:
    """The daemon holding the warehouse's lock file (pid None: none) and its state file."""

    pid: int | None
    state: dict[str, Any] | None


def _daemon(cfg: Config) -> DaemonSeen:
    pid = holder(lock_path(cfg.warehouse))
    return DaemonSeen(pid, read_state(state_path(cfg.warehouse)) if pid else None)


def real_outcomes(con: duckdb.DuckDBPyConnection, cfg: Config, daemon: DaemonSeen
                  ) -> dict[str, ledger.Outcome]:
    """The `running` runs of the ledger that no process holds, with what they really are
    (see the module's doc). Call with `con` read-only, and `daemon` read after it opened."""
    running = ledger.running_runs(con)
    if not running:
        return {}
    alive = set((daemon.state or {}).get("active_runs", [])) if daemon.pid else set()
    ended = spooled_ends(cfg.spool) if cfg.spool.exists() else {}
    out = {}
    for run_id in running:
        if run_id in alive:
            continue
        h = ended.get(run_id)
        out[run_id] = (ledger.Outcome(h["status"], h.get("message"), parse_iso(h["ended_at"]),
                                      parse_iso(h.get("resume_after"))) if h
                       else ledger.Outcome("killed", ledger.KILLED_MESSAGE))
    return out


def _ledger(cfg: Config, wait: float, on_wait: Any
            ) -> tuple[DaemonSeen, dict[tuple[str, str], dict], dict | None]:
    """The daemon, and the ledger's sources and last import with their real outcomes."""
    if not cfg.warehouse_exists():
        return _daemon(cfg), {}, None
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=wait,  # may raise
                  on_wait=on_wait)
    try:
        daemon = _daemon(cfg)   # while no process writes: see the module's doc
        outcomes = real_outcomes(con, cfg, daemon)
        since = utcnow() - dt.timedelta(hours=24)
        return (daemon, ledger.source_summary(con, since, outcomes),
                ledger.last_import(con, outcomes))
    finally:
        con.close()


def _lake_size(lake: Lake) -> int:
    """A lake's Parquet data and payload segments, and its SQLite catalog."""
    files = [p for p in lake.data_path.rglob("*") if p.is_file()]
    catalog = lake.catalog_file
    if catalog is not None:
        files += [p for p in (catalog, catalog.with_name(catalog.name + "-wal")) if p.exists()]
    return sum(p.stat().st_size for p in files)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + ".wal"))
               if p.exists())


def _failing(row: dict[str, Any], js: dict[str, Any]) -> str | None:
    """Why a source is failing (None: it is not): the ledger's runs, and the daemon's runs
    not loaded yet (its state file) when they are newer."""
    last, at = row.get("last_attempt"), as_utc(row.get("last_attempt_at"))
    finished_at = parse_iso(js.get("last_finished"))
    if (finished_at and js.get("last_status") not in ledger.NOT_ATTEMPTS
            and (at is None or finished_at > at)):
        last = js["last_status"]
    if last == FAILED:
        return LAST_FAILED
    finished = row.get("finished") or js.get("last_finished")
    if finished and not row.get("ever_worked") and not js.get("last_ok"):
        return NEVER_OK
    return None


def gather(cfg: Config, *, wait: float = 30.0, on_wait: Any = None) -> dict[str, Any]:
    """Everything `tracker status` shows, as plain data (the `--json` output)."""
    note, last_import = None, None
    try:
        daemon, runs, last_import = _ledger(cfg, wait, on_wait)
    except WarehouseLocked as exc:   # e.g. a long model build: show what the daemon knows
        daemon, runs, note = _daemon(cfg), {}, f"{exc}; ledger figures not shown"
    pid, state = daemon.pid, daemon.state
    jobs = (state or {}).get("jobs", {})
    now = utcnow()
    rejected = (len(list((cfg.spool / "rejected").glob("*.jsonl")))
                if (cfg.spool / "rejected").exists() else 0)
    sources = []
    for c in cfg.campaigns:
        for s in c.sources:
            st = SourceStatus(c.name, s.name)
            row = runs.get((c.name, s.name), {})
            js = jobs.get(collect_job_id(c.name, s.name), {})
            st.last_run = iso(row.get("last_started"))
            st.outcome = row.get("last_status")
            st.posts_total = int(row.get("posts_total") or 0)
            st.posts_24h = int(row.get("posts_24h") or 0)
            st.last_error = row.get("last_error")
            last_ok = as_utc(row.get("last_ok"))
            wait_until = as_utc(row.get("wait_until"))
            if wait_until and wait_until > now:     # what `tracker collect` would defer for
                st.backoff_until, st.backoff_reason = iso(wait_until), row.get("wait_reason")
            if js:
                st.next_run = js.get("next_run")
                st.failures = js.get("failures", 0)
                st.backoff_until = js.get("blocked_until")
                st.backoff_reason = js.get("blocked_reason")
                if js.get("last_started") and (not st.last_run
                                                or js["last_started"] > st.last_run):
                    st.last_run = js["last_started"]
                    st.outcome = "running" if js.get("running") else js.get("last_status")
                if js.get("last_error"):
                    st.last_error = js["last_error"]
                ok = parse_iso(js.get("last_ok"))
                if ok and (last_ok is None or ok > last_ok):
                    last_ok = ok
            st.failing_reason = _failing(row, js)
            st.failing = st.failing_reason is not None
            if last_ok:
                st.lag_seconds = int((now - last_ok).total_seconds())
            sources.append(st)
    return {
        "daemon": {"running": pid is not None, "pid": pid if pid and pid > 0 else None,
                   "started_at": (state or {}).get("started_at"),
                   "spool_batches": (state or {}).get("spool_batches", _spooled(cfg)),
                   "warehouse_busy_since": (state or {}).get("warehouse_busy_since")},
        "warehouse": {"path": cfg.lake.describe() if cfg.lake else str(cfg.warehouse),
                      "bytes": _lake_size(cfg.lake) if cfg.lake else _size(cfg.warehouse),
                      "note": note},
        "sources": [asdict(s) for s in sources],
        "last_import": _import(last_import),
        "spool_rejected": rejected,
        "failing": [f"{s.campaign}/{s.source}" for s in sources if s.failing]
        + ([f"spool: {rejected} rejected entries in {cfg.spool / 'rejected'}"]
           if rejected else []),
    }


def _import(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"run_id": row["run_id"], "status": row["status"],
            "started_at": iso(as_utc(row["started_at"])),
            "ended_at": iso(as_utc(row["ended_at"])), "posts_new": row["posts_new"],
            "message": row["message"]}


def _spooled(cfg: Config) -> int:
    return len(list(cfg.spool.glob("*-batch.jsonl"))) if cfg.spool.exists() else 0


def _ago(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _short(text: str | None, width: int = 60) -> str:
    if not text:
        return "-"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render(data: dict[str, Any]) -> str:
    """The human-readable status: a header and one row per campaign and source."""
    d, w = data["daemon"], data["warehouse"]
    head = (f"daemon: running (PID {d['pid']}, since {d['started_at']})" if d["running"]
            else "daemon: not running")
    lines = [head,
             f"warehouse: {w['path']} ({w['bytes'] / 1e6:.1f} MB), "
             f"spool: {d['spool_batches']} batch(es) waiting"]
    if w.get("note"):
        lines.append(w["note"])
    if d.get("warehouse_busy_since"):
        lines.append(f"warehouse held by a reader since {d['warehouse_busy_since']}: "
                     "new pages wait in the spool")
    cols = ["campaign", "source", "last run", "outcome", "posts", "24h", "next run",
            "backoff", "lag", "last error"]
    rows = []
    for s in data["sources"]:
        backoff = "-"
        if s["backoff_until"]:
            backoff = f"{s['backoff_reason']} until {s['backoff_until']}"
            if s["failures"]:
                backoff += f" ({s['failures']} failures)"
        rows.append((s["campaign"], s["source"], s["last_run"] or "never", s["outcome"] or "-",
                     s["posts_total"], s["posts_24h"], s["next_run"] or "-", backoff,
                     _ago(s["lag_seconds"]), _short(s["last_error"])))
    lines.append(format_table(cols, rows))
    imp = data.get("last_import")
    if imp:
        lines.append(f"last import: {imp['status']}, {imp['posts_new']} new posts, started "
                     f"{imp['started_at']} ({imp['run_id']})"
                     + (f" - {_short(imp['message'], 80)}" if imp["message"] else ""))
    if data["failing"]:
        why = {f"{s['campaign']}/{s['source']}": s["failing_reason"] for s in data["sources"]}
        lines.append("FAILING: " + ", ".join(f"{f} ({why[f]})" if why.get(f) else f
                                             for f in data["failing"]))
    return "\n".join(lines)
