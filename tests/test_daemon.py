"""`tracker run` as a real subprocess against simulated and mocked sources."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tracker.config import load_config
from tracker.pipeline import collect
from tracker.store.db import connect

from .conftest import counts

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "daemon_harness.py"

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[reports]
dir = "out"
[daemon]
jitter = "0s"
batch_pages = {batch_pages}
backoff_base = "2s"
backoff_max = "4s"
stop_timeout = "{stop_timeout}"
load_retry = "1s"
{daemon_extra}
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
start = 2016-04-22
end = 2016-05-05
schedule = {{ interval = "{interval}" }}
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {x_posts}
per_run = {x_per_run}
page_size = 20
[[campaigns.sources]]
type = "simulated"
platform = "bluesky"
posts = 100
per_run = 40
page_size = 20
{extra}
"""


def write(tmp: Path, *, x_posts: int = 200, x_per_run: int = 40, interval: str = "1s",
          batch_pages: int = 1, extra: str = "", daemon_extra: str = "",
          stop_timeout: str = "10s") -> Path:
    path = tmp / "tracker.toml"
    path.write_text(textwrap.dedent(CONFIG.format(
        x_posts=x_posts, x_per_run=x_per_run, interval=interval, batch_pages=batch_pages,
        extra=extra, daemon_extra=daemon_extra, stop_timeout=stop_timeout)), encoding="utf-8")
    return path


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ, TRACKER_MIN_INTERVAL="1", PYTHONPATH=str(ROOT))
    e.update(extra)
    return e


class Daemon:
    harness = HARNESS     # the script that runs `tracker run` with the mocked sources

    def __init__(self, config: Path, **harness_env: str):
        self.config = config
        self.log = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            [sys.executable, str(self.harness), "--config", str(config), "run"],
            stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), env=env(**harness_env))
        STARTED.append(self.proc)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        # Signal a started daemon (a signal while Python itself is still importing would
        # end the process before any handler exists, which is not what these tests test).
        deadline = time.monotonic() + 30
        while (self.proc.poll() is None and time.monotonic() < deadline
               and not self.log.read_text().count('"daemon_started"')):
            time.sleep(0.05)
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def lines(self) -> list[dict]:
        return [json.loads(x) for x in self.log.read_text().splitlines() if x.startswith("{")]

    def events(self, name: str) -> list[dict]:
        return [x for x in self.lines() if x.get("event") == name]


# Every daemon a test started (tests/conftest.py kills those still running after each test:
# a test that fails before stopping its daemon must not leave it loading the machine).
STARTED: list[subprocess.Popen] = []


