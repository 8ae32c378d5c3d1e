"""One collection pass: source -> pages -> a sink, with one failure policy.

`tracker collect` and the daemon (`tracker run`) both run `run_pass`. They differ only in
where pages go (the `Sink`: the warehouse, with the cursor in the same transaction, or the
daemon's spool) and in when a pass runs (now, or on a schedule with backoff). What each fault
leaves in the ledger and on screen is decided here and nowhere else:

- the source stops early (rate limit, budget): its status and message, `resume_after`;
- a pass before an earlier run's `resume_after`: `deferred`, no request (`deferred_until`),
  with a message saying why and until when (`deferral_message`); `tracker collect --now`
  runs the source anyway;
- a `TrackerError` (refused credentials, missing credentials, server errors after retries,
  malformed bodies): `failed` with its one-line message, `errors` + 1;
- any other exception (a bug in a source): `failed` with `<ExceptionType>: <message>`;
  the other sources still run;
- a stop (Ctrl-C, the daemon stopping): `interrupted`; the unfinished batch is fetched again;
- a kill: the run stays `running` in the ledger until the next start of either command marks
  it `killed`; `tracker status` shows it as `killed` as soon as no process holds it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb

from . import credentials
from .config import Campaign, Config, SourceConfig
from .errors import TrackerError
from .pages import Gap, RawPage, RunLog
from .sources import build_source
from .store import ledger
from .store.ledger import LastRun
from .store.load import store_batch
from .store.normalise import prepare
from .timeutil import utcnow
from .urls import load_in_background

log = logging.getLogger("tracker.pipeline")

FAILED = "failed"
INTERRUPTED = "interrupted"
DEFERRED = "deferred"
INTERRUPTED_MESSAGE = ("stopped before the run finished; pages not yet stored are fetched "
                       "again next run")


class Stopped(Exception):
    """Raised between pages when the pass must stop: the unfinished batch is abandoned."""


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
    gaps: list[Gap] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=utcnow)

    def line(self) -> str:
        text = (f"{self.campaign}/{self.source}: {self.status}, {self.posts_new} new posts, "
                f"{self.duplicates} duplicates, {self.pages} pages, {self.requests} requests")
        if self.message:
            text += f" - {self.message}"
        return text


class Sink(Protocol):
    """Where a pass's pages and outcome go, and where it learns where to resume."""

    def last_run(self, campaign: str, source: str) -> LastRun | None: ...

    def cursor(self, campaign: str, source: str) -> Any: ...

    def start(self, run: RunSummary) -> None: ...

    def store(self, run: RunSummary, batch: list[RawPage]) -> None:
        """Keep the batch durably with its last page's cursor, then count it in `run`."""
        ...

    def finish(self, run: RunSummary, runlog: RunLog) -> None: ...


def batches(pages: Iterable[RawPage], batch_pages: int) -> Iterator[list[RawPage]]:
    """Group pages into batches of at least `batch_pages` (the last may be smaller).

    Pages that share a cursor are one unit: a batch never ends between them, so committing
    a batch with its last page's cursor never commits half of a unit. If `pages` raises,
    the incomplete batch is dropped (its cursor was never committed, so it is fetched again).
    """
    pending: list[RawPage] = []
    for page in pages:
        if pending and len(pending) >= batch_pages and page.cursor != pending[-1].cursor:
            yield pending
            pending = []
        pending.append(page)
    if pending:
        yield pending


def deferred_until(last: LastRun | None, now: dt.datetime) -> dt.datetime | None:
    """The one deferral rule: a source waits until the `resume_after` of its last finished
    run (a rate limit, a spent budget, or a deferral carrying them on), if still ahead."""
    if last is None or last.resume_after is None or last.resume_after <= now:
        return None
    return last.resume_after


_WHY = {"rate_limited": "rate limited", "budget": "stopped by the monthly request budget",
        FAILED: "failed"}


def deferral_message(last: LastRun, until: dt.datetime) -> str:
    """Why a deferred run did not run and until when: the run that set the wait, with its
    own message. A deferral after a deferral carries the same wait, so the same message."""
    if last.status == DEFERRED and last.message:
        return last.message
    why = _WHY.get(last.status, last.status)
    detail = f" ({last.message})" if last.message else ""
    return (f"skipped: the last run was {why}{detail}; it said to wait until "
            f"{until:%Y-%m-%d %H:%M:%S} UTC (`tracker collect --now` runs it anyway)")


