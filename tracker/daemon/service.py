"""`tracker run`: the scheduler, signals, config reload and shutdown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import signal
import threading
import time

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
    SchedulerEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from ..config import Config, Schedule, load_config
from ..errors import TrackerError, WarehouseLocked
from ..pipeline import FAILED, RunSummary
from ..store.ledger import LastRun
from ..timeutil import iso, utcnow
from . import collect_job_id, lock_path, state_path
from .build import build_job, maintain_job
from .collector import Collector, RunBook
from .loader import Loader
from .lock import DaemonLock
from .policy import backoff_seconds, misfire_grace, trigger
from .repoll import repoll_job
from .repoll import wanted as repoll_wanted
from .spool import Spool
from .state import JobState, StateFile

log = logging.getLogger("tracker.daemon")
BUILD_JOB = "build"
REPOLL_JOB = "repoll"
MAINTAIN_JOB = "maintain"      # a lake's compaction and snapshot expiry (store/lake.py)
DAILY = Schedule(interval_seconds=86400)
STARTUP_WAIT = 2.0


def route_library_logs() -> None:
    """APScheduler's warnings go through the same structured handlers as ours."""
    lib = logging.getLogger("apscheduler")
    lib.handlers = list(logging.getLogger("tracker").handlers)
    lib.setLevel(logging.WARNING)
    lib.propagate = False


