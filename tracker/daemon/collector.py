"""The daemon's collection jobs: the shared pass (`pipeline.run_pass`) into the spool.

Each batch is acknowledged (its cursor advanced in memory) only once it is durably in the
spool, so a crash at any point loses nothing acknowledged: what was not spooled is fetched
again from the last spooled cursor. The run's outcome is spooled last, for the ledger. What
is the daemon's own is when a pass runs: on schedule, and not while backing off after
failures (`policy.backoff_seconds`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from ..config import Config
from ..errors import ConfigError
from ..pages import RawPage, RunLog
from ..pipeline import DEFERRED, FAILED, INTERRUPTED, RunSummary, log_run, run_pass
from ..store.ledger import LastRun
from ..timeutil import iso, parse_iso, utcnow
from .policy import backoff_seconds
from .spool import Spool, run_header
from .state import JobState, StateFile

log = logging.getLogger("tracker.daemon")
Pair = tuple[str, str]   # (campaign, source)


class RunBook:
    """Per (campaign, source): the newest acknowledged cursor and last run's outcome, spool
    first, then warehouse. What the warehouse's ledger says for `tracker collect`."""

    def __init__(self, cursors: dict[Pair, Any] | None = None,
                 last_runs: dict[Pair, LastRun] | None = None):
        self._cursors = dict(cursors or {})
        self._last = dict(last_runs or {})
        self._lock = threading.Lock()

    def cursor(self, key: Pair) -> Any:
        with self._lock:
            return self._cursors.get(key)

    def set_cursor(self, key: Pair, cursor: Any) -> None:
        with self._lock:
            self._cursors[key] = cursor

    def last_run(self, key: Pair) -> LastRun | None:
        with self._lock:
            return self._last.get(key)

    def set_last_run(self, key: Pair, last: LastRun) -> None:
        with self._lock:
            self._last[key] = last


class SpoolSink:
    """The pass's pages and outcome go to the spool; the loader takes them to the ledger."""

    def __init__(self, spool: Spool, book: RunBook, on_spooled: Callable[[], None],
                 active: set[str], active_lock: threading.Lock,
                 on_started: Callable[[], None]):
        self.spool = spool
        self.book = book
        self.on_spooled = on_spooled
        self.active, self.active_lock = active, active_lock   # runs not yet spooled as ended
        self.on_started = on_started
        self.run_id: str | None = None

    def last_run(self, campaign: str, source: str) -> LastRun | None:
        return self.book.last_run((campaign, source))

    def cursor(self, campaign: str, source: str) -> Any:
        return self.book.cursor((campaign, source))

    def start(self, run: RunSummary) -> None:
        """Nothing to spool (each entry carries the run's start): the run is in progress,
        which the state file says before any of its pages can reach the ledger."""
        self.run_id = run.run_id
        with self.active_lock:
            self.active.add(run.run_id)
        self.on_started()

    @staticmethod
    def _head(run: RunSummary) -> dict[str, Any]:
        return {"run_id": run.run_id, "campaign": run.campaign, "source": run.source,
                "started_at": run.started_at}

    def store(self, run: RunSummary, batch: list[RawPage]) -> None:
        self.spool.write("batch", {**self._head(run), "cursor": batch[-1].cursor}, batch)
        self.book.set_cursor((run.campaign, run.source), batch[-1].cursor)
        run.pages += len(batch)   # fetched; the ledger counts what was new when loaded
        self.on_spooled()

    def finish(self, run: RunSummary, runlog: RunLog) -> None:
        now = utcnow()
        self.spool.write("run", run_header(self._head(run), now, run.status, run.message,
                                           runlog))
        self.book.set_last_run((run.campaign, run.source),
                               LastRun(run.status, runlog.resume_after, now, run.message))
        log_run("run_fetched", "run fetched", run)
        self.on_spooled()


