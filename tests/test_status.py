"""`tracker status`: per source outcome, counts, lag; exit code 2 when a source is failing."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from click.testing import CliRunner

from tracker.cli import cli
from tracker.pipeline import collect
from tracker.store import ledger
from tracker.store.db import connect
from tracker.timeutil import iso, utcnow

from .conftest import open_warehouse
from .test_daemon import HARNESS, Daemon, cursors, env, query, wait_for, write


def run_status(cfg, *args):
    return CliRunner().invoke(cli, ["--config", str(cfg.path), "status", *args])


def status_cli(config, *args: str) -> subprocess.CompletedProcess:
    """`tracker status` as its own process (as a user or a monitor runs it)."""
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config),
                           "status", *args], capture_output=True, text=True, env=env(),
                          timeout=120)


def table_rows(text: str) -> dict[str, list[str]]:
    """The status table's rows by source: the cells, split on runs of two spaces."""
    import re

    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("campaign"))
    return {cells[1]: cells for line in lines[head + 2:]
            if len(cells := re.split(r"\s{2,}", line.strip())) > 2}


def test_status_before_anything_ran(sim_config, backend):
    cfg = sim_config(backend=backend)
    out = run_status(cfg)
    assert out.exit_code == 0, out.output
    assert "daemon: not running" in out.output
    assert "aleppo    simulated-x" in out.output and "never" in out.output


def test_status_counts_and_exit_code_for_a_failing_source(sim_config, backend):
    cfg = sim_config(x_posts=300, backend=backend)
    con = open_warehouse(cfg)
    collect(con, cfg)
    run = ledger.start_run(con, "collect", "aleppo", "simulated-bluesky")
    ledger.finish_run(con, run, "failed", errors=1, message="bluesky: HTTP 503 (retry in 60s)")
    con.close()

    out = run_status(cfg, "--json")
    assert out.exit_code == 2
    data = json.loads(out.output)
    assert data["failing"] == ["aleppo/simulated-bluesky"]
    by = {s["source"]: s for s in data["sources"]}
    assert by["simulated-x"]["posts_total"] == 300 and by["simulated-x"]["posts_24h"] == 300
    assert by["simulated-x"]["outcome"] == "ok" and not by["simulated-x"]["failing"]
    assert 0 <= by["simulated-x"]["lag_seconds"] < 60
    assert by["simulated-bluesky"]["outcome"] == "failed"
    assert by["simulated-bluesky"]["last_error"] == "bluesky: HTTP 503 (retry in 60s)"
    assert data["warehouse"]["bytes"] > 0 and data["daemon"]["running"] is False

    text = run_status(cfg)
    assert text.exit_code == 2
    assert "FAILING: aleppo/simulated-bluesky" in text.output
    assert "HTTP 503" in text.output

    con = open_warehouse(cfg)        # the source recovers: status is healthy again
    collect(con, cfg, source="simulated-bluesky")
    con.close()
    assert run_status(cfg).exit_code == 0


def test_status_help_has_an_example():
    out = CliRunner().invoke(cli, ["status", "--help"])
    assert out.exit_code == 0 and "Example: tracker status" in out.output
    out = CliRunner().invoke(cli, ["run", "--help"])
    assert out.exit_code == 0 and "Example: tracker" in out.output


def test_rejected_spool_entries_make_status_fail(sim_config, backend):
    cfg = sim_config(backend=backend)
    (cfg.spool / "rejected").mkdir(parents=True)
    (cfg.spool / "rejected" / "000000000001-batch.jsonl").write_text("{}\n")
    out = run_status(cfg)
    assert out.exit_code == 2
    assert "FAILING: spool: 1 rejected entries in" in out.output


