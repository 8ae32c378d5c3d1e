"""The single writer: spool -> warehouse in short read-write sessions, plus model builds.

DuckDB lets one process write or many read. The loader opens the warehouse read-write only
while it has spooled entries to load (at most `MAX_HOLD` seconds per session), closes it, and
pauses before the next session, so readers waiting on the file get their turn. While a reader
holds the file the loader cannot open it: entries wait in the spool and the loader retries
every `load_retry` seconds. All warehouse access in the daemon goes through `write_lock`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from ..config import Config
from ..errors import WarehouseLocked
from ..pipeline import RunSummary
from ..store import ledger, writer_lock
from ..store.db import connect
from ..store.ledger import LastRun
from ..store.load import add_batch
from ..store.normalise import prepare
from ..timeutil import iso, parse_iso, utcnow
from .spool import Entry, Spool, runlog_of
from .state import StateFile

log = logging.getLogger("tracker.daemon")

Pair = tuple[str, str]   # (campaign, source)
MAX_HOLD = 2.0        # seconds a load session may keep the warehouse open (+ one batch)
PAUSE = 1.0           # seconds between two sessions, for waiting readers
MAX_ATTEMPTS = 3      # failed loads of one entry before it is set aside in spool/rejected/
DEBOUNCE = 0.5        # seconds to wait after a wake-up before opening the warehouse
# A lake's readers never wait for the writer (store/lake.py), so a session may be longer and
# the pause shorter: opening a lake costs more than a file (the extensions load, the catalog
# is read), and fewer sessions mean fewer opens. The writer file still lets `tracker build`
# or `import` in between two sessions.
LAKE_MAX_HOLD = 10.0
LAKE_PAUSE = 0.2
# Machines sharing a lake on PostgreSQL (store/writer_lock.py): the loader waits this long in
# the lock's queue (first come, first served) for another machine's session to end, so that
# a machine that loads all the time cannot keep the lock from one that waits. Fetching goes on
# into the spool meanwhile. Ignored on a file and on a SQLite catalog.
MACHINES_WAIT = 60.0


# A backlog is loaded a run at a time: the consecutive spooled entries of one run (its
# batches, then its end if it is spooled) in one transaction, up to these sizes. A
# transaction has a fixed cost (on a lake: its catalog commit), so a backlog drains faster
# than entry by entry, and nothing else changes: each batch is normalised against what the
# ones before it stored (store/load.py `add_batch`), as when each had its own transaction.
GROUP_ENTRIES = 50
GROUP_BYTES = 32 * 2**20


def groups(entries: list[Entry]) -> list[list[Entry]]:
    """Spooled entries, in order, as the groups the loader stores in one transaction each."""
    out: list[list[Entry]] = []
    size = 0
    for e in entries:
        n = _size(e)
        last = out[-1] if out else None
        if (last is not None and last[-1].kind == "batch"
                and e.header.get("run_id") == last[0].header.get("run_id")
                and len(last) < GROUP_ENTRIES and size + n <= GROUP_BYTES):
            last.append(e)
            size += n
        else:
            out.append([e])
            size = n
    return out


def _detail(exc: Exception) -> str:
    """An error in one line, for the log."""
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _size(entry: Entry) -> int:
    try:
        return entry.path.stat().st_size
    except OSError:
        return 0


def apply_entry(con: duckdb.DuckDBPyConnection, entry: Entry) -> None:
    """Store one spooled entry (idempotent: loading it twice changes nothing)."""
    apply_entries(con, [entry])


def apply_entries(con: duckdb.DuckDBPyConnection, group: list[Entry]) -> None:
    """Store one run's consecutive spooled entries (`groups`) in one transaction: the run's
    start, its batches' pages and cursor, its end. Idempotent, like each entry."""
    h = group[0].header
    end = group[-1].header if group[-1].kind == "run" else None
    con.execute("begin transaction")
    try:
        ledger.start_run(con, "collect", h["campaign"], h["source"], run_id=h["run_id"],
                         started_at=parse_iso(h["started_at"]))
        for e in group:
            if e.kind == "batch":
                add_batch(con, e.pages(), run_id=h["run_id"], source=h["source"],
                          campaign=h["campaign"], cursor=e.header.get("cursor"),
                          set_cursor=True)
        if end is not None:
            ledger.end_run(con, end["run_id"], end["campaign"], end["source"], end["status"],
                           end.get("message"), runlog_of(end),
                           ended_at=parse_iso(end["ended_at"]))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    if end is not None:
        log.info("run finished", extra={"event": "run_finished", "run_id": end["run_id"],
                                        "campaign": end["campaign"], "source": end["source"],
                                        "status": end["status"],
                                        **ledger.run_counts(con, end["run_id"])})