class Daemon:
    def __init__(self, config: Config):
        self.config = config
        self.stop = threading.Event()
        self.lock = DaemonLock(lock_path(config.warehouse))
        self.state = StateFile(state_path(config.warehouse), os.getpid())
        self.scheduler: BlockingScheduler | None = None
        self._schedules: dict[str, tuple[Schedule, int]] = {}
        self._reload_lock = threading.Lock()
        self._last_runs: dict[tuple, LastRun] = {}

    def get_config(self) -> Config:
        return self.config

    # --- start ------------------------------------------------------------------------------
    def run(self) -> int:
        cfg = self.config
        self.lock.acquire(str(cfg.warehouse))
        route_library_logs()
        try:
            return self._run()
        finally:
            self.lock.release()

    def run_once(self) -> list[RunSummary]:
        """Every collection job once, now, through the spool into the warehouse (no
        scheduler, no signal handlers: Ctrl-C stops it like `tracker collect`)."""
        self.lock.acquire(str(self.config.warehouse))
        try:
            self._parts()
            start = self._startup()
            assert start is not None      # only a stop signal ends start-up early
            cursors, self._last_runs = start
            self.collector.book = RunBook(cursors, self._last_runs)
            runs = []
            for job_id, (schedule, args) in self._wanted().items():
                if args:
                    self.state.jobs[job_id] = self._job_state(job_id, schedule, args)
                    run = self.collector.run(job_id, *args)
                    runs += [run] if run else []
            while (result := self.loader.drain(wait=STARTUP_WAIT)) != "done":
                if result == "busy":
                    raise WarehouseLocked(f"{self.config.warehouse}: busy; what was fetched "
                                          "waits in the spool for the next `tracker run`")
            self._exit("stopped after one pass")
            self.loader.fill_counts(runs)
            return runs
        finally:
            self.lock.release()

    def _parts(self) -> None:
        cfg = self.config
        self.spool = Spool(cfg.spool)
        self.collector = Collector(self.get_config, self.spool, RunBook(), self.state,
                                   self.stop, self._wake_loader, self._blocked)
        self.loader = Loader(self.get_config, self.spool, self.state, self.stop,
                             self.collector.active_runs)
        self.state.active_runs = self.collector.active_runs
        log.info("daemon starting", extra={
            "event": "daemon_starting", "pid": os.getpid(), "warehouse": str(cfg.warehouse),
            "spool": str(cfg.spool), "spool_batches": self.spool.count()})

    def _run(self) -> int:
        cfg = self.config
        self._signals()
        self._parts()
        start = self._startup()
        if start is None:
            return self._exit("stopped during start-up")
        cursors, self._last_runs = start
        self.collector.book = RunBook(cursors, self._last_runs)
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(cfg.daemon.workers)},
            job_defaults={"coalesce": True, "max_instances": 1}, timezone=dt.UTC)
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
                                    | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
                                    | EVENT_SCHEDULER_STARTED)
        self._sync_jobs()
        loader_thread = threading.Thread(target=self.loader.loop, name="loader", daemon=True)
        loader_thread.start()
        log.info("daemon started", extra={"event": "daemon_started", "jobs": len(
            self._schedules)})
        if not self.stop.is_set():
            self.scheduler.start()  # blocks until a signal shuts it down
        return self._shutdown(loader_thread)

    def _startup(self) -> tuple[dict, dict] | None:
        """Load what a previous process left in the spool, then read cursors and last runs."""
        told = 0.0
        while not self.stop.is_set():
            self.loader.drain(wait=STARTUP_WAIT)
            found = self.loader.read_cursors()
            if found is not None:
                cursors, last = found
                cursors.update(self.spool.latest_cursors())  # newer than the warehouse's
                last.update(self.spool.latest_runs())
                return cursors, last
            if time.monotonic() - told > 60:
                log.warning("waiting for the warehouse to read the cursors",
                            extra={"event": "startup_waiting"})
                told = time.monotonic()
        return None

    def _signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, self._on_hup)

    def _on_stop_signal(self, signum: int, frame: object) -> None:
        if self.stop.is_set():
            return
        log.info("stopping", extra={"event": "daemon_stopping",
                                    "signal": signal.Signals(signum).name})
        self.stop.set()
        if getattr(self, "loader", None) is not None:
            self.loader.wake()
        threading.Thread(target=self._stop_scheduler, daemon=True).start()

    def _stop_scheduler(self) -> None:
        """Shut the scheduler down, also when the signal came just before it started."""
        for _ in range(200):
            sched = self.scheduler
            if sched is not None and sched.running:
                sched.shutdown(wait=False)
                return
            time.sleep(0.05)

    def _on_hup(self, signum: int, frame: object) -> None:
        threading.Thread(target=self.reload, name="reload", daemon=True).start()

    # --- jobs -------------------------------------------------------------------------------
    def _wanted(self) -> dict[str, tuple[Schedule, tuple]]:
        cfg = self.config
        out: dict[str, tuple[Schedule, tuple]] = {}
        for c in cfg.campaigns:
            for s in c.sources:
                out[collect_job_id(c.name, s.name)] = (c.schedule, (c.name, s.name))
        if cfg.daemon.build:
            out[BUILD_JOB] = (cfg.daemon.build, ())
        if repoll_wanted(cfg):
            out[REPOLL_JOB] = (cfg.repoll.schedule, ())
        if cfg.lake is not None:
            out[MAINTAIN_JOB] = (cfg.daemon.maintain or DAILY, ())
        return out

    def _sync_jobs(self) -> None:
        """Make the scheduler's jobs match the config: add, remove, reschedule."""
        assert self.scheduler is not None
        settings = self.config.daemon
        wanted = self._wanted()
        for job_id in list(self._schedules):
            if job_id not in wanted:
                self.scheduler.remove_job(job_id)
                del self._schedules[job_id]
                self.state.jobs.pop(job_id, None)
                log.info("job removed", extra={"event": "job_removed", "job": job_id})
        for job_id, (schedule, args) in wanted.items():
            grace = misfire_grace(schedule, settings)
            if job_id in self._schedules:
                if self._schedules[job_id] != (schedule, grace):
                    self.scheduler.reschedule_job(job_id, trigger=trigger(schedule, settings))
                    self.scheduler.modify_job(job_id, misfire_grace_time=grace)
                    self._schedules[job_id] = (schedule, grace)
                    self.state.jobs[job_id].schedule = schedule.describe()
                    log.info("job rescheduled", extra={"event": "job_rescheduled",
                                                       "job": job_id,
                                                       "schedule": schedule.describe()})
                continue
            func = self.collector.run if args else {
                BUILD_JOB: self._build, REPOLL_JOB: self._repoll,
                MAINTAIN_JOB: self._maintain}[job_id]
            # Collections run at start-up (or when a source's resume_after or backoff from
            # before a restart ends); the first build waits one period for data.
            first_run = {}
            if args:
                until = self._waits_until(args)
                now = dt.datetime.now(dt.UTC)
                first_run = {"next_run_time": max(now, until) if until else now}
            self.scheduler.add_job(func, trigger(schedule, settings),
                                   args=(job_id, *args) if args else (), id=job_id,
                                   name=job_id, misfire_grace_time=grace,
                                   **first_run)
            self._schedules[job_id] = (schedule, grace)
            self.state.jobs[job_id] = self._job_state(job_id, schedule, args)
            log.info("job added", extra={"event": "job_added", "job": job_id,
                                         "schedule": schedule.describe(),
                                         "misfire_grace": grace})
        self._save_next_runs()

    def _job_state(self, job_id: str, schedule: Schedule, args: tuple) -> JobState:
        js = JobState(args[0] if args else None, args[1] if args else None,
                      schedule.describe())
        last = self._last_runs.get(args) if args else None
        until = self._waits_until(args) if args else None
        if last and until:                # honoured across restarts
            js.blocked_until = iso(until)
            js.blocked_reason = "backoff" if last.status == FAILED else last.status
        if last and last.status == FAILED:
            js.failures, js.last_status = 1, last.status
        return js

    def _waits_until(self, key: tuple) -> dt.datetime | None:
        """When a source's first run after start-up may be: its last run's `resume_after`,
        or after a failure one backoff after that run ended. None: now."""
        last = self._last_runs.get(key)
        if last is None:
            return None
        until = last.resume_after
        if last.status == FAILED and last.ended_at is not None:
            until = last.ended_at + dt.timedelta(seconds=backoff_seconds(1, self.config.daemon))
        return until if until and until > utcnow() else None

    def _build(self) -> None:
        js = self.state.jobs.get(BUILD_JOB)
        if not self.collector.enter():     # counts as work in progress for a graceful stop
            return
        try:
            status = build_job(self.loader, self.collector.collecting)
        finally:
            self.collector.leave()
        if js:
            js.last_status, js.last_finished = status, iso(utcnow())
            if status == "failed":
                js.last_error, js.last_error_at = "model build failed (see log)", iso(utcnow())

    def _repoll(self) -> None:
        js = self.state.jobs.get(REPOLL_JOB)
        if not self.collector.enter():     # counts as work in progress for a graceful stop
            return
        try:
            status = repoll_job(self.loader)
        finally:
            self.collector.leave()
        if js:
            js.last_status, js.last_finished = status, iso(utcnow())
            if status == "failed":
                js.last_error, js.last_error_at = "re-poll failed (see ledger.runs)", iso(
                    utcnow())

    def _maintain(self) -> None:
        js = self.state.jobs.get(MAINTAIN_JOB)
        if not self.collector.enter():     # counts as work in progress for a graceful stop
            return
        try:
            status = maintain_job(self.loader)
        finally:
            self.collector.leave()
        if js:
            js.last_status, js.last_finished = status, iso(utcnow())
            if status == "failed":
                js.last_error, js.last_error_at = "lake maintenance failed (see log)", iso(
                    utcnow())

    def _save_next_runs(self) -> None:
        if self.scheduler is None:
            return
        for job in self.scheduler.get_jobs():
            js = self.state.jobs.get(job.id)
            if js:
                js.next_run = iso(getattr(job, "next_run_time", None))  # None until started
        self.state.spool_batches = self.spool.count()
        self.state.save()

    def _on_job_event(self, event: JobExecutionEvent | SchedulerEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("run missed (later than its misfire grace)",
                        extra={"event": "run_missed", "job": event.job_id})
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.info("run skipped: previous run still going",
                     extra={"event": "run_overlap", "job": event.job_id})
        elif event.code == EVENT_JOB_ERROR:
            log.error("job crashed", extra={"event": "job_error", "job": event.job_id,
                                            "error": repr(event.exception)})
        if not self.stop.is_set():
            self._save_next_runs()

    def _blocked(self, job_id: str, until: dt.datetime) -> None:
        """A source must wait (backoff or resume_after): move its next run, not the others."""
        if self.scheduler is None or self.stop.is_set():
            return
        job = self.scheduler.get_job(job_id)
        if job and job.next_run_time and job.next_run_time < until:
            job.modify(next_run_time=until)
        self._save_next_runs()

    def _wake_loader(self) -> None:
        self.loader.wake()

    # --- reload and stop ----------------------------------------------------------------------
    def reload(self) -> None:
        with self._reload_lock:
            try:
                new = load_config(self.config.path)
            except TrackerError as exc:
                log.error("reload failed; keeping the running config",
                          extra={"event": "reload_failed", "error": str(exc)})
                return
            if (new.warehouse, new.spool) != (self.config.warehouse, self.config.spool):
                log.warning("warehouse and spool paths change only on restart",
                            extra={"event": "reload_partial"})
                new = dataclasses.replace(new, warehouse=self.config.warehouse,
                                          spool=self.config.spool)
            self.config = new
            if self.scheduler is not None and not self.stop.is_set():
                self._sync_jobs()
            log.info("config reloaded", extra={"event": "reload_done",
                                               "jobs": len(self._schedules)})

    def _shutdown(self, loader_thread: threading.Thread) -> int:
        deadline = time.monotonic() + self.config.daemon.stop_timeout
        while self.collector.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        loader_thread.join(max(0.0, deadline - time.monotonic()))
        if self.collector.busy() or loader_thread.is_alive():
            log.warning("stop timeout: exiting with work in progress (it is fetched again "
                        "at the next start)", extra={"event": "stop_timeout"})
            self._final_state()
            logging.shutdown()
            os._exit(0)
        self._final_drain(deadline)
        return self._exit("stopped")

    def _final_drain(self, deadline: float) -> None:
        """Load what is spooled (the ends of the runs just stopped, above all), session after
        session until done, busy or the stop deadline; what is left is loaded at the next
        start. One session is not enough: it ends after `MAX_HOLD` seconds, which a slow
        or loaded machine reaches with a few batches, and the runs would stay `running`.
        No pause between sessions: readers get the file when the daemon exits, within
        `stop_timeout`."""
        while True:
            left = deadline - time.monotonic()
            if self.loader.drain(wait=min(5.0, max(0.5, left))) != "more" or left <= 0:
                return

    def _final_state(self) -> None:
        for js in self.state.jobs.values():
            js.next_run, js.running = None, False
        self.state.spool_batches = self.spool.count()
        self.state.save()

    def _exit(self, why: str) -> int:
        self._final_state()
        left = self.state.spool_batches
        log.info(why, extra={"event": "daemon_stopped", "spool_batches": left,
                             "note": "loaded at the next start" if left else None})
        return 0


def run_daemon(config: Config) -> int:
    """Run until SIGTERM/SIGINT; return the exit code."""
    return Daemon(config).run()

