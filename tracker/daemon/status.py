"""`tracker status`: per campaign and source, from the ledger and the daemon's state file.

The ledger (read-only, waiting while the daemon loads) has every recorded run; the state file
has what only the running daemon knows (next run, backoff, runs not yet loaded).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import WarehouseLocked
from ..store import ledger
from ..store.db import connect
from ..tables import format_table
from ..timeutil import iso, parse_iso, utcnow
from . import collect_job_id, lock_path, state_path
from .lock import holder
from .state import read_state

FAILED = "failed"
_NOT_OK = ("failed", "killed", "interrupted", "running")

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


def _ledger(cfg: Config, wait: float, on_wait: Any) -> dict[tuple[str, str], dict]:
    if not cfg.warehouse.exists():
        return {}
    con = connect(cfg.warehouse, read_only=True, wait=wait, on_wait=on_wait)  # may raise
    try:
        return ledger.source_summary(con, utcnow() - dt.timedelta(hours=24), _NOT_OK)
    finally:
        con.close()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + ".wal"))
               if p.exists())


def gather(cfg: Config, *, wait: float = 30.0, on_wait: Any = None) -> dict[str, Any]:
    """Everything `tracker status` shows, as plain data (the `--json` output)."""
    pid = holder(lock_path(cfg.warehouse))
    state = read_state(state_path(cfg.warehouse)) if pid else None
    jobs = (state or {}).get("jobs", {})
    note = None
    try:
        runs = _ledger(cfg, wait, on_wait)
    except WarehouseLocked as exc:   # e.g. a long model build: show what the daemon knows
        runs, note = {}, f"{exc}; ledger figures not shown"
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
            last_ok = row.get("last_ok")
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
                st.failing = st.failures > 0
            else:
                st.failing = st.outcome == FAILED
            if last_ok:
                st.lag_seconds = int((now - last_ok).total_seconds())
            sources.append(st)
    return {
        "daemon": {"running": pid is not None, "pid": pid if pid and pid > 0 else None,
                   "started_at": (state or {}).get("started_at"),
                   "spool_batches": (state or {}).get("spool_batches", _spooled(cfg)),
                   "warehouse_busy_since": (state or {}).get("warehouse_busy_since")},
        "warehouse": {"path": str(cfg.warehouse), "bytes": _size(cfg.warehouse), "note": note},
        "sources": [asdict(s) for s in sources],
        "spool_rejected": rejected,
        "failing": [f"{s.campaign}/{s.source}" for s in sources if s.failing]
        + ([f"spool: {rejected} rejected entries in {cfg.spool / 'rejected'}"]
           if rejected else []),
    }


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
    if data["failing"]:
        lines.append("FAILING: " + ", ".join(data["failing"]))
    return "\n".join(lines)