# --- runs whose process is gone ---------------------------------------------------------------
def test_a_killed_collect_shows_as_killed_at_once_and_fails_until_it_works(tmp_path):
    # A source that hangs (its first page takes 30 s) and is killed: it has never worked.
    cfg = write(tmp_path, x_posts=600, x_per_run=600)
    proc = subprocess.Popen([sys.executable, str(HARNESS), "--config", str(cfg), "collect",
                             "--source", "simulated-x"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env(HARNESS_PAGE_DELAY="30"))
    for line in proc.stderr:                      # the run is in the ledger
        if b'"run_started"' in line:
            break
    proc.kill()
    proc.wait(10)

    out = status_cli(cfg)
    assert out.returncode == 2, out.stderr
    rows = table_rows(out.stdout)
    assert rows["simulated-x"][3] == "killed"
    assert rows["simulated-bluesky"][2:4] == ["never", "-"]     # not run: not failing
    assert out.stdout.splitlines()[-1] == "FAILING: aleppo/simulated-x (it has never worked)"
    # status only reads: the ledger is corrected by the next writer
    assert query(cfg, "select status from ledger.runs") == [("running",)]

    ok = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg), "collect",
                         "--source", "simulated-x"], capture_output=True, text=True, env=env(),
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert sorted(query(cfg, "select status from ledger.runs")) == [("killed",), ("ok",)]
    assert status_cli(cfg).returncode == 0


def test_daemon_runs_killed_or_stopped_beside_a_reader_show_what_they_are(tmp_path):
    cfg = write(tmp_path, x_posts=600, x_per_run=600)
    d = Daemon(cfg, HARNESS_PAGE_DELAY="0.2")            # 30 pages: 6 s or more
    wait_for(lambda: cursors(cfg).get("simulated-x"), what="a first load")
    d.proc.kill()
    d.proc.wait(10)
    data = json.loads(status_cli(cfg, "--json").stdout)
    x = next(s for s in data["sources"] if s["source"] == "simulated-x")
    assert data["daemon"]["running"] is False and x["outcome"] == "killed"
    assert query(cfg, "select status from ledger.runs where source = 'simulated-x'") \
        == [("running",)]

    # A graceful stop while a reader holds the warehouse: the run's end waits in the spool,
    # the ledger still says `running`; status shows the run as the end entry says.
    d = Daemon(cfg, HARNESS_PAGE_DELAY="0.2")
    wait_for(lambda: query(cfg, "select status from ledger.runs where source = "
                                "'simulated-x' order by started_at")
             == [("killed",), ("running",)], what="the new run's first load")
    held = connect(tmp_path / "wh" / "tracker.duckdb", read_only=True)
    try:
        assert d.stop() == 0
    finally:
        held.close()
    assert query(cfg, "select status from ledger.runs where source = 'simulated-x' "
                      "order by started_at") == [("killed",), ("running",)]
    out = status_cli(cfg)
    assert table_rows(out.stdout)["simulated-x"][3] == "interrupted"
    assert out.returncode == 0, out.stdout   # x stored pages: it works, though it never
    assert "FAILING" not in out.stdout       # ran to the end


def test_which_running_runs_a_live_daemon_holds(tmp_path, sim_config, backend):
    """The rule itself: a live daemon holds the runs its state file lists; the others are
    dead, shown with their spooled end if there is one."""
    from tracker.daemon import lock_path, state_path
    from tracker.daemon.lock import DaemonLock
    from tracker.daemon.spool import Spool, run_header
    from tracker.daemon.status import DaemonSeen, _daemon, real_outcomes
    from tracker.pages import RunLog

    cfg = sim_config(backend=backend)
    con = open_warehouse(cfg)
    live, dead, ended = (ledger.start_run(con, "collect", "aleppo", s) for s in
                         ("simulated-x", "simulated-mastodon", "simulated-bluesky"))
    imported = ledger.start_run(con, "import", None, "import")
    con.close()
    Spool(cfg.spool).write("run", run_header(
        {"run_id": ended, "campaign": "aleppo", "source": "simulated-bluesky",
         "started_at": "2026-01-01T00:00:00Z"}, dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC),
        "interrupted", "stopped", RunLog()))
    lock = DaemonLock(lock_path(cfg.warehouse))
    lock.acquire()
    state_path(cfg.warehouse).write_text(json.dumps({"jobs": {}, "active_runs": [live]}))
    try:
        con = open_warehouse(cfg, read_only=True)
        seen = _daemon(cfg)
        got = real_outcomes(con, cfg, seen)
        assert seen.pid == os.getpid()
        assert sorted(got) == sorted([dead, ended, imported])
        assert got[dead] == got[imported] == ledger.Outcome("killed", ledger.KILLED_MESSAGE)
        assert got[ended].status == "interrupted" and got[ended].message == "stopped"
        # without the daemon, its run is dead too
        assert sorted(real_outcomes(con, cfg, DaemonSeen(None, None))) \
            == sorted([live, dead, ended, imported])
        con.close()
    finally:
        lock.release()
    out = run_status(cfg)
    assert out.output.splitlines()[-2].startswith(
        "last import: killed, 0 new posts, started ")
    assert out.output.splitlines()[-2].endswith(
        f"({imported}) - the process stopped before the run finished (killed or crashed)")


