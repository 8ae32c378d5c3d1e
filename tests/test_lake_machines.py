"""Several collector machines sharing one lake on a PostgreSQL catalog (issue #18, docs/lake.md).

Each "machine" is its own config (own writer file, spool and state, `[warehouse] machine`)
naming the same catalog and data folder. The sources overlap: both machines fetch every post.
What counts is what the warehouse holds afterwards: every post once, the same as one machine
collecting alone, and the ledger's runs and cursors each machine's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tracker.config import load_config
from tracker.errors import WarehouseLocked
from tracker.models import build
from tracker.pipeline import collect
from tracker.store import ledger, writer_lock
from tracker.store.db import connect
from tracker.store.lake import Lake

from .test_daemon import CONFIG, Daemon, wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_catalog(pg_database: str) -> str:
    """A lake catalog in a fresh PostgreSQL database (host, user, password: libpq's
    environment, tests/postgres.env)."""
    return f"postgres:dbname={pg_database}"


def lake_toml(catalog: str, data: Path, machine: str) -> str:
    return (f'[warehouse]\nbackend = "ducklake"\npath = "wh/writer.duckdb"\n'
            f'catalog = "{catalog}"\ndata_path = "{data}"\nmachine = "{machine}"\n')


def machine_config(folder: Path, warehouse: str, x_posts: int = 200) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = textwrap.dedent(CONFIG.format(
        x_posts=x_posts, x_per_run=40, interval="1s", batch_pages=1, extra="",
        daemon_extra="", stop_timeout="60s"))
    body = body.replace('[warehouse]\npath = "wh/tracker.duckdb"\n', warehouse)
    path = folder / "tracker.toml"
    path.write_text(body, encoding="utf-8")
    return path


def read(cfg: Path, sql: str) -> list[tuple]:
    c = load_config(cfg)
    con = connect(c.warehouse, lake=c.lake, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def complete(cfg: Path, machines: tuple[str, ...], x_posts: int) -> bool:
    """Every machine's cursors at the end of both sources."""
    rows = read(cfg, "select machine, source, cursor->>'next_index' from ledger.cursors")
    want = {(m, "simulated-x", str(x_posts)) for m in machines}
    want |= {(m, "simulated-bluesky", "100") for m in machines}
    return set(rows) == want


def posts_and_keys(con) -> dict:
    """What a user counts: posts, authors, tags, mentions, campaign links, once each."""
    out = {}
    for table, key in (("norm.posts", "platform, post_id"),
                       ("norm.authors", "platform, author_id"),
                       ("norm.post_hashtags", "platform, post_id, tag"),
                       ("norm.post_mentions", "platform, post_id, mentioned_handle"),
                       ("norm.campaign_posts", "campaign, platform, post_id")):
        rows = con.execute(f"select {key} from {table}").fetchall()
        assert len(rows) == len(set(rows)), f"{table}: a row stored twice"
        out[table] = set(rows)
    out["volume"] = con.execute(
        "select * from marts.volume_hourly "
        "order by all").fetchall()
    return out


def test_two_daemons_on_one_lake_store_every_post_once(tmp_path, pg_catalog, monkeypatch):
    monkeypatch.setenv("TRACKER_MIN_INTERVAL", "1")   # as the daemons have it
    data = tmp_path / "shared" / "lake"
    x_posts = 200
    m1 = machine_config(tmp_path / "m1", lake_toml(pg_catalog, data, "m1"), x_posts)
    m2 = machine_config(tmp_path / "m2", lake_toml(pg_catalog, data, "m2"), x_posts)
    # the first daemon makes the lake; the second joins while the first is collecting
    d1 = Daemon(m1, HARNESS_PAGE_DELAY="0.05")
    try:
        wait_for(lambda: d1.events("spool_loaded"), timeout=90, what="machine 1's first load")
        d2 = Daemon(m2, HARNESS_PAGE_DELAY="0.05")
        try:
            wait_for(lambda: complete(m1, ("m1", "m2"), x_posts), timeout=240,
                     what="both machines to collect everything")
        finally:
            assert d2.stop(timeout=90) == 0
    finally:
        assert d1.stop(timeout=90) == 0
    cfg = load_config(m1)
    con = connect(cfg.warehouse, lake=cfg.lake)
    try:
        build(con, cfg.campaigns)
        got = posts_and_keys(con)
        # both machines fetched every page (a page the lake already holds, byte for byte, is
        # counted as a duplicate and not stored again)
        machines = dict(con.execute(
            "select machine, sum(requests) from ledger.runs where kind = 'collect' "
            "group by all").fetchall())
        statuses = con.execute("select machine, status, count(*) from ledger.runs "
                               "group by all").fetchall()
    finally:
        con.close()
        writer_lock.release(con)
    assert set(machines) == {"m1", "m2"} and min(machines.values()) > 0, machines
    assert not [s for s in statuses if s[1] == "running"], statuses
    # one machine alone, on a DuckDB file: the same posts, tags, mentions and hourly volume
    ref_cfg = load_config(machine_config(tmp_path / "ref", '[warehouse]\npath = "wh/ref.duckdb"\n',
                                         x_posts))
    ref = connect(ref_cfg.warehouse)
    try:
        while sum(r.posts_new for r in collect(ref, ref_cfg)):
            pass
        build(ref, ref_cfg.campaigns)
        want = posts_and_keys(ref)
    finally:
        ref.close()
    assert len(want["norm.posts"]) == x_posts + 100
    assert got == want


