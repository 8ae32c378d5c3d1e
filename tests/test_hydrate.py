"""`tracker hydrate`: tweet ids looked up through tweepy's real request path (HTTP mocked with
`responses`), answered from real recorded tweets and the API's real problem shapes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import responses
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config import load_config
from tracker.lookup.hydrate import hydrate
from tracker.lookup.ids import read_ids
from tracker.sources import retry
from tracker.store.db import connect

from .conftest import ROOT, write_config
from .test_source_x import ASKED
from .test_source_x import asked as fields_asked
from .x_lookup import FakeLookup, recorded_pool

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning"]
[[campaigns.sources]]
type = "x"
{budget}
"""
POOL = recorded_pool()
FOUND = sorted(POOL)   # the ids X returns (real recorded tweets)


class Killed(BaseException):
    """Stands for the process dying mid-request: nothing after it runs."""


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", "test-bearer-token")
    monkeypatch.setattr(retry, "backoff_sleep", lambda s: None)

    def make(budget: str = ""):
        cfg = load_config(write_config(tmp_path, CONFIG.format(budget=budget)))
        return cfg, connect(cfg.warehouse)
    return make


def ids_file(tmp_path, lines, name="ids.txt"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@responses.activate
def test_hydrate_stores_found_posts_and_records_why_the_others_are_missing(env, tmp_path):
    cfg, con = env()
    x = FakeLookup(responses.mock, POOL)
    gone, prot, susp = "1000000000000000001", "1000000000000000002", "1000000000000000003"
    x.protected_ids, x.suspended_ids = {prot}, {susp}
    lines = ["tweet_id", *FOUND[:5], gone, "", prot, susp, FOUND[0], "not-an-id",
             f"https://twitter.com/someone/status/{FOUND[5]}"]
    run = hydrate(con, cfg, "aleppo", [ids_file(tmp_path, lines)])

    asked = [*FOUND[:5], gone, prot, susp, FOUND[5]]
    assert x.asked == [asked]                                  # one request, each id once
    call = x.calls[0]
    # the search's expansions and fields: media, places, edit history, long posts come whole
    assert fields_asked(call) == ASKED
    assert (run.status, run.requests, run.asked, run.duplicates, run.malformed) == \
        ("ok", 1, 9, 1, 1)
    assert dict(run.answers) == {"found": 6, "not_found": 1, "protected": 1, "suspended": 1}

    # the found posts: stored, matched, members of the campaign
    found = set(FOUND[:6])
    stored = {r[0] for r in con.execute(
        "select post_id from norm.campaign_posts where campaign = 'aleppo'").fetchall()}
    versions = {r[0] for r in con.execute(
        "select version_id from norm.posts where matched and post_id in "
        "(select post_id from norm.campaign_posts)").fetchall()}
    assert versions == found and len(stored) == 6
    # the page as received, errors included, through the one store path
    (payload,) = con.execute("select payload from raw.pages where source = 'hydrate'"
                             ).fetchone()
    assert {e["resource_id"] for e in json.loads(payload)["errors"]} == {gone, prot, susp}
    # why the others are missing, in the API's words
    rows = dict((pid, (status, reason)) for pid, status, reason in con.execute(
        "select post_id, status, reason from ledger.hydration where status <> 'found'"
    ).fetchall())
    assert rows == {
        gone: ("not_found", f"Not Found Error: Could not find tweet with ids: [{gone}]."),
        prot: ("protected", "Authorization Error: Sorry, you are not authorized to see the "
                            f"Tweet with ids: [{prot}]."),
        susp: ("suspended", f"Forbidden: User has been suspended: [{susp}]."),
    }
    # the run in the ledger like a collection run; the malformed line in quarantine
    kind, source, status, requests, posts_new = con.execute(
        "select kind, source, status, requests, posts_new from ledger.runs").fetchone()
    assert (kind, source, status, requests) == ("hydrate", "hydrate", "ok", 1)
    assert posts_new == run.posts_new > 0
    assert con.execute("select line, raw from ledger.quarantine").fetchall() == \
        [(lines.index("not-an-id") + 1, "not-an-id")]
    con.close()


@responses.activate
def test_a_thousand_ids_take_ten_requests_and_a_second_run_asks_none(env, tmp_path):
    cfg, con = env()
    x = FakeLookup(responses.mock, POOL)
    ids = [str(1_200_000_000_000_000_000 + i) for i in range(1000)]
    path = ids_file(tmp_path, ids)
    run = hydrate(con, cfg, "aleppo", [path])
    assert run.requests == len(x.calls) == 10                  # 100 ids a request
    assert sorted(sum(x.asked, [])) == sorted(ids)
    assert run.answers["not_found"] == 1000
    again = hydrate(con, cfg, "aleppo", [path])
    assert (again.requests, again.before, len(x.calls)) == (0, 1000, 10)
    con.close()


@responses.activate
def test_rate_limit_stops_with_the_reset_time_and_the_next_run_resumes(env, tmp_path):
    cfg, con = env()
    x = FakeLookup(responses.mock, POOL)
    reset = int(dt.datetime.now(dt.UTC).timestamp()) + 600
    x.fail[2] = (429, {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
                 b'{"title":"Too Many Requests","detail":"Too Many Requests","type":'
                 b'"about:blank","status":429}')
    ids = [str(1_300_000_000_000_000_000 + i) for i in range(250)]
    path = ids_file(tmp_path, ids)
    run = hydrate(con, cfg, "aleppo", [path])
    assert run.status == "rate_limited" and run.asked == 100
    assert run.resume_after == dt.datetime.fromtimestamp(reset, dt.UTC)
    assert con.execute("select status, resume_after, rate_limit_waits from ledger.runs"
                       ).fetchone() == ("rate_limited", run.resume_after, 1)

    deferred = hydrate(con, cfg, "aleppo", [path])             # before the reset: no request
    assert deferred.status == "deferred" and len(x.calls) == 2
    resumed = hydrate(con, cfg, "aleppo", [path], now=True)
    assert resumed.status == "ok" and resumed.before == 100
    assert x.asked[2:] == [ids[100:200], ids[200:]]            # none asked twice
    con.close()


@responses.activate
def test_wait_sleeps_until_the_reset_then_goes_on(env, tmp_path):
    cfg, con = env()
    x = FakeLookup(responses.mock, POOL)
    now = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
    x.fail[1] = (429, {"x-rate-limit-reset": str(int(now.timestamp()) + 90)}, b"{}")
    slept: list[float] = []
    run = hydrate(con, cfg, "aleppo", [ids_file(tmp_path, FOUND[:3])], wait=True,
                  sleep=slept.append, clock=lambda: now)
    assert slept == [90.0] and run.status == "ok" and run.answers["found"] == 3
    assert x.asked == [FOUND[:3], FOUND[:3]]
    con.close()


@responses.activate
def test_killed_mid_run_resumes_without_asking_answered_ids_again(env, tmp_path):
    cfg, con = env()
    x = FakeLookup(responses.mock, POOL)
    x.fail[3] = Killed()
    ids = FOUND + [str(1_400_000_000_000_000_000 + i) for i in range(400 - len(FOUND))]
    path = ids_file(tmp_path, ids)
    with pytest.raises(Killed):
        hydrate(con, cfg, "aleppo", [path])
    con.close()
    assert len(x.calls) == 3
    answered_first = set(sum(x.asked[:2], []))                 # the two committed batches

    con = connect(cfg.warehouse)
    run = hydrate(con, cfg, "aleppo", [path])
    second = sum(x.asked[3:], [])
    assert not answered_first & set(second)                    # no answered id asked again
    assert sorted(second) == sorted(set(ids) - answered_first)
    assert len(x.calls) - 3 == 2 == run.requests
    statuses = dict(con.execute("select status, count(*) from ledger.runs group by all"
                                ).fetchall())
    assert statuses == {"killed": 1, "ok": 1}
    assert con.execute("select count(*), count(distinct post_id) from ledger.hydration"
                       ).fetchone() == (400, 400)
    assert con.execute("select count(*) from norm.campaign_posts").fetchone()[0] == \
        len({p for p in FOUND})
    con.close()


@responses.activate
def test_budget_caps_what_is_asked(env, tmp_path):
    cfg, con = env(budget="monthly_budget = 12")
    x = FakeLookup(responses.mock, POOL)
    run = hydrate(con, cfg, "aleppo", [ids_file(tmp_path, FOUND[:12] + FOUND[12:15])])
    assert x.asked == [FOUND[:12]]                 # 12 found spend the budget
    assert run.status == "budget" and "monthly budget of 12 posts reached" in run.message
    con.close()


def test_csv_column_is_found_by_its_header_or_named(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("created_at,Tweet_ID,text\n2016-04-28,716,\"a, b\"\n2016-04-28,x9,c\n"
                    ",,\n2016-04-29,0717,d\n", encoding="utf-8")
    got = read_ids([path])
    assert got.ids == ["716", "717"] and [m[1] for m in got.malformed] == [3]
    other = tmp_path / "other.tsv"
    other.write_text("when,status\n1,42\n", encoding="utf-8")
    assert read_ids([other], column="status").ids == ["42"]


def test_bad_input_is_one_line_error(env, tmp_path):
    cfg, con = env()
    con.close()
    (tmp_path / "set.csv").write_text("created_at,text\n1,2\n", encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(cli, ["--config", str(cfg.path), "hydrate", str(tmp_path / "set.csv"),
                              "--campaign", "aleppo"])
    assert out.exit_code == 1
    assert out.output.strip().splitlines() == [
        f"Error: {tmp_path / 'set.csv'}: no column 'id' or 'tweet_id' in the header line "
        "(created_at, text); give --column NAME"]
    out = runner.invoke(cli, ["--config", str(cfg.path), "hydrate", str(tmp_path / "no.txt"),
                              "--campaign", "aleppo"])
    assert out.exit_code == 1 and "no.txt: no such file" in out.output


# `tracker hydrate` in a process that kills itself (SIGKILL) inside the store transaction of
# its KILL_AT-th answered request: the page and its answers are written, not committed.
KILL_DRIVER = textwrap.dedent("""
    import os, signal, sys
    import responses
    from tests.x_lookup import FakeLookup, recorded_pool
    from tracker.store import lookups
    from tracker.cli import main
    kill_at, seen = int(os.environ["KILL_AT"]), [0]
    record = lookups.record_hydration
    def record_hydration(*a, **k):
        record(*a, **k)
        seen[0] += 1
        if seen[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    lookups.record_hydration = record_hydration
    with responses.RequestsMock() as rsps:
        FakeLookup(rsps, recorded_pool())
        sys.argv = ["tracker", "--config", sys.argv[1], "hydrate", sys.argv[2],
                    "--campaign", "aleppo"]
        main()
""")


@responses.activate
def test_sigkill_inside_a_batch_loses_only_that_batch(env, tmp_path):
    cfg, con = env()
    con.close()
    ids = FOUND + [str(1_600_000_000_000_000_000 + i) for i in range(500 - len(FOUND))]
    path = ids_file(tmp_path, ids)
    proc = subprocess.run([sys.executable, "-c", KILL_DRIVER, str(cfg.path), str(path)],
                          env=dict(os.environ, KILL_AT="3", PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    con = connect(cfg.warehouse)
    assert con.execute("select count(*) from ledger.hydration").fetchone() == (200,)
    x = FakeLookup(responses.mock, POOL)
    run = hydrate(con, cfg, "aleppo", [path])
    assert x.asked == [ids[200:300], ids[300:400], ids[400:]]  # the killed batch, then the rest
    assert (run.before, run.requests) == (200, 3)
    assert con.execute("select count(*), count(distinct post_id) from ledger.hydration"
                       ).fetchone() == (500, 500)
    assert con.execute("select count(*), count(distinct payload) from raw.pages").fetchone() \
        == (5, 5)
    assert con.execute("select count(distinct version_id) from norm.posts where matched"
                       ).fetchone() == (len(FOUND),)
    assert con.execute("select status from ledger.runs order by started_at").fetchall() == \
        [("killed",), ("ok",)]
    con.close()