# --- failing and deferral -----------------------------------------------------------------------
def test_a_deferral_says_why_and_collect_now_runs_it_anyway(tmp_path):
    cfg = write(tmp_path, x_posts=200, x_per_run=40)

    def collect(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(HARNESS), "--config", str(cfg), "collect",
                               "--source", "simulated-x", *args], capture_output=True,
                              text=True, timeout=120,
                              env=env(HARNESS_RATE_LIMIT="simulated-x", HARNESS_RESUME="600"))

    first = collect()
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("aleppo/simulated-x: rate_limited, 40 new posts")
    (until,) = query(cfg, "select resume_after from ledger.runs")[0]
    second = collect()
    assert second.returncode == 0, second.stderr
    assert second.stdout == (
        "aleppo/simulated-x: deferred, 0 new posts, 0 duplicates, 0 pages, 0 requests - "
        "skipped: the last run was rate limited (rate limit reached); it said to wait until "
        f"{until.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC "
        "(`tracker collect --now` runs it anyway)\n")

    out = status_cli(cfg)
    assert out.returncode == 0, out.stdout     # rate limited is not failing
    until_iso = until.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert table_rows(out.stdout)["simulated-x"][3:8] == [
        "deferred", "40", "40", "-", f"rate_limited until {until_iso}"]

    now = collect("--now")
    assert now.returncode == 0, now.stderr
    assert now.stdout.startswith("aleppo/simulated-x: rate_limited, 40 new posts")
    assert [r[0] for r in query(cfg, "select status from ledger.runs order by started_at")] \
        == ["rate_limited", "deferred", "rate_limited"]


def test_a_source_whose_last_attempt_failed_stays_failing_while_deferred(sim_config, backend):
    # e.g. Mastodon: one server refused the token, another rate-limited: `failed` with a
    # resume_after. The deferred runs after it are no verdict: the source is still failing.
    cfg = sim_config(x_posts=100, backend=backend)
    con = open_warehouse(cfg)
    collect(con, cfg)                                       # every source worked once
    run = ledger.start_run(con, "collect", "aleppo", "simulated-mastodon")
    until = utcnow() + dt.timedelta(minutes=10)
    ledger.finish_run(con, run, "failed", errors=1, resume_after=until,
                      message="mastodon.example: HTTP 401 (check MASTODON_TOKEN)")
    con.close()
    deferred = CliRunner().invoke(cli, ["--config", str(cfg.path), "collect",
                                        "--source", "simulated-mastodon"])
    assert deferred.exit_code == 0, deferred.output
    assert deferred.stdout == (
        "aleppo/simulated-mastodon: deferred, 0 new posts, 0 duplicates, 0 pages, 0 requests"
        " - skipped: the last run was failed (mastodon.example: HTTP 401 (check "
        "MASTODON_TOKEN)); it said to wait until "
        f"{until:%Y-%m-%d %H:%M:%S} UTC (`tracker collect --now` runs it anyway)\n")
    out = run_status(cfg)
    assert out.exit_code == 2
    assert out.output.splitlines()[-1] == \
        "FAILING: aleppo/simulated-mastodon (its last real attempt failed)"
    data = json.loads(run_status(cfg, "--json").output)
    masto = next(s for s in data["sources"] if s["source"] == "simulated-mastodon")
    assert masto["outcome"] == "deferred" and masto["failing_reason"] == \
        "its last real attempt failed"
    assert masto["backoff_reason"] == "failed" and masto["backoff_until"] == iso(until)

    again = CliRunner().invoke(cli, ["--config", str(cfg.path), "collect", "--now",
                                     "--source", "simulated-mastodon"])
    assert again.exit_code == 0 and again.stdout.startswith("aleppo/simulated-mastodon: ok")
    assert run_status(cfg).exit_code == 0