class Collector:
    """Runs collection jobs in the scheduler's worker threads."""

    def __init__(self, get_config: Callable[[], Config], spool: Spool, book: RunBook,
                 state: StateFile, stop: threading.Event, on_spooled: Callable[[], None],
                 on_blocked: Callable[[str, dt.datetime], None]):
        self.get_config = get_config
        self.spool = spool
        self.book = book
        self.state = state
        self.stop = stop
        self.on_spooled = on_spooled
        self.on_blocked = on_blocked
        self.active: set[str] = set()          # runs not yet spooled as finished
        self.active_lock = threading.Lock()
        self._jobs = 0                         # jobs past the stop check, not yet done
        self._collecting: set[int] = set()     # collection jobs among them (tokens)
        self._started = 0

    def enter(self) -> bool:
        """A job (collection or build) starts, unless the daemon is stopping: from here it
        counts as work in progress, which a graceful stop waits for. The stop check and
        the count are one step, so a job never slips past a stop that `busy()` saw as
        idle."""
        with self.active_lock:
            if self.stop.is_set():
                return False
            self._jobs += 1
            return True

    def leave(self) -> None:
        with self.active_lock:
            self._jobs -= 1

    def busy(self) -> int:
        with self.active_lock:
            return self._jobs

    def collecting(self) -> frozenset[int]:
        """The collection jobs under way, as tokens (a build waits for those under way when
        it falls due: build.py `await_runs`)."""
        with self.active_lock:
            return frozenset(self._collecting)

    def active_runs(self) -> set[str]:
        with self.active_lock:
            return set(self.active)

    def run(self, job_id: str, campaign_name: str, source_name: str) -> RunSummary | None:
        """The job: one pass of one source, unless stopping or backing off after failures."""
        if not self.enter():
            return None
        with self.active_lock:
            self._started += 1
            token = self._started
            self._collecting.add(token)
        try:
            return self._run(job_id, campaign_name, source_name)
        finally:
            with self.active_lock:
                self._collecting.discard(token)
            self.leave()

    def _run(self, job_id: str, campaign_name: str, source_name: str) -> RunSummary | None:
        cfg = self.get_config()
        js = self.state.jobs.get(job_id)
        try:
            campaign = cfg.campaign(campaign_name)
            scfg = campaign.source(source_name)
        except ConfigError:
            return None  # removed by a reload while queued
        if js is None:
            return None
        until = parse_iso(js.blocked_until)
        if js.blocked_reason == "backoff" and until and utcnow() < until:
            log.info("run skipped", extra={"event": "run_skipped", "job": job_id,
                                            "until": js.blocked_until,
                                            "reason": js.blocked_reason})
            return None
        js.running, js.last_started = True, iso(utcnow())
        self.state.save()
        sink = SpoolSink(self.spool, self.book, self.on_spooled, self.active, self.active_lock,
                         self.state.save)
        try:
            run = run_pass(sink, cfg, campaign, scfg, stop=self.stop.is_set)
        finally:
            with self.active_lock:
                self.active.discard(sink.run_id or "")
        self._schedule_after(js, job_id, run, cfg)
        return run

    def _schedule_after(self, js: JobState, job_id: str, run: RunSummary, cfg: Config) -> None:
        """The daemon's part of the outcome: backoff after failures, the state file."""
        now = utcnow()
        until = run.resume_after
        js.running, js.last_finished, js.last_status = False, iso(now), run.status
        if run.status == FAILED:
            js.failures += 1
            delay = backoff_seconds(js.failures, cfg.daemon)
            until = now + dt.timedelta(seconds=delay)
            js.last_error = (f"{run.message} (failure {js.failures} in a row; "
                             f"retry in {delay}s)")
            js.last_error_at = iso(now)
            js.blocked_until, js.blocked_reason = iso(until), "backoff"
        else:
            if run.status not in (INTERRUPTED, DEFERRED):   # a real attempt that worked
                js.failures = 0
                js.last_ok = iso(now)
            if until and until > now:
                js.blocked_until, js.blocked_reason = iso(until), run.status
            else:
                js.blocked_until = js.blocked_reason = None
        self.state.save()
        if js.blocked_until and until:
            self.on_blocked(job_id, until)
