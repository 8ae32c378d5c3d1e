"""One scheduled collection pass: source -> spool, never touching the warehouse.

Each batch is acknowledged (its cursor advanced in memory) only once it is durably in the
spool, so a crash at any point loses nothing acknowledged: what was not spooled is fetched
again from the last spooled cursor. The run's outcome is spooled last, for the ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import credentials
from ..config import Config, DaemonSettings
from ..errors import ConfigError, TrackerError
from ..pipeline import batches
from ..sources import build_source
from ..sources.base import RawPage, RunLog, parse_iso, utcnow
from ..store import ledger
from .policy import backoff_seconds
from .spool import Spool
from .state import JobState, StateFile, iso

log = logging.getLogger("tracker.daemon")


class Stopped(Exception):
    """Raised between pages when the daemon is stopping: the partial batch is abandoned."""


class CursorBook:
    """The newest acknowledged cursor of each (campaign, source): spool first, then warehouse."""

    def __init__(self, cursors: dict[tuple[str, str], Any]):
        self._cursors = dict(cursors)
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Any:
        with self._lock:
            return self._cursors.get(key)

    def set(self, key: tuple[str, str], cursor: Any) -> None:
        with self._lock:
            self._cursors[key] = cursor


class Collector:
    """Runs collection jobs in the scheduler's worker threads."""

    def __init__(self, get_config: Callable[[], Config], spool: Spool, cursors: CursorBook,
                 state: StateFile, stop: threading.Event, on_spooled: Callable[[], None],
                 on_blocked: Callable[[str, dt.datetime], None]):
        self.get_config = get_config
        self.spool = spool
        self.cursors = cursors
        self.state = state
        self.stop = stop
        self.on_spooled = on_spooled
        self.on_blocked = on_blocked
        self.active: set[str] = set()          # run ids not yet spooled as finished
        self.active_lock = threading.Lock()

    def busy(self) -> int:
        with self.active_lock:
            return len(self.active)

    def active_runs(self) -> set[str]:
        with self.active_lock:
            return set(self.active)

    def _pages(self, pages: Iterable[RawPage]) -> Iterator[RawPage]:
        for page in pages:
            if self.stop.is_set():
                raise Stopped
            yield page

    def run(self, job_id: str, campaign_name: str, source_name: str) -> None:
        """The job: one pass of one source, unless stopping, backing off or told to wait."""
        if self.stop.is_set():
            return
        cfg = self.get_config()
        js = self.state.jobs.get(job_id)
        try:
            campaign = cfg.campaign(campaign_name)
            scfg = campaign.source(source_name)
        except ConfigError:
            return  # removed by a reload while queued
        if js is None:
            return
        until = parse_iso(js.blocked_until)
        if until and utcnow() < until:
            log.info("run skipped", extra={"event": "run_skipped", "job": job_id,
                                            "until": js.blocked_until,
                                            "reason": js.blocked_reason})
            return
        run_id = ledger.new_run_id("collect")
        with self.active_lock:
            self.active.add(run_id)
        try:
            self._run(js, job_id, run_id, cfg, campaign, scfg)
        finally:
            with self.active_lock:
                self.active.discard(run_id)

    def _run(self, js: JobState, job_id: str, run_id: str, cfg: Config, campaign: Any,
             scfg: Any) -> None:
        settings: DaemonSettings = cfg.daemon
        started = utcnow()
        key = (campaign.name, scfg.name)
        js.running, js.last_started = True, iso(started)
        self.state.save()
        log.info("run started", extra={"event": "run_started", "job": job_id, "run_id": run_id})
        runlog = RunLog()
        pages = spooled = 0
        status, message = "ok", None
        head = {"run_id": run_id, "campaign": campaign.name, "source": scfg.name,
                "started_at": started}
        try:
            source = build_source(campaign, scfg, state_dir=cfg.warehouse.parent)
            cursor = self.cursors.get(key)
            for batch in batches(self._pages(source.pages(cursor, runlog)),
                                 settings.batch_pages):
                self.spool.write("batch", {**head, "cursor": batch[-1].cursor}, batch)
                self.cursors.set(key, batch[-1].cursor)
                pages += len(batch)
                spooled += 1
                self.on_spooled()
            status, message = runlog.status or "ok", runlog.message
        except Stopped:
            status, message = "interrupted", "stopped by the daemon; the unfinished batch " \
                                             "was abandoned and will be fetched again"
        except Exception as exc:  # a broken collector must not stop the daemon
            status = "failed"
            message = str(exc) if isinstance(exc, TrackerError) else \
                f"{type(exc).__name__}: {exc}"
            runlog.errors += 1
        message = credentials.redact(message) if message else None
        now = utcnow()
        resume_after = runlog.resume_after
        if status == "failed":
            js.failures += 1
            delay = backoff_seconds(js.failures, settings)
            resume_after = now + dt.timedelta(seconds=delay)
            message = f"{message} (failure {js.failures} in a row; retry in {delay}s)"
            js.last_error, js.last_error_at = message, iso(now)
            js.blocked_until, js.blocked_reason = iso(resume_after), "backoff"
        else:
            if status != "interrupted":
                js.failures = 0
                js.last_ok = iso(now)
            if resume_after and resume_after > now:
                js.blocked_until, js.blocked_reason = iso(resume_after), status
            else:
                js.blocked_until = js.blocked_reason = None
        self.spool.write("run", {
            **head, "ended_at": now, "status": status, "message": message,
            "requests": runlog.requests, "errors": runlog.errors,
            "rate_limit_waits": runlog.rate_limit_waits, "resume_after": resume_after,
            "gaps": [[iso(g.start), iso(g.end), g.reason] for g in runlog.gaps],
            "quarantine": [list(q) for q in runlog.quarantine]})
        self.on_spooled()
        js.running, js.last_finished, js.last_status = False, iso(now), status
        self.state.save()
        level = logging.WARNING if status == "failed" else logging.INFO
        log.log(level, "run fetched", extra={
            "event": "run_fetched", "job": job_id, "run_id": run_id, "status": status,
            "pages": pages, "batches": spooled, "requests": runlog.requests,
            "detail": message, "resume_after": iso(resume_after)})
        if js.blocked_until and resume_after:
            self.on_blocked(job_id, resume_after)