def kill_left_running() -> None:
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def wait_for(cond, timeout: float = 90, every: float = 0.2, what: str = "condition"):
    """Poll `cond` until it is true. The timeouts are generous: a slow, loaded machine (CI)
    takes many times longer than a quiet one, and a condition met returns at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def query(config: Path, sql: str, params: list | None = None) -> list[tuple]:
    wh = config.parent / "wh" / "tracker.duckdb"
    if not wh.exists():
        return []
    con = connect(wh, read_only=True, wait=30)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def state(config: Path) -> dict:
    p = config.parent / "wh" / "tracker.duckdb.daemon.json"
    try:
        return json.loads(p.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def cursors(config: Path) -> dict[str, int]:
    rows = query(config, "select source, cursor->>'next_index' from ledger.cursors")
    return {s: int(n) for s, n in rows}


def spooled(config: Path) -> int:
    return len(list((config.parent / "wh" / "spool").glob("*.jsonl")))


def done(config: Path, x_posts: int = 200) -> bool:
    return (cursors(config) == {"simulated-x": x_posts, "simulated-bluesky": 100}
            and spooled(config) == 0)


def reference(tmp: Path, x_posts: int = 200, x_per_run: int = 40,
              batch_pages: int = 1) -> tuple[dict, set, set]:
    """The warehouse an uninterrupted sequence of runs produces (in-process, no daemon).

    Same runs and batches as the daemon's: observation tables keep only changes between
    batches, so their row counts depend on how pages were batched.
    """
    ref = tmp / "ref"
    ref.mkdir()
    cfg = load_config(write(ref, x_posts=x_posts, x_per_run=x_per_run, interval="10s"))
    con = connect(cfg.warehouse)
    while sum(r.posts_new for r in collect(con, cfg, batch_pages=batch_pages)):
        pass
    out = (counts(con), set(con.execute("select page_id from raw.pages").fetchall()),
           set(con.execute("select platform, post_id from norm.posts").fetchall()))
    con.close()
    return out


def snapshot(config: Path) -> tuple[dict, set, set]:
    con = connect(config.parent / "wh" / "tracker.duckdb", read_only=True, wait=30)
    try:
        return (counts(con), set(con.execute("select page_id from raw.pages").fetchall()),
                set(con.execute("select platform, post_id from norm.posts").fetchall()))
    finally:
        con.close()


def test_jobs_fire_on_schedule_second_daemon_refused_sigterm_exits_0(tmp_path):
    cfg = write(tmp_path, interval="2s", x_posts=400)
    d = Daemon(cfg)
    t0 = dt.datetime.now(dt.UTC)
    try:
        wait_for(lambda: len(query(cfg, "select 1 from ledger.runs where source = "
                                        "'simulated-x' and status = 'ok'")) >= 3,
                 what="three runs")
        second = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg),
                                 "run"], capture_output=True, text=True, env=env(), timeout=30)
        assert second.returncode == 1
        assert "already running" in second.stderr and str(d.proc.pid) in second.stderr
        assert "Traceback" not in second.stderr
        st = state(cfg)
        assert st["pid"] == d.proc.pid
        job = st["jobs"]["collect:aleppo:simulated-x"]
        assert job["schedule"] == "every 2s" and job["next_run"]
    finally:
        assert d.stop(signal.SIGINT) == 0       # Ctrl-C stops it like SIGTERM
    starts = [r[0] for r in query(cfg, "select started_at from ledger.runs where source = "
                                       "'simulated-x' order by started_at")]
    assert (starts[0] - t0).total_seconds() < 5          # first run at start-up
    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps and all(1.0 < g < 3.5 for g in gaps), gaps   # then every 2 s
    assert 1.7 < sum(gaps) / len(gaps) < 2.5, gaps
    lines = d.lines()
    assert lines and all("event" in x for x in lines if x["logger"].startswith("tracker"))
    assert d.events("daemon_stopped")
    assert not query(cfg, "select 1 from ledger.runs where status = 'running'")


def test_sigterm_mid_collection_is_graceful(tmp_path):
    cfg = write(tmp_path, x_posts=600, x_per_run=600, batch_pages=2)
    d = Daemon(cfg, HARNESS_PAGE_DELAY="0.15")      # 30 pages: a run of 4.5 s or more
    wait_for(lambda: cursors(cfg).get("simulated-x"), what="a first load")
    t0 = time.monotonic()
    assert d.stop() == 0
    # the stop did not wait for the whole run: the run is interrupted, its cursor short of the
    # end; the time only catches a stop that hangs (under load it is not a few seconds: 11 s
    # once with the suite in 3 worker processes on 2 cores)
    assert time.monotonic() - t0 < 20
    run = query(cfg, "select status, message from ledger.runs where source = 'simulated-x'")
    assert run[0][0] == "interrupted", run
    cursor = cursors(cfg)["simulated-x"]
    assert 0 < cursor < 600
    # what is stored is exactly the pages up to the committed cursor: nothing half-done
    stored = query(cfg, "select count(*) from norm.posts where platform = 'x' and kind in "
                        "('original', 'reply', 'quote', 'repost')")[0][0]
    assert stored >= cursor
    assert spooled(cfg) == 0
    # a restart resumes from the cursor and completes
    d2 = Daemon(cfg)
    try:
        wait_for(lambda: done(cfg, 600), what="collection to complete")
    finally:
        assert d2.stop() == 0
    assert snapshot(cfg) == reference(tmp_path, 600, x_per_run=600, batch_pages=2)


def test_sigterm_with_a_load_backlog_leaves_no_run_running(tmp_path):
    # A slow or loaded machine: a load session ends after its hold time with entries left.
    # HARNESS_MAX_HOLD=0 makes every session end after one entry, so the spool has a
    # backlog when the stop comes; the stop still loads all of it, the run's end included
    # (it used to load one session's worth and leave the run `running`).
    # A stop timeout long enough for a slow machine to load the backlog one entry a session
    # (with the default 10 s, a loaded 2-core CI machine left 4 entries for the next start,
    # as designed: this test is about the sessions, not the timeout).
    cfg = write(tmp_path, x_posts=600, x_per_run=600, stop_timeout="90s")
    d = Daemon(cfg, HARNESS_PAGE_DELAY="0.1", HARNESS_MAX_HOLD="0")   # 30 pages: 3 s or more
    wait_for(lambda: cursors(cfg).get("simulated-x"), what="a first load")
    wait_for(lambda: spooled(cfg) >= 5, what="a backlog in the spool")
    assert d.stop(timeout=120) == 0
    assert spooled(cfg) == 0
    runs = query(cfg, "select status from ledger.runs where source = 'simulated-x'")
    assert runs == [("interrupted",)], runs
    assert not query(cfg, "select 1 from ledger.runs where status = 'running'")


def test_sigkill_at_random_points_then_restart_equals_uninterrupted(tmp_path):
    seed = int(os.environ.get("TRACKER_TEST_SEED", time.time_ns() % 100_000))
    rnd = random.Random(seed)
    cfg = write(tmp_path)
    for _ in range(5):
        d = Daemon(cfg, HARNESS_PAGE_DELAY="0.05")
        time.sleep(rnd.uniform(0.8, 3.0))   # start-up takes ~0.7 s; kill anywhere after
        d.proc.kill()
        d.proc.wait(10)
    d = Daemon(cfg)
    try:
        wait_for(lambda: done(cfg), what=f"collection to complete (seed {seed})")
    finally:
        assert d.stop() == 0
    assert snapshot(cfg) == reference(tmp_path), f"seed {seed}"
    assert not query(cfg, "select 1 from ledger.runs where status = 'running'")


READER = """
import sys, time
from tracker.store.db import connect
path, seconds, reads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
end = time.monotonic() + seconds
n, last, waits = 0, -1, 0
while time.monotonic() < end or n < reads:
    con = connect(path, read_only=True, wait=30,
                  on_wait=lambda m: None)
    c = con.execute("select count(*) from norm.posts").fetchone()[0]
    con.close()
    assert c >= last, (c, last)
    last, n = c, n + 1
    time.sleep(0.05)
