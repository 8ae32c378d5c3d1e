"""`tracker import`: stream archive records into the warehouse in large, atomic batches.

Records are read in Python (any input, any compression, bounded memory) and handed to DuckDB
in batches: one transaction stores the batch's raw pages, normalised rows, quarantined
records and the run's counters, so an interrupted import keeps every committed batch and a
re-run adds nothing twice (raw pages are keyed by content, posts by platform and id).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from ..config import Config
from ..errors import ImportFormatError
from ..store import ledger, segments
from ..store.db import scalar
from ..store.lake import checkpoint_file
from ..store.load import _BATCH_IN, BatchResult, drop_known, store_batch_table, write_segment
from ..store.normalise import MERGE_SQL, parse_batch, prepare, release
from .batch import Batch, release_memory
from .containers import Container
from .formats import Bad, Record
from .inputs import Input, display_name, expand
from .reading import Counts, MemberDone, Reading, items

log = logging.getLogger("tracker.import")

BATCH_BYTES = 24 * 1024 * 1024
# DuckDB's memory limit during an import: its buffer pool fills up to the limit, and the
# process needs about as much again outside it (Python, the slice being parsed), so 256 MB
# keeps a large archive under 1 GB. A record far larger than a slice (store.normalise)
# gets 20 times its size.
MEMORY_FLOOR = 256 * 1024 * 1024
MEMORY_PER_RECORD_BYTE = 20
MEMORY_RETRIES = 6
BATCH_RECORDS = 20_000
# A batch's pages are parsed in slices of about this many bytes (store.normalise.SLICE_BYTES
# says why). Larger than there: an import parses before its transaction, so a slice's
# tables are freed when the next replaces them, and each slice costs about 25 ms of
# statements whatever its size (4 MB: 41 slices for the 150 MB archive, 16 MB: 12).
SLICE_BYTES = 16 * 1024 * 1024
# At the end of a container member, a batch holding this many input bytes is stored even if
# not full: a killed import resumes after the last stored member (reading.MemberDone).
MEMBER_FLUSH_BYTES = 16 * 1024 * 1024
CLIENT = "tracker-import"
# Settings for the duration of an import, restored afterwards. DuckDB keeps committed rows
# in memory until a checkpoint; checkpointing at 32 MB of log (default 16 MB) bounds that
# without a checkpoint per batch. Its allocator keeps up to 128 MB of freed memory per thread
# by default; 16 MB and a background thread that returns it keep RSS down.
IMPORT_SETTINGS = {"checkpoint_threshold": "32MB", "allocator_flush_threshold": "16MB",
                   "allocator_background_threads": "true"}
_SETTINGS = ("memory_limit", *IMPORT_SETTINGS)


@dataclass
class ImportSummary:
    run_id: str
    files: int = 0
    records: int = 0          # records read, readable or not
    pages_new: int = 0        # records stored now
    pages_seen: int = 0       # records already in the warehouse (same content)
    posts_new: int = 0
    duplicates: int = 0       # copies of posts already stored (or repeated in the archive)
    bad: int = 0              # records quarantined
    api_errors: int = 0       # error objects inside twarc2 output
    quarantined_before: int = 0   # bad records and errors an earlier import quarantined
    forgotten: int = 0        # posts skipped: removed on request (`tracker forget`)
    bytes_read: int = 0       # input bytes read (compressed, as on disk)
    bytes_stored: int = 0     # input bytes whose records are committed (the progress bar's)
    phase: str = "importing"  # then "writing to disk" (the final checkpoint)
    seconds: float = 0.0
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    scan: Counts = field(default_factory=Counts)   # the campaign filter's line counts

    @property
    def posts_per_second(self) -> float:
        return (self.posts_new + self.duplicates) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        text = (f"{self.records} records read from {self.files} file(s): {self.posts_new} new "
                f"posts, {self.duplicates} duplicate posts, {self.pages_seen} records already "
                f"imported, {self.bad} bad records, {self.api_errors} API error objects "
                f"({self.seconds:.1f}s, {self.posts_per_second:,.0f} posts/s)")
        if self.quarantined_before:
            text += (f"; {self.quarantined_before} of them already in the quarantine from an "
                     "earlier import (stored once)")
        if self.bad + self.api_errors > self.quarantined_before:
            text += f". See: tracker quarantine --run {self.run_id}"
        elif self.bad or self.api_errors:
            text += ". See: tracker quarantine"
        return text + self.scan.line()


class _Stopped(Exception):
    """The storing side has stopped; the reader thread ends."""


class StrictStop(ImportFormatError):
    """--strict and a bad record: the import stops here."""


Progress = Callable[[ImportSummary, int | None], None]


def _restore(con: duckdb.DuckDBPyConnection, saved: dict[str, str]) -> None:
    for key, value in saved.items():
        con.execute(f"set {key} = '{value}'")


def _unlink_segment(con: duckdb.DuckDBPyConnection, segment: str | None) -> None:
    """Remove a segment this import wrote that no committed page refers to."""
    if segment is not None:
        segments.path_of(con, segment).unlink(missing_ok=True)


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
        batches: queue.Queue[Batch | BaseException | None] = queue.Queue(maxsize=1)
        stop = threading.Event()
        reader = threading.Thread(target=self._read, args=(inputs, summary, batches, stop),
                                  name="import-reader", daemon=True)
        reader.start()
        try:
            while (item := batches.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                self._flush(item, summary, start, total)
        except ImportFormatError as exc:  # --strict: what was read before the record is kept
            summary.status = "failed"
            self._finish(summary, str(exc), start)
            _restore(self.con, saved)
            raise
        except BaseException:
            summary.status = "interrupted"
            self._finish(summary, "stopped before the import finished", start)
            _restore(self.con, saved)
            raise
        finally:
            stop.set()
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

    def _flush(self, batch: Batch, summary: ImportSummary, start: float,
               total: int | None) -> None:
        if not batch.records:
            if batch.members:   # members without records to store: only their ledger rows
                self.con.execute("begin transaction")
                ledger.add_members_done(self.con, summary.run_id, batch.members)
                self.con.execute("commit")
            self._progress(batch, summary, start, total)
            return
        largest = max(map(len, batch.payloads), default=0)
        memory = max(MEMORY_FLOOR, MEMORY_PER_RECORD_BYTE * largest, self._memory)
        for _ in range(MEMORY_RETRIES):
            try:
                if memory != self._memory:   # a record far larger than a slice gets more room
                    self.con.execute(f"set memory_limit = '{memory // 2**20}MB'")
                    self._memory = memory
                result, seen, again = self._store(batch, summary)
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
                        self._flush(part, summary, start, total)
                    return
                why = "could not be normalised: " + str(exc).splitlines()[0][:300]
                origin, _, line = batch.requests[0].rpartition(":")
                batch.quarantine.append((origin, int(line), why, batch.payloads[0]))
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

    def _store(self, batch: Batch, summary: ImportSummary) -> tuple[BatchResult, int, int]:
        """The batch in one transaction: (what was stored, records already imported, bad
        records already in the quarantine).

        The pages are loaded into temp table batch_in and parsed into the temp tables n_*
        before the transaction (they are temporary, and this process is the warehouse's
        only writer): tables replaced inside a transaction keep their rows until its commit,
        and the parse replaces its tables at every slice. Only the merge into norm.*, the
        payloads' segment, the quarantine and the ledger are in the transaction."""
        con = self.con
        con.execute(_BATCH_IN)
        slices = batch.slices(SLICE_BYTES)
        for lo, hi in slices:
            # One string per column, split in a subquery: binding Python lists converts
            # each element while holding the GIL, which the reader thread contends for.
            # In slices: DuckDB holds a statement's whole input (up to 2,048 rows) at once.
            con.execute(
                """insert into batch_in
                select unnest(c.ids), unnest(c.formats), unnest(c.platforms), 'import',
                       nullif(unnest(c.campaigns), ''),
                       unnest(c.requests), unnest(c.retrieved)::timestamptz, $7, $8, $9,
                       false, unnest(c.payloads)
                from (select string_split($1, chr(10)) as ids,
                             string_split($2, chr(10)) as formats,
                             string_split($3, chr(10)) as platforms,
                             string_split($4, chr(10)) as campaigns,
                             string_split($5, chr(10)) as requests,
                             string_split($6, chr(10)) as retrieved,
                             string_split($10, chr(10)) as payloads) c""",
                ["\n".join(batch.page_ids[lo:hi]), "\n".join(batch.formats[lo:hi]),
                 "\n".join(batch.platforms[lo:hi]),
                 # the campaign of each page: none for a status kept by the campaign filter
                 # only for the status it quotes (`--campaign` takes no post of that page)
                 "\n".join(self.campaign if self.campaign and a else ""
                           for a in batch.assign[lo:hi]),
                 "\n".join(batch.requests[lo:hi]), "\n".join(batch.retrieved[lo:hi]),
                 CLIENT, summary.run_id,
                 f"{summary.run_id}-{summary.pages_new + summary.pages_seen}",
                 "\n".join(batch.payloads[lo:hi])])
        # the slices as rowids of batch_in (its rows are numbered in insertion order)
        first = scalar(con, "select min(rowid) from batch_in") or 0
        rowids = [(first + lo, first + hi) for lo, hi in slices]
        # --allow-forgotten first takes redacted pages out of raw.page_index (in the
        # transaction), which makes them new: then everything is done in the transaction
        parsed = not self.allow_forgotten
        segment = None
        if parsed and drop_known(con, "batch_in"):
            # the payloads' segment first, while DuckDB holds little else (a crash before
            # the commit leaves an unreferenced file, as one inside the transaction would)
            segment = write_segment(con, "batch_in")
            parsed_ok = False
            try:
                parse_batch(con, "batch_in", rowids)
                parsed_ok = True
            finally:
                if not parsed_ok:
                    _unlink_segment(con, segment)
        con.execute("begin transaction")
        try:
            result = store_batch_table(con, "batch_in", assign_campaign=self.campaign,
                                       slices=rowids, allow_forgotten=self.allow_forgotten,
                                       parsed=parsed, segment=segment)
            again = len(batch.quarantine) - ledger.quarantine_new(con, summary.run_id,
                                                                  batch.quarantine)
            seen = len(set(batch.page_ids)) - result.pages_new
            ledger.add_counts(con, summary.run_id, records=batch.records,
                              pages=result.pages_new, posts_new=result.posts_new,
                              duplicates=result.duplicates,
                              errors=len(batch.quarantine))
            ledger.add_members_done(con, summary.run_id, batch.members)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            _unlink_segment(con, segment)
            raise
        if segment is not None and result.segment != segment:   # redacted: not used
            _unlink_segment(con, segment)
        release(con, MERGE_SQL)   # the merge's temp tables, before the next batch is read in
        return result, seen, again

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
