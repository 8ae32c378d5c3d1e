"""Storing one batch of archive records: prepared outside its transaction, then committed.

Preparing (`prepare`) loads the batch's records into the temp table batch_in, drops the
pages already stored, writes the new pages' payloads to their segment and parses them into
the temp tables n_*. It touches only temporary tables and one new file, so it needs no
transaction. Committing (`commit`) is one transaction: the merge into norm.*, the pages'
provenance, the quarantine and the run's counters.

On a DuckDB file the import overlaps the two (`Overlap`): batch N+1 is prepared on a second
connection to the same database, in a thread, while batch N commits on the first (DuckDB
releases the GIL while it works). Temp tables belong to their connection, so each batch is
prepared and committed on the same one, and the connections take turns. A batch prepared
while the one before it was committing may hold pages that one stored: its commit looks
again and, if so, drops its prepared work and does everything in its transaction (the way a
collection run stores), so nothing is stored twice.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from ..config import Campaign
from ..store import ledger, segments
from ..store.db import scalar, sibling
from ..store.lake import is_lake
from ..store.load import _BATCH_IN, BatchResult, drop_known, store_batch_table, write_segment
from ..store.normalise import MERGE_SQL, parse_batch, release
from ..store.normalise import prepare as prepare_connection
from .batch import Batch

CLIENT = "tracker-import"


@dataclass
class Prepared:
    """A batch loaded and, where it had new pages, parsed, on connection `con`."""
    con: duckdb.DuckDBPyConnection
    rowids: list[tuple[int, int]]   # the parse's slices, as rowid ranges of batch_in
    parsed: bool                    # n_* hold the parse of batch_in's pages (the new ones)
    segment: str | None             # the new pages' payloads, written already
    committed: int                  # batches committed when it was prepared

    def discard(self) -> None:
        """Remove the segment unless a committed page refers to it (a batch that failed, was
        redone or was abandoned; an interrupt can come after its commit). Only while no
        transaction of the connection is open."""
        if self.segment is None:
            return
        name, self.segment = self.segment, None
        try:
            used = scalar(self.con, "select count(*) from raw.page_index where segment = ?",
                          [name])
        except duckdb.Error:   # cannot tell: kept; the next opening removes it if unused
            return
        if not used:
            segments.path_of(self.con, name).unlink(missing_ok=True)


def prepare(con: duckdb.DuckDBPyConnection, batch: Batch, *, run_id: str, batch_id: str,
            campaign: str | None, allow_forgotten: bool, slice_bytes: int,
            committed: int) -> Prepared:
    """Load `batch` into temp table batch_in on `con`; unless `allow_forgotten`, drop the
    pages already stored and, if any page is new, write their segment and parse them."""
    con.execute(_BATCH_IN)
    slices = batch.slices(slice_bytes)
    if not _load_from_file(con, batch, campaign, [CLIENT, run_id, batch_id]):
        for lo, hi in slices:
            _load_strings(con, batch, lo, hi, campaign, [CLIENT, run_id, batch_id])
    # the slices as rowids of batch_in (its rows are numbered in insertion order)
    first = scalar(con, "select min(rowid) from batch_in") or 0
    rowids = [(first + lo, first + hi) for lo, hi in slices]
    # --allow-forgotten first takes redacted pages out of raw.page_index (in the
    # transaction), which makes them new: then everything is done in the transaction
    prepared = Prepared(con, rowids, parsed=not allow_forgotten, segment=None,
                        committed=committed)
    if prepared.parsed and drop_known(con, "batch_in"):
        # the payloads' segment first, while DuckDB holds little else (a crash before the
        # commit leaves an unreferenced file, which the next opening of the warehouse removes)
        prepared.segment = write_segment(con, "batch_in")
        try:
            parse_batch(con, "batch_in", rowids)
        except BaseException:
            prepared.discard()
            raise
    return prepared


# Loading the batch: the columns of its records are joined into one string each, which
# DuckDB splits; the payloads, the bulk of it, are written to a file beside the segments
# and read by DuckDB's CSV reader (with no quote, escape or delimiter: one line, one value),
# about twice as fast as splitting a string of them. A payload never holds a line break
# (each is one line of JSON, or JSON the import wrote); one holding a carriage return,
# which the CSV reader takes for a line end, or one of more than LOAD_FILE_LINE bytes, is
# loaded from the string instead.
LOAD_FILE_LINE = 8 * 1024 * 1024
_META = """select unnest(c.ids) as page_id, unnest(c.formats) as format,
           unnest(c.platforms) as platform, 'import' as source,
           nullif(unnest(c.campaigns), '') as campaign, unnest(c.requests) as request,
           unnest(c.retrieved)::timestamptz as retrieved_at, $1 as client, $2 as load_id,
           $3 as batch_id, false as synthetic{payload}
    from (select string_split($4, chr(10)) as ids, string_split($5, chr(10)) as formats,
                 string_split($6, chr(10)) as platforms,
                 string_split($7, chr(10)) as campaigns,
                 string_split($8, chr(10)) as requests,
                 string_split($9, chr(10)) as retrieved{payloads}) c"""


def _columns(batch: Batch, lo: int, hi: int, campaign: str | None) -> list[str]:
    return ["\n".join(batch.page_ids[lo:hi]), "\n".join(batch.formats[lo:hi]),
            "\n".join(batch.platforms[lo:hi]),
            # the campaign of each page: none for a status kept by the campaign filter
            # only for the status it quotes (`--campaign` takes no post of that page)
            "\n".join(campaign if campaign and a else "" for a in batch.assign[lo:hi]),
            "\n".join(batch.requests[lo:hi]), "\n".join(batch.retrieved[lo:hi])]


def _load_strings(con: duckdb.DuckDBPyConnection, batch: Batch, lo: int, hi: int,
                  campaign: str | None, constants: list[str]) -> None:
    """Records [lo, hi) into batch_in, payloads too from one string (in slices: DuckDB
    holds a statement's whole input, up to 2,048 rows, at once)."""
    sql = _META.format(payload=", unnest(c.payloads)",
                       payloads=", string_split($10, chr(10)) as payloads")
    con.execute(f"insert into batch_in {sql}",
                [*constants, *_columns(batch, lo, hi, campaign),
                 "\n".join(batch.texts(lo, hi))])


def _load_from_file(con: duckdb.DuckDBPyConnection, batch: Batch, campaign: str | None,
                    constants: list[str]) -> bool:
    """All records into batch_in, the payloads through a file; False (nothing loaded) if a
    payload cannot go that way."""
    largest = max(map(len, batch.payloads), default=0)
    if not batch.payloads or largest > LOAD_FILE_LINE or \
            any(b"\r" in p for p in batch.payloads):
        return False
    path = segments.raw_dir(con) / f"load-{uuid.uuid4().hex}.tmp"   # a crash's: removed
    try:
        with open(path, "wb") as f:
            f.write(b"\n".join(batch.payloads))
            f.write(b"\n")
    except OSError:
        path.unlink(missing_ok=True)
        return False
    try:
        meta = _META.format(payload="", payloads="")
        con.execute(
            f"insert into batch_in select m.*, p.payload from ({meta}) m "
            "positional join read_csv($10, columns = {'payload': 'VARCHAR'}, delim = chr(1), "
            "quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n', "
            f"strict_mode = false, max_line_size = {LOAD_FILE_LINE}, "
            f"buffer_size = {2 * LOAD_FILE_LINE}) p",
            [*constants, *_columns(batch, 0, len(batch.payloads), campaign), str(path)])
    finally:
        path.unlink(missing_ok=True)
    return True


def commit(prepared: Prepared, batch: Batch, *, run_id: str, campaign: str | None,
           allow_forgotten: bool, stored: dict[int, frozenset[str]],
           committed: int) -> tuple[BatchResult, int, int]:
    """The prepared batch in one transaction on its connection: (what was stored, records
    already imported, bad records already in the quarantine). `committed`: batches
    committed by now; `stored`: the page ids of the batches committed, by their order of
    commit (at least those since this batch was prepared, else the warehouse is asked)."""
    con = prepared.con
    if prepared.parsed and prepared.segment is not None and committed != prepared.committed:
        since = [stored.get(i) for i in range(prepared.committed, committed)]
        if any(s is None for s in since):
            repeated = bool(scalar(con, "select count(*) from batch_in b where exists (select 1 "
                                     "from raw.page_index r where r.page_id = b.page_id)"))
        else:
            repeated = any(not s.isdisjoint(batch.page_ids) for s in since if s is not None)
        if repeated:
            # a page stored since: the parse and segment hold it, so store the batch anew
            prepared.discard()
            prepared.parsed = False
    con.execute("begin transaction")
    try:
        result = store_batch_table(con, "batch_in", assign_campaign=campaign,
                                   slices=prepared.rowids, allow_forgotten=allow_forgotten,
                                   parsed=prepared.parsed, segment=prepared.segment)
        again = len(batch.quarantine) - ledger.quarantine_new(con, run_id, batch.quarantine)
        seen = len(set(batch.page_ids)) - result.pages_new
        ledger.add_counts(con, run_id, records=batch.records, pages=result.pages_new,
                          posts_new=result.posts_new, duplicates=result.duplicates,
                          errors=len(batch.quarantine))
        ledger.add_members_done(con, run_id, batch.members)
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.Error):   # none open if Ctrl-C came after the commit
            con.execute("rollback")
        prepared.discard()   # unless the commit went through: then its pages refer to it
        raise
    if result.segment != prepared.segment:   # redacted, or no new page: not used
        prepared.discard()
    release(con, MERGE_SQL)   # the merge's temp tables, before the next batch is read in
    return result, seen, again


