"""`tracker hydrate`: look up a published list of tweet ids and store the posts as matched
posts of a campaign.

Ids are asked 100 a request (tweepy `Client.get_tweets`, tracker.lookup.x): 10 requests per
1,000 ids. Each response page is stored through the one store path (raw.pages, normalised as
`x_v2_page`, the found posts assigned to the campaign) and, in the same transaction, every id
it answers is recorded in ledger.hydration: found, or why not (not_found, protected,
suspended, error) with the API's words. An id recorded there for the campaign is never asked
again, so a killed or rate-limited run is resumed by running the same command again.

Limits are the collector's: a 429 ends the run (`rate_limited`, resume_after from
x-rate-limit-reset) unless `wait`, which sleeps until the reset and goes on; the campaign's X
`monthly_budget` (tracker.lookup.budget) stops it with status `budget`. Each run is a row of
ledger.runs (kind `hydrate`, source `hydrate`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..config import Config
from ..pages import RunLog
from ..pipeline import DEFERRED, deferred_until, failure
from ..sources.retry import CallFailed, RateLimited
from ..store import ledger, lookups
from ..store.load import store_batch
from ..store.normalise import prepare
from ..timeutil import utcnow
from .budget import x_budget
from .ids import read_ids
from .x import FOUND, XLookup

KIND = SOURCE = "hydrate"
STATUSES = (FOUND, "not_found", "protected", "suspended", "error")


@dataclass
class HydrateSummary:
    run_id: str
    campaign: str
    status: str = "ok"
    ids: int = 0              # distinct ids in the input
    duplicates: int = 0       # ids given more than once (asked once)
    malformed: int = 0        # lines that hold no id (quarantined)
    before: int = 0           # ids answered by an earlier run (not asked again)
    asked: int = 0            # ids asked in this run
    answers: Counter = field(default_factory=Counter)   # status -> ids
    unanswered: int = 0       # asked, but neither returned nor reported: asked again next run
    requests: int = 0
    posts_new: int = 0
    message: str | None = None
    resume_after: dt.datetime | None = None

    def line(self) -> str:
        told = ", ".join(f"{self.answers[s]} {s.replace('_', ' ')}" for s in STATUSES
                         if self.answers[s])
        text = (f"{self.campaign}/hydrate: {self.status}, {self.ids} ids: {self.asked} asked "
                f"in {self.requests} requests ({told or 'none answered'}), {self.before} "
                f"answered before; {self.posts_new} new posts")
        skipped = [f"{n} {what}" for n, what in ((self.duplicates, "duplicate ids"),
                                                 (self.malformed, "malformed lines")) if n]
        if skipped:
            text += f"; skipped {' and '.join(skipped)}"
        if self.malformed:
            text += " (`tracker quarantine` lists the lines)"
        if self.unanswered:
            text += f"; {self.unanswered} ids not answered (asked again next run)"
        if self.message:
            text += f" - {self.message}"
        return text


def hydrate(con: duckdb.DuckDBPyConnection, config: Config, campaign: str, paths: list[Path],
            *, column: str | None = None, wait: bool = False, now: bool = False,
            budget: int | None = None, sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], dt.datetime] = utcnow,
            on_batch: Callable[[HydrateSummary], None] | None = None) -> HydrateSummary:
    """Hydrate the ids of `paths` for `campaign` (see the module). A Ctrl-C is recorded as
    `interrupted`, then raised again; other failures end the run with status `failed`."""
    camp = config.campaign(campaign)
    idlist = read_ids(paths, column)           # a missing or unreadable file: before a run
    prepare(con, config.campaigns)
    ledger.mark_killed(con, KIND)              # the warehouse's one writer: any left is dead
    run = HydrateSummary(ledger.new_run_id(KIND), camp.name, ids=len(idlist.ids),
                         duplicates=idlist.duplicates, malformed=len(idlist.malformed))
    ledger.start_run(con, KIND, camp.name, SOURCE, run_id=run.run_id, started_at=clock())
    runlog = RunLog()
    reraise: BaseException | None = None
    try:
        ledger.quarantine_new(con, run.run_id, [(o, n, why, raw)
                                                for o, n, why, raw in idlist.malformed])
        done = lookups.answered(con, "x", camp.name)
        pending = [i for i in idlist.ids if i not in done]
        run.before = len(idlist.ids) - len(pending)
        last = ledger.last_run(con, camp.name, SOURCE, kind=KIND)
        until = None if now else deferred_until(last, clock())
        if until is not None and not wait:
            runlog.status, runlog.resume_after = DEFERRED, until
            runlog.message = (f"skipped: X rate-limited an earlier hydrate run until "
                              f"{until:%Y-%m-%d %H:%M:%S} UTC (--wait waits, --now runs it "
                              "anyway)")
        else:
            if until is not None:
                sleep(max(0.0, (until - clock()).total_seconds()))
            if pending:
                _ask(con, camp.name, pending, run, runlog, wait=wait, budget=budget,
                     sleep=sleep, clock=clock, config=config, on_batch=on_batch)
    except (Exception, KeyboardInterrupt) as exc:
        runlog.status, runlog.message = failure(exc)
        runlog.errors += runlog.status == "failed"
        if isinstance(exc, KeyboardInterrupt):
            reraise = exc
    run.status = runlog.status or "ok"
    run.message, run.requests = runlog.message, runlog.requests
    run.resume_after = runlog.resume_after
    ledger.end_run(con, run.run_id, camp.name, SOURCE, run.status, _ledger_message(run),
                   runlog, ended_at=clock())
    if reraise is not None:
        raise reraise
    return run


def _ask(con: duckdb.DuckDBPyConnection, campaign: str, pending: list[str],
         run: HydrateSummary, runlog: RunLog, *, wait: bool, budget: int | None,
         sleep: Callable[[float], None], clock: Callable[[], dt.datetime], config: Config,
         on_batch: Callable[[HydrateSummary], None] | None) -> None:
    lookup = XLookup(f"tracker hydrate --campaign {campaign}", now=clock)
    camp = config.campaign(campaign)
    spend = x_budget(con, camp, clock(), budget)     # once: then counted here
    at = 0
    while at < len(pending):
        size = lookup.batch if spend.left is None else min(lookup.batch, spend.left)
        if size <= 0:
            runlog.status, runlog.message = "budget", spend.message()
            return
        chunk = pending[at:at + size]
        try:
            page, answers = lookup.lookup(chunk, runlog)
        except RateLimited as exc:
            if not wait:
                exc.apply(runlog)
                return
            runlog.rate_limit_waits += 1
            sleep(max(0.0, (exc.resume_after - clock()).total_seconds()))
            continue
        except CallFailed as exc:
            exc.apply(runlog)
            return
        rows = [(pid, status, reason) for pid, (status, reason) in answers.items()]

        def record(c: duckdb.DuckDBPyConnection, rows: list[lookups.Answer] = rows) -> None:
            lookups.record_hydration(c, run.run_id, "x", campaign, rows)

        result = store_batch(con, [page], run_id=run.run_id, source=SOURCE, campaign=campaign,
                             assign_campaign=campaign, also=record)
        run.asked += len(chunk)
        run.answers.update(status for _, status, _ in rows)
        spend.read += sum(status == FOUND for _, status, _ in rows)
        run.unanswered += len(chunk) - len(rows)
        run.posts_new += result.posts_new
        run.requests = runlog.requests
        at += len(chunk)
        if on_batch is not None:
            on_batch(run)


def _ledger_message(run: HydrateSummary) -> str:
    """The run's line without the campaign, for ledger.runs.message."""
    return run.line().split(": ", 1)[1]
