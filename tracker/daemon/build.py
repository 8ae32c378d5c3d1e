"""The optional `[daemon] build` job: rebuild the models, then (if `reports`) the reports."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb

from ..config import Config
from ..errors import TrackerError
from .loader import Loader

log = logging.getLogger("tracker.daemon")


def write_reports(con: duckdb.DuckDBPyConnection, cfg: Config) -> list[Path]:
    """Write every campaign's report (the one place the daemon calls the report code)."""
    from ..report import write_reports as write_all

    return write_all(con, cfg, cfg.reports)


def build_job(loader: Loader) -> str:
    """Load the spool, then rebuild models (and reports) in one short session.

    Returns 'ok', 'busy' (a reader holds the warehouse; the next build catches up) or
    'failed'.
    """
    from ..models import build

    if loader.stop.is_set():
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
            reports = write_reports(con, cfg) if cfg.daemon.reports else []
        except TrackerError as exc:
            log.error("build failed", extra={"event": "build_failed", "error": str(exc)})
            return "failed"
        finally:
            con.close()
    log.info("models built", extra={"event": "build_done", "models": len(models),
                                    "reports": len(reports),
                                    "seconds": round(time.monotonic() - t0, 2)})
    return "ok"
