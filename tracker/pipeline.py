"""One collection pass: source -> raw pages -> warehouse, with the cursor in the same transaction.

Fetching (the source) and saving (`store.load`) stay separate; this module joins them and
writes the run to the ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import duckdb

from . import credentials
from .config import Campaign, Config, SourceConfig
from .errors import TrackerError
from .sources import build_source
from .sources.base import RawPage, RunLog
from .store import ledger
from .store.load import store_batch
from .store.normalise import prepare

log = logging.getLogger("tracker.pipeline")


@dataclass
class RunSummary:
    run_id: str
    campaign: str
    source: str
    status: str = "ok"
    pages: int = 0
    posts_new: int = 0
    duplicates: int = 0
    requests: int = 0
    errors: int = 0
    message: str | None = None
    resume_after: dt.datetime | None = None
    gaps: list = field(default_factory=list)

    def line(self) -> str:
        text = (f"{self.campaign}/{self.source}: {self.status}, {self.posts_new} new posts, "
                f"{self.duplicates} duplicates, {self.pages} pages, {self.requests} requests")
        if self.message:
            text += f" - {self.message}"
        return text


def batches(pages: Iterable[RawPage], batch_pages: int) -> Iterator[list[RawPage]]:
    """Group pages into batches of at least `batch_pages` (the last may be smaller).

    Pages that share a cursor are one unit: a batch never ends between them, so committing
    a batch with its last page's cursor never commits half of a unit. If `pages` raises,
    the incomplete batch is dropped (its cursor was never committed, so it is fetched again).
    Used by `collect_source` and by the daemon's collectors.
    """
    pending: list[RawPage] = []
    for page in pages:
        if pending and len(pending) >= batch_pages and page.cursor != pending[-1].cursor:
            yield pending
            pending = []
        pending.append(page)
    if pending:
        yield pending


def collect_source(con: duckdb.DuckDBPyConnection, config: Config, campaign: Campaign,
                   source_cfg: SourceConfig, *, batch_pages: int = 1) -> RunSummary:
    """Run one pass of one source for one campaign and record it in the ledger."""
    prepare(con, config.campaigns)
    run_id = ledger.start_run(con, "collect", campaign.name, source_cfg.name)
    summary = RunSummary(run_id, campaign.name, source_cfg.name)
    runlog = RunLog()
    try:
        deferred = _deferred_until(con, campaign.name, source_cfg.name, run_id)
        if deferred is not None:
            summary.status, summary.message = "deferred", (
                f"rate limited earlier; skipped until {deferred:%Y-%m-%d %H:%M:%S} UTC")
            runlog.resume_after = deferred
            _finish(con, summary, runlog, summary.status, summary.message)
            return summary
        source = build_source(campaign, source_cfg, state_dir=config.warehouse.parent)
        cursor = ledger.get_cursor(con, campaign.name, source_cfg.name)
        for batch in batches(source.pages(cursor, runlog), batch_pages):
            result = store_batch(con, batch, run_id=run_id, source=source_cfg.name,
                                 campaign=campaign.name, cursor=batch[-1].cursor,
                                 set_cursor=True)
            summary.pages += result.pages_new
            summary.posts_new += result.posts_new
            summary.duplicates += result.duplicates
        summary.status = runlog.status or "ok"
        summary.message = runlog.message
    except TrackerError as exc:
        summary.status = "failed"
        summary.message = str(exc)
        runlog.errors += 1
    except BaseException:
        _finish(con, summary, runlog, "interrupted", "stopped before the run finished")
        raise
    _finish(con, summary, runlog, summary.status, summary.message)
    return summary


def _deferred_until(con: duckdb.DuckDBPyConnection, campaign: str, source: str,
                    run_id: str) -> dt.datetime | None:
    """The resume time of the latest finished run of this source, if still in the future."""
    row = con.execute(
        "select resume_after from ledger.runs where campaign = ? and source = ? and run_id <> ? "
        "and status <> 'running' order by started_at desc limit 1",
        [campaign, source, run_id]).fetchone()
    at = ledger.as_utc(row[0]) if row and row[0] else None
    return at if at is not None and at > dt.datetime.now(dt.UTC) else None


def _finish(con: duckdb.DuckDBPyConnection, summary: RunSummary, runlog: RunLog, status: str,
            message: str | None) -> None:
    message = credentials.redact(message) if message else message
    summary.message = message
    summary.requests = runlog.requests
    summary.errors = runlog.errors
    summary.resume_after = runlog.resume_after
    summary.gaps = list(runlog.gaps)
    ledger.add_gaps(con, summary.run_id, summary.campaign, summary.source, runlog.gaps)
    for origin, reason, raw in runlog.quarantine:
        ledger.quarantine(con, summary.run_id, origin, None, reason, raw)
    ledger.finish_run(con, summary.run_id, status, requests=runlog.requests,
                      errors=runlog.errors, rate_limit_waits=runlog.rate_limit_waits,
                      resume_after=runlog.resume_after, message=message)
    log.info("run finished", extra={"event": "run_finished", "run_id": summary.run_id,
                                    "campaign": summary.campaign, "source": summary.source,
                                    "status": status, "posts_new": summary.posts_new})


# Public name for the daemon's loader, which records runs it reads back from the spool.
record_run_end = _finish


def collect(con: duckdb.DuckDBPyConnection, config: Config, campaign: str | None = None,
            source: str | None = None, *, batch_pages: int = 1,
            on_run: Callable[[RunSummary], None] | None = None) -> list[RunSummary]:
    """One pass of every configured (campaign, source), or of the one selected."""
    campaigns = [config.campaign(campaign)] if campaign else list(config.campaigns)
    out = []
    for c in campaigns:
        sources = [c.source(source)] if source else list(c.sources)
        for s in sources:
            summary = collect_source(con, config, c, s, batch_pages=batch_pages)
            out.append(summary)
            if on_run:
                on_run(summary)
    return out