@dataclass
class Pending:
    """A batch being prepared on `con` by the overlap's thread."""
    batch: Batch
    con: duckdb.DuckDBPyConnection
    future: concurrent.futures.Future[Prepared]


def take(ahead: concurrent.futures.Future[Prepared] | None) -> Prepared | None:
    """The overlap's preparation of a batch, or None if there was none or it failed (it
    removed what it wrote; the batch is then prepared again where its errors are handled)."""
    if ahead is None:
        return None
    try:
        return ahead.result()
    except duckdb.Error:
        return None


def abandon(pending: list[Pending]) -> None:
    """The import stops: end the preparations under way and wait for them (their thread may
    be using the import's connection), then remove the segments no commit used."""
    for ahead in pending:
        ahead.con.interrupt()   # harmless on a connection that is idle
    for ahead in pending:
        try:
            prepared = ahead.future.result()
        except BaseException:   # interrupted, or failed: it removed what it wrote
            continue
        prepared.discard()


class Overlap:
    """A second connection and a thread that prepares the next batch on it while the
    current one commits (see the module's text). Only on a DuckDB file: a lake's session
    state (the attached catalog, its transactions) is per connection, and an in-memory
    warehouse's segment folder is too."""

    def __init__(self, con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign]) -> None:
        spare = sibling(con)
        self.connections = [con, spare]
        prepare_connection(spare, campaigns)   # the import's set-up, as on `con`
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="import-prep")
        self.turn = 0

    @staticmethod
    def usable(con: duckdb.DuckDBPyConnection) -> bool:
        return segments.database_path(con) not in ("", ":memory:") and not is_lake(con)

    def next_connection(self) -> duckdb.DuckDBPyConnection:
        con = self.connections[self.turn % 2]
        self.turn += 1
        return con

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        spare = self.connections[1]
        release(spare, MERGE_SQL)
        spare.close()