def failure(exc: BaseException) -> tuple[str, str]:
    """The failure policy: (status, message) an exception out of a source leaves."""
    if isinstance(exc, Stopped | KeyboardInterrupt):
        return INTERRUPTED, INTERRUPTED_MESSAGE
    if isinstance(exc, TrackerError):
        return FAILED, str(exc)
    return FAILED, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def run_pass(sink: Sink, config: Config, campaign: Campaign, source_cfg: SourceConfig, *,
             batch_pages: int | None = None, stop: Callable[[], bool] | None = None,
             defer: bool = True) -> RunSummary:
    """One pass of one source: fetch from its cursor, hand batches to `sink`, record the end.

    Pages go to the sink in batches of `batch_pages` (default: the config's
    `daemon.batch_pages`, the same for both commands), each with its last page's cursor.
    With `defer` False the source runs even before an earlier run's `resume_after`.

    Never raises for a fault of the source (see the module's policy); a Ctrl-C is recorded
    as `interrupted`, then raised again.
    """
    run = RunSummary(ledger.new_run_id("collect"), campaign.name, source_cfg.name)
    runlog = RunLog()
    load_in_background()   # the link rules, for storing the pages, while the first is fetched
    sink.start(run)
    log.info("run started", extra={"event": "run_started", "run_id": run.run_id,
                                   "campaign": run.campaign, "source": run.source})
    reraise: BaseException | None = None
    try:
        last = sink.last_run(campaign.name, source_cfg.name)
        until = deferred_until(last, run.started_at) if defer else None
        if last is not None and until is not None:
            status: str | None = DEFERRED
            message: str | None = deferral_message(last, until)
            runlog.resume_after = until
        else:
            source = build_source(campaign, source_cfg, state_dir=config.warehouse.parent)
            pages = source.pages(sink.cursor(campaign.name, source_cfg.name), runlog)
            size = batch_pages or config.daemon.batch_pages
            for batch in batches(_until_stopped(pages, stop), size):
                sink.store(run, batch)
            status, message = runlog.status or "ok", runlog.message
    except (Exception, KeyboardInterrupt) as exc:
        status, message = failure(exc)
        if status == FAILED:
            runlog.errors += 1
        if not isinstance(exc, TrackerError | Stopped | KeyboardInterrupt):   # a bug: where
            log.debug("source raised", exc_info=True, extra={"event": "source_raised",
                                                             "run_id": run.run_id})
        if isinstance(exc, KeyboardInterrupt):
            reraise = exc
    run.status = status or "ok"
    run.message = credentials.redact(message) if message else None
    run.requests, run.errors = runlog.requests, runlog.errors
    run.resume_after, run.gaps = runlog.resume_after, list(runlog.gaps)
    sink.finish(run, runlog)
    if reraise is not None:
        raise reraise
    return run


def log_run(event: str, what: str, run: RunSummary) -> None:
    """One log line for a run's end (a failure as a warning); `event` says where it went."""
    log.log(logging.WARNING if run.status == FAILED else logging.INFO, what, extra={
        "event": event, "run_id": run.run_id, "campaign": run.campaign, "source": run.source,
        "status": run.status, "posts_new": run.posts_new, "pages": run.pages,
        "requests": run.requests, "detail": run.message, "resume_after": run.resume_after})


def _until_stopped(pages: Iterable[RawPage], stop: Callable[[], bool] | None
                   ) -> Iterator[RawPage]:
    for page in pages:
        if stop is not None and stop():
            raise Stopped
        yield page


class WarehouseSink:
    """`tracker collect`: each batch and its cursor committed to the warehouse at once."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def last_run(self, campaign: str, source: str) -> LastRun | None:
        return ledger.last_run(self.con, campaign, source)

    def cursor(self, campaign: str, source: str) -> Any:
        return ledger.get_cursor(self.con, campaign, source)

    def start(self, run: RunSummary) -> None:
        ledger.start_run(self.con, "collect", run.campaign, run.source, run_id=run.run_id,
                         started_at=run.started_at)

    def store(self, run: RunSummary, batch: list[RawPage]) -> None:
        result = store_batch(self.con, batch, run_id=run.run_id, source=run.source,
                             campaign=run.campaign, cursor=batch[-1].cursor, set_cursor=True)
        run.pages += result.pages_new
        run.posts_new += result.posts_new
        run.duplicates += result.duplicates

    def finish(self, run: RunSummary, runlog: RunLog) -> None:
        ledger.end_run(self.con, run.run_id, run.campaign, run.source, run.status,
                       run.message, runlog)
        log_run("run_finished", "run finished", run)


def collect(con: duckdb.DuckDBPyConnection, config: Config, campaign: str | None = None,
            source: str | None = None, *, batch_pages: int | None = None,
            on_run: Callable[[RunSummary], None] | None = None,
            now: bool = False) -> list[RunSummary]:
    """`tracker collect`: one pass of every configured (campaign, source), or of the one
    selected, into the warehouse. A source's failure is in its summary; the others run.
    With `now`, sources run even when an earlier run said to wait (`--now`)."""
    campaigns = [config.campaign(campaign)] if campaign else list(config.campaigns)
    chosen = [(c, c.source(source) if source else None) for c in campaigns]
    prepare(con, config.campaigns)
    if not daemon_running(config):     # else its runs in progress are not dead
        ledger.mark_killed(con, "collect")
    sink = WarehouseSink(con)
    out = []
    for c, only in chosen:
        for s in [only] if only else list(c.sources):
            summary = run_pass(sink, config, c, s, batch_pages=batch_pages, defer=not now)
            out.append(summary)
            if on_run:
                on_run(summary)
    return out


def failed_error(runs: list[RunSummary]) -> TrackerError | None:
    """The one error a pass ends with when sources failed (each is in the ledger)."""
    failed = [f"{r.campaign}/{r.source}" for r in runs if r.status == FAILED]
    if not failed:
        return None
    return TrackerError(f"{len(failed)} of {len(runs)} source(s) failed: {', '.join(failed)} "
                        "(the reasons are above and in ledger.runs)")


def daemon_running(config: Config) -> bool:
    from .daemon import lock_path
    from .daemon.lock import holder

    return holder(lock_path(config.warehouse)) is not None
