"""The optional `[daemon] build` job: rebuild the models, then (if `reports`) the reports."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from ..config import Config
from ..errors import TrackerError
from ..store.db import connect
from .loader import Loader
from .policy import period_seconds

log = logging.getLogger("tracker.daemon")

# A build that falls due while collection runs are under way waits for those runs to end and
# loads them first: their posts are then in this build instead of the next, and they do not
# wait in the spool while the build holds the warehouse (seconds on a lake, more under load).
# Jobs due at the same moment as the build (collect and build schedules of the same interval
# start together) get SETTLE seconds to begin; runs that start later are not waited for. The
# wait is at most RUNS_WAIT seconds, and at most half the build's period.
RUNS_WAIT = 60.0
SETTLE = 1.0


def write_reports(con: duckdb.DuckDBPyConnection, cfg: Config) -> list[Path]:
    """Write every campaign's report (the one place the daemon calls the report code)."""
    from ..report import write_reports as write_all

    return write_all(con, cfg, cfg.reports)


def await_runs(loader: Loader, collecting: Callable[[], frozenset[int]],
               period: float | None = None) -> None:
    """Wait for the collection jobs under way when the build fell due (`SETTLE` seconds
    later), up to RUNS_WAIT or half of `period`; a stop ends the wait."""
    if loader.stop.wait(SETTLE):
        return
    due = collecting()
    wait = RUNS_WAIT if period is None else min(RUNS_WAIT, period / 2)
    deadline = time.monotonic() + wait
    while due & collecting() and time.monotonic() < deadline:
        if loader.stop.wait(0.1):
            return


def build_job(loader: Loader, collecting: Callable[[], frozenset[int]] = frozenset) -> str:
    """Wait for the collection runs under way (`await_runs`), load the spool, rebuild the
    models, then (if `reports`) write the reports.

    The warehouse is open for writing only for the build (its one transaction); the reports
    are rendered afterwards from a read-only connection, so readers (`tracker sql`, `tracker
    status`, ...) are not locked out meanwhile. The loader waits for the reports (all the
    daemon's warehouse access goes through `write_lock`: DuckDB does not let one process
    open a file read-only and read-write at once); fetching goes on into the spool.

    Returns 'ok', 'busy' (a reader holds the warehouse; the next build catches up) or
    'failed'.
    """
    from ..models import build

    schedule = loader.get_config().daemon.build
    await_runs(loader, collecting, period_seconds(schedule) if schedule else None)
    if loader.stop.is_set():     # (a stop ends the wait at once)
        return "skipped"
    cfg = loader.get_config()
    loader.drain()
    with loader.write_lock:
        con = loader.open()
        if con is None:
            log.warning("build skipped: warehouse busy", extra={"event": "build_skipped"})
            return "busy"
        t0 = time.monotonic()
        try:
            models = build(con, cfg.campaigns)
        except TrackerError as exc:
            log.error("build failed", extra={"event": "build_failed", "error": str(exc)})
            return "failed"
        finally:
            loader.close(con)
        t1 = time.monotonic()
        reports: list[Path] = []
        if cfg.daemon.reports:
            try:
                con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=30)
                try:
                    reports = write_reports(con, cfg)
                finally:
                    con.close()
            except TrackerError as exc:
                log.error("reports failed", extra={"event": "reports_failed",
                                                   "error": str(exc)})
                return "failed"
    log.info("models built", extra={"event": "build_done", "models": len(models),
                                    "reports": len(reports),
                                    "seconds": round(time.monotonic() - t0, 2),
                                    "write_seconds": round(t1 - t0, 2),
                                    "report_seconds": round(time.monotonic() - t1, 2)})
    return "ok"


def maintain_job(loader: Loader) -> str:
    """A lake's maintenance (store/lake.py `maintain`): compact small files, expire snapshots
    older than `[daemon] keep_snapshots`. Holds the writer file like a load; 'ok', 'busy' or
    'failed'."""
    from ..store.lake import maintain

    if loader.stop.is_set():
        return "skipped"
    cfg = loader.get_config()
    with loader.write_lock:
        con = loader.open()
        if con is None:
            return "busy"
        t0 = time.monotonic()
        try:
            done = maintain(con, cfg.daemon.keep_snapshots)
        except duckdb.Error as exc:
            log.error("lake maintenance failed", extra={"event": "maintain_failed",
                                                        "error": str(exc).splitlines()[0]})
            return "failed"
        finally:
            loader.close(con)
    log.info("lake maintained", extra={"event": "maintain_done",
                                       "tables_compacted": done.tables_compacted,
                                       "snapshots_expired": done.snapshots_expired,
                                       "files_deleted": done.files_deleted,
                                       "seconds": round(time.monotonic() - t0, 2)})
    return "ok"