print(n, last)
"""


def test_readers_in_a_loop_never_fail_while_the_daemon_writes(tmp_path):
    cfg = write(tmp_path, x_posts=600, x_per_run=60)
    d = Daemon(cfg)
    try:
        wait_for(lambda: d.events("spool_loaded"), what="a first load")
        wh = str(tmp_path / "wh" / "tracker.duckdb")
        reader = subprocess.Popen([sys.executable, "-c", READER, wh, "8", "20"],
                                  env=env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2):
            out = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg),
                                  "sql", "select count(*) as n from norm.posts"],
                                 capture_output=True, text=True, env=env(), timeout=60)
            assert out.returncode == 0, out.stderr
            status = subprocess.run([sys.executable, "-m", "tracker.cli", "--config",
                                     str(cfg), "status"], capture_output=True, text=True,
                                    env=env(), timeout=60)
            assert status.returncode == 0, status.stderr
            assert f"daemon: running (PID {d.proc.pid}" in status.stdout
        stdout, stderr = reader.communicate(timeout=60)
        assert reader.returncode == 0, stderr
        n, last = map(int, stdout.split())
        assert n >= 20 and last > 0   # at least 8 s and 20 reads, none failed, never went back
        wait_for(lambda: done(cfg, 600), what="collection to complete")
    finally:
        assert d.stop() == 0
    loads = len(d.events("spool_loaded"))
    assert loads > 3   # the daemon kept writing while they read


def test_a_reader_holding_the_file_delays_loading_but_loses_nothing(tmp_path):
    # The issue says "for a minute"; 15 s keeps the suite fast and shows the same thing.
    # The reader is there first: the daemon starts beside it (cursors read read-only).
    cfg = write(tmp_path, x_posts=400, x_per_run=40)
    wh = tmp_path / "wh" / "tracker.duckdb"
    connect(wh).close()
    held = connect(wh, read_only=True, wait=30)
    d = Daemon(cfg)
    try:
        try:
            before = held.execute("select count(*) from raw.pages").fetchone()[0]
            time.sleep(15)
            assert spooled(cfg) > 5            # fetching went on, into the spool
            assert state(cfg)["warehouse_busy_since"]
            assert d.events("warehouse_busy")
            status = subprocess.run([sys.executable, "-m", "tracker.cli", "--config",
                                     str(cfg), "status", "--json"], capture_output=True,
                                    text=True, env=env(), timeout=60)
            assert json.loads(status.stdout)["daemon"]["spool_batches"] > 0
            assert held.execute("select count(*) from raw.pages").fetchone()[0] == before
        finally:
            held.close()
        wait_for(lambda: done(cfg, 400), timeout=180, what="the spool to drain")
    finally:
        assert d.stop() == 0
    assert snapshot(cfg) == reference(tmp_path, 400)


RATE_LIMITED = """
[[campaigns.sources]]
type = "simulated"
platform = "mastodon"
posts = 400
per_run = 20
page_size = 20
"""


def test_failing_source_backs_off_others_continue_and_status_fails(tmp_path):
    cfg = write(tmp_path, x_posts=2000, x_per_run=20, extra=RATE_LIMITED)
    d = Daemon(cfg, HARNESS_FAIL="simulated-bluesky", HARNESS_RATE_LIMIT="simulated-mastodon",
               HARNESS_RESUME="3")
    try:
        time.sleep(11)
        out = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg),
                              "status", "--json"], capture_output=True, text=True, env=env(),
                             timeout=60)
        assert out.returncode == 2, out.stderr
        data = json.loads(out.stdout)
        assert data["failing"] == ["aleppo/simulated-bluesky"]
        bsky = next(s for s in data["sources"] if s["source"] == "simulated-bluesky")
        assert bsky["failures"] >= 2 and bsky["backoff_reason"] == "backoff"
        assert "simulated outage" in bsky["last_error"]
        text = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg),
                               "status"], capture_output=True, text=True, env=env(), timeout=60)
        assert text.returncode == 2 and "FAILING: aleppo/simulated-bluesky" in text.stdout
    finally:
        assert d.stop() == 0

    def starts(source: str, status: str) -> list[float]:
        rows = query(cfg, "select epoch(started_at) from ledger.runs where source = ? and "
                          "status = ? order by 1", [source, status])
        return [r[0] for r in rows]

    failed = starts("simulated-bluesky", "failed")
    gaps = [b - a for a, b in zip(failed, failed[1:], strict=False)]
    assert len(failed) >= 3 and gaps[0] > 1.8 and gaps[1] > 3.8, gaps   # 2 s, then 4 s (cap)
    # the ledger says what failed, as `tracker collect` records it; when the daemon retries
    # is the daemon's own, in its state (`tracker status`: last error, backoff)
    msgs = query(cfg, "select message, resume_after from ledger.runs where status = 'failed'")
    assert msgs and all(m == "simulated-bluesky: simulated outage (HTTP 503)" and r is None
                        for m, r in msgs), msgs
    assert "retry in" in bsky["last_error"]
    x = starts("simulated-x", "ok")
    assert len(x) >= 8        # every second, not held back by the failing source
    limited = starts("simulated-mastodon", "rate_limited")
    assert len(limited) >= 2
    assert all(b - a > 2.8 for a, b in zip(limited, limited[1:], strict=False))  # resume_after


def volume_rows(config: Path) -> int:
    try:
        rows = query(config, "select count(*) from marts.volume_daily")
    except duckdb.CatalogException:
        return 0
    return rows[0][0] if rows else 0


def test_sighup_reloads_jobs_and_build_writes_reports(tmp_path):
    cfg = write(tmp_path, daemon_extra='build = { interval = "3s" }\nreports = true')
    d = Daemon(cfg)
    try:
        wait_for(lambda: volume_rows(cfg), timeout=120, what="a model build with data")
        # the build is committed first, then the reports are written: then the job is done
        wait_for(lambda: state(cfg)["jobs"]["build"]["last_status"] == "ok",
                 what="the build job to end")
        wait_for(lambda: (tmp_path / "out" / "aleppo" / "index.html").exists(),
                 what="the report")
        cfg.write_text(cfg.read_text().replace('interval = "1s"', 'interval = "5s"')
                       + RATE_LIMITED, encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)
        jobs = wait_for(lambda: state(cfg).get("jobs", {}).get(
            "collect:aleppo:simulated-mastodon") and state(cfg)["jobs"], what="reload")
        assert jobs["collect:aleppo:simulated-x"]["schedule"] == "every 5s"
        wait_for(lambda: query(cfg, "select 1 from ledger.runs where source = "
                                    "'simulated-mastodon'"), what="the new job to run")
        cfg.write_text("not toml [", encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: d.events("reload_failed"), what="the bad reload to be refused")
        assert d.proc.poll() is None           # still running on the old config
    finally:
        assert d.stop() == 0
    assert d.events("job_rescheduled") and d.events("job_added")


def test_readers_get_in_while_the_daemon_writes_reports(tmp_path):
    # Reports at scale take seconds (HARNESS_REPORT_DELAY stands for that): the daemon
    # renders them from a read-only connection after the build's transaction, so `tracker
    # sql` and `tracker status` run meanwhile without waiting for the warehouse.
    cfg = write(tmp_path, daemon_extra='build = { interval = "2s" }\nreports = true')
    marker = tmp_path / "out" / ".rendering"
    d = Daemon(cfg, HARNESS_REPORT_DELAY="8")
    try:
        wait_for(lambda: marker.exists(), timeout=120, what="the reports to be rendering")
        for command in (["sql", "select count(*) as n from marts.volume_daily"], ["status"]):
            out = subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(cfg),
                                  *command], capture_output=True, text=True, env=env(),
                                 timeout=60)
            assert out.returncode == 0, out.stderr
            assert "locked" not in out.stderr and "waiting" not in out.stderr, out.stderr
        assert marker.exists()                 # the reports were rendering all along
        wait_for(lambda: (tmp_path / "out" / "aleppo" / "index.html").exists(),
                 what="the report")
    finally:
        assert d.stop() == 0
    build = d.events("build_done")[0]
    assert build["reports"] > 0 and build["report_seconds"] >= 8 > build["write_seconds"]


@pytest.mark.parametrize("body, error", [
    ("[daemon]\nbackoff_base = 'soon'\n",
     "tracker.toml: daemon.backoff_base: expected a duration such as '30s' or '5m' "
     "(at least 1s), got 'soon'"),
    ("[daemon]\nworkers = 0\n",
     "tracker.toml: daemon.workers: expected a whole number from 1 to 64, got 0"),
    ("[daemon]\nbuild = { every = '1h' }\n",
     "tracker.toml: daemon.build.every: unknown key (expected one of: cron, interval)"),
    ("[daemon]\nreports = 'yes'\n",
     "tracker.toml: daemon.reports: expected true or false, got 'yes'"),
    ("[daemon]\nbackoff_base = '2m'\nbackoff_max = '1m'\n",
     "tracker.toml: daemon.backoff_max: expected a duration no shorter than "
     "daemon.backoff_base"),
    ("[daemon]\nthreads = 4\n",
     "tracker.toml: daemon.threads: unknown key (expected one of: backoff_base, backoff_max, "
     "batch_pages, build, jitter, keep_snapshots, load_retry, maintain, misfire_grace, reports, "
     "stop_timeout, workers)"),
])
def test_daemon_config_errors_are_one_line(tmp_path, body, error):
    from tracker.errors import ConfigError

    path = tmp_path / "tracker.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value) == error




def test_resume_after_survives_a_restart(tmp_path):
    # The ledger's resume_after is read at start-up (a failed run's backoff is stored there
    # the same way).
    cfg = write(tmp_path, extra=RATE_LIMITED)
    d = Daemon(cfg, HARNESS_RATE_LIMIT="simulated-mastodon", HARNESS_RESUME="60")
    try:
        wait_for(lambda: query(cfg, "select 1 from ledger.runs where status = 'rate_limited'"),
                 what="a rate-limited run")
    finally:
        assert d.stop() == 0
    d = Daemon(cfg)                      # the sources would work now, but must wait
    try:
        jobs = wait_for(lambda: state(cfg).get("pid") == d.proc.pid and all(
            j["next_run"] for j in state(cfg)["jobs"].values()) and state(cfg)["jobs"],
            what="the new daemon to schedule its jobs")
        time.sleep(2)
        masto = jobs["collect:aleppo:simulated-mastodon"]
        assert masto["blocked_reason"] == "rate_limited"
        assert masto["next_run"] >= masto["blocked_until"][:19]
    finally:
        assert d.stop() == 0
    runs = query(cfg, "select count(*) from ledger.runs where source = 'simulated-mastodon'")
    assert runs == [(1,)]