class Loader:
    def __init__(self, get_config: Callable[[], Config], spool: Spool, state: StateFile,
                 stop: threading.Event, active_runs: Callable[[], set[str]]):
        self.get_config = get_config
        self.spool = spool
        self.state = state
        self.stop = stop
        self.active_runs = active_runs
        self.write_lock = threading.Lock()
        self._wake = threading.Event()
        self.recovered = False      # old 'running' runs marked 'killed' after a full drain
        self._busy_logged = False
        self._failures: dict[str, int] = {}

    @property
    def warehouse(self) -> Path:
        return self.get_config().warehouse

    def wake(self) -> None:
        self._wake.set()

    def loop(self) -> None:
        """The loader thread: drain whenever woken, and retry while the warehouse is busy."""
        while not self.stop.is_set():
            self._wake.wait(self.get_config().daemon.load_retry)
            if self.stop.is_set():
                break
            time.sleep(DEBOUNCE)  # gather the batches of a run into one session
            self._wake.clear()
            try:
                if self.drain() == "more":
                    time.sleep(LAKE_PAUSE if self.get_config().lake else PAUSE)
                    self._wake.set()
            except Exception:  # keep loading later; the entries stay in the spool
                log.exception("load failed", extra={"event": "load_failed"})

    def open(self, wait: float = 0.0) -> duckdb.DuckDBPyConnection | None:
        """Open read-write (caller holds `write_lock`); None, noted in the state, if busy."""
        try:
            # stopping: no longer than the stop allows (what is left loads at the next start)
            con = connect(self.warehouse, lake=self.get_config().lake, wait=wait,
                          machines_wait=wait if self.stop.is_set() else MACHINES_WAIT)
        except WarehouseLocked as exc:
            if not self._busy_logged:
                log.warning("warehouse busy; fetched pages wait in the spool",
                            extra={"event": "warehouse_busy", "holder": str(exc),
                                   "spool_batches": self.spool.count()})
                self._busy_logged = True
                self.state.warehouse_busy_since = iso(utcnow())
                self.state.save()
            return None
        if self._busy_logged:
            log.info("warehouse free again", extra={"event": "warehouse_free"})
            self._busy_logged = False
            self.state.warehouse_busy_since = None
        prepare(con, self.get_config().campaigns)
        return con

    @staticmethod
    def close(con: duckdb.DuckDBPyConnection) -> None:
        """Close a connection `open` gave; on a lake on PostgreSQL, let other machines in."""
        con.close()
        writer_lock.release(con)

    def drain(self, wait: float = 0.0) -> str:
        """Load spooled entries in order.

        Returns 'done', 'more' (hold time up), 'busy' (warehouse locked) or 'retry' (an entry
        failed to load; it is retried after `load_retry`).
        """
        with self.write_lock:
            entries = self.spool.entries()
            if not entries and self.recovered:
                return "done"
            con = self.open(wait)
            if con is None:
                return "busy"
            loaded, result = 0, "done"
            hold = LAKE_MAX_HOLD if self.get_config().lake else MAX_HOLD
            t0 = time.monotonic()
            try:
                for group in groups(entries):
                    if not self._apply(con, group):
                        result = "retry"
                        break
                    loaded += len(group)
                    if time.monotonic() - t0 > hold and loaded < len(entries):
                        result = "more"
                        break
                if result == "done" and not self.recovered:
                    self._mark_killed(con)
                    self.recovered = True
            finally:
                self.close(con)
            self.state.spool_batches = self.spool.count()
            self.state.save()
            if loaded:
                log.info("spool loaded", extra={
                    "event": "spool_loaded", "entries": loaded,
                    "seconds": round(time.monotonic() - t0, 3),
                    "spool_batches": self.state.spool_batches})
            return result

    def _apply(self, con: duckdb.DuckDBPyConnection, group: list[Entry]) -> bool:
        """Load a group of entries (`groups`) together; if that fails, one by one, so that
        an entry that cannot be loaded is found and set aside alone."""
        if len(group) > 1:
            try:
                apply_entries(con, group)
            except Exception as exc:
                log.warning("spool entries not loaded together; loading them one by one",
                            extra={"event": "load_split", "entries": len(group),
                                   "error": _detail(exc)})
            else:
                for e in group:
                    self.spool.remove(e)
                    self._failures.pop(e.path.name, None)
                return True
        return all(self._apply_one(con, e) for e in group)

    def _apply_one(self, con: duckdb.DuckDBPyConnection, entry: Entry) -> bool:
        """Load one entry; after `MAX_ATTEMPTS` failures set it aside so others can load."""
        try:
            apply_entry(con, entry)
        except Exception as exc:
            n = self._failures[entry.path.name] = self._failures.get(entry.path.name, 0) + 1
            detail = _detail(exc)
            if n < MAX_ATTEMPTS:
                log.warning("spool entry not loaded; will retry", extra={
                    "event": "load_retry", "entry": entry.path.name, "error": detail})
                return False
            target = self.spool.reject(entry)
            log.error("spool entry set aside after repeated failures (kept on disk)", extra={
                "event": "load_rejected", "entry": str(target), "error": detail})
        else:
            self.spool.remove(entry)
        self._failures.pop(entry.path.name, None)
        return True

    def _mark_killed(self, con: duckdb.DuckDBPyConnection) -> None:
        """Runs left 'running' by a process that died: mark them 'killed'."""
        n = ledger.mark_killed(con, keep=sorted(self.active_runs()))
        if n:
            log.warning("runs of a killed process marked", extra={"event": "runs_killed",
                                                                  "runs": n})

    def fill_counts(self, runs: list[RunSummary]) -> None:
        """Set the runs' page and post counts from the ledger, once they are loaded."""
        con = connect(self.warehouse, lake=self.get_config().lake, read_only=True, wait=30)
        try:
            for run in runs:
                counts = ledger.run_counts(con, run.run_id)
                run.pages, run.posts_new = counts["pages"], counts["posts_new"]
                run.duplicates = counts["duplicates"]
        finally:
            con.close()

    def read_cursors(self) -> tuple[dict[Pair, Any], dict[Pair, LastRun]] | None:
        """The warehouse's cursors and each source's last finished run.

        Read-write, else read-only beside a reader; None if the warehouse cannot be opened.
        """
        if not self.get_config().warehouse_exists():
            return {}, {}
        with self.write_lock:
            for read_only, wait in ((False, 0.0), (True, 5.0)):
                try:
                    con = connect(self.warehouse, lake=self.get_config().lake,
                                  read_only=read_only, wait=wait)
                except WarehouseLocked:
                    continue
                try:
                    return ledger.all_cursors(con), ledger.last_runs(con)
                finally:
                    self.close(con)
        return None
