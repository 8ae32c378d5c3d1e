"""`tracker import`: stream archive records into the warehouse in large, atomic batches.

Records are read in Python (any input, any compression, bounded memory) and handed to DuckDB
in batches: one transaction stores the batch's raw pages, normalised rows, quarantined
records and the run's counters, so an interrupted import keeps every committed batch and a
re-run adds nothing twice (raw pages are keyed by content, posts by platform and id).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable

import duckdb

from ..config import Config
from ..errors import ImportFormatError
from ..store import ledger
from ..store.db import scalar
from ..store.lake import checkpoint_file
from ..store.load import BatchResult
from ..store.normalise import prepare
from ..urls import load_in_background
from . import storing
from .batch import Batch, release_memory
from .containers import Container
from .formats import Bad, Record
from .inputs import Input, display_name, expand
from .reading import MemberDone, Reading, items
from .summary import ImportSummary

log = logging.getLogger("tracker.import")

BATCH_BYTES = 24 * 1024 * 1024
# DuckDB's memory limit during an import: its buffer pool fills up to it, and the process
# needs about as much again outside it; at 384 MB a 2.1 GB archive peaks at 760 MB (at 256 MB
# the committed rows waiting for a checkpoint spilled to disk: docs/import.md). A record
# far larger than a slice (store.normalise) gets 20 times its size.
MEMORY_FLOOR = 384 * 1024 * 1024
MEMORY_PER_RECORD_BYTE = 20
MEMORY_RETRIES = 6
BATCH_RECORDS = 20_000
# Pages are parsed in slices of about this many bytes (store.normalise.SLICE_BYTES says why;
# larger here, where a slice's tables are freed before the next: docs/import.md).
SLICE_BYTES = 16 * 1024 * 1024
# At the end of a container member, a batch holding this many input bytes is stored even if
# not full: a killed import resumes after the last stored member (reading.MemberDone).
MEMBER_FLUSH_BYTES = 16 * 1024 * 1024
# For the import, restored afterwards: a checkpoint at 256 MB of log (each rewrites the
# tables' partly filled last row groups: fewer cost less, docs/import.md) and an allocator
# that returns freed memory sooner (16 MB kept per thread, not 128 MB).
IMPORT_SETTINGS = {"checkpoint_threshold": "256MB", "allocator_flush_threshold": "16MB",
                   "allocator_background_threads": "true"}
# With the overlap (storing.Overlap) two connections fill both cores and DuckDB's own worker
# threads only contend with them (docs/import.md "Two batches at once"): one thread each.
OVERLAP_SETTINGS = {"threads": "1"}
_SETTINGS = ("memory_limit", *IMPORT_SETTINGS, *OVERLAP_SETTINGS)


class _Stopped(Exception):
    """The storing side has stopped; the reader thread ends."""


class StrictStop(ImportFormatError):
    """--strict and a bad record: the import stops here."""


Progress = Callable[[ImportSummary, int | None], None]


def _restore(con: duckdb.DuckDBPyConnection, saved: dict[str, str]) -> None:
    for key, value in saved.items():
        con.execute(f"set {key} = '{value}'")


class Importer:
    """Import archives into an open warehouse connection (a writer)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config, *,
                 campaign: str | None = None, fmt: str = "auto", mapping: str | None = None,
                 strict: bool = False, on_progress: Progress | None = None,
                 allow_forgotten: bool = False, filter_campaigns: str = "auto",
                 workers: int | None = None):
        self.con = con
        self.reading = Reading(fmt, config.csv_mappings, mapping, filter_campaigns,
                               workers=workers, tags=frozenset(
                                   t for c in config.campaigns for t in c.tags))
        self.allow_forgotten = allow_forgotten
        self.config = config
        self.campaign = config.campaign(campaign).name if campaign else None
        if campaign:
            self.reading.assign_tags = frozenset(config.campaign(campaign).tags)
        self.fmt = fmt
        if mapping is not None and mapping not in config.csv_mappings:
            known = ", ".join(sorted(config.csv_mappings)) or "none"
            raise ImportFormatError(f"{config.path.name}: no [csv_mappings.{mapping}] "
                                    f"(known: {known})")
        self.mapping = mapping
        self.strict = strict
        self.on_progress = on_progress

    def run(self, paths: list[str]) -> ImportSummary:
        """Import the files; reading (a thread) overlaps with storing (DuckDB, this thread)."""
        inputs = expand(paths)
        load_in_background()
        prepare(self.con, self.config.campaigns)
        ledger.mark_killed(self.con, "import")   # one writer: a 'running' import is dead
        self.reading.done = ledger.members_done(self.con)
        run_id = ledger.start_run(self.con, "import", self.campaign, "import")
        summary = ImportSummary(run_id)
        total = sum(i.size or 0 for i in inputs) or None
        start = time.perf_counter()
        saved = {k: scalar(self.con, f"select current_setting('{k}')")
                 for k in _SETTINGS}
        for key, value in IMPORT_SETTINGS.items():
            self.con.execute(f"set {key} = '{value}'")
        self._memory = 0
        self._committed = 0   # batches committed so far
        self._stored: dict[int, frozenset[str]] = {}   # their page ids, the last few
        self._offered = 0     # distinct pages of the batches prepared so far
        batches: queue.Queue[Batch | BaseException | None] = queue.Queue(maxsize=1)
        stop = threading.Event()
        reader = threading.Thread(target=self._read, args=(inputs, summary, batches, stop),
                                  name="import-reader", daemon=True)
        overlap: storing.Overlap | None = None
        pending: list[storing.Pending] = []   # batches being prepared ahead, in order
        try:
            if not self.allow_forgotten and storing.Overlap.usable(self.con):
                overlap = storing.Overlap(self.con, self.config.campaigns)
                for key, value in OVERLAP_SETTINGS.items():
                    self.con.execute(f"set {key} = '{value}'")
            reader.start()
            self._store_all(batches, overlap, pending, summary, start, total)
        except ImportFormatError as exc:  # --strict: what was read before the record is kept
            summary.status = "failed"
            storing.abandon(pending)   # first: its thread may be using this connection
            self._finish(summary, str(exc), start)
            _restore(self.con, saved)
            raise
        except BaseException:
            summary.status = "interrupted"
            storing.abandon(pending)
            self._finish(summary, "stopped before the import finished", start)
            _restore(self.con, saved)
            raise
        finally:
            stop.set()
            if overlap is not None:
                overlap.close()
        summary.status = "partial" if summary.bad else "ok"
        # every input was read to its end: its members are not passed over by a later import
        # (only an import that did not finish is resumed)
        ledger.members_read(self.con, self.reading.inputs)
        summary.phase = "writing to disk"
        if self.on_progress:
            self.on_progress(summary, total)
        self._finish(summary, "; ".join([summary.line(), *summary.notes]), start)
        # Write everything to the database file now, within the import's memory limit (a
        # checkpoint left to `close` would run with the default limit and use much more).
        # Not on a lake (store.lake.checkpoint_file).
        try:
            checkpoint_file(self.con)
        except duckdb.OutOfMemoryException:
            pass   # `close` checkpoints with the default limit
        _restore(self.con, saved)
        return summary

    def _store_all(self, batches: queue.Queue[Batch | BaseException | None],
                   overlap: storing.Overlap | None, pending: list[storing.Pending],
                   summary: ImportSummary, start: float, total: int | None) -> None:
        """Store the reader's batches in order until it is done (or raise its error). With
        the overlap, each batch is prepared on the other connection while the one before it
        commits; `pending` holds the batches prepared ahead and not yet committed (for the
        caller to abandon if this raises)."""

        def flush_oldest() -> None:
            done = pending[0]
            self._flush(done.batch, summary, start, total, done.con, done.future)
            pending.pop(0)

        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                while pending:   # the records read before the error are kept
                    flush_oldest()
                raise item
            if overlap is None:
                self._flush(item, summary, start, total)
                continue
            ahead = self._ahead(item, summary, overlap) if item.records else None
            if ahead is not None:
                pending.append(ahead)
            while len(pending) > (ahead is not None):
                flush_oldest()
            if ahead is None:
                self._flush(item, summary, start, total)
        while pending:
            flush_oldest()

    def _read(self, inputs: list[Input], summary: ImportSummary,
              batches: queue.Queue[Batch | BaseException | None],
              stop: threading.Event) -> None:
        """The reader thread: files -> full batches on the queue, then None (or the error)."""

        def put(item: Batch | BaseException | None) -> None:
            while not stop.is_set():
                try:
                    batches.put(item, timeout=0.2)
                    return
                except queue.Full:
                    continue
            raise _Stopped

        batch = Batch()
        try:
            for inp in inputs:
                summary.files += 1
                batch = self._file(inp, summary, batch, put)
            batch.read_upto = summary.bytes_read
            batch.last = True
            put(batch)
            put(None)
        except _Stopped:
            return
        except BaseException as exc:  # handed to the storing thread, which raises it
            try:
                put(batch)
                put(exc)
            except _Stopped:
                return

    def _file(self, inp: Input, summary: ImportSummary, batch: Batch,
              put: Callable[[Batch], None]) -> Batch:
        origin = display_name(inp)
        mtime = inp.mtime
        default_retrieved = (dt.datetime.fromtimestamp(mtime, dt.UTC) if mtime
                             else dt.datetime.now(dt.UTC)).isoformat()
        count_before, skipped_before = summary.records, summary.scan.skipped_members
        done = summary.bytes_read
        opened: Container | None = None
        try:
            opened = Container(inp)
            for where, item in items(opened, self.reading, summary.scan, summary.notes):
                where = origin if where == inp.name else \
                    where.replace("\n", "?").replace("\r", "?")
                if isinstance(item, MemberDone):
                    batch.members.append(item)
                    summary.bytes_read = done + opened.bytes_read
                    if summary.bytes_read - batch.read_from < MEMBER_FLUSH_BYTES:
                        continue
                else:
                    summary.records += 1
                if isinstance(item, Bad):
                    summary.bad += 1
                    batch.records += 1
                    batch.quarantine.append((where, item.line, item.reason, item.raw))
                    if self.strict:
                        raise StrictStop(f"{where}:{item.line}: {item.reason} (--strict)")
                elif isinstance(item, Record):
                    summary.api_errors += len(item.api_errors)
                    batch.add(item, where, default_retrieved)
                if batch.full(BATCH_BYTES, BATCH_RECORDS) or isinstance(item, MemberDone):
                    summary.bytes_read = done + opened.bytes_read
                    batch.read_upto = summary.bytes_read
                    put(batch)
                    batch = Batch()
                    batch.read_from = summary.bytes_read
        except StrictStop:
            raise
        except ImportFormatError as exc:  # the file as a whole (header, compression, access)
            if self.strict:
                raise ImportFormatError(f"{origin}: {exc} (--strict)") from None
            summary.bad += 1
            summary.records += 1
            batch.records += 1
            batch.quarantine.append((origin, None, str(exc), None))
            summary.notes.append(f"{origin}: {exc}")
        finally:
            if opened is not None:
                summary.bytes_read = done + opened.bytes_read
                opened.close()
        if summary.records == count_before and summary.scan.skipped_members == skipped_before:
            summary.notes.append(f"{origin}: empty, nothing to import")
        return batch

    def _ahead(self, batch: Batch, summary: ImportSummary,
               overlap: storing.Overlap) -> storing.Pending | None:
        """Start preparing `batch` on the overlap's next connection, in its thread; None if
        DuckDB cannot have the memory it needs now (then `_flush` finds how much)."""
        con = overlap.next_connection()   # idle: its last batch has committed
        try:
            self._set_memory(self._memory_for(batch), con)
        except duckdb.OutOfMemoryException:
            return None
        return storing.Pending(batch, con, overlap.pool.submit(self._prepare, con, batch, summary))

    def _memory_for(self, batch: Batch) -> int:
        largest = max(map(len, batch.payloads), default=0)
        return max(MEMORY_FLOOR, MEMORY_PER_RECORD_BYTE * largest, self._memory)

    def _set_memory(self, memory: int, con: duckdb.DuckDBPyConnection) -> None:
        """DuckDB's memory limit (for the whole database), set on `con`: a connection no
        preparation is using (a connection runs one statement at a time)."""
        if memory != self._memory:   # a record far larger than a slice gets more room
            con.execute(f"set memory_limit = '{memory // 2**20}MB'")
            self._memory = memory

    def _flush(self, batch: Batch, summary: ImportSummary, start: float,
               total: int | None, con: duckdb.DuckDBPyConnection | None = None,
               ahead: concurrent.futures.Future[storing.Prepared] | None = None) -> None:
        """Store `batch` on `con` (default: the import's connection); `ahead`: its
        preparation under way there (the overlap), used if it succeeded."""
        con = con or self.con
        if not batch.records:
            if batch.members:   # members without records to store: only their ledger rows
                con.execute("begin transaction")
                ledger.add_members_done(con, summary.run_id, batch.members)
                con.execute("commit")
            self._progress(batch, summary, start, total)
            return
        memory = self._memory_for(batch)
        for _ in range(MEMORY_RETRIES):
            try:
                prepared = storing.take(ahead)   # first: it runs on `con`
                ahead = None
                self._set_memory(memory, con)
                result, seen, again = self._store(batch, summary, con, prepared)
                break
            except duckdb.OutOfMemoryException:
                # The warehouse's key indexes grow with it and must fit too: give DuckDB
                # more memory and store the batch again (the failed attempt was rolled back).
                log.warning("import batch needs more memory", extra={
                    "event": "import_memory", "memory_limit_mb": memory // 2**20})
                memory *= 2
            except duckdb.Error as exc:
                if len(batch.payloads) > 1:     # find the record(s) the SQL cannot normalise
                    for part in batch.split():
                        self._flush(part, summary, start, total, con)
                    return
                why = "could not be normalised: " + str(exc).splitlines()[0][:300]
                origin, _, line = batch.requests[0].rpartition(":")
                batch.quarantine.append((origin, int(line), why, batch.texts(0, 1)[0]))
                batch.drop_payloads()
                summary.bad += 1
        else:
            raise ImportFormatError(f"a batch could not be stored within "
                                    f"{self._memory // 2**20} MB of memory")
        release_memory()
        summary.pages_new += result.pages_new
        summary.pages_seen += seen
        summary.quarantined_before += again
        summary.posts_new += result.posts_new
        summary.duplicates += result.duplicates
        summary.forgotten += result.forgotten
        self._progress(batch, summary, start, total)

    def _progress(self, batch: Batch, summary: ImportSummary, start: float,
                  total: int | None) -> None:
        done = batch.read_upto
        if total and not batch.last:   # input is read ahead in blocks: full only at the end
            done = min(done, total - 1)
        summary.bytes_stored = max(summary.bytes_stored, done)
        summary.seconds = time.perf_counter() - start
        if self.on_progress:
            self.on_progress(summary, total)

    def _store(self, batch: Batch, summary: ImportSummary, con: duckdb.DuckDBPyConnection,
               prepared: storing.Prepared | None) -> tuple[BatchResult, int, int]:
        """The batch in one transaction on `con` (storing.commit), prepared there first
        unless `prepared` (by the overlap) already."""
        if prepared is None:
            prepared = self._prepare(con, batch, summary)
        result = storing.commit(prepared, batch, run_id=summary.run_id,
                                campaign=self.campaign, allow_forgotten=self.allow_forgotten,
                                stored=self._stored, committed=self._committed)
        self._stored[self._committed] = frozenset(batch.page_ids)
        self._stored.pop(self._committed - 8, None)   # a batch is prepared one commit ahead
        self._committed += 1
        return result

    def _prepare(self, con: duckdb.DuckDBPyConnection, batch: Batch,
                 summary: ImportSummary) -> storing.Prepared:
        if batch.batch_id is None:   # numbered by the distinct pages offered before it
            batch.batch_id = f"{summary.run_id}-{self._offered}"
            self._offered += len(set(batch.page_ids))
        return storing.prepare(con, batch, run_id=summary.run_id, batch_id=batch.batch_id,
                               campaign=self.campaign, allow_forgotten=self.allow_forgotten,
                               slice_bytes=SLICE_BYTES, committed=self._committed)

    def _finish(self, summary: ImportSummary, message: str | None, start: float) -> None:
        summary.seconds = time.perf_counter() - start
        if summary.forgotten:
            summary.notes.append(f"{summary.forgotten} post(s) removed on request (tracker "
                                 "forget) were not stored again (--allow-forgotten stores "
                                 "them)")
        ledger.finish_run(self.con, summary.run_id, summary.status, message=message)
        log.info("import finished", extra={
            "event": "import_finished", "run_id": summary.run_id, "status": summary.status,
            "records": summary.records, "posts_new": summary.posts_new, "bad": summary.bad})
