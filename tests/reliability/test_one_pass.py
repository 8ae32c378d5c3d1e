"""One failure policy: `tracker collect` and `tracker run` record each fault the same way.

Every case of the table runs through both commands, each on its own warehouse: `tracker
collect` (pages straight into the warehouse) and `tracker run --once` (the daemon's path:
pages into the spool, then the loader). The campaign has a real X source (tweepy, HTTP
mocked with `responses`, recorded pages) that meets the fault and a healthy simulated
source. Both commands must leave the same ledger rows, print the same run lines and exit
with the same status; the expected outcome of each fault is written out here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from tracker import pipeline
from tracker.cli import cli
from tracker.sources import retry
from tracker.sources import x as x_source
from tracker.store.db import connect

from .. import test_source_x as xs
from ..conftest import write_config

pytestmark = pytest.mark.reliability

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)   # the X source's clock, held still
# the reset X announces; NOW is read when the module is imported, and the deferral is judged
# by the real clock when a run starts: with the suite in parallel workers a test can start
# more than 10 minutes after its module was imported (it did, 2026-12-07), so a reset 10
# minutes ahead had passed and the second pass was not deferred
RESET = NOW + dt.timedelta(hours=2)
ERROR_BODY = json.dumps({"title": "fault"}).encode()
PAGE1_TWEETS = len(json.loads(xs.PAGE1)["data"])
SIMULATED_POSTS = 40        # the healthy source's `posts` in xs.CONFIG
COMMANDS = {"collect": ["collect"], "run": ["run", "--once"]}


class SourceBug(Exception):
    """Stands for a programming error inside a source (not a TrackerError)."""


@dataclass
class Fault:
    pages: dict                     # next_token -> FakeX.page arguments
    status: str                     # the X source's run status
    message: str                    # a phrase its message contains
    exit_code: int
    x_pages: int                    # pages of X stored before the fault
    requests: int
    errors: int = 1                 # failed attempts the source counted
    bug: bool = False               # the source raises SourceBug after its pages
    token: bool = True              # X_BEARER_TOKEN is set
    resume_after: dt.datetime | None = None
    rate_limit_waits: int = 0
    env: dict = field(default_factory=dict)


FAULTS = {
    "429 with reset": Fault(
        {None: (xs.PAGE1,), xs.PAGE1_NEXT: (ERROR_BODY, 429, {
            "x-rate-limit-reset": str(int(RESET.timestamp()))})},
        "rate_limited", f"resumes after {RESET:%Y-%m-%d %H:%M:%S} UTC", 0, 1, 2, errors=0,
        resume_after=RESET, rate_limit_waits=1),
    "401 refused token": Fault(
        {None: (ERROR_BODY, 401)}, "failed",
        "X_BEARER_TOKEN was refused by the X API (401 Unauthorized)", 1, 0, 1),
    "503 server error": Fault(
        {None: (xs.PAGE1,), xs.PAGE1_NEXT: (b"", 503)}, "failed",
        "server error 503 (gave up after 3 attempts)", 1, 1, 4, errors=3),
    "unexpected exception": Fault(
        {None: (xs.PAGE1,), xs.PAGE1_NEXT: (xs.PAGE2,)}, "failed",
        "SourceBug: no 'id' in the second page", 1, 0, 2, bug=True),
    "missing credentials": Fault(
        {}, "failed", "X_BEARER_TOKEN is not set (needed by source 'x' of campaign 'aleppo')",
        1, 0, 0, token=False),
}


class BuggySource:
    """The real X source, except that it raises a non-tracker exception after its pages
    (so the batch of the pages before is abandoned, as with any exception)."""

    def __init__(self, inner):
        self.inner = inner

    def pages(self, cursor, log):
        yield from self.inner.pages(cursor, log)
        raise SourceBug("no 'id' in the second page")


def ledger_rows(warehouse: Path) -> dict:
    """What a run leaves, without what differs by nature (run ids and times)."""
    con = connect(warehouse, read_only=True)
    try:
        q = {
            "runs": "select source, status, message, requests, pages, records, posts_new, "
                    "duplicates, errors, rate_limit_waits, resume_after from ledger.runs "
                    "order by source, started_at",
            "cursors": "select source, cursor from ledger.cursors order by source",
            "gaps": "select source, gap_start, gap_end, reason from ledger.gaps order by all",
            "quarantine": "select origin, reason from ledger.quarantine order by all",
            "posts": "select platform, count(*) from norm.posts group by all order by all",
        }
        return {k: con.execute(sql).fetchall() for k, sql in q.items()}
    finally:
        con.close()


def run_command(tmp_path: Path, monkeypatch, fault: Fault, command: str, passes: int = 1):
    """Run `command` `passes` times on a fresh project meeting `fault`: (results, ledger)."""
    project = tmp_path / command
    project.mkdir()
    config = write_config(project, xs.CONFIG.format(endpoint="recent", extra="",
                                                    start="2022-10-06"))
    if fault.token:
        monkeypatch.setenv("X_BEARER_TOKEN", "test-bearer-token")
    else:
        monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    real_build = pipeline.build_source
    if fault.bug:
        def build(campaign, cfg, **kwargs):
            source = real_build(campaign, cfg, **kwargs)
            return BuggySource(source) if cfg.type == "x" else source
        monkeypatch.setattr(pipeline, "build_source", build)
    results = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = xs.FakeX(mock)
        for token, answer in fault.pages.items():
            fake.page(token, *answer)
        for _ in range(passes):
            results.append(CliRunner().invoke(cli, ["--config", str(config),
                                                    *COMMANDS[command]]))
    monkeypatch.setattr(pipeline, "build_source", real_build)
    return results, ledger_rows(project / "wh" / "tracker.duckdb")


@pytest.fixture(autouse=True)
def still_clock(monkeypatch):
    monkeypatch.setattr(retry, "backoff_sleep", lambda s: None)
    monkeypatch.setattr(x_source, "utcnow", lambda: NOW)   # the same windows in both runs


def run_lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("aleppo/")]


@pytest.mark.parametrize("name", FAULTS)
def test_collect_and_run_record_each_fault_the_same(tmp_path, monkeypatch, name):
    fault = FAULTS[name]
    out = {c: run_command(tmp_path, monkeypatch, fault, c) for c in COMMANDS}
    (collected,), collect_ledger = out["collect"]
    (ran,), run_ledger = out["run"]

    for result in (collected, ran):
        # the command ended by itself: no exception escaped, one Error line at most
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        assert result.exit_code == fault.exit_code, result.output
        assert "Traceback" not in result.output
        errors = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
        assert errors == (["Error: 1 of 2 source(s) failed: aleppo/x (the reasons are above "
                           "and in ledger.runs)"] if fault.exit_code else [])
    assert run_lines(collected) == run_lines(ran)
    assert collect_ledger == run_ledger

    runs = {r[0]: r for r in collect_ledger["runs"]}
    assert set(runs) == {"x", "simulated-mastodon"}
    (_, status, message, requests, pages, records, posts_new, duplicates, errors,
     waits, resume_after) = runs["x"]
    assert status == fault.status
    assert fault.message in message, message
    assert (requests, pages, records) == (fault.requests, fault.x_pages, fault.x_pages)
    assert errors == fault.errors
    assert waits == fault.rate_limit_waits
    assert resume_after == fault.resume_after
    x_posts = dict(collect_ledger["posts"]).get("x", 0)
    assert x_posts >= PAGE1_TWEETS * fault.x_pages     # plus the posts the page refers to
    assert posts_new == x_posts and duplicates == 0
    cursors = dict(collect_ledger["cursors"])
    assert ("x" in cursors) == (fault.x_pages > 0)     # a cursor only with stored pages
    # the other source still ran, in full
    other = runs["simulated-mastodon"]
    assert other[1:3] == ("ok", None) and other[6] == SIMULATED_POSTS


def test_a_pass_before_resume_after_is_deferred_the_same_way(tmp_path, monkeypatch):
    fault = FAULTS["429 with reset"]
    out = {c: run_command(tmp_path, monkeypatch, fault, c, passes=2) for c in COMMANDS}
    assert out["collect"][1] == out["run"][1]
    assert [r.exit_code for r in out["collect"][0]] == [r.exit_code for r in out["run"][0]] \
        == [0, 0]
    x_runs = [r for r in out["collect"][1]["runs"] if r[0] == "x"]
    assert [r[1] for r in x_runs] == ["rate_limited", "deferred"]
    deferred = x_runs[1]
    assert deferred[3] == 0 and deferred[10] == RESET      # no request; still waits
    assert f"wait until {RESET:%Y-%m-%d %H:%M:%S} UTC" in deferred[2]


def test_collect_marks_runs_of_a_killed_collect_killed(sim_config):
    cfg = sim_config(x_posts=50)
    con = connect(cfg.warehouse)
    pipeline.prepare(con, cfg.campaigns)
    left = pipeline.ledger.start_run(con, "collect", "aleppo", "simulated-x")  # then killed
    con.close()
    result = CliRunner().invoke(cli, ["--config", str(cfg.path), "collect"])
    assert result.exit_code == 0, result.output
    con = connect(cfg.warehouse, read_only=True)
    status, message = con.execute("select status, message from ledger.runs where run_id = ?",
                                  [left]).fetchone()
    con.close()
    assert status == "killed" and "stopped before the run finished" in message