def test_a_second_machine_waits_for_the_writer_lock_and_is_told_who_holds_it(
        tmp_path, pg_catalog):
    data = tmp_path / "lake"
    a = Lake(pg_catalog, data, machine="alpha")
    b = Lake(pg_catalog, data, machine="beta")
    con = connect(tmp_path / "a.duckdb", lake=a)
    with pytest.raises(WarehouseLocked) as err:
        connect(tmp_path / "b.duckdb", lake=b, wait=0.3)
    assert str(err.value).startswith("lake on PostgreSQL (dbname=")
    assert "locked by tracker alpha pid " in str(err.value)
    told: list[str] = []
    t0 = time.monotonic()
    con.close()
    writer_lock.release(con)
    second = connect(tmp_path / "b.duckdb", lake=b, wait=10, on_wait=told.append)
    assert time.monotonic() - t0 < 10 and not told
    second.close()
    writer_lock.release(second)


HOLDER = """
import sys, time
from pathlib import Path
from tracker.store.db import connect
from tracker.store.lake import Lake
con = connect(sys.argv[1], lake=Lake(sys.argv[2], Path(sys.argv[3]), machine="doomed"))
print("holding", flush=True)
time.sleep(600)
"""


def test_a_killed_writer_frees_the_lock_at_once(tmp_path, pg_catalog):
    data = tmp_path / "lake"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "k.duckdb"),
                             pg_catalog, str(data)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        b = Lake(pg_catalog, data, machine="beta")
        with pytest.raises(WarehouseLocked, match="locked by tracker doomed pid"):
            connect(tmp_path / "b.duckdb", lake=b, wait=0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    t0 = time.monotonic()
    con = connect(tmp_path / "b.duckdb", lake=b, wait=10)
    waited = time.monotonic() - t0
    con.close()
    writer_lock.release(con)
    assert waited < 5, waited


@pytest.mark.parametrize("catalog", ["sqlite", "postgres"])
def test_runs_and_cursors_are_each_machines_own(tmp_path, catalog, request):
    if catalog == "sqlite":
        where = f"sqlite:{tmp_path / 'lake.sqlite'}"
    else:
        where = request.getfixturevalue("pg_catalog")

    def opened(machine: str):
        return connect(tmp_path / f"{machine}.duckdb",
                       lake=Lake(where, tmp_path / "lake", machine=machine), wait=10)

    a = opened("alpha")
    run = ledger.start_run(a, "collect", "aleppo", "simulated-x")
    ledger.set_cursor(a, "aleppo", "simulated-x", {"next_index": 40}, run)
    a.close()
    writer_lock.release(a)
    b = opened("beta")
    # beta resumes from nothing of its own, and leaves alpha's running run alone
    assert ledger.get_cursor(b, "aleppo", "simulated-x") is None
    assert ledger.mark_killed(b) == 0
    assert ledger.running_runs(b) == []
    ledger.set_cursor(b, "aleppo", "simulated-x", {"next_index": 80}, "r-b")
    b.close()
    writer_lock.release(b)
    a = opened("alpha")
    assert ledger.get_cursor(a, "aleppo", "simulated-x") == {"next_index": 40}
    assert ledger.running_runs(a) == [run]
    assert ledger.mark_killed(a) == 1     # alpha's own run, left by a crash
    rows = a.execute("select machine, cursor->>'next_index' from ledger.cursors "
                     "order by 1").fetchall()
    a.close()
    writer_lock.release(a)
    assert rows == [("alpha", "40"), ("beta", "80")]


def test_cursors_from_before_machines_are_taken_over(tmp_path):
    # a warehouse from before schema 9 (or migrated from a DuckDB file): its cursor rows have
    # no machine; the first machine to collect resumes from them and makes them its own
    where = f"sqlite:{tmp_path / 'lake.sqlite'}"
    con = connect(tmp_path / "w.duckdb", lake=Lake(where, tmp_path / "lake", machine="alpha"))
    con.execute("insert into ledger.cursors (campaign, source, cursor, updated_at, run_id) "
                "values ('aleppo', 'simulated-x', '{\"next_index\": 60}', now(), 'old')")
    assert ledger.get_cursor(con, "aleppo", "simulated-x") == {"next_index": 60}
    ledger.set_cursor(con, "aleppo", "simulated-x", {"next_index": 100}, "new")
    assert con.execute("select machine, cursor->>'next_index' from ledger.cursors"
                       ).fetchall() == [("alpha", "100")]
    con.close()


def test_a_machine_that_writes_all_the_time_cannot_keep_out_one_that_waits(tmp_path, pg_catalog):
    # Machine 1 takes the lock again the moment it lets go (a daemon with a constant backlog);
    # machine 2 waits in the lock's queue and gets in at machine 1's next release.
    import threading

    busy = Lake(pg_catalog, tmp_path / "lake", machine="busy")
    stop = threading.Event()
    sessions = []

    def hog() -> None:
        # lets go and asks again at once, on the same connection: no gap to slip through
        pg = writer_lock.acquire(busy, wait=30)
        while not stop.is_set():
            sessions.append(time.monotonic())
            time.sleep(0.3)
            pg.execute("select pg_advisory_unlock(%s)", [writer_lock.KEY])
            pg.execute("select pg_advisory_lock(%s)", [writer_lock.KEY])
        pg.close()

    t = threading.Thread(target=hog)
    t.start()
    try:
        wait_for(lambda: len(sessions) >= 2, what="the busy machine's sessions")
        t0 = time.monotonic()
        pg = writer_lock.acquire(Lake(pg_catalog, tmp_path / "lake", machine="patient"),
                                 wait=20)
        waited = time.monotonic() - t0
        pg.close()
    finally:
        stop.set()
        t.join(40)
    assert waited < 2, waited
